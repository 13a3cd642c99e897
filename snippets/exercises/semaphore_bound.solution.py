"""Download at most three files at a time (solution)"""

import asyncio


async def download(n: int, places: asyncio.Semaphore) -> None:
    async with places:
        await asyncio.sleep(1)  # the transfer
        print(f"file {n} downloaded")


async def main() -> None:
    places = asyncio.Semaphore(3)
    await asyncio.gather(
        *(asyncio.create_task(download(n, places), name=f"download-{n}") for n in range(1, 10))
    )


asyncio.run(main())
