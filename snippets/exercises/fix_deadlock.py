"""Fix a deadlock between two locks

Two tasks move money between two accounts, each guarded by a lock. The
first takes lock A then lock B; the second takes B then A. Each gets its
first lock and then waits for ever on the lock the other one holds.

Make both transfers finish: take the locks in the same order in both.

What to look for: asyncplay says the program is deadlocked (every task
waiting, nothing that could wake one) and ends the run there; the await
graph shows who waits on what.

Checks:
    no deadlock
    every task finishes
    prints "transfer 1 done", "transfer 2 done"
    exit status 0
"""

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
        asyncio.create_task(transfer(2, b, a), name="transfer-2"),
    )


asyncio.run(main())
