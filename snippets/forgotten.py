"""A task nobody awaits is cut off

A task runs in the background only while the event loop is running. When
`main` returns, `asyncio.run()` cancels every task that is still going and
closes the loop. So a task that was created but never awaited can be cut
off in the middle of its work.

To let background work finish, await the task (or gather it) before main
returns. Also keep a reference to every task you create: the event loop
only holds a weak one.

What to look for: two tasks, `main` and `job`. The job starts, main
returns after half a second, and the job is cancelled -- it never prints
"finished", and the task table shows it as cancelled. The program takes
about 0.5 seconds, not the 2 seconds the job wanted.
"""

import asyncio


async def background_job() -> None:
    print("job: started, needs 2 s")
    try:
        await asyncio.sleep(2)
        print("job: finished")  # never printed
    except asyncio.CancelledError:
        print("job: cancelled, because main returned")
        raise  # let the cancellation complete


async def main() -> None:
    # Keep a reference to the task, even if you never await it.
    job = asyncio.create_task(background_job(), name="job")
    print("main: created the job task but will not await it")
    await asyncio.sleep(0.5)
    print("main: returning now")
    # Uncomment to let the job finish:  await job


asyncio.run(main())
