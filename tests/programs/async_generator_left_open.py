"""An async generator left suspended: asyncio finalizes it (aclose) on its own."""
import asyncio


async def ticker(n):
    try:
        for i in range(n):
            yield i
            await asyncio.sleep(0)
    finally:
        print("ticker cleanup")


async def main():
    leftover = ticker(5)
    print("leftover", await anext(leftover))
    print("main returns")


asyncio.run(main())
print("after run")
