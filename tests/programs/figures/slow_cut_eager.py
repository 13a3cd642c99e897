import asyncio
import sys
import time


async def child(i):
    await asyncio.sleep(0)
    return i


async def eager_parent():
    # eager children created inside an eager task: nested step time is subtracted
    tasks = [asyncio.create_task(child(i)) for i in range(3)]
    return sum(await asyncio.gather(*tasks))


async def blocker():
    await asyncio.sleep(0.01)
    time.sleep(0.3)  # a slow step: step_open records, then its slow_step warning
    await asyncio.sleep(0)


async def forever(n):
    while True:
        await asyncio.sleep(0.005 * n)


async def main():
    loop = asyncio.get_running_loop()
    if sys.version_info >= (3, 12):
        loop.set_task_factory(asyncio.eager_task_factory)
        print(await asyncio.create_task(eager_parent()))
        await asyncio.gather(*(child(i) for i in range(5)))
        loop.set_task_factory(None)
    for i in range(4):
        asyncio.create_task(forever(i + 1), name=f"forever-{i}")
    await blocker()
    await asyncio.sleep(0.05)
    print("main returns with tasks still pending")


asyncio.run(main())
