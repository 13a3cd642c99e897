"""Do not lose a background task (solution)"""

import asyncio


async def save_settings() -> None:
    print("saving settings...")
    await asyncio.sleep(0.5)
    print("settings saved")


async def main() -> None:
    task = asyncio.create_task(save_settings(), name="save")
    await asyncio.sleep(0.1)
    await task
    print("main: bye")


asyncio.run(main())
