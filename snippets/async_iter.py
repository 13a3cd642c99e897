"""Async iterators: __aiter__, __anext__ and async for

An ordinary `for` loop cannot wait for its next item. An async iterator
can: its `__anext__` method is a coroutine, so fetching each item may
`await` (a network read, a timer...). It signals the end by raising
`StopAsyncIteration`.

`async for` drives one for you. Each time round the loop it awaits
`__anext__()`, and while that waits, other tasks get to run.

What to look for: one task, `main`, which spends its time awaiting
`Countdown.__anext__` -> `sleep`. The numbers 3, 2, 1 arrive 0.2 s apart,
then "liftoff" after the iterator raises StopAsyncIteration. The same loop
written by hand follows. About 1 second in total.
"""

import asyncio


class Countdown:
    """Counts down from `start` to 1, waiting 0.2 s before each number."""

    def __init__(self, start: int) -> None:
        self.current = start

    def __aiter__(self) -> "Countdown":
        return self  # the object is its own iterator

    async def __anext__(self) -> int:
        if self.current == 0:
            raise StopAsyncIteration  # ends the `async for` loop
        await asyncio.sleep(0.2)  # waiting for the next item lets other tasks run
        value = self.current
        self.current -= 1
        return value


async def main() -> None:
    async for number in Countdown(3):
        print(f"main: got {number}")
    print("main: liftoff")

    # What `async for` does for you, spelled out:
    iterator = Countdown(2).__aiter__()
    while True:
        try:
            number = await iterator.__anext__()
        except StopAsyncIteration:
            break
        print(f"main (by hand): got {number}")
    print("main (by hand): liftoff")


asyncio.run(main())
