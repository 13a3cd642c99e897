"""When a task fails: the exception comes back at await

If the coroutine inside a task raises, the task ends as failed and keeps
the exception. Nothing happens yet: the exception is raised again, with its
original traceback, in whoever awaits the task. So you handle a task's
errors with an ordinary try/except around the `await`.

If nobody handles it, it travels up to `asyncio.run()`, and the program
stops with a traceback like any uncaught exception.

What to look for: three parsing tasks. `parse-42` returns 42, `parse-forty`
fails and main catches its ValueError, then `parse-oops` fails with nobody
to catch it. The program ends with a ValueError traceback and exit status 1
after about 0.4 seconds; the last line of main is never printed.

Exit status: 1
"""

import asyncio


async def parse(text: str) -> int:
    await asyncio.sleep(0.2)
    return int(text)  # raises ValueError for text that is not a number


async def main() -> None:
    good = asyncio.create_task(parse("42"), name="parse-42")
    bad = asyncio.create_task(parse("forty"), name="parse-forty")

    value = await good
    print(f"main: parse-42 returned {value}")

    try:
        await bad  # the task's ValueError is raised again right here
    except ValueError as error:
        print(f"main: caught {error!r}")

    print("main: awaiting one more failing task, without try/except")
    await asyncio.create_task(parse("oops"), name="parse-oops")
    print("main: never printed")


asyncio.run(main())
