"""Choosing and assembling a run's sandbox layers (``--sandbox auto|bwrap|rlimit|none``).

The layers, strongest first:

* ``bwrap``: read-only machine, private /tmp, no network, own PID namespace (``bwrap.py``);
* ``cgroup``: the kernel's process and memory limits (``cgroup.py``; as root directly, as
  anyone else through ``systemd-run --user --scope`` where a systemd user manager runs);
* ``rlimit``: own session and process group, rlimits, a scrubbed environment, parent-death
  signal (``sandbox.py``) - always there.

``auto`` takes every layer that works here; ``bwrap`` insists on bubblewrap; ``rlimit``
leaves bubblewrap out (cgroup limits still apply where available); ``none`` keeps only what
the limit flags themselves need (rlimits, process group) and passes the environment through.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

from asyncplay.runner import bwrap, sandbox
from asyncplay.runner.cgroup import CgroupError, RunCgroup, locate
from asyncplay.runner.spec import RunSpec

MODES = ("auto", "bwrap", "rlimit", "none")
MIB = 1024 * 1024

_SYSTEMD: dict[str, tuple[bool, str]] = {}


class SandboxError(ValueError):
    """The sandbox asked for cannot be had here: one line saying why."""


def check(mode: str) -> None:
    """Raise SandboxError if ``mode`` is unknown, or is ``bwrap`` where bwrap cannot run."""
    if mode not in MODES:
        raise SandboxError(f"--sandbox takes one of {', '.join(MODES)}, not {mode!r}")
    if mode == "bwrap":
        ok, why = bwrap.usable()
        if not ok:
            raise SandboxError(f"--sandbox bwrap: {why}")


def systemd_scope() -> tuple[bool, str]:
    """(works, why not): a non-root user may put a run in a ``systemd-run --user`` scope."""
    if "answer" not in _SYSTEMD:
        exe = shutil.which("systemd-run")
        if exe is None:
            _SYSTEMD["answer"] = (False, "systemd-run is not installed")
        elif not os.environ.get("XDG_RUNTIME_DIR") and not os.environ.get(
            "DBUS_SESSION_BUS_ADDRESS"
        ):
            _SYSTEMD["answer"] = (False, "no systemd user session (XDG_RUNTIME_DIR unset)")
        else:
            try:
                proc = subprocess.run(
                    [exe, "--user", "--scope", "--quiet", "-p", "TasksMax=8", "--", "true"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    timeout=10,
                )
                err = proc.stderr.decode(errors="replace").strip().splitlines()
                _SYSTEMD["answer"] = (
                    (True, "")
                    if proc.returncode == 0
                    else (
                        False,
                        f"systemd-run --user failed ({err[-1] if err else proc.returncode})",
                    )
                )
            except (OSError, subprocess.SubprocessError) as exc:
                _SYSTEMD["answer"] = (False, f"systemd-run could not be run ({exc})")
    return _SYSTEMD["answer"]


class Confinement:
    """How one run is wrapped: the command prefix, the pre-exec setup, what it reports."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.layers: list[str] = []
        self.notes: list[str] = []
        self.prefix: list[str] = []
        self.cgroup: RunCgroup | None = None
        self.scope = False  # the cgroup is a systemd scope, found after the start
        self.pid_namespace = False
        self.overhead = 0  # processes the wrappers add to the run's count
        self.scrub_env = mode != "none"
        self.procs_enforced = False
        self.preexec: Callable[[], None] | None = None

    def describe(self) -> dict:
        """The ``sandbox`` field of ``run_start``."""
        return {"mode": self.mode, "layers": list(self.layers), "notes": list(self.notes)}

    def adopt_scope(self, pid: int) -> None:
        """A systemd scope is made by systemd-run itself: find its directory once running."""
        if self.scope and self.cgroup is not None and not self.cgroup.dirs:
            self.cgroup.adopt(pid)

    def refused_forks(self) -> int:
        return self.cgroup.refused_forks() if self.cgroup is not None else 0

    def cpu_seconds(self) -> float | None:
        return self.cgroup.cpu_seconds() if self.cgroup is not None else None

    def oom_kills(self) -> int:
        return self.cgroup.oom_kills() if self.cgroup is not None else 0

    def kill_all(self) -> None:
        if self.cgroup is not None and not self.scope:
            self.cgroup.kill_all()

    def close(self) -> None:
        if self.cgroup is not None and not self.scope:
            self.cgroup.remove()
        self.cgroup = None


def prepare(spec: RunSpec, run_dir: str, env: dict[str, str]) -> Confinement:
    """Assemble the layers for ``spec`` (``spec.sandbox`` is the mode)."""
    mode = getattr(spec, "sandbox", "auto") or "auto"
    check(mode)
    c = Confinement(mode)
    lim = spec.limits
    overhead = 0
    if mode in ("auto", "bwrap"):
        ok, why = bwrap.usable()
        if ok:
            c.layers.append("bwrap")
            c.pid_namespace = True
            overhead = c.overhead = bwrap.OVERHEAD
        else:
            c.notes.append(f"no bwrap layer: {why}")
    mem_bytes = int(lim.memory_mib * MIB) if lim.memory_mib else None
    procs = lim.procs + overhead if lim.procs else None
    if mode != "none" and (procs or mem_bytes):
        if os.geteuid() == 0:
            c.cgroup, notes = RunCgroup.create(procs, mem_bytes)
            c.notes += notes
            if {"pids", "memory"} & set(c.cgroup.dirs):  # (cpuacct alone only counts)
                c.layers.append("cgroup")
        else:
            ok, why = systemd_scope()
            if ok:
                c.scope = True
                c.cgroup = RunCgroup()
                c.layers.append("cgroup")
                c.prefix += ["systemd-run", "--user", "--scope", "--quiet", "--collect"]
                if procs:
                    c.prefix += ["-p", f"TasksMax={procs}"]
                if mem_bytes:
                    c.prefix += ["-p", f"MemoryMax={mem_bytes}", "-p", "MemorySwapMax=0"]
                c.prefix.append("--")
            else:
                c.notes.append(f"no cgroup layer: {why}")
    c.layers.append("rlimit")
    in_cgroup = c.cgroup is not None
    has_pids = in_cgroup and (c.scope or "pids" in c.cgroup.dirs)  # type: ignore[union-attr]
    has_mem = in_cgroup and (c.scope or "memory" in c.cgroup.dirs)  # type: ignore[union-attr]
    nproc = None
    if procs and not has_pids:
        if os.geteuid() == 0:
            c.notes.append(
                "--procs is not enforced: root is exempt from RLIMIT_NPROC and there is "
                "no pids cgroup"
            )
        else:
            # RLIMIT_NPROC counts every process and thread of the user: leave room for
            # what the user already runs.
            nproc = sandbox.user_tasks(os.getuid()) + procs
            c.notes.append("--procs is counted on top of your other processes (RLIMIT_NPROC)")
    c.procs_enforced = bool(procs) and (has_pids or nproc is not None)
    if c.pid_namespace:
        # The interpreter, its bin directory and a venv around it (pyvenv.cfg, lib/).
        interpreter = [spec.python, *(_up(spec.python, n) for n in (1, 2))]
        visible = [run_dir, spec.cwd, *interpreter, _pkg_root()]
        if spec.path and spec.module is None:
            visible.append(os.path.join(spec.cwd, spec.path))
        visible += [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        c.prefix += bwrap.argv(spec.cwd, visible, mem_bytes)
    join = c.cgroup.procs_files() if in_cgroup and not c.scope else []  # type: ignore[union-attr]
    c.preexec = sandbox.preexec(lim, tuple(join), address_space=not has_mem, nproc=nproc)
    return c


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
    ok, why = bwrap.usable()
    lines.append(
        "bwrap   yes: read-only machine, private /tmp, no network, own PID namespace"
        if ok
        else f"bwrap   no: {why}"
    )
    if os.geteuid() == 0:
        have, lack = [], []
        for controller in ("pids", "memory"):
            try:
                version, parent = locate(controller)
                have.append(f"{controller} ({version}, {parent})")
            except (CgroupError, OSError) as exc:
                lack.append(f"{controller}: {exc}")
        verdict = "yes" if not lack else "partly" if have else "no"
        lines.append(f"cgroup  {verdict}: " + "; ".join(have + [f"no {x}" for x in lack]))
    else:
        ok, why = systemd_scope()
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
    return lines
