import asyncio


async def waiter(ev, i):
    for _ in range(i):
        await asyncio.sleep(0)
    await ev.wait()


async def spinner():
    await asyncio.sleep(0.1)
    while True:  # never awaits: the run's time limit kills it mid-step
        pass


async def main():
    ev = asyncio.Event()
    tasks = [asyncio.create_task(waiter(ev, i), name=f"waiter-{i}") for i in range(5)]
    await asyncio.sleep(0.05)
    asyncio.create_task(spinner())
    await asyncio.gather(*tasks)


asyncio.run(main())
