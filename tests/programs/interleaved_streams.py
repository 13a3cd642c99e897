"""Two named tasks print alternately to stdout and stderr."""
import asyncio
import sys


async def speaker(name):
    for i in range(3):
        print(f"{name} out {i}")
        print(f"{name} err {i}", file=sys.stderr)
        await asyncio.sleep(0)


async def main():
    print("main start")
    print("main start (stderr)", file=sys.stderr)
    await asyncio.gather(
        asyncio.create_task(speaker("alpha"), name="alpha"),
        asyncio.create_task(speaker("beta"), name="beta"),
    )
    print("main end")


asyncio.run(main())
