"""The sandbox: one entry that turns a run's spec into what to spawn and how to clean up.

``prepare(spec, run_dir, env)`` is asked once per run and returns a ``Plan``: the command
prefix, the pre-exec function, the environment, and the methods that watch and end the run.
The layers below it never call back into the session or into each other:

* ``bwrap.py``: read-only machine, private /tmp, own network and PID namespaces;
* ``network.py``: what the run's network reaches (``--network on|host|off``);
* ``cgroup.py``: the kernel's process and memory limits (as root directly, as anyone else
  through ``systemd-run --user --scope`` where a systemd user manager runs);
* ``rlimit.py``: own session and process group, rlimits, a scrubbed environment, parent-death
  signal, subreaper - always there;
* ``user.py``: never root inside - a root asyncplay's runs drop to an unprivileged user, in a
  mount namespace of their own that lets that user reach and write the project (``mounts.py``
  holds the mount calls);
* ``folders.py`` decides which folders a run may write, ``sockets.py`` which host unix
  sockets it must not reach.

Modes (``--sandbox``): ``auto`` takes every layer that works here; ``bwrap`` insists on
bubblewrap; ``rlimit`` leaves bubblewrap out (cgroup limits still apply where available);
``none`` keeps only what the limit flags themselves need (rlimits, process group) and passes
the environment through. What each layer protects is in docs/sandbox.md.
"""

from __future__ import annotations

import os
import sys

from asyncplay.limits import SANDBOX_MODES, Limits
from asyncplay.sandbox import (
    bwrap,
    cgroup,
    cpu,
    folders,
    memory,
    mounts,
    network,
    rlimit,
    setid,
    sockets,
    user,
)
from asyncplay.sandbox.rlimit import FILE_SIZE_FACTOR, file_size_limit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "FILE_SIZE_FACTOR",
    "Plan",
    "RunRequest",
    "SandboxError",
    "check",
    "collect_probe",
    "doctor",
    "file_size_limit",
    "forget_prestarted",
    "prepare",
    "prestart",
    "probe_early",
    "reconsider",
]

MIB = 1024 * 1024

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol
else:  # (typing costs every run ~2 ms of start-up; only type checkers read the protocol)
    Protocol = object


class RunRequest(Protocol):
    """What the sandbox reads of a run: the runner's ``RunSpec`` (the sandbox is the layer
    below the runner and does not import it)."""

    path: str | None
    module: str | None
    python: str
    cwd: str
    limits: Limits
    sandbox: str
    network: str
    write: tuple[str, ...]


class SandboxError(ValueError):
    """The sandbox asked for cannot be had here: one line saying why."""


def check(mode: str, write: tuple[str, ...] | list[str] = ()) -> None:
    """Raise SandboxError if ``mode`` is unknown, or is ``bwrap`` where bwrap cannot run,
    or a ``--write`` folder cannot be granted."""
    for folder in write:
        why = folders.check_write(folder)
        if why is not None:
            raise SandboxError(why)
    if mode not in SANDBOX_MODES:
        raise SandboxError(f"--sandbox takes one of {', '.join(SANDBOX_MODES)}, not {mode!r}")
    if mode == "bwrap":
        ok, why = bwrap.assumed()  # (whether it can make its namespaces: its first start)
        if not ok:
            raise SandboxError(f"--sandbox bwrap: {why}")


class Plan:
    """How one run is wrapped (what to spawn) and what the session may ask of it after."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.layers: list[str] = []
        self.notes: list[str] = []
        self.prefix: list[str] = []
        self.env: dict[str, str] = {}
        self.cgroup: cgroup.RunCgroup | None = None
        self.scope = False  # the cgroup is a systemd scope, found after the start
        self.pid_namespace = False
        self.overhead = 0  # processes the wrappers add to the run's count
        self.procs_enforced = False
        self.preexec: Callable[[], None] | None = None
        self.subreaper = False
        self.known_children: set[int] = set()
        self.network = network.DEFAULT  # the network the run really has: on, host or off
        self.outbound: network.Outbound | None = None  # the ``on`` helper, once started
        self.launch: bwrap.Launch | None = None  # bwrap's start, watched (bwrap.Launch)
        self.pass_fds: tuple[int, ...] = ()  # descriptors the spawn must hand to the prefix
        # Lines the user must read before the program's output (the run's first line):
        # what the run lacks of what was asked, and how to get it.
        self.notices: list[str] = []
        self.memory: memory.RunMemory | None = None  # the parent's watch, without a cgroup
        self.autogroups: cpu.Autogroups | None = None  # the same, for CPU
        self.cpu_seen: float | None = None  # the most CPU one process used (no cgroup)
        self.user: user.Identity | None = None  # who the program runs as (asyncplay: root)
        self.mounts: user.MountPlan | None = None
        self.readonly: list[str] = []  # project folders that could not be made writable
        self.writable: list[str] = []  # the folders the program may write
        # The session's work for later, done while the network's helper comes up
        # (``started``): the wait for it is otherwise idle.
        self.meanwhile: Callable[[], None] | None = None

    def describe(self) -> dict:
        """The ``sandbox`` field of ``run_start``."""
        out = {
            "mode": self.mode,
            "layers": list(self.layers),
            "notes": list(self.notes),
            "network": self.network,
            "notices": list(self.notices),
        }
        if self.user is not None:
            out["user"] = {"uid": self.user.uid, "name": self.user.name}
        return out

    def started(self, pid: int, stderr_fd: int | None = None) -> str | None:
        """The prefix runs (``pid``): wait until bwrap has made its namespaces and mounts,
        then bring up what needs them while the interpreter starts (the session lets the
        program go after this returns). Under ``--network on``, if the helper fails the
        run goes on with loopback only and its first line says so.

        Returns bwrap's own message when it failed before it started the program (proven:
        ``bwrap.Launch``); ``stderr_fd`` is the run's stderr, where bwrap says it."""
        if self.outbound is not None:
            self.outbound.spawned()
        if self.launch is None:
            return None
        failed = self.launch.wait_setup(stderr_fd)
        if failed is None and self.outbound is not None:
            if not self.outbound.start(self.launch.child_pid(), self.meanwhile):
                self.network = "off"
                self.notices.append(network.fallback_notice(self.outbound.failure or "it failed"))
        return failed

    def early_stderr(self) -> bytes:
        """What ``started`` read of the run's stderr (bwrap's message, or the program's)."""
        return self.launch.early_stderr if self.launch is not None else b""

    def vanished(self, failure: str) -> str | None:
        """The host socket whose removal made bwrap fail (``started``'s message): one this
        command line covered that is gone now; a new plan leaves it out."""
        return bwrap.vanished(failure, self.prefix)

    def spawned(self) -> None:
        """The program is started: the parent lets go of the prepared mounts, and reaps
        the clone that made their user namespace (it exited at once, by now)."""
        if self.mounts is not None:
            self.mounts.close()
        mounts.reap_clones()

    def sweep(self) -> None:
        """What killed asyncplays left in the run cgroups' hierarchies (their programs'
        processes, their cgroups) is ended: once the program is on its way, while its
        interpreter starts (``SessionCore.spawn``), not before the spawn."""
        if self.cgroup is not None and not self.scope:
            self.cgroup.sweep_others()

    # ---- while the run goes on -----------------------------------------------------

    def adopt_scope(self, pid: int) -> None:
        """A systemd scope is made by systemd-run itself: find its directory once running."""
        if self.scope and self.cgroup is not None and not self.cgroup.dirs:
            self.cgroup.adopt(pid)

    def signal_program(self, pid: int, sig: int) -> None:
        """Send ``sig`` to the program's process group, wherever the program is.

        In a PID namespace the process asyncplay started (``pid``) is bwrap, which dies of
        most signals and takes the namespace with it; a signal the program should handle
        (SIGINT on stop) goes to the program itself: the children of bwrap's init.
        """
        if not self.pid_namespace:
            _killpg(pid, sig)
            return
        for init in rlimit.children_of(pid):
            for child in rlimit.children_of(init):
                if not _killpg(child, sig):
                    try:
                        os.kill(child, sig)
                    except (ProcessLookupError, PermissionError):
                        pass

    def hint(self, path: object, errno: object) -> str | None:
        """One line naming the flag, when the program died of a write this sandbox refused
        (``EROFS`` from a read-only bind, ``EACCES`` for the unprivileged run user) at a
        place the machine itself would have let asyncplay's user write."""
        if not isinstance(path, str) or not os.path.isabs(path) or errno not in (13, 30):
            return None
        if not (self.pid_namespace or self.user is not None):
            return None
        if errno == 13 and self.user is None:
            return None  # a user's own permission, not the sandbox's doing
        folder = os.path.dirname(path) if not os.path.isdir(path) else path
        while folder != "/" and not os.path.isdir(folder):
            folder = os.path.dirname(folder)
        real = os.path.realpath(folder)
        if self.pid_namespace and any(_inside(real, p) for p in bwrap.PRIVATE):
            return None  # the run's own /tmp: writable, and not the machine's
        writable = [w for w in self.writable if w not in self.readonly]
        if any(_inside(real, w) for w in writable):
            return None
        try:
            if os.statvfs(real).f_flag & os.ST_RDONLY or not os.access(real, os.W_OK):
                return None  # read-only on the machine too: not the sandbox's doing
            if os.path.exists(path) and not os.stat(path).st_mode & 0o222:
                return None  # nobody may write it (root only by overriding the mode)
        except OSError:
            return None
        grantable = folders.check_write(real) is None
        if errno == 13 and self.user is not None:
            who = f"{path}: the program runs as {self.user.name}, not root"
            return who + (f" (--write {real} lets it write there)" if grantable else "")
        if not grantable:
            return f"{path}: asyncplay keeps {real} read-only for the program"
        if real in self.readonly:
            return f"{path}: {real} could not be made writable for the program (see above)"
        return f"{path} is read-only in the sandbox: run with --write {real} to allow it"

    def refused_forks(self) -> int:
        return self.cgroup.refused_forks() if self.cgroup is not None else 0

    def cpu_seconds(self) -> float | None:
        """The run's CPU time: its cgroup's, else the most one process was seen to use."""
        return self.cgroup.cpu_seconds() if self.cgroup is not None else self.cpu_seen

    def oom_kills(self) -> int:
        return self.cgroup.oom_kills() if self.cgroup is not None else 0

    def watch(self, pid: int) -> str | None:
        """A look at the run from outside (a few times a second; ``pid``: the process
        asyncplay started) where no cgroup does the work: its autogroups get their low
        priority; returns ``"memory"`` when its processes and tmpfs hold more than
        --memory in all (the session then stops the run)."""
        if self.autogroups is not None:
            self.autogroups.tick(pid)
        if self.pid_namespace and self.cgroup is None:
            self.cpu_seen = max(self.cpu_seen or 0.0, cpu.most_cpu_seconds(pid))
        if self.memory is not None and self.memory.over(pid):
            return "memory"
        return None

    def peak_procs(self) -> int | None:
        """The most processes the program had at once, the wrappers' own not counted."""
        peak = self.cgroup.peak_procs() if self.cgroup is not None else None
        return None if peak is None else max(0, peak - self.overhead)

    # ---- the end -------------------------------------------------------------------

    def kill_all(self, spare: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        """Everything the run started dies: its cgroup's members wherever they went, and
        the orphans reparented to us (as subreaper) but those in ``spare`` (other runs)."""
        if self.cgroup is not None and not self.scope:
            self.cgroup.kill_all()
        if self.outbound is not None:
            # The network helper goes with the run: killed now, reaped in ``close``.
            self.outbound.close(wait=False)
        if self.subreaper:
            rlimit.kill_orphans(self.known_children | spare | network.LIVE_HELPERS)

    def close(self, reap: bool = True) -> None:
        """Remove what the run's sandbox made (its cgroups, network helper, mounts).

        ``reap=False`` (a process that exits next): the network helper, killed already, is
        left for init to reap rather than waited for (its teardown takes some 30 ms)."""
        if self.outbound is not None:
            self.outbound.close(wait=reap)
        if self.launch is not None:
            self.launch.close()
        self.spawned()
        if self.cgroup is not None and not self.scope:
            self.cgroup.remove()
        self.cgroup = None


def _killpg(pid: int, sig: int) -> bool:
    try:
        os.killpg(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def prepare(spec: RunRequest, run_dir: str, env: dict[str, str] | None = None) -> Plan:
    """Assemble the layers for ``spec`` (``spec.sandbox`` is the mode).

    ``env`` is the environment the run starts from (``os.environ`` if None); the plan's
    ``env`` is what the program gets of it, to which the session adds its own variables.
    """
    mode = getattr(spec, "sandbox", "auto") or "auto"
    check(mode)
    plan = Plan(mode)
    lim = spec.limits
    overhead = 0
    if mode in ("auto", "bwrap"):
        ok, why = bwrap.assumed()
        if ok:
            plan.layers.append("bwrap")
            plan.pid_namespace = True
            overhead = plan.overhead = bwrap.OVERHEAD
        else:
            plan.notes.append(f"no bwrap layer: {why}")
    plan.env = rlimit.child_env(env, scrub=mode != "none", private_tmp=plan.pid_namespace)
    if "PWD" in plan.env:  # as a shell starting the program in its directory would set it
        plan.env["PWD"] = spec.cwd
    mem_bytes = int(lim.memory_mib * MIB) if lim.memory_mib else None
    procs = lim.procs + overhead if lim.procs else None
    if mode != "none" and (procs or mem_bytes):
        if os.geteuid() == 0:
            plan.cgroup, notes = cgroup.RunCgroup.create(procs, mem_bytes)
            plan.notes += notes
            if {"pids", "memory"} & set(plan.cgroup.dirs):  # (cpuacct alone only counts)
                plan.layers.append("cgroup")
        else:
            ok, why = cgroup.systemd_scope()
            if ok:
                plan.scope = True
                plan.cgroup = cgroup.RunCgroup()
                plan.layers.append("cgroup")
                plan.prefix += cgroup.scope_prefix(procs, mem_bytes)
            else:
                plan.notes.append(f"no cgroup layer: {why}")
    plan.layers.append("rlimit")
    cg = plan.cgroup
    has_pids = cg is not None and (plan.scope or "pids" in cg.dirs)
    has_mem = cg is not None and (plan.scope or "memory" in cg.dirs)
    nproc = None
    if procs and not has_pids:
        if os.geteuid() == 0:
            plan.notes.append(
                "--procs is not enforced: root is exempt from RLIMIT_NPROC and there is "
                "no pids cgroup"
            )
        else:
            # RLIMIT_NPROC counts every process and thread of the user: leave room for
            # what the user already runs.
            nproc = rlimit.user_tasks(os.getuid()) + procs
            plan.notes.append("--procs is counted on top of your other processes (RLIMIT_NPROC)")
    plan.procs_enforced = bool(procs) and (has_pids or nproc is not None)
    who = plan.user = user.identity()
    runner = who or user.current()
    program = os.path.join(spec.cwd, spec.path) if spec.path and spec.module is None else None
    bound = sockets.bound_paths() if mode != "none" else []
    lay = folders.layout(spec.cwd, program, spec.write, bound)
    plan.writable = list(lay.write)
    # The interpreter, its bin directory and a venv around it (pyvenv.cfg, lib/), and the
    # real interpreter behind a venv's link.
    interpreter = []
    for exe in (spec.python, sys.executable):  # (a wrapper script may exec the latter)
        real = os.path.realpath(exe)
        interpreter += [exe, *(_up(exe, n) for n in (1, 2)), real, _up(real, 2)]
    needed = [run_dir, *interpreter, _pkg_root()]
    needed += [p for p in plan.env.get("PYTHONPATH", "").split(os.pathsep) if p]
    hide = list(lay.hide)
    runtime = sockets.runtime_dir()
    if runtime is not None and not any(_inside(w, runtime) for w in lay.write):
        hide.append(runtime)
    covers = [s for s in bound if user.blocked_at(s, runner) is None]
    setup: list[Callable[[], None]] = []
    if who is not None:
        # Never root inside: the run's files to its user, its mounts, then the drop.
        user.give(run_dir, who)
        # (The run's folder is root's, 0711: its user reads the spec files given to it.)
        given = [
            os.path.join(run_dir, n)
            for n in os.listdir(run_dir)
            if n.endswith((".json", ".marshal"))
        ]
        plan.mounts, notes, plan.readonly = user.plan_mounts(
            who,
            read=[*(p for p in needed if p != run_dir), *given, *lay.read],
            write=lay.write,
            hide=hide,
            covers=[] if plan.pid_namespace else covers,
            trees=("/sys",) if plan.pid_namespace else user.READ_ONLY_TREES,
        )
        plan.notes += notes
        mounts_plan, cwd = plan.mounts, spec.cwd
        setup += [lambda: mounts_plan.enter(cwd), user.drop(who)]
        # What nobody creates in the idmapped project folder is root's on disk: no
        # set-user-ID or set-group-ID bits on it (setid.py).
        setid_prog = setid.setid_filter()
        if setid_prog is not None:
            setup.append(memory.filter_installer(setid_prog))
        else:
            plan.notes.append(
                "set-user-ID files are not refused here (no seccomp filter for this "
                "architecture): the project folder's new files are root's on disk"
            )
        plan.notes.append(f"the program runs as {who.name} (uid {who.uid}), not root")
        for folder in plan.readonly:
            plan.notices.append(
                f"the project folder {folder} is read-only for the program: the file system "
                f"cannot map root's files to {who.name} (no idmapped mount)"
            )
    if plan.pid_namespace:
        plan.notices += lay.notices
        visible = [*needed, *lay.read]
        if program and not any(_inside(os.path.dirname(program), h) for h in lay.hide):
            visible.append(program)
        writable = [w for w in lay.write if w not in plan.readonly]
        net_args = _network(plan, spec, run_dir)
        plan.launch = bwrap.Launch()
        net_args += plan.launch.args()
        plan.pass_fds += plan.launch.pass_fds
        plan.prefix += bwrap.argv(
            spec.cwd,
            visible,
            mem_bytes,
            writable,
            covers,
            hide,
            unshare_net=plan.network != "host",
            extra=net_args,
            keep=lay.keep,
        )
    else:
        _network(plan, spec, run_dir)
    join = cg.join_files() if cg is not None and not plan.scope else []
    plan.preexec = rlimit.preexec(
        lim, tuple(join), address_space=not has_mem, nproc=nproc, setup=tuple(setup)
    )
    if plan.network == "host" and mode != "none":  # (none: nothing but the limits)
        scope = network.scope_abstract_sockets(bwrap.path() if plan.pid_namespace else None)
        if scope is not None:
            plan.preexec = _then(plan.preexec, scope)
        else:
            plan.notes.append(
                "the host's abstract unix sockets are reachable (no Landlock scoping)"
            )
    extra: list[Callable[[], None]] = []  # for the child before exec, after the rlimits
    if mode != "none" and (cg is None or "cpu" not in cg.dirs):
        enabled = cpu.autogroups_enabled()
        plan.autogroups = cpu.Autogroups() if enabled else None
        extra.append(lambda: cpu.lower_own_priority(enabled))
    if mem_bytes and not has_mem:
        extra += _count_memory_everywhere(plan, mem_bytes)  # (a seccomp filter: last)
    for step in extra:
        plan.preexec = _then(plan.preexec, step)  # type: ignore[arg-type]
    # Last: the snapshot of our children must not miss what preparing started and reaped.
    plan.subreaper = rlimit.become_subreaper()
    plan.known_children = rlimit.children_of(os.getpid()) if plan.subreaper else set()
    return plan


def _network(plan: Plan, spec: RunRequest, run_dir: str) -> list[str]:
    """Choose the run's network (``spec.network``) and return bwrap's arguments for it."""
    asked = getattr(spec, "network", network.DEFAULT) or network.DEFAULT
    network.check(asked)
    if not plan.pid_namespace:
        plan.network = "host"
        # Without bwrap there is no namespace to give the run: it has the host's network,
        # which ``on`` mostly is; ``off`` asked for what cannot be had, so it is said first.
        why = "--sandbox " + plan.mode if plan.mode in ("rlimit", "none") else "no bwrap layer"
        if asked == "off":
            plan.notices.append(
                f"--network off needs bwrap ({why}): this run has the host's network"
            )
        elif asked == "on":
            plan.notes.append(f"network: the host's ({why}): its loopback services are reachable")
        return []
    if asked == "on":
        ok, why = network.slirp_usable()
        if not ok:
            plan.network = "off"
            plan.notices.append(network.fallback_notice(why))
            return []
        plan.outbound = network.Outbound(run_dir)
        plan.network = "on"
        args = plan.outbound.bwrap_args()
        plan.pass_fds = plan.outbound.pass_fds
        return args
    plan.network = asked
    return []


def _then(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    def _both() -> None:
        first()
        second()

    _both.rlimits = getattr(first, "rlimits", None)  # type: ignore[attr-defined]
    return _both


def _count_memory_everywhere(plan: Plan, mem_bytes: int) -> list[Callable[[], None]]:
    """No memory cgroup: RLIMIT_AS holds each process; these hold the rest (memory.py).
    Returns what the child must do before exec (the seccomp filter: last)."""
    memory.add_arena_tunable(plan.env)
    tmpfs = bwrap.tmpfs_sizes(mem_bytes) if plan.pid_namespace else {}
    plan.memory = memory.RunMemory(mem_bytes, tmpfs)
    if plan.mode == "none":
        return []
    prog = memory.shm_filter()
    if prog is None:
        plan.notes.append(
            "memfds and System V shared memory are not counted in --memory here "
            "(no seccomp filter for this architecture)"
        )
        return []
    return [memory.filter_installer(prog)]


def reconsider(plan: Plan) -> bool:
    """``plan``'s bwrap failed before the program started, not for a vanished socket:
    probe bwrap now (runs assume it works: ``bwrap.assumed``). True when the answer
    changes the plan (the run is planned again: without bwrap under ``auto``, without
    ``--size`` for an old bwrap); False when the failure stands. Under ``--sandbox
    bwrap``, a bwrap that cannot work here is a SandboxError, as ``check`` says it."""
    if plan.launch is None or bwrap.probed():
        return False
    sized = bool(bwrap.tmpfs_sizes(1 << 30))
    ok, why = _bwrap_usable()
    if not ok and plan.mode == "bwrap":
        raise SandboxError(f"--sandbox bwrap: {why}")
    return not ok or sized != bool(bwrap.tmpfs_sizes(1 << 30))


def prestart(cwd: str) -> None:
    """What a run in ``cwd`` about to be prepared will need, started now in the background
    (as root: the idmapped project folder's user namespace); ``forget_prestarted`` ends
    what no run asked for."""
    who = user.identity()
    if who is not None:
        user.prestart(cwd, who)


def forget_prestarted() -> None:
    mounts.forget_pending()


def probe_early(mode: str) -> None:
    """Start finding out whether bwrap works here, in the background, for a run under
    ``mode`` that is about to be prepared (``prepare`` collects the answer)."""
    if mode in ("auto", "bwrap"):
        who = user.identity()
        bwrap.probe_early(user.drop(who) if who is not None else None)


def collect_probe() -> None:
    """Reap what ``probe_early`` started if no run asked for it."""
    bwrap.collect_probe()


def _bwrap_usable() -> tuple[bool, str]:
    """bwrap works for the user runs have (as root: after the drop)."""
    who = user.identity()
    return bwrap.usable(user.drop(who) if who is not None else None)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _up(path: str, levels: int) -> str:
    for _ in range(levels):
        path = os.path.dirname(os.path.abspath(path))
    return path


def _pkg_root() -> str:
    import asyncplay

    return os.path.dirname(os.path.dirname(os.path.abspath(asyncplay.__file__)))


def doctor() -> list[str]:
    """One line per layer: does it work on this machine, and why not."""
    lines = []
    ok, why = _bwrap_usable()
    lines.append(
        "bwrap   yes: read-only machine, private /tmp, own network and PID namespaces"
        if ok
        else f"bwrap   no: {why}"
    )
    if os.geteuid() == 0:
        have, lack = [], []
        for controller in ("pids", "memory", "cpu"):
            try:
                version, parent = cgroup.locate(controller)
                have.append(f"{controller} ({version}, {parent})")
            except (cgroup.CgroupError, OSError) as exc:
                lack.append(f"{controller}: {exc}")
        verdict = "yes" if not lack else "partly" if have else "no"
        lines.append(f"cgroup  {verdict}: " + "; ".join(have + [f"no {x}" for x in lack]))
    else:
        ok, why = cgroup.systemd_scope()
        lines.append(
            "cgroup  yes: pids and memory through systemd-run --user --scope"
            if ok
            else f"cgroup  no: {why}"
        )
    root = os.geteuid() == 0
    lines.append(
        "rlimit  yes: own session, rlimits (memory, CPU, file size, open files"
        + ("" if root else ", processes")
        + "), scrubbed environment, parent-death signal"
    )
    return (
        lines
        + [_user_doctor()]
        + _resources_doctor()
        + network.doctor(_bwrap_usable()[0], bwrap.path(), bwrap.true_path())
    )


def _user_doctor() -> str:
    """Who runs the program, and whether a root asyncplay can give it the project."""
    who = user.identity()
    if who is None:
        return f"user    the program runs as you (uid {os.getuid()}), like python"
    line = (
        f"user    the program runs as {who.name} (uid {who.uid}), not root: no capabilities, "
        "/proc/sys and /sys read-only, root's files closed to it; "
    )
    why = user.idmap_works(os.getcwd(), who)
    if why is None:
        return line + "the project folder writable through an idmapped mount"
    return line + f"a root-owned project folder stays read-only for it ({why})"


def _resources_doctor() -> list[str]:
    """How --memory and the CPU share hold where no cgroup does it (docs/sandbox.md)."""
    lines = []
    root = os.geteuid() == 0
    if _lacks("memory") if root else not cgroup.systemd_scope()[0]:
        lines.append(
            "memory  no memory cgroup: RLIMIT_AS per process, /tmp and /dev/shm sized, "
            "memfd and System V shm refused, the run's total counted by asyncplay"
        )
    if not root or _lacks("cpu"):
        how = "its autogroup" if cpu.autogroups_enabled() else "its processes (no autogroups)"
        lines.append(
            f"cpu     no cpu cgroup: each run's share is bounded by nice {cpu.NICE} on {how}"
        )
    return lines


def _lacks(controller: str) -> bool:
    try:
        cgroup.locate(controller)
    except (cgroup.CgroupError, OSError):
        return True
    return False
