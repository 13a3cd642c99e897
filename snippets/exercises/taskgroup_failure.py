"""Handle one failing task in a TaskGroup

Three fetches run in a TaskGroup. One of them fails with a ValueError.
The TaskGroup then cancels the others and raises an ExceptionGroup,
which nobody handles: the program crashes.

Catch the ValueError coming out of the TaskGroup (with `except*`),
print "one fetch failed: bad address", and let main end normally.

What to look for: the failing task's lane ends red; the others are
cancelled by the TaskGroup.

Requires Python: 3.11

Checks:
    exit status 0
    prints "one fetch failed: bad address"
    task "fetch-bad" fails
"""

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
    async with asyncio.TaskGroup() as group:
        for address in ("one", "bad", "two"):
            group.create_task(fetch(address), name=f"fetch-{address}")
    print("main: done")


asyncio.run(main())
