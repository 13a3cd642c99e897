import asyncio
import sys


async def spin(n):
    for _ in range(n):
        await asyncio.sleep(0)
    return n


async def worker(name, q, results):
    while True:
        item = await q.get()
        try:
            if item % 7 == 3:
                raise ValueError(f"bad item {item}")
            await asyncio.sleep(0.001 * (item % 3))
            results.append(item)
        except ValueError:
            results.append(-1)
        finally:
            q.task_done()


async def fail(delay):
    await asyncio.sleep(delay)
    raise RuntimeError("failed on purpose")


async def sleeper():
    await asyncio.sleep(10)


async def locked(lock, i):
    async with lock:
        await asyncio.sleep(0)
        return i


async def main():
    total = sum(await asyncio.gather(*(spin(i % 5 + 1) for i in range(40))))
    q = asyncio.Queue()
    results = []
    workers = [asyncio.create_task(worker(f"w{i}", q, results), name=f"worker-{i}") for i in range(3)]
    for i in range(30):
        await q.put(i)
    await q.join()
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    s = asyncio.create_task(sleeper(), name="to-cancel")
    await asyncio.sleep(0.01)
    s.cancel()
    try:
        await s
    except asyncio.CancelledError:
        pass
    try:
        await asyncio.wait_for(sleeper(), 0.02)
    except asyncio.TimeoutError:
        pass
    got = await asyncio.gather(fail(0.001), spin(3), return_exceptions=True)
    lost = asyncio.create_task(fail(0))  # never retrieved
    lock = asyncio.Lock()
    await asyncio.gather(*(locked(lock, i) for i in range(5)))
    if sys.version_info >= (3, 11):
        async with asyncio.TaskGroup() as tg:
            for i in range(4):
                tg.create_task(spin(i + 1))
    await asyncio.sleep(0.01)
    print(total, len(results), type(got[0]).__name__, lost.done())


asyncio.run(main())
