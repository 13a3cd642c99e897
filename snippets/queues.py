"""Queue: producers and consumers

An `asyncio.Queue` hands items from tasks that make them (producers) to
tasks that process them (consumers). `await queue.get()` waits while the
queue is empty; with a `maxsize`, `await queue.put()` waits while it is
full, so a fast producer cannot run far ahead of slow consumers.

Consumers call `queue.task_done()` for each item, and `await queue.join()`
waits until every item put in has been processed.

What to look for: a `producer` task and two consumers, `consumer-1` and
`consumer-2`, sharing six items. The queue holds at most 2, so the
producer keeps waiting on `put` for a consumer to take something. Each
item takes a consumer 0.3 s; main waits on `join`, then cancels the idle
consumers. About 1 second.
"""

import asyncio


async def producer(queue: asyncio.Queue[str], count: int) -> None:
    for number in range(1, count + 1):
        item = f"item-{number}"
        await queue.put(item)  # waits while the queue is full
        print(f"producer: put {item}")
    print("producer: all items queued")


async def consumer(name: str, queue: asyncio.Queue[str]) -> None:
    while True:
        item = await queue.get()  # waits while the queue is empty
        print(f"{name}: working on {item}")
        await asyncio.sleep(0.3)
        queue.task_done()


async def main() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=2)
    consumers = [
        asyncio.create_task(consumer(f"consumer-{n}", queue), name=f"consumer-{n}")
        for n in (1, 2)
    ]
    await asyncio.create_task(producer(queue, 6), name="producer")

    await queue.join()  # until task_done() was called for every item
    print("main: all 6 items processed")

    for task in consumers:
        task.cancel()  # they would wait for more items forever
    await asyncio.gather(*consumers, return_exceptions=True)


asyncio.run(main())
