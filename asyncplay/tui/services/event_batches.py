"""Events handed from a reader thread to the UI's loop in batches, and read back in order.

A run's session thread (``session_thread``) and an attach's reader thread
(``attach_thread``) both decode off the UI's path and hand over each batch with
``call_soon_threadsafe``; the app's fold reads the events one at a time through
``run_end``. One reader for both, so a run and an attach end the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

__all__ = ["read_through_end", "to_ui"]


def to_ui(loop: asyncio.AbstractEventLoop | None, callback: Callable[..., Any], *args: Any) -> None:
    """``callback(*args)`` on the UI's loop, from any thread; nothing once that loop is
    closed (nobody is listening any more)."""
    assert loop is not None
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        pass


async def read_through_end(
    batches: asyncio.Queue[list[dict]], on_end: Callable[[dict], None]
) -> AsyncIterator[dict]:
    """Every event of the batches in order, ``run_end`` the last; ``on_end(run_end)`` is
    called when the reader asks for the event after it."""
    while True:
        batch = await batches.get()
        for ev in batch:
            yield ev
            if ev.get("event") == "run_end":
                on_end(ev)
                return
