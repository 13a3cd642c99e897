"""Stop the queue's consumers cleanly

Two consumers take jobs from a queue. `main` puts six jobs in, waits
until every job is done (`queue.join()`), and returns -- but the
consumers are still waiting for a seventh job, so `asyncio.run` has to
cancel them when main ends.

Stop the consumers yourself before main ends, so each one returns: for
example put one `None` per consumer in the queue and let a consumer
return when it takes `None`, then wait for the consumers.

What to look for: asyncplay warns that the consumers were cut off when
main ended; the task table shows them cancelled, not done.

Checks:
    every task finishes
    no cut-off task
    at least 2 "consumer" tasks at once
    prints "all 6 jobs done"
"""

import asyncio


async def consumer(name: str, queue: asyncio.Queue) -> None:
    while True:
        job = await queue.get()
        await asyncio.sleep(0.1)  # work on the job
        print(f"{name}: finished job {job}")
        queue.task_done()


async def main() -> None:
    queue: asyncio.Queue = asyncio.Queue()
    for n in (1, 2):
        asyncio.create_task(consumer(f"consumer-{n}", queue), name=f"consumer-{n}")
    for job in range(6):
        await queue.put(job)
    await queue.join()
    print("all 6 jobs done")


asyncio.run(main())
