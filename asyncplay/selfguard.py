"""asyncplay's own process out of the program's reach: not traceable, its /proc closed.

A program that runs as asyncplay's user (``--sandbox rlimit`` or ``none`` for an
unprivileged user; any mode where the PID namespace does not hide asyncplay) could attach
to asyncplay with ``ptrace`` or read ``/proc/<asyncplay>/environ`` and ``mem``: asyncplay's
memory and the very environment the sandbox scrubbed from the run. ``PR_SET_DUMPABLE 0``
makes the kernel refuse both to anyone without ``CAP_SYS_PTRACE`` (the program never has
it: it never runs as root). What it costs: asyncplay's ``/proc/self`` files belong to root,
so asyncplay can no longer open its own 0400 ones (``environ``, ``auxv``); the files it
reads (``statm``, ``mounts``, ``status``) are world-readable and its own ``fd`` directory
stays open to it. No core dumps of asyncplay either (they would hold the same secrets).

A fork inherits the flag and an ``exec`` resets it, so the program is dumpable as under
python; in between, the pre-exec code of a run is made dumpable again (``for_child``) so
that it can still write its own ``/proc/self`` files (``oom_score_adj``, ``autogroup``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["for_child", "guard", "is_guarded", "libc_prctl"]

PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4

_PRCTL: list = []


def libc_prctl() -> Callable[..., int] | None:
    """libc's prctl, loaded once (not from the sandbox package: every command calls
    ``guard`` first, and importing the sandbox would cost each of them its start-up)."""
    if not _PRCTL:
        try:
            from asyncplay import libc  # (not ctypes: asyncplay/libc.py)

            _PRCTL.append(libc.lib().prctl)
        except (OSError, AttributeError, ImportError):
            _PRCTL.append(None)
    return _PRCTL[0]


def guard() -> bool:
    """Make this process non-dumpable; False where the kernel or libc says no."""
    prctl = libc_prctl()
    return prctl is not None and prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0


def is_guarded() -> bool:
    prctl = libc_prctl()
    return prctl is not None and prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0


def for_child() -> None:
    """In a run's forked child before ``exec``: dumpable again, as every fresh process."""
    prctl = libc_prctl()
    if prctl is not None:
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
