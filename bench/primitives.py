"""100,000 put/get pairs through a bounded asyncio.Queue, and a Semaphore taken 100,000
times by 8 workers: the cost of watching the program's queues and locks (issue #15's
budget: within 2x plain python's wall time), side by side with plain Python.

``engine_features.py --program primitives`` runs the same program against an older
child runtime.
"""

from __future__ import annotations

from _common import compare

PROGRAM = """
import asyncio

N = 100_000

async def producer(q):
    for i in range(N):
        await q.put(i)

async def consumer(q):
    for _ in range(N):
        await q.get()
        q.task_done()

async def worker(sem, n):
    for _ in range(n):
        async with sem:
            pass

async def main():
    q = asyncio.Queue(maxsize=100)
    await asyncio.gather(producer(q), consumer(q))
    sem = asyncio.Semaphore(2)
    await asyncio.gather(*(worker(sem, N // 8) for _ in range(8)))

asyncio.run(main())
"""

if __name__ == "__main__":
    compare("primitives", PROGRAM, default_rounds=5)
