"""Semaphore: at most N at a time

An `asyncio.Semaphore(n)` is a counter of free slots. `async with
semaphore:` takes a slot, waiting if none is free, and gives it back at
the end of the block. Use it to limit how many tasks do something at once,
such as requests to the same server.

What to look for: five `download` tasks start at once, but the semaphore
lets only two in at a time: downloads 1 and 2 run first, 3 starts only
when one of them finishes, and so on. At most 2 are ever active. Three
rounds of 0.4 s: about 1.2 seconds.
"""

import asyncio
import time

active = 0
most_active = 0


async def download(number: int, slots: asyncio.Semaphore) -> None:
    global active, most_active
    print(f"download {number}: waiting for a slot")
    async with slots:  # waits here while two downloads are running
        active += 1
        most_active = max(most_active, active)
        print(f"download {number}: started ({active} active)")
        await asyncio.sleep(0.4)
        active -= 1
        print(f"download {number}: finished")


async def main() -> None:
    start = time.perf_counter()
    slots = asyncio.Semaphore(2)
    tasks = [
        asyncio.create_task(download(n, slots), name=f"download-{n}")
        for n in range(1, 6)
    ]
    await asyncio.gather(*tasks)
    print(f"main: at most {most_active} downloads ran at once")
    print(f"main: took {time.perf_counter() - start:.1f} s")


asyncio.run(main())
