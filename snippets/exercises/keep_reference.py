"""Do not lose a background task

`main` starts a task to save the user's settings, then carries on and
returns. Nothing keeps the task or waits for it, so when `main` ends
`asyncio.run` cancels it half-way: the settings are never saved.

Keep a reference to the task and make sure it finishes before the
program ends.

What to look for: asyncplay warns that the task was cut off when main
ended, and the save task's lane stops before "settings saved".

Checks:
    every task finishes
    no cut-off task
    prints "settings saved"
"""

import asyncio


async def save_settings() -> None:
    print("saving settings...")
    await asyncio.sleep(0.5)
    print("settings saved")


async def main() -> None:
    asyncio.create_task(save_settings(), name="save")
    await asyncio.sleep(0.1)
    print("main: bye")


asyncio.run(main())
