"""RecursionError: caught once (reporting the depth reached), then uncaught."""
import asyncio
import sys

reached = 0


def dive(n):
    global reached
    reached = n
    return dive(n + 1)


async def main():
    try:
        dive(0)
    except RecursionError as exc:
        print("caught:", type(exc).__name__)
    print("limit:", sys.getrecursionlimit())
    print("depth reached:", reached)
    await asyncio.sleep(0)
    dive(0)


asyncio.run(main())
