"""Write an async iterator that stops

`Countdown` counts down with a pause between numbers, for use with
`async for`. When it reaches zero it should stop, but it raises
`StopIteration`, which is the signal of an ordinary iterator: inside a
coroutine Python turns it into a RuntimeError and the program crashes.

Make the iterator stop the way `async for` expects.

What to look for: the traceback's RuntimeError ("coroutine raised
StopIteration"), and main's lane ending red.

Checks:
    prints exactly "3", "2", "1", "lift-off"
    exit status 0
"""

import asyncio


class Countdown:
    def __init__(self, start: int) -> None:
        self.current = start

    def __aiter__(self) -> "Countdown":
        return self

    async def __anext__(self) -> int:
        if self.current == 0:
            raise StopIteration
        await asyncio.sleep(0.5)
        self.current -= 1
        return self.current + 1


async def main() -> None:
    async for n in Countdown(3):
        print(n)
    print("lift-off")


asyncio.run(main())
