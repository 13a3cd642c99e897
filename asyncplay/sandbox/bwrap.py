"""The bubblewrap layer: a read-only view of the machine, private /tmp, own network and PIDs.

``bwrap`` runs the program in new mount, network and PID namespaces: ``/`` is bound
read-only (the system, ``$HOME`` and the program's own directory included), ``/tmp`` is a
fresh tmpfs, the network namespace is the run's own (loopback only, unless the network
layer, ``network.py``, gives it a way out or ``--network host`` leaves it out), and the
program sees none of the machine's
processes, so it cannot signal asyncplay or anything else outside. As root, bwrap keeps
every capability unless told otherwise; they are all dropped, so the program cannot
remount ``/`` writable.

The program's outer PID (the one asyncplay waits on) is bwrap's; bwrap's init (PID 1 in the
namespace) reaps the program, and when either bwrap process dies the kernel kills everything
left in the namespace.
"""

from __future__ import annotations

import os
import shutil
import subprocess

# Options whose availability the usability probe checks, in the order they are given.
NAMESPACES = [
    "--unshare-net",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--die-with-parent",
    "--new-session",
]
OVERHEAD = 2  # processes bwrap adds to a run: the outer monitor and the namespace's init

_USABLE: dict[str, tuple[bool, str]] = {}


def path() -> str | None:
    return shutil.which("bwrap")


def true_path() -> str:
    """``true`` for the probes, as the sandbox sees it (a PATH entry under /tmp is not)."""
    return os.path.realpath(shutil.which("true") or "/bin/true")


def _base(tmp_size: int | None, unshare_net: bool = True) -> list[str]:
    argv = [
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
    ]
    argv += _memory_mounts(tmp_size)
    argv += [ns for ns in NAMESPACES if unshare_net or ns != "--unshare-net"]
    if os.geteuid() == 0:
        argv += ["--cap-drop", "ALL"]
    return argv


SHM_SHARE = 4  # /dev/shm gets a quarter of --memory, /tmp the rest
MIB = 1024 * 1024
PAGE = 4096


def tmpfs_sizes(memory: int | None) -> dict[str, int]:
    """The size of the run's ``/tmp`` and ``/dev/shm`` under ``--memory`` (bytes; empty:
    unsized, where bwrap is older than 0.5 and has no --size)."""
    if not memory or not _USABLE.get("size", (True, ""))[0]:
        return {}
    shm = max(memory // SHM_SHARE // PAGE * PAGE, MIB)
    return {"/tmp": max(memory - shm, MIB), "/dev/shm": shm}


def _memory_mounts(memory: int | None) -> list[str]:
    """``/tmp`` and ``/dev/shm``: fresh tmpfs mounts no bigger than ``memory`` together,
    and the rest of bwrap's ``/dev`` (an unsized tmpfs) read-only, so no file the program
    writes in memory escapes ``--memory`` (docs/sandbox.md, Memory)."""
    sizes = tmpfs_sizes(memory)
    if not sizes:  # unsized (still charged to a memory cgroup where there is one)
        return ["--tmpfs", "/tmp", "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    tmp, shm = sizes["/tmp"], sizes["/dev/shm"]
    return [
        "--size",
        str(tmp),
        "--tmpfs",
        "/tmp",
        "--size",
        str(shm),
        "--tmpfs",
        "/dev/shm",
        "--remount-ro",
        "/dev",
    ]


def usable() -> tuple[bool, str]:
    """(works, why not): bwrap is installed and may make the namespaces (once per process).

    Distributions that forbid unprivileged user namespaces make bwrap fail here; so does a
    container without the needed privileges.
    """
    if "answer" not in _USABLE:
        exe = path()
        if exe is None:
            _USABLE["answer"] = (False, "bwrap is not installed (package: bubblewrap)")
        else:
            _USABLE["size"] = _probe(exe, 1024 * 1024)
            # bwrap before 0.5 has no --size: then /tmp is an unsized tmpfs (still charged
            # to the run's memory cgroup where there is one).
            _USABLE["answer"] = _USABLE["size"] if _USABLE["size"][0] else _probe(exe, None)
    return _USABLE["answer"]


def _probe(exe: str, tmp_size: int | None) -> tuple[bool, str]:
    try:
        proc = subprocess.run(
            [exe, *_base(tmp_size), "--", true_path()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"bwrap could not be run ({exc})"
    if proc.returncode == 0:
        return True, ""
    err = proc.stderr.decode(errors="replace").strip().splitlines()
    why = err[-1] if err else f"status {proc.returncode}"
    return False, f"bwrap cannot make its namespaces here ({why})"


def argv(
    cwd: str,
    visible: list[str],
    tmp_size: int | None,
    unshare_net: bool = True,
    extra: list[str] | None = None,
) -> list[str]:
    """The bwrap command line (up to ``--``) for a run in ``cwd``.

    ``unshare_net``: a network namespace of the run's own (``--network on|off``);
    ``extra``: the network layer's arguments (its descriptors, a resolv.conf).
    ``visible`` are paths the run needs (its run directory, the interpreter, asyncplay's
    runtime, the program's directory): those under ``/tmp``, which bwrap replaces with a
    fresh tmpfs, are bound back, read-only, at the same place.
    """
    exe = path() or "bwrap"
    out = [exe, *_base(tmp_size, unshare_net)]
    wanted = {c for p in visible for c in (os.path.abspath(p), os.path.realpath(p))}
    bound: list[str] = []
    # Parents first, and nothing inside what is already bound (bwrap cannot bind a file
    # into a directory that does not exist yet).
    for candidate in sorted(wanted):
        if not candidate.startswith("/tmp/") or not os.path.exists(candidate):
            continue
        if any(candidate.startswith(b + "/") for b in bound):
            continue
        bound.append(candidate)
        out += ["--ro-bind", candidate, candidate]
    out += [*(extra or []), "--chdir", cwd, "--"]
    return out
