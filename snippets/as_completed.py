"""as_completed: handle results in the order they finish

`gather()` hands you all results at the end, in the order you passed them.
`asyncio.as_completed()` lets you handle each result as soon as it is
ready: it gives you awaitables in the order the work finishes, fastest
first, so nothing waits for the slowest one.

What to look for: three fetch tasks started together: `slow` (0.9 s),
`fast` (0.3 s) and `medium` (0.6 s). main receives them in the order fast,
medium, slow, one every 0.3 s, even though slow was started first. About
0.9 seconds.
"""

import asyncio
import time


async def fetch(name: str, seconds: float) -> str:
    await asyncio.sleep(seconds)
    return f"{name} page"


async def main() -> None:
    start = time.perf_counter()
    tasks = [
        asyncio.create_task(fetch(name, seconds), name=name)
        for name, seconds in [("slow", 0.9), ("fast", 0.3), ("medium", 0.6)]
    ]
    print("main: started slow, fast and medium")

    for next_done in asyncio.as_completed(tasks):
        result = await next_done  # whichever task finishes next
        print(f"main: got {result} after {time.perf_counter() - start:.1f} s")


asyncio.run(main())
