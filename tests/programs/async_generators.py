"""Async generators: async for, anext, aclose, async comprehensions."""
import asyncio


async def ticker(name, n):
    try:
        for i in range(n):
            yield i
            await asyncio.sleep(0)
    finally:
        print(f"{name} cleanup")


async def main():
    async for x in ticker("loop", 3):
        print("got", x)
    gen = ticker("manual", 10)
    print("first", await gen.__anext__())
    print("second", await anext(gen))
    await gen.aclose()
    print("closed")
    print("comprehension", [x async for x in ticker("comp", 2)])


asyncio.run(main())
