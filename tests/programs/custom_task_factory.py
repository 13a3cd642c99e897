"""A custom task factory (loop.set_task_factory) that builds a Task subclass."""
import asyncio

made = []


class CountingTask(asyncio.Task):
    pass


def factory(loop, coro, **kwargs):
    made.append(coro.__qualname__)
    return CountingTask(coro, loop=loop, **kwargs)


async def job(n):
    await asyncio.sleep(0)
    print("job", n, "runs in", type(asyncio.current_task()).__name__)
    return n


async def main():
    asyncio.get_running_loop().set_task_factory(factory)
    results = await asyncio.gather(job(1), job(2))
    t = asyncio.create_task(job(3))
    print("name:", t.get_name())
    print("results:", results, await t)
    print("made:", made)


asyncio.run(main())
