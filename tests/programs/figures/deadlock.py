import asyncio


async def a(l1, l2):
    async with l1:
        await asyncio.sleep(0.01)
        async with l2:
            pass


async def main():
    l1, l2 = asyncio.Lock(), asyncio.Lock()
    await asyncio.gather(a(l1, l2), a(l2, l1))


asyncio.run(main())
