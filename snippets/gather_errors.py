"""gather and errors: return_exceptions=True

By default, when one task in `gather()` fails, gather raises that exception
straight away. The other tasks are not cancelled: they keep running, but
their results are lost to you.

With `return_exceptions=True`, gather never raises for a task's error.
It waits for every task and puts the exception object in the result list,
in that task's place, so you can deal with each outcome.

What to look for: first, plain gather over the tasks `web`, `db` and
`cache`. `db` fails after 0.1 s, gather raises at once, and `web` and
`cache` are still running. Then the same checks with return_exceptions=True
give a list holding two results and one ConnectionError. About 0.6 seconds.
"""

import asyncio


async def check(service: str, seconds: float, up: bool = True) -> str:
    await asyncio.sleep(seconds)
    if not up:
        raise ConnectionError(f"{service} is down")
    return f"{service} is up"


SERVICES = [("web", 0.2, True), ("db", 0.1, False), ("cache", 0.3, True)]


async def main() -> None:
    # 1. Plain gather: the first error is raised, the other tasks go on.
    tasks = [
        asyncio.create_task(check(name, seconds, up), name=name)
        for name, seconds, up in SERVICES
    ]
    try:
        await asyncio.gather(*tasks)
    except ConnectionError as error:
        print(f"plain gather raised: {error!r}")
    still_running = [task.get_name() for task in tasks if not task.done()]
    print(f"still running, not cancelled: {still_running}")
    await asyncio.wait(tasks)  # let them finish before moving on

    # 2. return_exceptions=True: one entry per task, errors included.
    results = await asyncio.gather(
        *(check(name, seconds, up) for name, seconds, up in SERVICES),
        return_exceptions=True,
    )
    print("gather with return_exceptions=True returned:")
    for (name, _, _), result in zip(SERVICES, results):
        if isinstance(result, Exception):
            print(f"  {name}: failed with {result!r}")
        else:
            print(f"  {name}: {result}")


asyncio.run(main())
