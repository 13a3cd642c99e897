"""Running coroutines side by side with create_task

`asyncio.create_task()` wraps a coroutine in a task and schedules it to run
on its own. The task does not start at once: it runs as soon as the current
task pauses at an `await`. From then on the event loop switches between
tasks whenever one of them waits.

Awaiting a task waits for it to finish and gives back its return value.
Two one-second jobs run as tasks take about one second in total, not two.

What to look for: three tasks -- `main`, `tea` and `coffee`. Both brewing
tasks start right after main prints that it created them (main has to
pause first). `coffee` is quicker and finishes first even though main
awaits `tea` first. The whole program takes about 1 second.
"""

import asyncio
import time


async def brew(drink: str, seconds: float) -> str:
    print(f"{drink}: started, takes {seconds} s")
    await asyncio.sleep(seconds)
    print(f"{drink}: ready")
    return f"a cup of {drink}"


async def main() -> None:
    start = time.perf_counter()

    # Both tasks are scheduled now, but neither has run a single line yet.
    tea = asyncio.create_task(brew("tea", 1), name="tea")
    coffee = asyncio.create_task(brew("coffee", 0.5), name="coffee")
    print("main: created both tasks, now awaiting them")

    # While main waits here, tea and coffee run.
    first = await tea
    second = await coffee  # already finished: returns at once
    print(f"main: got {first} and {second} in {time.perf_counter() - start:.1f} s")


asyncio.run(main())
