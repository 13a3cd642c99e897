"""asyncio.run with gather: three workers finishing in a fixed order (0.2 s apart, so even a
loaded machine does not swap them between the plain run and asyncplay's)."""
import asyncio


async def worker(name, delay):
    await asyncio.sleep(delay)
    print(f"{name} done after {delay}")
    return name.upper()


async def main():
    results = await asyncio.gather(worker("a", 0.4), worker("b", 0.2), worker("c", 0))
    print("results:", results)


asyncio.run(main())
