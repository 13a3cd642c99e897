"""Shared helpers for the TUI tests: a private data directory and waiting on the app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.app import App
from textual.pilot import Pilot

from asyncplay import storage
from asyncplay.tui.app import AsyncplayApp


async def wait_for(pilot: Pilot, cond: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until ``cond()`` holds (generous: the machine is shared)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {cond}")
        await pilot.pause(0.05)


async def wait_ended(pilot: Pilot, timeout: float = 20.0) -> None:
    """Until the run has ended and a tick has drawn every view from the ended model.

    The app's tick syncs the views, then the status line, in one batch: a status line
    drawn after the model ended is the sign that every view has caught up with it.
    """
    app = pilot.app
    await wait_for(pilot, lambda: app.model is not None and app.model.status == "ended", timeout)
    await wait_drawn(pilot, timeout)


async def wait_drawn(pilot: Pilot, timeout: float = 20.0) -> None:
    """Until the app's next tick has drawn the views (its last step: the status line),
    then one more round of the message queue for what they refreshed."""
    status = pilot.app.status
    drawn: list[str] = []
    real_show = status.show

    def show(text) -> None:
        drawn.append(text.plain)
        real_show(text)

    status.show = show  # a test double of the public StatusBar.show: it records the tick
    try:
        await wait_for(pilot, lambda: bool(drawn), timeout)
    finally:
        del status.show
    await pilot.pause()


def record_notifications(app: App) -> list[str]:
    """Every message the app shows in a toast, in order: a test double of ``App.notify``
    (Textual's own list of them is private). Call before ``run_test`` to see the mount's."""
    said: list[str] = []
    real_notify = app.notify

    def notify(message, *args, **kwargs):
        said.append(str(message))
        return real_notify(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return said


def make_app(text: str, path: str | None = None, **kw) -> AsyncplayApp:
    """The playground on ``text`` as if restored from the autosave (a file's or not)."""
    return AsyncplayApp(storage.Autosave(text=text, path=path), **kw)


class FedSession:
    """A run whose events the test hands over as it goes (``feed``): a recorded stream
    replayed in steps, so a view can be watched between two events. Ends at ``run_end``
    or when stopped."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict | None] = asyncio.Queue()
        self._done = False
        self.stdin: list[bytes] = []

    @classmethod
    def factory(cls, session: FedSession):
        async def start(spec) -> FedSession:
            return session

        return start

    def feed(self, *events: dict) -> None:
        for ev in events:
            self.queue.put_nowait(ev)

    @property
    def running(self) -> bool:
        return not self._done

    async def events(self):
        while not self._done:
            ev = await self.queue.get()
            if ev is None:
                break
            yield ev
            if ev.get("event") == "run_end":
                break
        self._done = True

    async def stop(self, grace: float | None = None) -> dict:
        self.queue.put_nowait(None)
        return {}

    async def aclose(self) -> None:
        self.queue.put_nowait(None)

    def send_stdin(self, data: bytes) -> None:
        self.stdin.append(data)

    def close_stdin(self) -> None:
        self.stdin.append(b"")
