"""Debug mode records where each task was created: the last frame is the program's call
of create_task (asyncio drops its own frame; asyncplay's wrapper must not be left)."""
import asyncio


async def child():
    await asyncio.sleep(0)


async def main():
    t = asyncio.create_task(child())
    print([f"{f.filename.rsplit('/', 1)[-1]}:{f.name}" for f in t._source_traceback][-2:])
    await t


asyncio.run(main(), debug=True)
