"""A task whose exception nobody retrieves is freed at the end of its only step (nothing
else holds it): on 3.12+ the loop's exception handler is called then, in the task's
context (CPython's test_futures2 test_task_exc_handler_correct_context)."""
import asyncio
import contextvars

name = contextvars.ContextVar("name", default="foo")


async def task():
    name.set("bar")
    1 / 0


async def main():
    loop = asyncio.get_running_loop()
    seen = []
    loop.set_exception_handler(lambda loop, ctx: seen.append((name.get(), ctx["message"])))
    asyncio.create_task(task())  # C task, not kept
    asyncio.tasks._PyTask(task())  # the pure-Python task, not kept
    await asyncio.sleep(0)
    print("handler called at once, in the task's context:", seen)


asyncio.run(main())
