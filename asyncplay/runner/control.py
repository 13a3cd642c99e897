"""The parent's end of the control channel (parent -> child: pause, step, continue,
breakpoints; docs/protocol.md): written non-blocking, never waited on.

Commands given before the pipe exists (the run is starting) are queued and written when
it does; the kernel's pipe buffer then holds them until the child's runtime reads them.
A pipe that is full (the child is not reading: it is stuck, or the program took the fd)
keeps what did not fit for the next ``flush`` (the session's tick), up to ``MAX_PENDING``
bytes; a pipe whose reader is gone (the program closed it, or it ended) drops everything
for good. None of it can block, raise into, or mislead the session: at worst the run goes
on unpaused.
"""

from __future__ import annotations

import os

from asyncplay.protocol import pack_control

__all__ = ["MAX_PENDING", "RESUME_WAIT", "ControlPipe", "PausedClock", "PauseHold"]

MAX_PENDING = 256 * 1024  # bytes of commands kept while the pipe is full
# Seconds a paused child may take to answer a step or continue (``resumed``) before the
# session gives the channel up, closing it: the program's own thread read the command
# away, and the end of file it sees instead makes the child run on unpaused.
RESUME_WAIT = 5.0


class ControlPipe:
    """The write end of the control pipe, or the queue in front of it."""

    def __init__(self) -> None:
        self.fd = -1
        self.pending = bytearray()
        self.closed = False  # the run ended or the reader went away: nothing more is sent

    def open(self) -> int:
        """Make the pipe; the read end (returned) goes to the child, the caller closes it."""
        r, w = os.pipe()
        os.set_blocking(w, False)
        self.fd = w
        self.flush()
        return r

    def send(self, command: dict) -> None:
        if self.closed:
            return
        record = pack_control(command)
        if len(self.pending) + len(record) > MAX_PENDING:
            return  # the child has not read for a long while: it would not read this either
        self.pending += record
        self.flush()

    def flush(self) -> None:
        """Write what the pipe takes now; the rest waits for the next call."""
        if self.fd < 0 or self.closed:
            return
        while self.pending:
            try:
                n = os.write(self.fd, self.pending)
            except BlockingIOError:
                return
            except OSError:  # EPIPE: nobody reads it any more
                self.close()
                return
            del self.pending[:n]

    def close(self) -> None:
        self.closed = True
        self.pending.clear()
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1


HOLD_SECONDS = 0.25  # the output merge's own wait for bytes (output_merge.HOLD_SECONDS)
MAX_DISCOUNT = 3600.0  # seconds of pauses that --timeout does not count, at most


class PauseHold:
    """A ``paused`` event waits for the output of the step before it.

    The child sends a step's attribution records before its ``paused`` record, but the
    bytes themselves come through the stdout/stderr pipes, read apart: without this, a
    view would show the pause, then what the step printed. The pause (and whatever comes
    after it) is let through once the output merge holds no attributed write still waiting
    for its bytes, or after ``HOLD_SECONDS`` (the bytes went elsewhere)."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.since = 0.0

    def route(self, events: list[dict], pending: bool, now: float) -> list[dict]:
        if self.events:
            self.events += events
            return []
        if not pending:
            return events
        for i, ev in enumerate(events):
            if ev["event"] == "paused":
                self.events, self.since = events[i:], now
                return events[:i]
        return events

    def release(self, pending: bool, now: float, final: bool = False) -> list[dict]:
        if self.events and (final or not pending or now - self.since >= HOLD_SECONDS):
            out, self.events = self.events, []
            return out
        return []


class PausedClock:
    """The seconds the run spent paused, as the parent saw its ``paused`` and ``resumed``
    events arrive: ``--timeout`` does not count them (a user stepping through a program
    for minutes is not a runaway program). Only in a run the session steps (it sent a
    command, or started paused or with breakpoints), and at most ``MAX_DISCOUNT``: a
    program that forges a ``paused`` record gains at most that much wall-clock time, and
    its CPU and memory limits stand."""

    def __init__(self) -> None:
        self.stepped = False
        self.total = 0.0
        self.since: float | None = None

    def see(self, kind: str, now: float) -> None:
        if kind == "paused" and self.since is None:
            self.since = now
        elif kind == "resumed" and self.since is not None:
            self.total += now - self.since
            self.since = None

    def discount(self, now: float) -> float:
        if not self.stepped:
            return 0.0
        ongoing = now - self.since if self.since is not None else 0.0
        return min(MAX_DISCOUNT, self.total + ongoing)
