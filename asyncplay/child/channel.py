"""The child's side of the event channel: buffering, the string table, liveness checks.

Records are packed with the protocol's structs into one buffer and written in batches;
the tracer decides when (at step ends, before the loop blocks, at exit).
"""

from __future__ import annotations

import _thread
import os
import sys
import time

from asyncplay import protocol

__all__ = ["FLUSH_INTERVAL", "PUSH_AFTER", "Channel", "Strings", "hello"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FLUSH_INTERVAL = 0.05  # the loop's thread sends at least this often while it runs steps
PUSH_AFTER = 0.1  # records older than this (s) are sent by a helper thread (a step hangs)


def hello(clock: str, speed: float, slow_step: float, **extra: object) -> dict:
    """The first record of a channel (docs/protocol.md, ``hello``): who is speaking, for a
    run the parent started and for a program it attached to alike (``extra``: ``attached``)."""
    return {
        "event": "hello",
        "t": 0.0,
        "version": protocol.PROTOCOL_VERSION,
        "python": ".".join(map(str, sys.version_info[:3])),
        "implementation": sys.implementation.name,
        "pid": os.getpid(),
        "clock": clock,
        "speed": speed,
        "slow_step": slow_step,
        **extra,
    }


class Channel:
    """A write-only pipe to the parent that a program cannot silently hijack.

    The fd number is private to the runtime, but a program may close every fd above 2 and
    open a file that happens to get the same number: each write first checks that the fd is
    still the pipe it was (device and inode), and after any failure the channel goes quiet
    for good rather than writing events into the program's files.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = bytearray()
        self.alive = True
        st = os.fstat(fd)
        self._ident = (st.st_dev, st.st_ino)
        self._pid = os.getpid()
        self.last_flush = time.perf_counter()
        self.flush_due = self.last_flush + FLUSH_INTERVAL  # (the step hook's check)
        self._lock = _thread.allocate_lock()
        # Figures mode (step_figures.py): records kept on the tasks' own records until a
        # flush packs them (``pack_held``): while they are at most ``held_few``, at every
        # flush; more, every ``held_every`` seconds since ``held_at`` (the last pack), or
        # ``held_per_row`` seconds a record queued, whichever is longer (step_figures.py).
        # And before every JSON record.
        self.held: Any = ()
        self.pack_held: Any = None
        self.pack_held_before: Any = None  # (a JSON record's kind): pack if it needs them
        self.count_step: Any = None  # step_figures.count: a step the hook did not time
        self.held_few = 0
        self.held_every = 0.0
        self.held_per_row = 0.0
        self.held_at = 0.0

    def _still_ours(self) -> bool:
        if os.getpid() != self._pid:
            return False
        try:
            st = os.fstat(self.fd)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._ident

    def flush(self) -> None:
        # (Even with nothing to write: the step hook flushes every FLUSH_INTERVAL after
        # this, and figures mode has no step records to keep the buffer busy.)
        now = self.last_flush = time.perf_counter()
        self.flush_due = now + FLUSH_INTERVAL
        held = self.held
        if held:
            n = len(held)
            if n <= self.held_few or now - self.held_at >= max(
                self.held_every, n * self.held_per_row
            ):
                self.pack_held()
        buf = self.buf
        if not buf:
            return
        if not self.alive:
            buf.clear()
            return
        if not self._still_ours():
            self.alive = False
            buf.clear()
            return
        # The loop's thread and the output flusher thread both flush: copy and cut only the
        # prefix taken (appends from the other thread stay), one batch at a time, so
        # batches never overtake each other in the pipe.
        with self._lock:
            data = memoryview(bytes(buf))
            del buf[: len(data)]
            try:
                while data:
                    n = os.write(self.fd, data)
                    data = data[n:]
            except OSError:
                self.alive = False

    def push_from_thread(self) -> None:
        """A helper thread's share: records waiting longer than ``PUSH_AFTER`` go now.
        The loop's thread sends at step ends and loop waits; a step that never ends (an
        endless loop in a task) would otherwise keep even its task's creation back.
        ``flush`` cuts only the prefix it took, and every record is appended in one
        ``buf +=`` (string-table entries before the records using them), so the loop's
        thread appending meanwhile is safe."""
        if (self.buf or self.held) and time.perf_counter() - self.last_flush > PUSH_AFTER:
            self.flush()


class Strings:
    """Interns strings so a step record carries small integers, not text."""

    def __init__(self, channel: Channel) -> None:
        self._ids: dict[str, int] = {}
        self._texts: list[str] = [""]  # by id; 0 is "none"
        self._channel = channel

    def sid(self, text: str | None) -> int:
        if text is None:
            return 0
        sid = self._ids.get(text)
        if sid is None:
            sid = len(self._texts)
            self._ids[text] = sid
            self._texts.append(text)
            self._channel.buf += protocol.pack_str(sid, text)
        return sid

    def text(self, sid: int) -> str | None:
        """The string behind an id (None for 0): warnings name files by text."""
        return self._texts[sid] if sid else None
