"""Awaiting one thing after another

`await` pauses the coroutine it is written in until the awaited thing has
finished. Here `main` awaits `asyncio.sleep(1)` twice in a row: the second
sleep only starts once the first one is over, so the waits add up.

While `main` is paused, the event loop is free to run other tasks -- there
just are none yet. The next snippets add some.

What to look for: a single task, `main`, which spends almost all its time
waiting on `sleep`. The three lines come one second apart, and the whole
program takes about 2 seconds: two one-second waits, one after the other.
"""

import asyncio
import time


async def main() -> None:
    start = time.perf_counter()
    print("main: started")

    # main is paused here for one second; nothing else is waiting to run.
    await asyncio.sleep(1)
    print(f"main: first sleep done after {time.perf_counter() - start:.1f} s")

    # This sleep only begins now, after the first one has finished.
    await asyncio.sleep(1)
    print(f"main: second sleep done after {time.perf_counter() - start:.1f} s")


# asyncio.run() starts an event loop, runs main() in it as a task, and closes the loop.
asyncio.run(main())
