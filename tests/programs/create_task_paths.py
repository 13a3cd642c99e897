"""loop.create_task's paths under asyncplay (its fast path builds asyncio's Task itself):
the errors, their tracebacks and a task's source traceback must be python's own."""
import asyncio
import traceback


def frames(exc):
    return [(f.name, f.line) for f in traceback.extract_tb(exc.__traceback__)]


class Awaitable:
    def __await__(self):
        yield


class Unprintable:
    def __str__(self):
        raise ValueError("no name")


class SaysDebug(asyncio.SelectorEventLoop):
    def get_debug(self):  # debug for the tasks it makes, though its _debug is False
        return True


async def work(n=0):
    await asyncio.sleep(0)
    return n


async def main():
    loop = asyncio.get_running_loop()
    try:
        loop.create_task(Awaitable())
    except TypeError as exc:
        print("not a coroutine:", str(exc).split(",")[0], frames(exc))
    t = asyncio.create_task(work(1))
    t.set_name(42)
    print("name:", repr(t.get_name()))
    try:
        t.set_name(Unprintable())
    except ValueError as exc:
        print("unprintable name:", exc, frames(exc))
    print("name kept:", t.get_name(), await t)
    gathered = await asyncio.gather(*(work(i) for i in range(3)))
    print("gathered:", gathered, type(t).__name__, isinstance(t, asyncio.Task))
    print("repr:", repr(t).split(" coro=")[0])


asyncio.run(main())

closed = asyncio.new_event_loop()
closed.close()
coro = work()
try:
    closed.create_task(coro)
except RuntimeError as exc:
    print("closed loop:", exc, frames(exc))
coro.close()

says = SaysDebug()
made = says.create_task(work(5))
print("source traceback ends at:", [(f.name, f.line) for f in made._source_traceback[-1:]])
print("result:", says.run_until_complete(made))
says.close()
