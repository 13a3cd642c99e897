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

__all__ = ["MAX_PENDING", "ControlPipe"]

MAX_PENDING = 256 * 1024  # bytes of commands kept while the pipe is full


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
