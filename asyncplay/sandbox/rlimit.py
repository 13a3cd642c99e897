"""The rlimit layer: process-level containment applied to every run (always there).

Each run gets its own session and process group (so the whole tree can be killed at once),
rlimits (address space, CPU time, file size, open files, no core dumps; processes for
non-root users), a scrubbed environment, and a parent-death signal so an asyncplay that
dies abruptly does not leave a snippet running.
"""

from __future__ import annotations

import _signal as signal  # (its C half, loaded with the interpreter: ``signal`` imports ``enum``)
import os
import resource

from asyncplay.limits import Limits
from asyncplay.selfguard import libc_prctl

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

MIB = 1024 * 1024
PR_SET_PDEATHSIG = 1


FILE_SIZE_FACTOR = 8  # a file the program writes may be this many --output-limits big
OPEN_FILES = (1024, 4096)  # at most: RLIMIT_NOFILE soft, hard


def file_size_limit(limits: Limits) -> int | None:
    """RLIMIT_FSIZE: 8 x --output-limit (64 MiB by default), so a run cannot fill a disk."""
    return int(limits.output_mib * FILE_SIZE_FACTOR * MIB) if limits.output_mib else None


def user_tasks(uid: int) -> int:
    """Processes and threads ``uid`` runs now: what RLIMIT_NPROC compares against."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                count += len(os.listdir(f"/proc/{entry}/task"))
        except OSError:
            continue
    return count


def preexec(
    limits: Limits,
    join: tuple[str, ...] = (),
    address_space: bool = True,
    nproc: int | None = None,
    setup: tuple[Callable[[], None], ...] = (),
) -> Callable[[], None]:
    """Build the function the forked child runs before exec.

    ``join``: cgroup files the child writes itself into first (``RunCgroup.join_files``),
    so everything it ever starts is counted (a failure fails the spawn: a run never
    claims limits it lacks).
    ``address_space``: set RLIMIT_AS to --memory (only when no memory cgroup holds the
    truer limit). ``nproc``: RLIMIT_NPROC (non-root only). ``setup``: the other layers'
    steps, run in order after the join (as root: the run's mounts, then the drop to an
    unprivileged user).
    """
    prctl = libc_prctl()
    parent = os.getpid()
    R = resource
    cpu = int(limits.cpu + 0.999) if limits.cpu else None
    # (resource, soft, hard), worked out here: lowering is always allowed, raising a hard
    # limit is not (a user's own lower limits stay in force).
    wanted = [
        (
            R.RLIMIT_AS,
            int(limits.memory_mib * MIB) if limits.memory_mib and address_space else None,
        ),
        (R.RLIMIT_FSIZE, file_size_limit(limits)),
        (R.RLIMIT_NPROC, nproc),
    ]
    rlimits = [_bounded(res, value, value) for res, value in wanted if value is not None]
    if cpu is not None:
        # SIGXCPU at the soft limit, SIGKILL one second later at the hard one.
        rlimits.append(_bounded(R.RLIMIT_CPU, cpu, cpu + 1))
    rlimits.append(_bounded(R.RLIMIT_NOFILE, *OPEN_FILES))
    rlimits.append((R.RLIMIT_CORE, 0, 0))

    def _apply() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died between fork and prctl
                os._exit(1)
        for path in join:  # (0: the writer itself, this child's one thread)
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
        for step in setup:
            step()
        if setup and prctl is not None:
            # A change of user clears the parent-death signal: set it again.
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:
                os._exit(1)
        for res, soft, hard in rlimits:
            resource.setrlimit(res, (soft, hard))
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    _apply.rlimits = rlimits  # type: ignore[attr-defined]  # what it sets, for tests
    return _apply


def _bounded(res: int, soft: int, hard: int) -> tuple[int, int, int]:
    """(res, soft, hard) no higher than the limits this process already has."""
    cur_soft, cur_hard = resource.getrlimit(res)
    if cur_hard != resource.RLIM_INFINITY:
        hard = min(hard, cur_hard)
    return res, min(soft, hard), hard


# The environment a run keeps (everything else, secrets included, is dropped). Exact names,
# then prefixes.
ENV_KEEP = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LANGUAGE",
        "TERM",
        "COLORTERM",
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "COLUMNS",
        "LINES",
        "TZ",
        "TMPDIR",
        "PWD",
        "VIRTUAL_ENV",
        "LD_LIBRARY_PATH",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    }
)
ENV_KEEP_PREFIXES = ("LC_", "PYTHON", "ASYNCPLAY_", "PYENV_", "CONDA_")  # (pyenv shims need theirs)
# Would change Python's behaviour behind the program's back.
ENV_DROP = frozenset({"PYTHONSTARTUP", "PYTHONINSPECT"})


def child_env(
    base: dict[str, str] | None = None, scrub: bool = True, private_tmp: bool = False
) -> dict[str, str]:
    """The environment a run sees: the allow-listed part of the user's (all of it with
    ``scrub=False``, i.e. ``--sandbox none``). Under a private /tmp, TMPDIR points there."""
    env = dict(os.environ if base is None else base)
    if scrub:
        env = {k: v for k, v in env.items() if k in ENV_KEEP or k.startswith(ENV_KEEP_PREFIXES)}
    for key in ENV_DROP:
        env.pop(key, None)
    if private_tmp:
        env.pop("TMPDIR", None)
    return env


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process the reaper of the run's orphans.

    A program's grandchild that calls setsid() and double-forks leaves the process group, so
    killpg cannot reach it; as a subreaper, asyncplay inherits it instead of init, sees it,
    and kills it when the run ends.
    """
    prctl = libc_prctl()
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
