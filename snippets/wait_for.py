"""Giving up after a while: asyncio.wait_for

`asyncio.wait_for(aw, timeout)` waits for `aw` like `await`, but at most
`timeout` seconds. If it takes longer, wait_for cancels it and raises
`TimeoutError`, so a slow operation can never hang your program.

(On Python 3.10 that exception is `asyncio.TimeoutError`; from 3.11 on it
is the same class as the built-in `TimeoutError`. Catching
`asyncio.TimeoutError` works on every version.)

What to look for: three tasks -- `main`, `quick` and `slow`. `quick`
answers within its 1 s limit and main prints its result. `slow` would need
2 s, but main gives up after 0.5 s: the task is cancelled, prints its
cleanup line, and main prints that it timed out. About 0.7 seconds.
"""

import asyncio


async def answer(name: str, seconds: float) -> str:
    print(f"{name}: thinking for {seconds} s")
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        print(f"{name}: cancelled by wait_for")
        raise
    return f"{name} says 42"


async def main() -> None:
    quick = asyncio.create_task(answer("quick", 0.2), name="quick")
    result = await asyncio.wait_for(quick, timeout=1)
    print(f"main: got {result!r} in time")

    slow = asyncio.create_task(answer("slow", 2), name="slow")
    try:
        result = await asyncio.wait_for(slow, timeout=0.5)
    except asyncio.TimeoutError:
        print("main: slow timed out after 0.5 s")
    print(f"main: slow.cancelled() is {slow.cancelled()}")


asyncio.run(main())
