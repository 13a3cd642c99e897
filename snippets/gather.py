"""gather: wait for several tasks at once

`asyncio.gather()` runs awaitables concurrently and waits until all of them
are done. Its result is a list of their return values, in the order you
passed them in -- not the order they finished.

Three workers sleep 2, 3 and 1 seconds. Run one after another that would
take 6 seconds; together it takes as long as the slowest one: 3 seconds.

What to look for: `main` waits on gather while three tasks, `worker-A`,
`worker-B` and `worker-C`, sleep at the same time. All three start at once;
C finishes first (1 s), then A (2 s), then B (3 s). The result list is
still in A, B, C order, and the program takes about 3 seconds.
"""

import asyncio
import time


async def worker(name: str, seconds: int) -> str:
    print(f"worker-{name}: sleeping {seconds} s")
    await asyncio.sleep(seconds)
    print(f"worker-{name}: done")
    return f"{name} slept {seconds} s"


async def main() -> None:
    start = time.perf_counter()
    # gather(worker("A", 2), ...) would wrap each coroutine in a task for us;
    # creating the tasks ourselves just lets us name them for the task table.
    tasks = [
        asyncio.create_task(worker(name, seconds), name=f"worker-{name}")
        for name, seconds in [("A", 2), ("B", 3), ("C", 1)]
    ]
    results = await asyncio.gather(*tasks)
    print(f"main: gather returned {results}")
    print(f"main: total time {time.perf_counter() - start:.1f} s")


asyncio.run(main())
