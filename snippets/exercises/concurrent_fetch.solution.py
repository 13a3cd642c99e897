"""Fetch three pages at the same time (solution)"""

import asyncio


async def fetch(page: int) -> str:
    await asyncio.sleep(1)  # the network
    print(f"fetched page {page}")
    return f"page {page}"


async def main() -> None:
    tasks = [asyncio.create_task(fetch(page), name=f"fetch-{page}") for page in (1, 2, 3)]
    pages = await asyncio.gather(*tasks)
    print(f"main: got {len(pages)} pages")


asyncio.run(main())
