"""shield: protect work from cancellation

Cancelling propagates: when a task that awaits something is cancelled, or
when `wait_for` times out, the thing being awaited is cancelled too. That
is usually right, but not for work that must finish, like saving a file.

`asyncio.shield(aw)` puts a guard in between. Whoever awaits the shield
can be cancelled or give up, but the work behind it keeps running. You can
await it again later to get its result.

What to look for: two saving tasks, `unshielded` and `shielded`, each
needing 0.8 s, while main waits only 0.3 s for each. `unshielded` is
cancelled along with the wait and never finishes. `shielded` keeps going,
finishes, and main gets its result. About 1.1 seconds.
"""

import asyncio


async def save(name: str) -> str:
    print(f"{name}: saving (0.8 s)")
    try:
        await asyncio.sleep(0.8)
    except asyncio.CancelledError:
        print(f"{name}: cancelled halfway, the file is corrupt")
        raise
    print(f"{name}: saved")
    return f"{name} saved"


async def main() -> None:
    # Without shield: the timeout cancels the save itself.
    unshielded = asyncio.create_task(save("unshielded"), name="unshielded")
    try:
        await asyncio.wait_for(unshielded, timeout=0.3)
    except asyncio.TimeoutError:
        print(f"main: gave up; unshielded.cancelled() is {unshielded.cancelled()}")

    # With shield: the timeout cancels only the shield, the save goes on.
    shielded = asyncio.create_task(save("shielded"), name="shielded")
    try:
        await asyncio.wait_for(asyncio.shield(shielded), timeout=0.3)
    except asyncio.TimeoutError:
        print(f"main: gave up; shielded.cancelled() is {shielded.cancelled()}")

    result = await shielded  # still running: wait for it properly this time
    print(f"main: {result}")


asyncio.run(main())
