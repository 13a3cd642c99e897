"""asyncio.to_thread and loop.run_in_executor (default and explicit executors)."""
import asyncio
import concurrent.futures
import contextvars
import threading
import time

var = contextvars.ContextVar("var", default="unset")


def blocking(n):
    time.sleep(0.01)
    where = "main" if threading.current_thread() is threading.main_thread() else "worker"
    return f"blocking {n} in {where} thread, var={var.get()}"


async def main():
    var.set("set-in-main")
    print(await asyncio.to_thread(blocking, 1))
    loop = asyncio.get_running_loop()
    print(await loop.run_in_executor(None, blocking, 2))
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = await asyncio.gather(*(loop.run_in_executor(pool, blocking, i) for i in (3, 4)))
    print(*results, sep="\n")
    await asyncio.to_thread(print, "printed from a worker thread")
    print("back in main")


asyncio.run(main())
