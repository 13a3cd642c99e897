"""Async context managers: async with

Some resources need to wait while being set up or torn down: opening a
network connection, committing a transaction. An async context manager has
coroutine methods `__aenter__` and `__aexit__`, and `async with` awaits
them for you on the way in and on the way out.

`__aexit__` runs however the block ends -- normally or with an exception --
so cleanup is never skipped. `contextlib.asynccontextmanager` turns an
async generator into a context manager, the short way to write one.

What to look for: one task, `main`, which awaits `__aenter__` and
`__aexit__` (0.2 s each) around its block. The connection is opened before
the block and closed after it. The transaction commits the first time and
rolls back the second, when the block raises; the connection is still
closed. About 0.8 seconds.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Connection:
    """A pretend network connection that takes time to open and close."""

    async def __aenter__(self) -> "Connection":
        print("connection: opening...")
        await asyncio.sleep(0.2)
        print("connection: open")
        return self  # bound to the name after `as`

    async def __aexit__(self, exc_type, exc, traceback) -> bool:
        print("connection: closing...")
        await asyncio.sleep(0.2)
        print("connection: closed")
        return False  # False: do not swallow an exception from the block


@asynccontextmanager
async def transaction(name: str) -> AsyncIterator[None]:
    print(f"{name}: begin")
    try:
        yield  # the body of the `async with` block runs here
    except Exception:
        print(f"{name}: rollback")
        raise
    else:
        print(f"{name}: commit")


async def main() -> None:
    async with Connection():
        print("main: inside the block, connection is ready")
        async with transaction("transaction 1"):
            print("main: saving an order")

    try:
        async with Connection():
            async with transaction("transaction 2"):
                print("main: saving a bad order")
                raise ValueError("invalid order")
    except ValueError as error:
        print(f"main: caught {error!r}, and the connection was still closed")


asyncio.run(main())
