"""Blocking the loop, and the to_thread fix

asyncio runs all tasks in one thread, taking turns at each `await`. A plain
blocking call such as `time.sleep()` (or a slow file read, or `requests`)
has no `await`, so it freezes the whole event loop: no other task can run
until it returns.

Threads are the way out for blocking code: `asyncio.to_thread()` runs a
function in a worker thread and gives you something to await, so the event
loop stays free while the thread waits.

What to look for: two tasks, `main` and `ticker`, which ticks every 0.2 s.
During `time.sleep(1)` no tick is printed at all -- main blocked the loop.
During `await asyncio.to_thread(time.sleep, 1)` the ticks keep coming,
because main is waiting on a thread and the loop is free. About 2 seconds.
"""

import asyncio
import time

ticks = 0


async def ticker() -> None:
    global ticks
    while True:
        ticks += 1
        print(f"ticker: tick {ticks}")
        await asyncio.sleep(0.2)


async def main() -> None:
    ticker_task = asyncio.create_task(ticker(), name="ticker")
    await asyncio.sleep(0)  # pause once so the ticker can start

    print("main: calling time.sleep(1) -- this blocks the event loop")
    before = ticks
    time.sleep(1)  # no await: nothing else can run for a whole second
    print(f"main: time.sleep returned; ticks meanwhile: {ticks - before}")

    print("main: awaiting asyncio.to_thread(time.sleep, 1) -- the loop stays free")
    before = ticks
    await asyncio.to_thread(time.sleep, 1)  # the sleep happens in another thread
    print(f"main: to_thread returned; ticks meanwhile: {ticks - before}")

    ticker_task.cancel()


asyncio.run(main())
