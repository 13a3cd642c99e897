"""Debug mode refuses a coroutine function (or object) in run_in_executor with a
TypeError, as asyncio's other scheduling calls do (CPython's test_call_coroutine)."""
import asyncio


async def job():
    pass


async def main():
    loop = asyncio.get_running_loop()
    coro = job()
    for func in (job, coro):
        try:
            await loop.run_in_executor(None, func)
            print("accepted", type(func).__name__)
        except TypeError as e:
            print("TypeError:", e)
    coro.close()


asyncio.run(main(), debug=True)
