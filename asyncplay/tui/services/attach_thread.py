"""An attach session (``runner/attach_session.py``) for the playground, read in a thread.

The session is attached already (its refusals were one line before the screen opened);
the thread reads its socket and hands the decoded events to the UI loop in batches, as
``session_thread`` does for a run. Stopping it is detaching: the program takes its hooks
off and goes on; there is no process of asyncplay's to kill.
"""

from __future__ import annotations

import asyncio
import selectors
import threading
from collections.abc import AsyncIterator

from asyncplay.runner.attach_session import AttachSession
from asyncplay.tui.services.event_batches import read_through_end, to_ui

__all__ = ["AttachedSession"]


class AttachedSession:
    """The app's ``Session`` protocol over an attached ``AttachSession``."""

    def __init__(self, session: AttachSession, first: list[dict]) -> None:
        self.session = session
        self.pid = session.pid
        self.core = None  # nothing of asyncplay's to kill: the program is not ours
        self._first = first
        self._ui_loop: asyncio.AbstractEventLoop | None = None
        self._batches: asyncio.Queue[list[dict]] = asyncio.Queue()
        self._thread: threading.Thread | None = None
        self._detach: str | None = None  # asked by the UI; the thread acts on it
        self._ended = asyncio.Event()

    async def begin(self) -> AttachedSession:
        self._ui_loop = asyncio.get_running_loop()
        self._batches.put_nowait(list(self._first))
        self._thread = threading.Thread(target=self._main, name="asyncplay-attach", daemon=True)
        self._thread.start()
        return self

    def _to_ui(self, batch: list[dict]) -> None:
        to_ui(self._ui_loop, self._batches.put_nowait, batch)

    def _main(self) -> None:
        s = self.session
        sel = selectors.DefaultSelector()
        try:
            sel.register(s.fileno(), selectors.EVENT_READ)
            while not s.ended:
                if self._detach is not None:
                    s.detach(self._detach)
                sel.select(0.1)
                batch = s.read()
                if batch:
                    self._to_ui(batch)
                s.tick()
        except OSError:
            pass  # the channel is gone: the program unhooks on its own
        finally:
            sel.close()
            self._to_ui([s.finish()])

    @property
    def running(self) -> bool:
        return not self._ended.is_set()

    def events(self) -> AsyncIterator[dict]:
        """Every event in order, ending with ``run_end``."""
        return read_through_end(self._batches, lambda _end: self._ended.set())

    def detach(self, reason: str) -> None:
        """Ask for the detach now, saying why (the end's sentence quotes it)."""
        if self._detach is None:
            self._detach = reason

    async def stop(self, grace: float | None = None) -> dict:
        """Detach (F6, a new run, quitting): the program goes on, unhooked."""
        if self._detach is None:
            self._detach = "detached from the playground"
        await self._ended.wait()
        return {}

    async def aclose(self) -> None:
        if self._detach is None:
            self._detach = "the playground closed"
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)

    def send_stdin(self, data: bytes) -> None:
        """The program's stdin is not asyncplay's: nothing to send it."""

    def close_stdin(self) -> None:
        """As ``send_stdin``."""
