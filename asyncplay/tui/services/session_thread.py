"""A RunSession on an event loop of its own, in a thread: decoding never blocks a keystroke.

Reading the child's pipes, decoding the event channel and matching output records to
tasks is pure Python work proportional to what the program does: 200,000 printed lines
cost seconds of it, in slices of a hundred milliseconds or more each. On the UI's loop
that would be the latency of every keypress. Here it runs on a second loop in a thread;
the interpreter hands the UI thread the GIL every few milliseconds (the switch interval),
so typing stays responsive however busy the run is.

Events cross to the UI loop in batches (everything that arrived since the last one) and
are folded into the model there, by the app, with the one reducer: the model is only
ever touched by the UI thread, so the views never see it half-updated.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

from asyncplay.breakpoints import Breakpoints
from asyncplay.runner.session import RunSession
from asyncplay.runner.spec import RunSpec
from asyncplay.tui.services.event_batches import read_through_end, to_ui

NICE = 5  # the reader thread yields the CPU to the UI thread when both want it


class ThreadedSession:
    """The app's ``Session`` protocol over a ``RunSession`` running in a worker thread."""

    def __init__(self) -> None:
        self.session: RunSession | None = None
        self._ui_loop: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._batches: asyncio.Queue[list[dict]] = asyncio.Queue()
        self._thread: threading.Thread | None = None
        self._finished = threading.Event()  # the worker loop is done with the session
        self._end: dict = {}
        self._ended = asyncio.Event()  # run_end reached the UI side

    @classmethod
    async def start(cls, spec: RunSpec) -> ThreadedSession:
        self = cls()
        self._ui_loop = asyncio.get_running_loop()
        started: asyncio.Future[None] = self._ui_loop.create_future()
        self._thread = threading.Thread(
            target=self._main, args=(spec, started), name="asyncplay-session", daemon=True
        )
        self._thread.start()
        await started
        return self

    # ---- the worker thread -------------------------------------------------------------

    def _main(self, spec: RunSpec, started: asyncio.Future[None]) -> None:
        if NICE:
            try:  # Linux threads have their own niceness: under load, typing goes first
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
            except (AttributeError, OSError):
                pass
        try:
            asyncio.run(self._serve(spec, started))
        finally:
            self._finished.set()

    def _to_ui(self, callback: Any, *args: Any) -> None:
        to_ui(self._ui_loop, callback, *args)

    async def _serve(self, spec: RunSpec, started: asyncio.Future[None]) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            session = await RunSession.start(spec, stdin="pipe")
        except BaseException as exc:
            self._to_ui(_settle, started, exc)
            return
        self.session = session
        self._to_ui(_settle, started, None)
        ended = False
        error: BaseException | None = None
        try:
            events = session.events().__aiter__()
            while not ended:
                try:
                    first = await events.__anext__()
                except StopAsyncIteration:
                    break
                batch = coalesce([first, *session.drain()])
                ended = any(ev.get("event") == "run_end" for ev in batch)
                self._to_ui(self._batches.put_nowait, batch)
        except Exception as exc:  # an asyncplay bug: the run ends, the app keeps going
            error = exc
        finally:
            if not ended:  # whatever went wrong here, the app's fold must still end
                session.core.kill("stopped")
                self._to_ui(self._batches.put_nowait, [_lost_run(error)])
            await session.aclose()
            self._end = await session.wait()

    # ---- the UI side -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return not self._ended.is_set() and not self._finished.is_set()

    @property
    def pid(self) -> int | None:
        return self.session.pid if self.session is not None else None

    @property
    def core(self) -> Any:
        """For an immediate SIGKILL of the whole group (the terminal is gone)."""
        return self.session.core if self.session is not None else None

    def events(self) -> AsyncIterator[dict]:
        """Every event in order, ending with ``run_end``."""
        return read_through_end(self._batches, self._on_end)

    def _on_end(self, end: dict) -> None:
        self._end = end
        self._ended.set()

    def _call(self, fn: Any, *args: Any) -> None:
        loop = self._loop
        if loop is None or self._finished.is_set():
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass

    def send_stdin(self, data: bytes) -> None:
        """To the program; and its echo (an ``input`` event) to the model, from the
        session's own loop: after every output read before it, as a terminal shows it."""
        if self.session is not None:
            self._call(self._send, data)

    def _send(self, data: bytes) -> None:
        echo = {"event": "input", "text": data.decode("utf-8", "replace")}
        self._to_ui(self._batches.put_nowait, [echo])
        assert self.session is not None
        self.session.send_stdin(data)

    def close_stdin(self) -> None:
        if self.session is not None:
            self._call(self._close)

    def _close(self) -> None:
        self._to_ui(self._batches.put_nowait, [{"event": "input", "text": "^D"}])
        assert self.session is not None
        self.session.close_stdin()

    # ---- stepping: each call made on the session's own loop, in the order made ---------

    def pause(self) -> None:
        self._on_session("pause")

    def step(self) -> None:
        self._on_session("step")

    def resume(self) -> None:
        self._on_session("resume")

    def set_breakpoints(self, bp: Breakpoints) -> None:
        self._on_session("set_breakpoints", bp)

    def _on_session(self, method: str, *args: Any) -> None:
        session = self.session
        if session is not None:
            self._call(getattr(session, method), *args)

    async def stop(self, grace: float | None = None) -> dict:
        """Stop the run on its own loop; returns the ``run_end`` event."""
        loop, session = self._loop, self.session
        if loop is not None and session is not None and not self._finished.is_set():
            try:
                fut = asyncio.run_coroutine_threadsafe(session.stop(grace), loop)
                await asyncio.wrap_future(fut)
            except (RuntimeError, asyncio.CancelledError):
                pass
        await self.wait_thread()
        return self._end

    async def wait_thread(self) -> None:
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    async def aclose(self) -> None:
        if not self._finished.is_set():
            await self.stop()
        await self.wait_thread()


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)


def coalesce(batch: list[dict]) -> list[dict]:
    """Join consecutive ``output`` events of one stream and task into one event.

    The reducer splits text into lines itself, so the model is the same; but a program
    printing 200,000 lines arrives as hundreds of thousands of small events, and each one
    is a dict the UI thread folds and the garbage collector scans. The joined event keeps
    the first one's time.
    """
    out: list[dict] = []
    pieces: list[str] = []
    head: dict | None = None
    for ev in batch:
        if (
            ev.get("event") == "output"
            and head is not None
            and ev.get("stream") == head.get("stream")
            and ev.get("task") == head.get("task")
        ):
            pieces.append(ev.get("text", ""))
            continue
        if head is not None and len(pieces) > 1:
            head["text"] = "".join(pieces)
        head, pieces = None, []
        out.append(ev)
        if ev.get("event") == "output":
            head, pieces = ev, [ev.get("text", "")]
    if head is not None and len(pieces) > 1:
        head["text"] = "".join(pieces)
    return out


def _lost_run(error: BaseException | None) -> dict:
    why = f" ({type(error).__name__}: {error})" if error is not None else ""
    return {
        "event": "run_end",
        "t": 0.0,
        "exit_code": 70,
        "reason": "crashed",
        "by": "asyncplay",
        "status": 0,
        "message": f"asyncplay lost track of the run{why}; it was stopped",
    }
