"""asyncio.Runner (3.11+): two run() calls on one loop, then close()."""
import asyncio


async def step(n):
    await asyncio.sleep(0)
    print("step", n)
    return n * 2


async def main(n):
    t = asyncio.create_task(step(n))
    return await t


with asyncio.Runner() as runner:
    print("first:", runner.run(main(1)))
    print("second:", runner.run(main(2)))
    loop = runner.get_loop()
print("loop closed:", loop.is_closed())
