"""new_event_loop() + run_until_complete(), with an explicit shutdown_asyncgens."""
import asyncio


async def child(i):
    await asyncio.sleep(0)
    print("child", i)
    return i * 10


async def main():
    tasks = [asyncio.ensure_future(child(i)) for i in range(2)]
    return await asyncio.wait_for(asyncio.gather(*tasks), 5)


loop = asyncio.new_event_loop()
try:
    print("result:", loop.run_until_complete(main()))
    loop.run_until_complete(loop.shutdown_asyncgens())
finally:
    loop.close()
print("closed:", loop.is_closed())
