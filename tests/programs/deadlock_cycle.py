"""Three tasks await each other in a ring. A ring cannot even be cancelled (each cancel
passes to the awaited task, round and round), so the program leaves with os._exit."""

import asyncio
import os
import sys


async def link(name: str, peers: dict) -> None:
    await asyncio.sleep(0)
    await peers[name]  # awaits the next task in the ring


async def main() -> None:
    peers: dict = {}
    a = asyncio.create_task(link("b", peers), name="ring-a")
    b = asyncio.create_task(link("c", peers), name="ring-b")
    c = asyncio.create_task(link("a", peers), name="ring-c")
    peers.update(a=a, b=b, c=c)
    for _ in range(3):
        await asyncio.sleep(1.2)  # long waits: the loop looks for cycles at each
    print("still stuck:", [t.done() for t in (a, b, c)])
    sys.stdout.flush()
    os._exit(0)


asyncio.run(main())
