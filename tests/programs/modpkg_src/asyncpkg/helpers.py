import asyncio


async def double(n):
    await asyncio.sleep(0)
    return n * 2
