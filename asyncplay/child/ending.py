"""The facts of a program's end that a resource limit may explain, for the parent to judge.

A program that dies of an uncaught ``MemoryError``, a thread or process that could not be
started, a file grown past the file-size limit, or a network error may have met a limit
asyncplay set (or the network it left out), or a bug of its own (or it printed those words
itself). The parent never reads the program's
text to decide: at exit the runtime sends one ``uncaught`` record with the exception's type
and errno, the rlimits in force in this process and its address-space size, and the parent
blames a limit only when those facts and its own (the limits it set, the cgroup's counts)
agree. Nothing is sent for any other ending, and nothing here ever prints.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_PAGE = 4096
try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (AttributeError, OSError, ValueError):
    pass


def uncaught() -> BaseException | None:
    """The exception the interpreter printed as uncaught (it keeps it before atexit)."""
    exc = getattr(sys, "last_exc", None)  # 3.12+
    if exc is None:
        exc = getattr(sys, "last_value", None)
    return exc if isinstance(exc, BaseException) else None


def kind_of(exc: BaseException) -> str | None:
    """``memory``, ``thread``, ``process`` or ``file_size``: an ending a limit can cause;
    ``interrupt``: Ctrl+C (the parent tells it from a kill by SIGINT under bwrap)."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupt"
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, RuntimeError) and str(exc).startswith("can't start new thread"):
        return "thread"
    if isinstance(exc, OSError):
        import errno

        if exc.errno == errno.EAGAIN:
            return "process"  # fork, spawn or (3.13+) a thread start refused
        if exc.errno == errno.EFBIG:
            return "file_size"
    return None


def _rlimit(res: int) -> int | None:
    import resource

    try:
        soft = resource.getrlimit(res)[0]
    except (OSError, ValueError):
        return None
    return None if soft == resource.RLIM_INFINITY else soft


def _statm() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def record(exc: BaseException, kind: str) -> dict[str, Any]:
    """The ``uncaught`` record of ``exc`` (of ``kind``)."""
    import resource
    import threading

    errno_ = getattr(exc, "errno", None)
    return {
        "event": "uncaught",
        "kind": kind,
        "exc_type": type(exc).__name__,
        "errno": errno_ if type(errno_) is int else None,
        # An interpreter-raised MemoryError carries no message; ``raise MemoryError("x")``
        # does (the parent does not take that for the limit).
        "bare": not exc.args,
        "rlimits": {
            "as": _rlimit(resource.RLIMIT_AS),
            "nproc": _rlimit(resource.RLIMIT_NPROC),
            "fsize": _rlimit(resource.RLIMIT_FSIZE),
            "stack": _rlimit(resource.RLIMIT_STACK),
        },
        "vm_size": _statm(),
        "threads": threading.active_count(),
    }


# Sent when even building the record of a MemoryError fails: what is known for sure.
FALLBACK: dict[str, Any] = {
    "event": "uncaught",
    "kind": "memory",
    "exc_type": "MemoryError",
    "errno": None,
    "bare": True,
    "rlimits": None,
    "vm_size": None,
    "threads": None,
}


# errnos of a connection the sandbox's network can explain: refused, network or host
# unreachable. A ``socket.gaierror`` (name resolution) is one whatever its code.
NETWORK_ERRNOS = frozenset({111, 101, 113})  # ECONNREFUSED, ENETUNREACH, EHOSTUNREACH
MAX_CHAIN = 16  # exceptions looked at in a chain of causes and groups


def network_error(exc: BaseException) -> BaseException | None:
    """The first network ``OSError`` in ``exc``, its causes, contexts and group members:
    libraries wrap them (``raise ClientError(...) from exc``); a group holds a task's."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < MAX_CHAIN:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and (type(e).__name__ == "gaierror" or e.errno in NETWORK_ERRNOS):
            return e
        group = getattr(e, "exceptions", None) if isinstance(e, BaseException) else None
        if isinstance(group, tuple):
            todo += [x for x in group if isinstance(x, BaseException)]
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
    return None


DENIED_ERRNOS = frozenset({13, 30})  # EACCES, EROFS


def denied_path(exc: BaseException) -> str | None:
    """The absolute path of a refused write or open (``EROFS``, ``EACCES``), else None."""
    if not isinstance(exc, OSError) or exc.errno not in DENIED_ERRNOS:
        return None
    name = exc.filename
    if not isinstance(name, str) or not name or "\0" in name:
        return None
    try:
        return os.path.abspath(name)[:4096]
    except (OSError, ValueError):
        return None


def report(tracer: Any) -> None:
    """Send the record, if any (called from the runtime's atexit, before ``bye``)."""
    exc = uncaught()
    kind = kind_of(exc) if exc is not None else None
    if exc is not None and kind is None:
        # A network failure the run's sandbox may explain (``--network off``): the parent
        # says so in one line. The record is of the network error itself.
        inner = network_error(exc)
        if inner is not None:
            exc, kind = inner, "network"
    path = None
    if exc is not None and kind is None:
        # A refused write the sandbox may explain (a read-only folder): its path.
        path = denied_path(exc)
        if path is not None:
            kind = "write"
    if exc is None or kind is None:
        return
    try:
        rec = record(exc, kind)
        if path is not None:
            rec["path"] = path
        tracer.send_json(rec)
    except MemoryError:
        if kind == "memory":
            tracer.send_json(FALLBACK)
