"""Async generators and async comprehensions

An `async def` function that contains `yield` is an async generator: the
easy way to write an async iterator. It can `await` between its yields, and
`async for` consumes it -- no `__aiter__`/`__anext__` to write by hand.

Async comprehensions build a list (or set, or dict) from an async iterator:
`[x async for x in gen()]`. A comprehension may also `await` in its
expression. Both still run one item at a time: they are not concurrent.

What to look for: one task, `main`, awaiting the generator `readings`. The
loop prints three readings 0.1 s apart; the comprehension keeps the
readings of 20 or more; the last line awaits `double()` for each number,
one after the other. About 1 second in total.
"""

import asyncio
from collections.abc import AsyncIterator


async def readings(count: int) -> AsyncIterator[int]:
    """Yield `count` sensor readings, one every 0.1 s."""
    for number in range(count):
        await asyncio.sleep(0.1)  # e.g. waiting for the sensor
        yield number * 10


async def double(value: int) -> int:
    await asyncio.sleep(0.1)
    return value * 2


async def main() -> None:
    # 1. async for over an async generator
    async for value in readings(3):
        print(f"async for: reading {value}")

    # 2. An async comprehension, with a filter
    high = [value async for value in readings(4) if value >= 20]
    print(f"async comprehension: {high}")

    # 3. Awaiting inside a comprehension: each double() waits in turn
    doubled = [await double(n) for n in (1, 2, 3)]
    print(f"await in a comprehension: {doubled}")


asyncio.run(main())
