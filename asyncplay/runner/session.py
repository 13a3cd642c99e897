"""``RunSession``: the asyncio API a UI uses to drive one run.

    session = await RunSession.start(spec)
    async for event in session.events():   # typed as protocol dicts; ends after run_end
        model = apply(model, event)
    end = await session.wait()              # the run_end event
    await session.stop()                    # SIGINT, then SIGKILL after a grace period

The three streams are read with ``loop.add_reader`` the moment they are readable, into an
unbounded-by-count but size-limited path (the output limit stops a flood), so a slow
consumer never blocks a chatty child; the logic lives in ``SessionCore``, shared with the
headless driver.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

from asyncplay.breakpoints import Breakpoints
from asyncplay.runner.core import SessionCore
from asyncplay.runner.spec import RunSpec

TICK = 0.05


class RunSession:
    def __init__(self, spec: RunSpec, keep_raw: bool = False, stdin: str = "null") -> None:
        self.spec = spec
        self.core = SessionCore(spec, stdin=stdin)
        self._stdin_fd: int | None = None
        self._stdin_buf = bytearray()
        self._stdin_eof = False
        self._queue: asyncio.Queue[dict] = asyncio.Queue()
        self._raw: asyncio.Queue[tuple[str, bytes]] | None = asyncio.Queue() if keep_raw else None
        self._done = asyncio.Event()
        self._end: dict = {}
        self._open: set[int] = set()
        self._pidfd: int | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    async def start(cls, spec: RunSpec, keep_raw: bool = False, stdin: str = "null") -> RunSession:
        """``stdin="pipe"`` lets the caller feed the program with ``send_stdin``."""
        self = cls(spec, keep_raw, stdin)
        self._loop = asyncio.get_running_loop()
        self.core.spawn()
        proc = self.core.proc
        if proc is not None and proc.stdin is not None:
            self._stdin_fd = proc.stdin.fileno()
            os.set_blocking(self._stdin_fd, False)
        self._emit([self.core.run_start_event()])
        for fd, name in self.core.fds().items():
            self._open.add(fd)
            self._loop.add_reader(fd, self._on_readable, fd, name)
        self._pidfd = self.core.pidfd()
        if self._pidfd is not None:
            self._loop.add_reader(self._pidfd, self._check)
        self._ticker = asyncio.create_task(self._tick(), name="asyncplay-session-tick")
        return self

    @property
    def pid(self) -> int | None:
        return self.core.proc.pid if self.core.proc else None

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def _emit(self, events: list[dict]) -> None:
        for ev in events:
            self._queue.put_nowait(ev)

    def _on_readable(self, fd: int, name: str) -> None:
        events, raw, eof = self.core.on_readable(fd, name)
        if raw and self._raw is not None:
            self._raw.put_nowait((name, raw))
        self._emit(events)
        if eof:
            self._close_reader(fd)
        self._check()

    def _close_reader(self, fd: int) -> None:
        if fd in self._open:
            self._open.discard(fd)
            assert self._loop is not None
            self._loop.remove_reader(fd)

    def _check(self) -> None:
        if self._done.is_set():
            return
        if self.core.poll_exit() and self._pidfd is not None:
            assert self._loop is not None
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        if self.core.drained_enough(len(self._open)):
            self._finish()

    def _finish(self) -> None:
        names = self.core.fds()
        for fd in list(self._open):
            # Drain what a leftover grandchild left in the pipe, then stop listening.
            while True:
                events, raw, eof = self.core.on_readable(fd, names[fd])
                self._emit(events)
                if raw and self._raw is not None:
                    self._raw.put_nowait((names[fd], raw))
                if eof or not (events or raw):
                    break
            self._close_reader(fd)
        events = self.core.finish()
        self._end = next((e for e in events if e["event"] == "run_end"), {})
        self._emit(events)
        self._close_pipes()
        self._done.set()

    # ---- stepping (the control channel, docs/protocol.md) -----------------------------
    # Each writes one command without waiting on the child; before the child is there it
    # is queued (the pipe holds it), after the run ended it is dropped. Call them on the
    # session's loop (the TUI's ``ThreadedSession`` passes them over).

    def pause(self) -> None:
        """Pause before the next task step (``paused``, reason ``request``)."""
        self.core.send_control({"cmd": "pause"})

    def step(self) -> None:
        """Paused: run exactly one task step, then pause again. Running: pause."""
        self.core.send_control({"cmd": "step"})

    def resume(self) -> None:
        """Go on at full speed (breakpoints stay armed)."""
        self.core.send_control({"cmd": "continue"})

    def set_breakpoints(self, bp: Breakpoints) -> None:
        """Arm exactly these breakpoints (replacing the ones armed before)."""
        self.core.send_control(bp.to_wire())

    # ---- standard input (stdin="pipe") ---------------------------------------------

    def send_stdin(self, data: bytes) -> None:
        """Queue ``data`` for the program's stdin; written as the pipe takes it, never
        blocking the caller (a program that does not read just leaves it queued)."""
        if self._stdin_fd is None or self._stdin_eof:
            return
        self._stdin_buf += data
        self._flush_stdin()

    def close_stdin(self) -> None:
        """End of file for the program, once what was queued before has been written."""
        self._stdin_eof = True
        self._flush_stdin()

    def _flush_stdin(self) -> None:
        fd = self._stdin_fd
        if fd is None:
            return
        assert self._loop is not None
        while self._stdin_buf:
            try:
                n = os.write(fd, self._stdin_buf)
            except BlockingIOError:
                self._loop.add_writer(fd, self._on_stdin_writable)
                return
            except OSError:  # the program closed its stdin or ended
                self._stdin_buf.clear()
                break
            del self._stdin_buf[:n]
        self._loop.remove_writer(fd)
        if self._stdin_eof:
            self._drop_stdin()

    def _on_stdin_writable(self) -> None:
        assert self._loop is not None and self._stdin_fd is not None
        self._loop.remove_writer(self._stdin_fd)
        self._flush_stdin()

    def _drop_stdin(self) -> None:
        fd, self._stdin_fd = self._stdin_fd, None
        proc = self.core.proc
        if fd is not None and self._loop is not None:
            self._loop.remove_writer(fd)
        if proc is not None and proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def _close_pipes(self) -> None:
        self._drop_stdin()
        proc = self.core.proc
        if proc is None:
            return
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                f.close()

    async def _tick(self) -> None:
        while not self._done.is_set():
            await asyncio.sleep(TICK)
            self._emit(self.core.tick())
            self._check()

    async def events(self) -> AsyncIterator[dict]:
        """Every event of the run in order, ending with ``run_end``."""
        while True:
            if self._done.is_set() and self._queue.empty():
                return
            ev = await self._queue.get()
            yield ev
            if ev["event"] == "run_end":
                return

    def drain(self) -> list[dict]:
        """The events that have arrived so far, without waiting (for a UI's steady tick)."""
        out: list[dict] = []
        while not self._queue.empty():
            out.append(self._queue.get_nowait())
        return out

    def raw_nowait(self) -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        while self._raw is not None and not self._raw.empty():
            out.append(self._raw.get_nowait())
        return out

    async def wait(self) -> dict:
        """The ``run_end`` event, once the run is over."""
        await self._done.wait()
        return self._end

    async def stop(self, grace: float | None = None) -> dict:
        """Ask the program to stop (SIGINT; paused, the interrupt raised at its pause: see
        ``SessionCore.request_stop``), kill its whole tree if it has not gone soon."""
        self.core.request_stop()
        if grace is not None:
            try:
                await asyncio.wait_for(self._done.wait(), grace)
            except asyncio.TimeoutError:
                self.core.killpg(9)
        return await self.wait()

    async def aclose(self) -> None:
        """Stop the run if it is still going and release everything it holds."""
        if self.running:
            await self.stop()
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass

    async def __aenter__(self) -> RunSession:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
