"""Shield a write from cancellation (solution)"""

import asyncio

saves: set[asyncio.Task] = set()


async def save(order: str) -> None:
    print(f"saving {order}")
    await asyncio.sleep(2)  # the database write
    print(f"{order} saved")


async def handle(order: str) -> None:
    task = asyncio.create_task(save(order), name="save")
    saves.add(task)
    await asyncio.shield(task)


async def main() -> None:
    try:
        await asyncio.wait_for(handle("order-42"), timeout=1)
    except asyncio.TimeoutError:
        print("request timed out")
    await asyncio.gather(*saves)


asyncio.run(main())
