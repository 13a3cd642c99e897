"""Handle one failing task in a TaskGroup (solution)"""

import asyncio
import sys

if sys.version_info < (3, 11):
    sys.exit("this exercise needs Python 3.11 or newer (asyncio.TaskGroup)")


async def fetch(address: str) -> str:
    await asyncio.sleep(0.5)
    if address == "bad":
        raise ValueError("bad address")
    await asyncio.sleep(1)
    return address


async def main() -> None:
    try:
        async with asyncio.TaskGroup() as group:
            for address in ("one", "bad", "two"):
                group.create_task(fetch(address), name=f"fetch-{address}")
    except* ValueError as failed:
        print(f"one fetch failed: {failed.exceptions[0]}")
    print("main: done")


asyncio.run(main())
