"""Download at most three files at a time

Nine downloads start at once. The server only allows three connections
per client, so at most three downloads may run at the same moment.

Bound the downloads with an `asyncio.Semaphore(3)`: a download waits
for a free place before it starts, and gives it back when it ends.

What to look for: in the timeline nine lanes start together; with the
semaphore, three run while the others wait, in three rounds.

Checks:
    at most 3 "download" tasks at once
    at least 3 "download" tasks at once
    every task finishes
    takes between 2.9 and 3.5 s
"""

import asyncio


async def download(n: int) -> None:
    await asyncio.sleep(1)  # the transfer
    print(f"file {n} downloaded")


async def main() -> None:
    await asyncio.gather(
        *(asyncio.create_task(download(n), name=f"download-{n}") for n in range(1, 10))
    )


asyncio.run(main())
