"""Fix a deadlock between two locks (solution)"""

import asyncio


async def transfer(n: int, first: asyncio.Lock, second: asyncio.Lock) -> None:
    async with first:
        await asyncio.sleep(0.1)  # read the first account
        async with second:
            await asyncio.sleep(0.1)  # write both
    print(f"transfer {n} done")


async def main() -> None:
    a, b = asyncio.Lock(), asyncio.Lock()
    await asyncio.gather(
        asyncio.create_task(transfer(1, a, b), name="transfer-1"),
        asyncio.create_task(transfer(2, a, b), name="transfer-2"),
    )


asyncio.run(main())
