"""A task fails and nobody retrieves its exception: asyncio logs it when the task dies."""
import asyncio
import gc


async def explode():
    await asyncio.sleep(0)
    raise ValueError("boom in a forgotten task")


async def main():
    asyncio.create_task(explode(), name="forgotten")
    await asyncio.sleep(0.01)
    gc.collect()
    print("main finished")


asyncio.run(main())
