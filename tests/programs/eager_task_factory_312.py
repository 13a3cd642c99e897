"""asyncio.eager_task_factory (3.12+): first steps run inside create_task."""
import asyncio


async def quick(i):
    print("quick", i)
    return i


async def slow(i):
    print("slow start", i)
    await asyncio.sleep(0.01)
    print("slow end", i)
    return i


async def main():
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    t1 = asyncio.create_task(quick(1), name="quick-1")
    print("t1 done right away:", t1.done())
    t2 = asyncio.create_task(slow(2), name="slow-2")
    print("t2 done right away:", t2.done())
    print("gathered:", await asyncio.gather(t1, t2, quick(3)))


asyncio.run(main())
