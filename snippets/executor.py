"""run_in_executor: blocking work in a thread pool

`loop.run_in_executor(executor, func, *args)` runs a plain (blocking)
function in an executor -- a pool of worker threads or processes -- and
returns a future you can await. `asyncio.to_thread()` is a shortcut for the
event loop's default thread pool.

Your own pool lets you choose how many calls run at once. Here a pool of
two threads gets four jobs of 0.4 s each, so they run two at a time. (For
CPU-heavy work, a `ProcessPoolExecutor` works the same way.)

What to look for: only `main` in the task table -- the jobs run in the
threads `pool_0` and `pool_1`, not in tasks, while main awaits gather over
the four futures. Jobs 1 and 2 start at once; jobs 3 and 4 start 0.4 s
later, when the threads are free. The program takes about 0.8 seconds.
"""

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

start = time.perf_counter()


def blocking_job(number: int) -> str:
    """An ordinary function that blocks, like a slow library call."""
    began = time.perf_counter() - start
    time.sleep(0.4)
    thread = threading.current_thread().name
    return f"job {number}: ran in thread {thread}, started at {began:.1f} s"


async def main() -> None:
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="pool") as pool:
        print("main: submitting 4 jobs to a pool of 2 threads")
        # Each call returns a future at once; the pool's threads do the work.
        futures = [loop.run_in_executor(pool, blocking_job, n) for n in range(1, 5)]
        results = await asyncio.gather(*futures)  # the loop stays free meanwhile
    for line in results:
        print(line)
    print(f"main: all done after {time.perf_counter() - start:.1f} s")


asyncio.run(main())
