"""Every task waits and nothing can wake them (after a thread finished), until a signal."""

import asyncio
import signal


async def worker(event: asyncio.Event) -> str:
    await event.wait()
    return "worker woke up"


async def main() -> None:
    event = asyncio.Event()
    task = asyncio.create_task(worker(event), name="worker")
    await asyncio.to_thread(sum, [1, 2])  # a thread is pending: not a deadlock yet
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGALRM, event.set)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    print(await task)


asyncio.run(main())
