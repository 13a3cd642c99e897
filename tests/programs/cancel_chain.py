"""A long chain of tasks, each awaiting the next, cancelled from its head: the cancel is
passed on down the whole chain at once (asyncio's C tasks do it in C, python has no
RecursionError at this depth); under asyncplay no RecursionError either, and no frame of
the runtime's in any traceback."""
import asyncio

N = 900  # python 3.10-3.12 itself fails past ~1,000 (3.13+: past ~1,500-2,000)


async def link(i, chain):
    if i + 1 < N:
        await chain[i + 1]
    else:
        await asyncio.sleep(10)


async def main():
    chain = []
    chain.extend(asyncio.create_task(link(i, chain)) for i in range(N))
    await asyncio.sleep(0)
    print("cancel passed on:", chain[0].cancel())
    results = await asyncio.gather(*chain, return_exceptions=True)
    print(sum(isinstance(r, asyncio.CancelledError) for r in results), "cancelled")


asyncio.run(main())
