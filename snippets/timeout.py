"""A deadline for a whole block: asyncio.timeout

`async with asyncio.timeout(seconds):` puts one time limit on everything
awaited inside the block, however many steps it has. When time runs out,
the step that is waiting gets cancelled, and the block raises the built-in
`TimeoutError` on exit. Code inside the block needs no changes.

`asyncio.timeout` is new in Python 3.11. On 3.10 this snippet prints one
line saying so and exits with status 1; use `asyncio.wait_for` there.

What to look for: one task, `main`, doing steps of 0.3 s under a 1 s limit
(both fit) and then under a 0.5 s limit, where the second step is cut
off: "unpack: done" is printed only once. main catches TimeoutError and
goes on. About 1.1 seconds.

Requires Python: 3.11
"""

import asyncio
import sys

if sys.version_info < (3, 11):
    sys.exit("This snippet needs Python 3.11 or newer: asyncio.timeout() does not exist in 3.10.")


async def step(name: str) -> None:
    print(f"{name}: started")
    await asyncio.sleep(0.3)
    print(f"{name}: done")


async def main() -> None:
    async with asyncio.timeout(1):
        await step("download")
        await step("unpack")
    print("main: both steps fit in 1 s")

    try:
        async with asyncio.timeout(0.5):
            await step("download")
            await step("unpack")  # only 0.2 s left: cancelled halfway
        print("main: never printed")
    except TimeoutError:
        print("main: the 0.5 s deadline passed, the block was cancelled")


asyncio.run(main())
