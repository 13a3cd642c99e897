"""Await the coroutine you call (solution)"""

import asyncio


async def greet(name: str) -> None:
    await asyncio.sleep(0.2)
    print(f"hello, {name}")


async def main() -> None:
    await greet("Ada")
    await greet("Grace")
    print("main: done")


asyncio.run(main())
