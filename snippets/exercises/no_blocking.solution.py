"""Stop blocking the event loop (solution)"""

import asyncio


async def worker(n: int) -> None:
    await asyncio.sleep(0.5)  # waits without holding the loop
    print(f"worker-{n} done")


async def main() -> None:
    await asyncio.gather(worker(1), worker(2))


asyncio.run(main())
