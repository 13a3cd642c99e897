"""KeyboardInterrupt raised by the program inside its main task."""
import asyncio


async def main():
    print("about to interrupt")
    await asyncio.sleep(0)
    raise KeyboardInterrupt


asyncio.run(main())
