"""TaskGroup (3.11+) with two failures handled by except*; the sleeper is cancelled."""
import asyncio


async def ok(n):
    await asyncio.sleep(0)
    print("ok", n)
    return n


async def fail(exc):
    raise exc


async def sleeper():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("sleeper cancelled")
        raise


async def main():
    try:
        async with asyncio.TaskGroup() as tg:
            t1 = tg.create_task(ok(1))
            tg.create_task(fail(ValueError("bad value")))
            tg.create_task(fail(KeyError("missing")))
            tg.create_task(sleeper())
    except* ValueError as eg:
        print("ValueError group:", [str(e) for e in eg.exceptions])
    except* KeyError as eg:
        print("KeyError group:", [repr(e) for e in eg.exceptions])
    print("t1:", t1.done() and not t1.cancelled() and t1.result())


asyncio.run(main())
