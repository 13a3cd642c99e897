"""A create_task() never awaited: still running when main() returns, so asyncio.run cancels it."""
import asyncio


async def heartbeat():
    n = 0
    try:
        while True:
            n += 1
            print("beat", n)
            await asyncio.sleep(0)
    except asyncio.CancelledError:
        print("heartbeat cancelled after", n)
        raise


async def main():
    asyncio.create_task(heartbeat(), name="heartbeat")
    for _ in range(3):
        await asyncio.sleep(0)
    print("main returns")


asyncio.run(main())
