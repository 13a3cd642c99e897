"""Put a deadline on a slow call (solution)"""

import asyncio


async def lookup() -> str:
    print("asking the server...")
    await asyncio.sleep(10)  # a very slow server
    return "answer"


async def main() -> None:
    try:
        answer = await asyncio.wait_for(lookup(), timeout=1)
        print(f"got {answer}")
    except asyncio.TimeoutError:
        print("gave up after 1 s")
    print("main: done")


asyncio.run(main())
