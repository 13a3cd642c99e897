import asyncio
import threading


async def tick(n, pause):
    for _ in range(n):
        await asyncio.sleep(pause)
    return n


async def first():
    return sum(await asyncio.gather(*(tick(3, 0) for _ in range(10))))


async def second():
    done, pending = await asyncio.wait([asyncio.create_task(tick(i, 0.002)) for i in range(6)])
    return len(done)


def in_thread(out):
    async def inner():
        return sum(await asyncio.gather(*(tick(20, 0.001) for _ in range(8))))

    out.append(asyncio.run(inner()))


async def together():
    out = []
    t = threading.Thread(target=in_thread, args=(out,))
    t.start()
    s = sum(await asyncio.gather(*(tick(20, 0.001) for _ in range(8))))
    await asyncio.to_thread(t.join)
    return s, out


print(asyncio.run(first()))
print(asyncio.run(second()))
print(asyncio.run(together()))
