"""Task.get_coro() and friends must see the program's own objects, not wrappers."""
import asyncio


async def work():
    await asyncio.sleep(0)
    return 42


async def main():
    coro = work()
    task = asyncio.create_task(coro, name="worker")
    print("same object:", task.get_coro() is coro)
    print("qualname:", task.get_coro().__qualname__)
    print("code name:", task.get_coro().cr_code.co_name)
    print("type:", type(task.get_coro()).__name__)
    print("result:", await task)
    print("frame after done is None:", task.get_coro().cr_frame is None)
    print("name:", task.get_name())
    me = asyncio.current_task()
    print("current:", me.get_coro().__qualname__, type(me).__name__, type(me).__module__)
    print("all tasks:", sorted(t.get_coro().__qualname__ for t in asyncio.all_tasks()))
    print("Task class is the C one:", asyncio.Task is asyncio.tasks._CTask)


asyncio.run(main())
