"""Opening a file asyncplay writes for the user (``--trace``, ``--record``) safely.

The program may have written the folder that file is in (the project folder is writable):
it can leave a symbolic link at the name the user records to run after run (``run.rec ->
/etc/passwd``, or ``~/.bashrc``), or a FIFO that blocks the open forever. asyncplay then
writes with the user's rights - root's, when the program was ``nobody`` - so a planted link
would let the program clobber a file it could never write itself. The last component is
never followed (``O_NOFOLLOW``) and must be a regular file; the open never blocks.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing costs every run ~2 ms of start-up)
    from typing import IO

__all__ = ["open_output_file"]


def open_output_file(path: str, *, buffering: int = -1) -> IO[str]:
    """``open(path, "w")`` that refuses a symbolic link or anything but a regular file at
    ``path`` (OSError with a plain strerror, for the caller's one line)."""
    if os.path.abspath(path).startswith(("/dev/", "/proc/self/fd/")):
        # /dev/stdout, /dev/stderr, /dev/null: the system's links, never the program's
        return open(path, "w", encoding="utf-8", errors="replace", buffering=buffering)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if os.path.islink(path):
            raise OSError(
                exc.errno, "it is a symbolic link (asyncplay does not follow it)"
            ) from None
        if os.path.exists(path) and not os.path.isfile(path):
            raise OSError(exc.errno, "not a regular file") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file")
        os.ftruncate(fd, 0)
        os.set_blocking(fd, True)
        return open(fd, "w", encoding="utf-8", errors="replace", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise
