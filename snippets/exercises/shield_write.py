"""Shield a write from cancellation

A request handler saves an order, which takes two seconds. The client
gives up after one second, and `wait_for` cancels the handler -- and the
save with it, half-way: the order is never saved.

Let the client give up, but protect the save: run it as its own task,
await it through `asyncio.shield`, and make sure main waits for that task
before it ends.

What to look for: without the shield, the cancellation reaches the save
(its lane ends cancelled); with it, only the handler is cancelled.

Checks:
    prints in order "saving order-42", "request timed out", "order-42 saved"
    exit status 0
"""

import asyncio


async def save(order: str) -> None:
    print(f"saving {order}")
    await asyncio.sleep(2)  # the database write
    print(f"{order} saved")


async def handle(order: str) -> None:
    await save(order)


async def main() -> None:
    try:
        await asyncio.wait_for(handle("order-42"), timeout=1)
    except asyncio.TimeoutError:
        print("request timed out")


asyncio.run(main())
