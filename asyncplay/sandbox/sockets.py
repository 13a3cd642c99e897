"""Host unix sockets bound to a path: what a run must not reach (docs/sandbox.md).

A daemon's socket is its front door: the user's D-Bus (``systemd --user`` starts anything),
the system bus, docker.sock, SSH and GPG agents. The kernel lists every pathname socket bound
in this network namespace in ``/proc/net/unix``; read before the run (the run may have a
network namespace of its own), each one is covered (``/dev/null`` bound over it) in the
run's view. The user's runtime folder (``$XDG_RUNTIME_DIR``, where most of them live) is
covered whole, so sockets made there after the run starts are out of reach too. Abstract
sockets (no path) are the network namespace's business (``network.py``).
"""

from __future__ import annotations

import os

__all__ = ["bound_paths", "runtime_dir"]

PROC_NET_UNIX = "/proc/net/unix"


def bound_paths(table: str = PROC_NET_UNIX) -> list[str]:
    """Absolute paths of the listening and bound unix sockets, each once, sorted."""
    found: set[str] = set()
    try:
        with open(table, "rb") as f:
            next(f, None)  # the header
            for line in f:
                fields = line.rstrip(b"\n").split(None, 7)
                if len(fields) == 8 and fields[7].startswith(b"/"):
                    found.add(os.fsdecode(fields[7]))
    except OSError:
        return []
    return sorted(found)


def runtime_dir() -> str | None:
    """The user's runtime folder (``/run/user/UID``) if it exists."""
    for path in (os.environ.get("XDG_RUNTIME_DIR"), f"/run/user/{os.getuid()}"):
        if path and os.path.isabs(path) and os.path.isdir(path):
            return os.path.realpath(path)
    return None
