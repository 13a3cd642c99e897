import asyncio


async def a(l1, l2):
    async with l1:
        await asyncio.sleep(0.01)
        async with l2:
            pass


async def idle(ev):
    for _ in range(3):
        await asyncio.sleep(0)
    await ev.wait()


async def main():
    ev = asyncio.Event()
    idlers = [asyncio.create_task(idle(ev)) for _ in range(600)]
    l1, l2 = asyncio.Lock(), asyncio.Lock()
    await asyncio.gather(a(l1, l2), a(l2, l1), *idlers)


asyncio.run(main())
