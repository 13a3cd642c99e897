"""A file that does not compile."""
import asyncio


async def main():
    await asyncio.sleep(0)
    print("never"


asyncio.run(main())
