"""Cancelling a task, and cleaning up

`task.cancel()` asks a task to stop. The task is not killed on the spot:
at the `await` where it is waiting, a `CancelledError` is raised inside
it. The task can run cleanup code in `except` or `finally` blocks before
it ends -- and should then let the CancelledError continue (re-raise it),
so that everyone knows the task really was cancelled.

Whoever awaits a cancelled task gets a CancelledError too.

What to look for: two tasks, `main` and `download`. The download receives
a chunk every 0.2 s until main cancels it at 0.5 s. The CancelledError
appears inside the download, its cleanup lines print, and the task table
shows it cancelled. Then main gets CancelledError from its await. About
0.5 seconds.
"""

import asyncio


async def download() -> None:
    print("download: started")
    try:
        for chunk in range(1, 11):
            await asyncio.sleep(0.2)  # the CancelledError is raised here
            print(f"download: got chunk {chunk} of 10")
        print("download: complete")  # never printed
    except asyncio.CancelledError:
        print("download: cancelled, deleting the partial file")
        raise  # let the cancellation finish the task
    finally:
        print("download: closing the connection")  # runs whatever happens


async def main() -> None:
    task = asyncio.create_task(download(), name="download")
    await asyncio.sleep(0.5)

    print("main: cancelling the download")
    task.cancel()  # only a request: the task reacts at its next await

    try:
        await task
    except asyncio.CancelledError:
        print(f"main: the download is cancelled: task.cancelled() is {task.cancelled()}")


asyncio.run(main())
