"""TaskGroup: tasks that finish, or fail, together

`asyncio.TaskGroup` keeps track of the tasks you start in it. The
`async with` block does not end until every one of them has finished, so no
task is forgotten. If one task fails, the group cancels all the others and
then raises an `ExceptionGroup` holding the error(s).

This is "structured concurrency": tasks live inside a block, like local
variables. TaskGroup is new in Python 3.11; on 3.10 this snippet prints one
line saying so and exits with status 1.

What to look for: first `fetch` and `parse` run in a group; main continues
only after both are done. Then `slow` and `broken` run in a second group:
`broken` fails at 0.3 s, the group cancels `slow` (task table: failed and
cancelled), and main catches an ExceptionGroup with one ValueError. About
0.9 seconds.

Requires Python: 3.11
"""

import asyncio
import sys

if sys.version_info < (3, 11):
    sys.exit("This snippet needs Python 3.11 or newer: asyncio.TaskGroup does not exist in 3.10.")


async def job(name: str, seconds: float, fail: bool = False) -> str:
    print(f"{name}: started")
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        print(f"{name}: cancelled by the group")
        raise
    if fail:
        print(f"{name}: raising ValueError")
        raise ValueError(f"{name} went wrong")
    print(f"{name}: done")
    return f"{name} result"


async def main() -> None:
    async with asyncio.TaskGroup() as group:
        fetch = group.create_task(job("fetch", 0.3), name="fetch")
        parse = group.create_task(job("parse", 0.6), name="parse")
    # Leaving the block means every task in the group has finished.
    print(f"main: group done: {fetch.result()!r}, {parse.result()!r}")

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(job("slow", 2), name="slow")
            group.create_task(job("broken", 0.3, fail=True), name="broken")
    except ExceptionGroup as errors:  # one exception per failed task
        print(f"main: caught {errors!r}")


asyncio.run(main())
