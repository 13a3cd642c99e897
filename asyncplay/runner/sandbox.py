"""Process-level containment applied to every run (the layer that always exists).

Each run gets its own session and process group (so the whole tree can be killed at once),
rlimits for address space, CPU time and core dumps, and a parent-death signal so an
asyncplay that dies abruptly does not leave a snippet running.
"""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Callable

from asyncplay.runner.spec import Limits

MIB = 1024 * 1024
PR_SET_PDEATHSIG = 1


_PRCTL: list = []


def _libc_prctl() -> Callable[..., int] | None:
    """libc's prctl, loaded once per process (every run needs it twice)."""
    if not _PRCTL:
        try:
            import ctypes

            _PRCTL.append(ctypes.CDLL(None, use_errno=True).prctl)
        except (OSError, AttributeError, ImportError):
            _PRCTL.append(None)
    return _PRCTL[0]


def preexec(limits: Limits) -> Callable[[], None]:
    """Build the function the forked child runs before exec (async-signal-safe enough)."""
    prctl = _libc_prctl()
    parent = os.getpid()
    mem = int(limits.memory_mib * MIB) if limits.memory_mib else None
    cpu = int(limits.cpu + 0.999) if limits.cpu else None

    def _apply() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died between fork and prctl
                os._exit(1)
        if mem is not None:
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        if cpu is not None:
            # SIGXCPU at the soft limit, SIGKILL one second later at the hard one.
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    return _apply


def child_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a run sees: the user's, minus what would change Python's behaviour
    behind the program's back (asyncplay's own venv activation is kept out of the way)."""
    env = dict(os.environ if base is None else base)
    for key in ("PYTHONSTARTUP", "PYTHONINSPECT"):
        env.pop(key, None)
    return env


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process the reaper of the run's orphans.

    A program's grandchild that calls setsid() and double-forks leaves the process group, so
    killpg cannot reach it; as a subreaper, asyncplay inherits it instead of init, sees it,
    and kills it when the run ends.
    """
    prctl = _libc_prctl()
    if prctl is None:
        return False
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def children_of(pid: int) -> set[int]:
    """Direct children of ``pid`` (Linux ``/proc``)."""
    kids: set[int] = set()
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    kids.update(int(x) for x in f.read().split())
            except OSError:
                raise LookupError from None
        return kids
    except (LookupError, OSError):
        pass
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rfind(")") + 2 :].split()[1]) == pid:
            kids.add(int(entry))
    return kids


def kill_orphans(known: set[int], deadline: float = 2.0) -> int:
    """Kill and reap every child of ours not in ``known``: what a finished run left behind.

    Killing one may hand us its own children, so repeat until none is left. Anything this
    process itself starts while a run goes on would count as left behind too: a UI that
    spawns helpers must add them to ``known`` (or wait for the sandbox's cgroup/PID
    namespace, which will name the run's processes exactly).
    """
    import time

    me = os.getpid()
    killed = 0
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        left = children_of(me) - known
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        for pid in left:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
    return killed
