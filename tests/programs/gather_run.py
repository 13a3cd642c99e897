"""asyncio.run with gather: three workers finishing in a fixed order."""
import asyncio


async def worker(name, delay):
    await asyncio.sleep(delay)
    print(f"{name} done after {delay}")
    return name.upper()


async def main():
    results = await asyncio.gather(worker("a", 0.03), worker("b", 0.015), worker("c", 0))
    print("results:", results)


asyncio.run(main())
