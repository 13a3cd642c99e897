"""Put a deadline on a slow call

`lookup` asks a slow server, which takes ten seconds to answer. The
program should not wait that long: after one second it should give up,
print "gave up after 1 s" and go on.

Wrap the call in a deadline of one second (`asyncio.wait_for`, or
`asyncio.timeout` on Python 3.11+) and handle the timeout.

What to look for: the lookup's lane stops at one second, cancelled by
the deadline, and main goes on.

Checks:
    finishes within 2 s
    prints in order "asking the server...", "gave up after 1 s", "main: done"
    exit status 0
"""

import asyncio


async def lookup() -> str:
    print("asking the server...")
    await asyncio.sleep(10)  # a very slow server
    return "answer"


async def main() -> None:
    answer = await lookup()
    print(f"got {answer}")
    print("main: done")


asyncio.run(main())
