"""Fetch three pages at the same time

Each fetch waits one second on the network (here, asyncio.sleep). The
program below awaits each fetch task before it starts the next one, so
the three waits add up to three seconds.

Change `main` so the three fetches wait at the same time: the whole
program should then take about one second.

What to look for: in the timeline the three fetch lanes come one after
another; once they run together, they stand side by side.

Checks:
    finishes within 1.2 s
    at least 3 "fetch" tasks at once
    prints "fetched page 1", "fetched page 2", "fetched page 3"
    every task finishes
"""

import asyncio


async def fetch(page: int) -> str:
    await asyncio.sleep(1)  # the network
    print(f"fetched page {page}")
    return f"page {page}"


async def main() -> None:
    pages = []
    for page in (1, 2, 3):
        pages.append(await asyncio.create_task(fetch(page), name=f"fetch-{page}"))
    print(f"main: got {len(pages)} pages")


asyncio.run(main())
