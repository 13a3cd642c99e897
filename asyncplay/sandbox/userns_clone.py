"""The idmapped mount's user namespace without a helper program: a clone of this process.

An idmapped mount needs a user namespace whose maps say which uid becomes which
(``mounts.idmap_userns``). A namespace is made only with a process in it; util-linux's
``unshare --user cat`` was that process: a spawn, two execs, an echo through a pipe to know
it was in its namespace, and a wait for its end, on a root run's path to its spawn (some
2 ms of CPU, and under load each hand-over to ``cat`` waited for the scheduler).

Here ``clone(2)`` makes the process with ``CLONE_NEWUSER`` and nothing else of its own: it
shares asyncplay's memory and file table (``CLONE_VM | CLONE_FILES``: nothing copied), runs
``getpid`` on a small stack of its own and exits. It need not run at all before it is used:
the kernel makes the namespace in ``clone`` itself, in the caller, and the process's
credentials hold it until the process is reaped, zombie or not. So its maps are written and
the namespace opened at once, by root as before (the namespace is root's: made by root, its
maps written by root), and the clone is reaped when it has gone (``reap``). No code of
asyncplay's and no program runs in it; every signal is blocked while it is made, so no
handler of asyncplay's can run in it either, and it exits with no signal to its parent
(``waitpid`` needs ``__WALL``; a parent that ignores ``SIGCHLD`` cannot lose it early).

``make`` returns None where this cannot be done here (no ``clone`` in libc, an unknown
architecture, the call refused): ``mounts`` then starts the ``unshare`` helper as before.
"""

from __future__ import annotations

import os

__all__ = ["make", "reap", "unreaped", "usable"]

CLONE_VM = 0x00000100
CLONE_FILES = 0x00000400
CLONE_NEWUSER = 0x10000000
_WALL = 0x40000000  # (waits for a child whatever its exit signal; not in Python's os)
_ARCHES = ("x86_64", "aarch64", "amd64", "arm64")  # (as mounts.py's: where it is tried)
_STACK = 16 * 1024  # the clone runs glibc's clone trampoline and getpid: a few hundred bytes

# The clones not yet reaped, each with its stack: the stack is this process's memory and
# must outlive the clone, which may run only after ``make`` returned.
_UNREAPED: dict[int, bytearray] = {}
_BROKEN: list[str] = []  # why the clone way failed here (then it is not tried again)


def usable() -> bool:
    """The clone way is tried here: Linux on a known architecture, not failed before, and
    not under valgrind (which ends the whole process at a clone that shares memory without
    being a thread: there the helper makes the namespace, as it did before)."""
    uname = os.uname()
    if _BROKEN or uname.sysname != "Linux" or uname.machine not in _ARCHES:
        return False
    return "vgpreload" not in os.environ.get("LD_PRELOAD", "")


def unreaped() -> list[int]:
    """The clones made and not reaped yet (tests)."""
    return list(_UNREAPED)


def _clone() -> int | None:
    """A clone in a new user namespace (its pid), or None where it cannot be made."""
    from asyncplay import libc as c

    if not usable():
        return None
    try:
        lib = c.lib()
        clone = c.function("clone")
        clone.argtypes = (c.c_void_p, c.c_void_p, c.c_int, c.c_void_p)  # type: ignore[attr-defined]
        # getpid's address (the function pointer a libc function object holds): the
        # clone's whole work, which neither writes memory nor sets errno.
        fn = c.c_void_p.from_address(c.addressof(lib.getpid)).value  # type: ignore[attr-defined]
        stack = bytearray(_STACK)
        base = c.addressof(c.c_char.from_buffer(stack))  # type: ignore[attr-defined]
    except (OSError, AttributeError, TypeError, ValueError) as exc:
        _BROKEN.append(f"no clone here: {exc}")
        return None
    top = (base + _STACK - 64) & ~15  # (down: x86_64's and aarch64's stacks, the only ones tried)
    import _signal

    blocked = _signal.pthread_sigmask(_signal.SIG_BLOCK, _signal.valid_signals())
    try:
        pid = clone(fn, top, CLONE_VM | CLONE_FILES | CLONE_NEWUSER, None)
        err = c.get_errno()
    finally:
        _signal.pthread_sigmask(_signal.SIG_SETMASK, blocked)
    if pid <= 0:
        _BROKEN.append(f"clone(CLONE_NEWUSER): {os.strerror(err)}")
        return None
    _UNREAPED[pid] = stack
    return pid


def make(inside_uid: int, inside_gid: int, outside_uid: int, outside_gid: int) -> int | None:
    """A descriptor of a new user namespace mapping ``inside_uid``/``inside_gid`` to
    ``outside_uid``/``outside_gid`` (one each), or None where the clone way does not work
    here. ``OSError`` when the maps cannot be written (as the helper's would fail)."""
    reap()
    pid = _clone()
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/uid_map", "w") as f:
            f.write(f"{inside_uid} {outside_uid} 1\n")
        with open(f"/proc/{pid}/gid_map", "w") as f:
            f.write(f"{inside_gid} {outside_gid} 1\n")
        return os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        reap()


def reap(wait: bool = False) -> None:
    """Reap the clones that have exited (``wait``: wait for each; they exit at once)."""
    for pid in list(_UNREAPED):
        try:
            done, _status = os.waitpid(pid, _WALL | (0 if wait else os.WNOHANG))
        except ChildProcessError:
            done = pid  # (reaped by someone else: a wait for any child)
        except InterruptedError:
            continue
        if done == pid:
            del _UNREAPED[pid]
