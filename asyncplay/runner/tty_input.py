"""The terminal's input relayed to the program through a pipe (headless ``asyncplay run``).

The program never holds the user's terminal: a read-write tty as its stdin let it write
past ``--output-limit`` on fd 0 and, with ``TIOCSTI``, type commands into the user's shell.
So its stdin is a pipe, and asyncplay, which keeps the terminal, reads what the user types
and writes it into the pipe:

- only while the pipe is empty (the program took everything so far): a program that never
  reads gets one read of the terminal (one line, as the terminal hands lines over) and the
  rest of the user's typing stays in the terminal for the shell after the run, as under
  ``python``;
- only while asyncplay is the terminal's foreground job (a read in the background would
  stop it with SIGTTIN);
- end of input (Ctrl+D at the start of a line) closes the pipe: the program sees EOF.
"""

from __future__ import annotations

import fcntl
import os
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing costs every run ~2 ms of start-up)
    from typing import IO

__all__ = ["TtyInput"]

# One read of the terminal: a line in canonical mode is at most 4095 bytes, and a write of
# up to PIPE_BUF (4096) bytes into an empty pipe is whole, whatever its size.
READ_MAX = 4096


def _pending(fd: int) -> int:
    """Bytes in the pipe the program has not read yet (FIONREAD works on either end)."""
    import termios  # (only where the terminal is relayed: not in every run's start-up)

    buf = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


class TtyInput:
    """Relays ``tty`` (asyncplay's own stdin, a terminal) into ``pipe`` (the write end of
    the program's stdin), one read at a time."""

    def __init__(self, tty: int, pipe: IO[bytes]) -> None:
        self.tty = tty
        self._file: IO[bytes] | None = pipe
        self.pipe: int | None = pipe.fileno()
        os.set_blocking(self.pipe, False)

    def wanted(self) -> bool:
        """Whether to read the terminal now: the pipe is open and empty, and asyncplay is in
        the terminal's foreground."""
        if self.pipe is None:
            return False
        try:
            if os.tcgetpgrp(self.tty) != os.getpgrp():
                return False
            return _pending(self.pipe) == 0
        except OSError:  # the terminal went away (hang-up): nothing more to relay
            self.close()
            return False

    def on_readable(self) -> None:
        """The terminal has input: pass one read of it on (an empty read is EOF)."""
        if self.pipe is None:
            return
        try:
            data = os.read(self.tty, READ_MAX)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        try:
            os.write(self.pipe, data)  # whole: an empty pipe, at most PIPE_BUF bytes
        except OSError:  # the program closed its stdin or ended: the rest is not wanted
            self.close()

    def close(self) -> None:
        """The program's stdin ends (EOF); the terminal stays asyncplay's."""
        f, self._file, self.pipe = self._file, None, None
        if f is not None:
            try:
                f.close()
            except OSError:  # a broken pipe: the program is gone, nothing to tell it
                pass
