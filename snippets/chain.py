"""A coroutine awaiting another coroutine

Coroutines can await other coroutines, just as functions call functions.
`main` awaits `process()`, which awaits `fetch()`. Each one is paused until
the one it awaits returns a value.

Awaiting a coroutine does not start anything new: the whole chain runs
inside one task, step by step. Only `create_task` (next snippet) makes
things run at the same time.

What to look for: only one task, `main`, even though three coroutines run.
While `fetch` sleeps, that task's await chain is main -> process -> fetch ->
sleep. The five lines are numbered and always come in order 1 to 5; the
program takes about half a second.
"""

import asyncio


async def fetch() -> str:
    print("3. fetch: downloading (0.5 s)")
    await asyncio.sleep(0.5)
    return "data"


async def process() -> str:
    print("2. process: awaiting fetch()")
    raw = await fetch()  # process is paused until fetch returns
    print(f"4. process: fetch returned {raw!r}")
    return raw.upper()


async def main() -> None:
    print("1. main: awaiting process()")
    # Calling process() alone only creates a coroutine object; `await` runs it.
    result = await process()
    print(f"5. main: process returned {result!r}")


asyncio.run(main())
