"""A slow view built in a worker thread while the fold holds off: keys do not wait for it.

The await graph over 10,000 live tasks takes 15-60 ms a rebuild (``views.graph`` over every
task), and the timeline's cursor asks for one at each new moment: on the UI's loop that
was the latency of the keys behind it. Here the pane hands its rebuild, a pure function
of the model, to one worker thread; the result comes back to the UI's loop, where the
pane adopts it (a swap of a few attributes).

The model is only ever changed by the UI thread (the app's fold, playback's moves): while
a build runs, the fold waits (``RunControl._fold`` awaits :meth:`ViewBuilds.idle`), so the
worker never reads a model half-folded, and the UI thread only reads it meanwhile. Before
handing it over the model is settled (:func:`settle`): whatever a read would build lazily
is built first, on the UI thread, so no read in either thread writes. A model that
playback changes is never handed over (the app turns the builds off while it plays).

One build at a time: a pane that wants another while one runs waits for a later tick.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asyncplay.model import RunModel

__all__ = ["NICE", "ViewBuilds", "settle"]

T = TypeVar("T")
NICE = 5  # the worker yields the CPU to the UI thread when both want it (as the reader)


def _lower_priority() -> None:
    try:  # Linux threads have their own niceness
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    except (AttributeError, OSError):
        pass  # not Linux, or not allowed: the build just runs at the app's priority


def settle(model: RunModel) -> None:
    """Build on this thread whatever reading ``model`` would build lazily (its output
    lines are made from the events kept when first read; a task's spans may be, from its
    kept steps), so that reads in two threads at once never write: the fold, which adds
    what is built lazily, is held while the worker reads."""
    _ = model.output  # every pending output event made into lines
    if model.tasks:
        info = next(reversed(model.tasks.values()))
        _ = info.spans  # one task's spans: any pending steps are made, every task's


class ViewBuilds:
    """One worker thread for the slow views' builds; the fold waits while one runs."""

    def __init__(self) -> None:
        self.enabled = True  # off while playback changes its model (the app says)
        self.builds = 0  # builds run in the worker (tests and the bench read it)
        self._executor: ThreadPoolExecutor | None = None
        self._running: asyncio.Future[Any] | None = None

    @property
    def busy(self) -> bool:
        """A build is running: the model must not change until it is done."""
        return self._running is not None

    def submit(
        self,
        model: RunModel,
        build: Callable[[], T],
        done: Callable[[T | None, BaseException | None], None],
    ) -> bool:
        """Run ``build()`` (pure: it reads ``model``, changes nothing) in the worker; then
        ``done(result, None)`` or ``done(None, error)`` on the UI's loop. False (and
        nothing runs) when builds are off or one is running already."""
        if not self.enabled or self._running is not None:
            return False
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                1, thread_name_prefix="asyncplay-views", initializer=_lower_priority
            )
        settle(model)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, build)
        self._running = future
        self.builds += 1

        def finished(f: asyncio.Future[T]) -> None:
            if self._running is f:
                self._running = None
            if f.cancelled():
                return
            error = f.exception()
            done(None if error is not None else f.result(), error)

        future.add_done_callback(finished)
        return True

    async def idle(self) -> None:
        """Until no build runs (the fold calls this before changing the model)."""
        while self._running is not None:
            await asyncio.wait([self._running])

    def close(self) -> None:
        """The worker thread goes (the app is closing); a build running is let finish."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
