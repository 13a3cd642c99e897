"""Event: one signal wakes every waiter

An `asyncio.Event` is a flag that starts unset. `await event.wait()` waits
until some task calls `event.set()`; then every waiting task wakes up at
once. After that, `wait()` returns immediately until `event.clear()`.

Use it when several tasks must wait for one thing to happen: a start
signal, "the data is loaded", "shutting down".

What to look for: three runners, `runner-1` to `runner-3`, all waiting on
the event while main sleeps 0.5 s. Once main sets it, all three wake up
together, in the order they started waiting. About 0.5 seconds.
"""

import asyncio


async def runner(name: str, start_signal: asyncio.Event) -> None:
    print(f"{name}: waiting for the start signal")
    await start_signal.wait()
    print(f"{name}: running!")


async def main() -> None:
    start_signal = asyncio.Event()
    runners = [
        asyncio.create_task(runner(f"runner-{n}", start_signal), name=f"runner-{n}")
        for n in (1, 2, 3)
    ]
    await asyncio.sleep(0.5)

    print("main: ready... set... go!")
    start_signal.set()  # wakes all three
    await asyncio.gather(*runners)

    await start_signal.wait()  # already set: returns at once
    print(f"main: the event stays set: is_set() is {start_signal.is_set()}")


asyncio.run(main())
