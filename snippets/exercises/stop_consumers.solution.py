"""Stop the queue's consumers cleanly (solution)"""

import asyncio


async def consumer(name: str, queue: asyncio.Queue) -> None:
    while True:
        job = await queue.get()
        if job is None:  # the signal to stop
            queue.task_done()
            return
        await asyncio.sleep(0.1)  # work on the job
        print(f"{name}: finished job {job}")
        queue.task_done()


async def main() -> None:
    queue: asyncio.Queue = asyncio.Queue()
    consumers = [
        asyncio.create_task(consumer(f"consumer-{n}", queue), name=f"consumer-{n}")
        for n in (1, 2)
    ]
    for job in range(6):
        await queue.put(job)
    await queue.join()
    print("all 6 jobs done")
    for _ in consumers:
        await queue.put(None)
    await asyncio.gather(*consumers)


asyncio.run(main())
