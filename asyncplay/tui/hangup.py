"""Leaving: Ctrl+Q, and the terminal going away (SIGHUP) or being told to end (SIGTERM).

A mixin of :class:`~asyncplay.tui.app.AsyncplayApp`. Whichever way the app ends, the buffer
is saved and the run is gone; a hung-up app that cannot restore its (vanished) terminal is
ended by a watchdog shortly after, rather than left behind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable

from asyncplay.tui.run_control import RERUN_GRACE

__all__ = ["HANGUP_GRACE", "QUIT_CONFIRM_SECONDS", "Leaving"]

QUIT_CONFIRM_SECONDS = 6.0  # the second ctrl+q that quits with edits nowhere saved
HANGUP_GRACE = 1.5  # seconds a hung-up app gets to exit cleanly before it just ends
SIGNALS = (signal.SIGHUP, signal.SIGTERM)


class Leaving:
    """Quit and hang-up; the signal handlers that lead to the latter."""

    clock: Callable[[], float]
    autosave_enabled: bool
    autosave_error: str | None

    def _leaving_init(self) -> None:
        self._quit_armed_until = 0.0  # a second ctrl+q before this quits without autosave
        self.hangup_watchdog = False  # set by the command line: a real terminal can hang
        self.watchdog: threading.Timer | None = None

    def watch_signals(self) -> None:
        """On mount: SIGHUP and SIGTERM hang the app up (in the main thread only)."""
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            try:
                loop.add_signal_handler(sig, self.hang_up)
            except (ValueError, RuntimeError, NotImplementedError):
                pass  # not the main thread (tests): no terminal to lose

    def unwatch_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            try:
                loop.remove_signal_handler(sig)
            except (ValueError, RuntimeError, NotImplementedError):
                pass  # never added (not the main thread)

    async def action_quit(self) -> None:
        """Save the buffer, stop the run (nothing left behind), then leave.

        If the buffer cannot be autosaved and has unsaved edits, the first Ctrl+Q only
        warns: a second one within a few seconds quits anyway.
        """
        await self.settle_editor()  # keys typed just before Ctrl+Q are the buffer's too
        if (
            not self.save_autosave()
            and self.autosave_enabled
            and self.dirty
            and self.clock() > self._quit_armed_until
        ):
            self._quit_armed_until = self.clock() + QUIT_CONFIRM_SECONDS
            self.notify(
                f"Your edits could not be autosaved ({self.autosave_error}). Ctrl+S saves "
                "them to a file (F12: elsewhere); Ctrl+Q again quits and loses them.",
                severity="error",
                timeout=QUIT_CONFIRM_SECONDS,
            )
            return
        try:
            self._rerun = False
            if self._run_task is not None and not self._run_task.done():
                await asyncio.wait_for(asyncio.shield(self._run_task), 5.0)  # then stop it
            await asyncio.wait_for(self.end_session(RERUN_GRACE), 5.0)
        except (asyncio.TimeoutError, Exception):
            self.kill_now()
        self.exit(0)

    def hang_up(self) -> None:
        """The terminal went away (SIGHUP) or we were told to end (SIGTERM).

        The buffer is saved and the run killed first, synchronously. Then a graceful exit
        is tried, but restoring a terminal that no longer exists can block forever, so a
        watchdog ends the process shortly after: nothing may be left behind.
        """
        self.save_autosave()
        self.release_buffer()
        self.kill_now()
        if self.hangup_watchdog:
            self.watchdog = threading.Timer(HANGUP_GRACE, os._exit, args=(129,))
            self.watchdog.daemon = True
            self.watchdog.start()
        self.exit(0)
