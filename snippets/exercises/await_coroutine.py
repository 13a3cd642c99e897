"""Await the coroutine you call

Calling a coroutine function does not run it: `greet("Ada")` only makes
a coroutine object, and nothing happens until something awaits it. The
program below calls `greet` twice and never awaits, so nobody is greeted
and Python warns that a coroutine was never awaited.

Make both greetings happen, one after the other.

What to look for: asyncplay's "never awaited" warning names the line of
the call.

Checks:
    no never-awaited coroutine
    prints in order "hello, Ada", "hello, Grace"
    exit status 0
"""

import asyncio


async def greet(name: str) -> None:
    await asyncio.sleep(0.2)
    print(f"hello, {name}")


async def main() -> None:
    greet("Ada")
    greet("Grace")
    print("main: done")


asyncio.run(main())
