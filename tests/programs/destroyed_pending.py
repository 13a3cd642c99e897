"""A pending task nobody references is garbage-collected: "Task was destroyed but it is pending!"."""
import asyncio
import gc


async def wait_forever(fut):
    await fut


async def main():
    fut = asyncio.get_running_loop().create_future()
    asyncio.create_task(wait_forever(fut), name="orphan")
    del fut
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    gc.collect()
    print("collected")


asyncio.run(main())
