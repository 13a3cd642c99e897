"""Named tasks, a blocking step, a timeout, a cancel and warnings: every view has something."""

import asyncio
import time


async def fetch(name: str, delay: float) -> str:
    await asyncio.sleep(delay)
    print(f"{name}: fetched after {delay} s")
    return name


async def slow_parser() -> None:
    await asyncio.sleep(0.1)
    time.sleep(0.3)  # blocks the loop: every other task waits
    print("parser: done")


async def waiter(event: asyncio.Event) -> None:
    await event.wait()  # nobody ever sets it


async def heartbeat() -> None:
    while True:
        await asyncio.sleep(0.25)


async def main() -> None:
    asyncio.create_task(heartbeat(), name="heartbeat")  # never awaited: cut off at the end
    fetch("cache", 0)  # a coroutine never awaited
    parser = asyncio.create_task(slow_parser(), name="parser")
    results = await asyncio.gather(
        asyncio.create_task(fetch("users", 0.2), name="users"),
        asyncio.create_task(fetch("orders", 0.5), name="orders"),
    )
    print("gathered", results)
    try:
        await asyncio.wait_for(fetch("reports", 5), timeout=0.4)
    except asyncio.TimeoutError:
        print("reports: gave up after 0.4 s")
    await parser
    stuck = asyncio.create_task(waiter(asyncio.Event()), name="stuck")
    await asyncio.sleep(0.1)
    stuck.cancel()


asyncio.run(main())
