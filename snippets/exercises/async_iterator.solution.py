"""Write an async iterator that stops (solution)"""

import asyncio


class Countdown:
    def __init__(self, start: int) -> None:
        self.current = start

    def __aiter__(self) -> "Countdown":
        return self

    async def __anext__(self) -> int:
        if self.current == 0:
            raise StopAsyncIteration
        await asyncio.sleep(0.5)
        self.current -= 1
        return self.current + 1


async def main() -> None:
    async for n in Countdown(3):
        print(n)
    print("lift-off")


asyncio.run(main())
