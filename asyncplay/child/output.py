"""Attributing ``sys.stdout`` / ``sys.stderr`` writes to the task that made them.

The replacement streams are ``io.TextIOWrapper`` subclasses over the very same buffers, so
``isinstance(sys.stdout, io.TextIOWrapper)`` still holds and the bytes reach fd 1/2 as
before. A write only appends the text to a list; the tracer turns the list into records at
task-switch points (a task cannot switch in the middle of a step). Writes from a thread
other than the one running a step are recorded as unattributed. Writes through
``sys.stdout.buffer``, ``os.write`` or child processes reach the fd untouched and are
never seen here.

Liveness without a syscall per line: stdout stays block-buffered, as plain Python's is
into a pipe, but the runtime flushes it at the end of every step that printed (when the
writes are attributed: ``install``'s ``attribute``), whenever the loop is about to wait, before anything is written to stderr (so a traceback never overtakes
the lines printed before it), and from a small flusher thread when one step or synchronous
code runs long. stderr is line-buffered, as it always is in Python 3.9+.
"""

from __future__ import annotations

import io
import os
import sys
import time

from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import drop_own_frame
from asyncplay.child.periodic import Periodic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FLUSH_EVERY = 0.05  # the flusher thread's period, seconds
MAX_PENDING = 4 * 1024 * 1024  # bytes of output kept for attribution between two steps
# Bytes a stream may write while records wait in the channel's buffer: past it they are sent
# first. The parent holds at most MAX_HELD (1 MiB) of a pipe waiting for its records; a
# step printing megabytes went past that before the records of the steps before it were
# sent (the channel goes every FLUSH_INTERVAL), so their lines went out unattributed.
AHEAD = 256 * 1024


def _nothing() -> None:
    pass


class Flusher(Periodic):
    """Flushes stdout when nothing else has for a while (a long step, synchronous code)."""

    period = FLUSH_EVERY

    def __init__(self) -> None:
        super().__init__()
        self.last = time.monotonic()
        self.stream: Any = None
        self.records: Any = _nothing  # sends the records of what was just flushed

    def tick(self) -> None:
        if time.monotonic() - self.last >= FLUSH_EVERY and self.stream is not None:
            try:
                self.stream.flush()  # the runtime's stdout, never a replacement
            except (OSError, ValueError):  # the program closed or broke stdout
                pass  # its writes fail in the program too; nothing of ours to tell
            try:
                self.records()
            finally:  # a failure of records() is told by the Periodic (on_error), once
                self.last = time.monotonic()


class _Raw(io.RawIOBase):
    """The raw layer under the program's stdout/stderr: writes to the same fd and keeps a
    copy of each chunk, which the tracer attributes to the task whose step it came from.

    The text and buffered layers above it are CPython's own C objects, so a ``print`` costs
    no Python call at all; ``write`` runs only when a buffer is flushed. Under python -u
    (no buffer: every text write is a raw write, several per ``print``) it is the one
    Python call per write, so it is a closure in the instance's ``__dict__`` (which a
    lookup of ``write`` finds before the class's), over local variables: half the cost
    of a method reading and writing attributes.
    """

    def __init__(
        self,
        fd: int,
        stream_id: int,
        chunks: list,
        old: Any,
        send: Any = None,
        copy: bool = True,
    ) -> None:
        super().__init__()
        self._fd = fd
        self._old = old  # the original raw object: keeps its name/mode, never closes the fd
        self.shadow: Any = None  # the text layer's FileIO for its closed checks (_text_layer)
        pos = taken = 0  # bytes written; pos when the runtime last took the chunks
        sent = 0  # pos when the records were last sent before a write (``AHEAD``)
        os_write = os.write
        append = chunks.append
        # ``copy`` False (the spec's output_records: nothing reads the attribution): no
        # write is kept, at the cost of the one comparison that keeps a flood's copy bounded.
        most = MAX_PENDING if copy else -1

        def write(b: Any) -> int:
            nonlocal pos, sent
            if pos + len(b) - sent > AHEAD and send is not None:
                sent = pos
                send()  # the records of what the pipe holds go before more of it
            try:
                n = os_write(fd, b)
            except BaseException as exc:
                drop_own_frame(exc)
                raise
            if n:
                pos += n
                if pos - taken <= most:
                    # Under -u the text layer hands over bytes; a buffer hands over a view
                    # of its own memory, which it reuses.
                    append((stream_id, b if type(b) is bytes and n == len(b) else bytes(b[:n])))
                # Past the cap (synchronous code writing a flood) the bytes still go out;
                # they are just not attributed, so the runtime's copy stays bounded.
            return n

        def take() -> None:
            nonlocal taken
            taken = pos

        def tell() -> int:
            return pos

        self.write = write  # type: ignore[method-assign]
        self.take = take
        self.tell = tell  # type: ignore[method-assign]

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    # A plain attribute, not IOBase's property: the C text layer asks whether the file is
    # closed at every write (several per print), through the buffer, down to here; the
    # property then looks up another attribute (a fifth of a print's time, measured).
    closed = False

    def close(self) -> None:  # like the std streams' FileIO(closefd=False)
        super().close()
        self.closed = True  # type: ignore[misc]
        if self.shadow is not None:
            self.shadow.close()  # closefd=False: fd 1 stays open, as under python

    @property
    def name(self) -> Any:
        return getattr(self._old, "name", self._fd)

    @property
    def mode(self) -> str:
        return getattr(self._old, "mode", "wb")

    @property
    def closefd(self) -> bool:
        return False


def _text_layer(cls: type, raw: _Raw, fd: int, **kw: Any) -> Any:
    """The text layer over a ``BufferedWriter`` over ``raw``, at plain Python's speed.

    The C text layer checks ``closed`` at every write (four per ``print``). Over a
    ``BufferedWriter`` of an exact ``FileIO`` it reads the FileIO's fd directly (the
    FileIO is cached when the wrapper is made); over anything else it asks through the
    buffer down to the raw layer by attribute lookups: a quarter of a print's time,
    measured on 3.10-3.15. So the wrapper is made over a ``BufferedWriter`` of a shadow
    ``FileIO`` on the same fd (``closefd=False``) and the buffer is then re-initialised
    over the raw layer (``BufferedWriter.__init__`` again, public API): every byte still
    goes through ``raw``; the shadow only answers the closed checks, and ``raw.close``
    closes it, so a print after ``sys.stdout.close()`` fails as under python. Should a
    Python stop caching the FileIO, only the speed is lost (tests/test_child_output.py
    says so loudly)."""
    try:
        shadow = io.FileIO(fd, "w", closefd=False)
    except (OSError, ValueError):  # not openable for writing again: the plain way
        return cls(io.BufferedWriter(raw), **kw)
    buffer = io.BufferedWriter(shadow)
    text = cls(buffer, **kw)
    buffer.__init__(raw)  # type: ignore[misc]
    raw.shadow = shadow
    return text


def records_from_thread(tracer: Any) -> None:
    """The flusher thread's share: output written long after the last step boundary
    (synchronous code, a long step) reaches the parent now, which then keeps the order
    across stdout and stderr instead of giving up on records that come too late."""
    if not tracer.enabled:
        return
    if tracer.chunks:
        tracer.flush_output(None, running=True)
        tracer.channel.flush()
    else:
        tracer.channel.push_from_thread()


def install(tracer: Any, attribute: bool = True) -> Flusher | None:
    """Put new std streams over new raw layers on fds 1 and 2.

    ``attribute`` False (the spec's ``output_records``): the writes are not copied for the
    session (no ``O`` records); the streams are otherwise the same (flushes, order).

    stdout is a plain ``io.TextIOWrapper`` (write-through into a block ``BufferedWriter``:
    live output comes from the runtime's flushes, see the module docstring). stderr is a
    thin subclass whose ``write`` first flushes stdout, so the two streams keep their order
    in the pipes and in the records, as on a terminal.
    """
    tw_write = io.TextIOWrapper.write
    tw_flush = io.TextIOWrapper.flush
    chunks: list = tracer.chunks
    streams: dict[int, Any] = {}
    channel = tracer.channel

    def send() -> None:
        if channel.buf:
            channel.flush()

    class _Stderr(io.TextIOWrapper):
        def write(self, s: str) -> int:
            out = streams.get(1)
            if out is not None:
                try:
                    tw_flush(out)
                except (OSError, ValueError):  # stdout closed or broken by the program:
                    pass  # stderr must still work, and stdout's own writes fail there
            try:
                return tw_write(self, s)
            except BaseException as exc:
                drop_own_frame(exc)
                raise

    _Stderr.__name__ = _Stderr.__qualname__ = "TextIOWrapper"

    for name, stream_id, cls in (("stdout", 1, io.TextIOWrapper), ("stderr", 2, _Stderr)):
        old = getattr(sys, name)
        if not isinstance(old, io.TextIOWrapper):
            continue
        try:
            fd = old.fileno()
        except (OSError, ValueError):
            continue
        old.flush()
        old_buffer = old.buffer
        raw_old = getattr(old_buffer, "raw", old_buffer)
        raw = _Raw(fd, stream_id, chunks, raw_old, send if attribute else None, attribute)
        kw = dict(
            encoding=old.encoding,
            errors=old.errors,
            newline="\n",
            # stderr is line-buffered, as always in 3.9+; so is stdout under python -u,
            # PYTHONUNBUFFERED or a terminal (each line is out at once).
            line_buffering=stream_id == 2 or old.line_buffering,
            # stdout: text gathers in the C text layer (no call per print); the runtime
            # flushes it at every step boundary (about 0.1 us when there is nothing).
            # Under python -u / PYTHONUNBUFFERED every write goes straight out, as there.
            write_through=stream_id == 2 or old.write_through,
        )
        # Under python -u / PYTHONUNBUFFERED Python puts the text layer straight on the raw
        # file (no BufferedWriter): so do we, and every write goes out at once.
        if isinstance(old_buffer, io.BufferedWriter):
            new = _text_layer(cls, raw, fd, **kw)
        else:
            new = cls(raw, **kw)
        try:
            new.mode = old.mode  # type: ignore[misc]
        except AttributeError:
            pass  # a mode that cannot be set: the wrapper keeps its own
        old.detach()
        streams[stream_id] = new
        setattr(sys, name, new)
        setattr(sys, "__" + name + "__", new)
        if stream_id == 1:
            tracer.oflush = new.flush
            # Each step's bytes are flushed for its record; without records (nothing
            # attributes them) the loop's waits, the flusher's period, stderr's writes
            # and the warnings flush: a syscall per step was a third of a printing step.
            tracer.flush_each_step = attribute
    if 1 not in streams:
        return None
    flusher = Flusher()
    stdout = streams[1]
    flusher.stream = stdout
    flusher.records = lambda: records_from_thread(tracer)
    flusher.on_error = lambda exc: report_failure(tracer, "output flusher", exc)
    raws = [getattr(s.buffer, "raw", s.buffer) for s in streams.values()]

    def taken() -> None:
        for raw in raws:
            raw.take()

    tracer.chunks_taken = taken

    def flush_stdout() -> None:
        flusher.last = time.monotonic()
        if flusher.wanted:
            flusher.ensure_running()
        try:
            stdout.flush()
        except (OSError, ValueError):  # the program closed or broke stdout
            pass  # its own writes fail there; nothing of the runtime's to tell

    tracer.flush_stdout = flush_stdout
    flusher.install_fork_hooks()
    flusher.start()
    return flusher
