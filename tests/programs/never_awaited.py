"""Calling a coroutine function without awaiting it: Python's RuntimeWarning."""
import asyncio


async def fetch():
    return 1


async def main():
    fetch()
    await asyncio.sleep(0)
    print("main done")


asyncio.run(main())
