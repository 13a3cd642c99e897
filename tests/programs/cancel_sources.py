"""Tasks cancelled in every way asyncplay tells apart (see test_concurrency_engine.py)."""

import asyncio


async def sleeper() -> None:
    await asyncio.sleep(10)


async def waiter(fut: asyncio.Future) -> None:
    await fut


async def main() -> None:
    by_hand = asyncio.create_task(sleeper(), name="by-hand")
    await asyncio.sleep(0)
    by_hand.cancel()  # CANCEL-1
    by_hand.cancel()  # a second request: not a second source
    by_callback = asyncio.create_task(sleeper(), name="by-callback")
    asyncio.get_running_loop().call_later(0.01, by_callback.cancel)
    in_gather = asyncio.create_task(sleeper(), name="in-gather")
    outer = asyncio.create_task(waiter(asyncio.gather(in_gather)), name="outer")
    await asyncio.sleep(0.05)
    outer.cancel()  # CANCEL-2: passes on to the gather, and on to in-gather
    timed_out = asyncio.create_task(sleeper(), name="timed-out")
    try:
        await asyncio.wait_for(timed_out, 0.01)  # TIMEOUT
    except asyncio.TimeoutError:
        pass
    results = await asyncio.gather(by_hand, by_callback, outer, in_gather, return_exceptions=True)
    print([type(r).__name__ for r in results])
    asyncio.create_task(sleeper(), name="left-behind")
    await asyncio.sleep(0)


asyncio.run(main())
