"""Stop blocking the event loop

Two workers each pause for half a second. They were meant to pause together,
but `time.sleep` holds the whole event loop: while one worker sleeps,
nothing else can run, and the pauses add up.

Make the workers pause without blocking the loop, so the two pauses
overlap.

What to look for: asyncplay warns about each blocking step and names its
line; the timeline shows one worker running while the other cannot.

Checks:
    no blocking step
    finishes within 0.8 s
    every task finishes
    prints "worker-1 done", "worker-2 done"
"""

import asyncio
import time


async def worker(n: int) -> None:
    time.sleep(0.5)  # pretend to wait for something slow
    print(f"worker-{n} done")


async def main() -> None:
    await asyncio.gather(worker(1), worker(2))


asyncio.run(main())
