"""Once a loop and its default executor are closed, nothing keeps the executor's worker
threads: threading's dangling set (what test.support's threading_cleanup counts) holds
only the main thread, as under plain Python."""
import asyncio
import gc
import threading


async def main():
    await asyncio.get_running_loop().run_in_executor(None, sum, [1, 2])


asyncio.run(main())
gc.collect()
print(sorted(t.name for t in threading._dangling))
