"""sys.exit(3) inside a task: the process exits with status 3."""
import asyncio
import sys


async def quitter():
    await asyncio.sleep(0)
    print("quitting with status 3")
    sys.exit(3)


async def main():
    await asyncio.gather(quitter(), asyncio.sleep(1))
    print("never printed")


asyncio.run(main())
print("never printed either")
