"""Lock: one task at a time in a critical section

Tasks only switch at an `await`, but that is enough for a race. A task
that reads a shared value, awaits something, and then writes the value
back may overwrite what another task wrote in the meantime -- that update
is lost.

`asyncio.Lock` fixes it. `async with lock:` lets one task in at a time;
the others wait at the door until it leaves. Keep the locked part short.

What to look for: three `unsafe` tasks each deposit 100 at the same time:
all read balance 0, and the final balance is 100 instead of 300. Then
three `safe` tasks take turns under the lock (watch them wait on the lock)
and the balance is 300. About 0.4 seconds.
"""

import asyncio

balance = 0


async def deposit_unsafe(name: str, amount: int) -> None:
    global balance
    current = balance
    print(f"{name}: read balance {current}")
    await asyncio.sleep(0.1)  # e.g. talk to the bank; other tasks run now
    balance = current + amount  # overwrites what the others wrote


async def deposit_safe(name: str, amount: int, lock: asyncio.Lock) -> None:
    global balance
    async with lock:  # only one task at a time gets past this line
        current = balance
        print(f"{name}: read balance {current}")
        await asyncio.sleep(0.1)  # others wait for the lock meanwhile
        balance = current + amount


async def main() -> None:
    global balance

    unsafe = [
        asyncio.create_task(deposit_unsafe(f"unsafe-{n}", 100), name=f"unsafe-{n}")
        for n in (1, 2, 3)
    ]
    await asyncio.gather(*unsafe)
    print(f"unsafe: final balance {balance} (expected 300)")

    balance = 0
    lock = asyncio.Lock()
    safe = [
        asyncio.create_task(deposit_safe(f"safe-{n}", 100, lock), name=f"safe-{n}")
        for n in (1, 2, 3)
    ]
    await asyncio.gather(*safe)
    print(f"safe: final balance {balance} (expected 300)")


asyncio.run(main())
