"""Telling the parent when the program really waits for its standard input.

A line caught mid-flush looks like a prompt, so "waits for input?" guessed from the
output is wrong while a program floods it. The runtime knows: ``sys.stdin`` gets a new raw
layer (the text and buffered layers above it are CPython's own, as for stdout in
``output.py``), whose ``readinto`` runs only when the buffer is empty and must go to the
fd. If the fd has nothing to read yet (one ``select`` with no timeout), it sends a
``stdin`` record with ``waiting: true`` before the read and ``waiting: false`` after it.
``input()``, ``readline()``, ``read()``, ``for line in sys.stdin`` and
``sys.stdin.buffer.read()`` all come through here; nothing runs per task step.
"""

from __future__ import annotations

import _thread
import io
import os
import select
import sys
import time

from asyncplay import protocol
from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import drop_own_frame

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _RawIn(io.RawIOBase):
    """The raw layer under the program's stdin: reads fd 0 (or whatever ``sys.stdin``
    was on) and tells the parent around a read that has to wait."""

    def __init__(self, fd: int, old: Any, tracer: Any) -> None:
        super().__init__()
        self._fd = fd
        self._old = old  # the original raw object: keeps its name/mode, never closes the fd
        self._tracer = tracer

    def _tell(self, waiting: bool) -> None:
        tracer = self._tracer
        if not tracer.enabled:
            return
        wd = tracer.watchdog
        rec = tracer.current
        # The task whose step reads: only on the loop's thread (to_thread(input) reads
        # in a worker while another task may be running).
        on_loop = wd is not None and wd.loop_thread == _thread.get_ident()
        ev = {
            "event": "stdin",
            "t": _now(tracer),
            "waiting": waiting,
            "task": rec.tid if rec is not None and on_loop else None,
        }
        tracer.channel.buf += protocol.pack_json(ev)
        tracer.channel.flush()

    def readinto(self, b: Any) -> int | None:
        fd = self._fd
        try:
            if not os.get_blocking(fd):
                return self._read(b, False)  # never waits: nothing to tell
            ready = select.select([fd], [], [], 0)[0]
        except (OSError, ValueError):
            ready = [fd]  # cannot tell: read as python would
        return self._read(b, not ready)

    def _read(self, b: Any, tell: bool) -> int | None:
        if tell:
            try:
                self._tell(True)
            except Exception as exc:  # the runtime must never break a read
                report_failure(self._tracer, "stdin record", exc)
                tell = False
        try:
            data = os.read(self._fd, len(b))
        except BlockingIOError:
            return None
        except BaseException as exc:
            drop_own_frame(exc)
            raise
        finally:
            if tell:
                try:
                    self._tell(False)
                except Exception as exc:  # the runtime must never break a read
                    report_failure(self._tracer, "stdin record", exc)
        n = len(data)
        b[:n] = data
        return n

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def name(self) -> Any:
        return getattr(self._old, "name", self._fd)

    @property
    def mode(self) -> str:
        return getattr(self._old, "mode", "rb")

    @property
    def closefd(self) -> bool:
        return False


def _now(tracer: Any) -> float:
    return time.perf_counter() - tracer.t0


def install(tracer: Any) -> None:
    """Put a new ``sys.stdin`` (a plain ``io.TextIOWrapper``, as Python's) over the raw
    layer above; anything but Python's own stdin (closed, replaced, no fd) is left as is."""
    old = sys.stdin
    if type(old) is not io.TextIOWrapper or sys.stdin is not sys.__stdin__:
        return
    try:
        fd = old.fileno()
        old_buffer = old.buffer
    except (OSError, ValueError, AttributeError):
        return
    if type(old_buffer) is not io.BufferedReader:
        return
    new = io.TextIOWrapper(
        io.BufferedReader(_RawIn(fd, old_buffer.raw, tracer)),
        encoding=old.encoding,
        errors=old.errors,
        newline="\n",  # python's stdin on POSIX: lines split at \n, nothing translated
        line_buffering=old.line_buffering,
    )
    try:
        new.mode = old.mode  # type: ignore[misc]
    except AttributeError:
        pass  # a mode that cannot be set: the wrapper keeps its own
    old.detach()
    sys.stdin = sys.__stdin__ = new
