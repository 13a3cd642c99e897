"""Control groups: the kernel's own count of a run's processes and memory.

rlimits cannot cap processes for root (RLIMIT_NPROC does nothing for uid 0, in any
namespace) and count address-space reservations rather than memory used. A cgroup does
both right, and names the run's processes exactly. asyncplay makes one cgroup per run
and removes it when the run ends.

cgroup v1 (one hierarchy per controller, ``/sys/fs/cgroup/pids``, ``.../memory``) and v2
(one unified hierarchy) are both handled; either needs write access to the hierarchy, which
in practice means root. Unprivileged users on systemd machines get the same limits from a
``systemd-run --user --scope`` prefix (``systemd_scope`` below).
"""

from __future__ import annotations

import os
import time
from _signal import SIGKILL  # (``signal``'s C half: ``signal`` itself imports ``enum``)

from asyncplay.sandbox.which import which

MOUNTS = "/proc/self/mounts"
HOME = "asyncplay"  # the directory holding the run cgroups
PREFIX = "run-"


_SYSTEMD: dict[str, tuple[bool, str]] = {}


class CgroupError(OSError):
    """No usable cgroup for a run; the message says why in a few words."""


def _mounts() -> list[tuple[str, str, list[str]]]:
    """(mount point, fs type, options) of every cgroup file system."""
    out = []
    try:
        with open(MOUNTS) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
                    out.append((parts[1], parts[2], parts[3].split(",")))
    except OSError:
        pass
    return out


def _writable_dir(path: str) -> bool:
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def _words(path: str) -> list[str]:
    try:
        with open(path) as f:
            return f.read().split()
    except OSError:
        return []


def _home(mount: str) -> str:
    """asyncplay's own directory at the top of a hierarchy (made once, left in place)."""
    home = os.path.join(mount, HOME)
    try:
        os.mkdir(home, 0o755)
    except FileExistsError:
        pass
    return home


def locate(
    controller: str, mounts: list[tuple[str, str, list[str]]] | None = None
) -> tuple[str, str]:
    """(version, parent directory) where a run's ``controller`` cgroup can be made
    (``mounts``: ``_mounts()`` read once by the caller, for several controllers).

    Run cgroups live in one ``asyncplay`` directory at the top of the hierarchy rather than
    under the cgroup asyncplay runs in: v2 forbids processes in a cgroup that delegates
    controllers, and a session manager's per-login cgroup must stay removable. Needs write
    access to the hierarchy (root); raises CgroupError saying why there is none.
    """
    if mounts is None:
        mounts = _mounts()
    for mount, fstype, opts in mounts:
        if fstype == "cgroup" and controller in opts:
            if not _writable_dir(mount):
                raise CgroupError(f"no write access to the {controller} cgroup (needs root)")
            return "v1", _home(mount)
    for mount, fstype, _opts in mounts:
        if fstype != "cgroup2" or controller not in _words(f"{mount}/cgroup.controllers"):
            continue
        if controller not in _words(f"{mount}/cgroup.subtree_control"):
            raise CgroupError(f"the {controller} controller is not enabled in cgroup v2")
        if not _writable_dir(mount):
            raise CgroupError("no write access to cgroup v2 (needs root)")
        home = _home(mount)
        if controller not in _words(f"{home}/cgroup.subtree_control"):
            _write(f"{home}/cgroup.subtree_control", f"+{controller}")
        return "v2", home
    raise CgroupError(f"this kernel offers no {controller} cgroup")


def sweep(parent: str) -> None:
    """End the runs of asyncplay processes that died, and remove their cgroups.

    An asyncplay killed outright (SIGKILL, the OOM killer) cannot clean up: its program dies
    of the parent-death signal, but what that program started lives on in the run's cgroup.
    The next asyncplay to make a run cgroup kills those processes. A live owner's runs are
    never touched (a reused pid keeps them: erring on the side of sparing).
    """
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(PREFIX):
            continue
        owner = name[len(PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            path = os.path.join(parent, name)
            _kill_members(path)
            try:
                os.rmdir(path)
            except OSError:
                pass


def _kill_members(path: str) -> None:
    """SIGKILL every process in the cgroup at ``path`` (it may fork meanwhile: repeat)."""
    for _ in range(50):
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                pids = [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            return
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, SIGKILL)
            except OSError:
                pass
        time.sleep(0.005)  # a killed process leaves the cgroup when it has exited


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _read_keyed(path: str) -> dict[str, int]:
    """``key value`` lines (pids.events, memory.events, memory.oom_control)."""
    out: dict[str, int] = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[1].lstrip("-").isdigit():
                    out[parts[0]] = int(parts[1])
    except OSError:
        pass
    return out


def _read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# CPU weights on cgroup v2's scale (1-10000, 100 for an ordinary group): every run weighs
# the same, and all runs together (asyncplay's directory at the top of the hierarchy) as
# much as one ordinary group, such as one user's session: ten spinning runs take half of a
# CPU a neighbour wants, not ten elevenths (docs/sandbox.md, CPU).
RUN_WEIGHT = 100
HOME_WEIGHT = 100


def _set_weight(path: str, version: str, weight: int) -> None:
    """cpu.weight (v2) or cpu.shares (v1: 1024 is v2's 100)."""
    if version == "v2":
        _write(os.path.join(path, "cpu.weight"), str(weight))
    else:
        _write(os.path.join(path, "cpu.shares"), str(weight * 1024 // 100))


class RunCgroup:
    """The cgroups of one run (one per v1 controller, or one v2 directory)."""

    def __init__(self) -> None:
        self.dirs: dict[str, tuple[str, str]] = {}  # controller -> (version, directory)

    @classmethod
    def create(cls, procs: int | None, memory_bytes: int | None) -> tuple[RunCgroup, list[str]]:
        """A run cgroup for the limits that can be had; notes say what could not."""
        self = cls()
        notes: list[str] = []
        name = f"{PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
        wanted: list[tuple[str, int | None]] = [
            ("pids", procs),
            ("memory", memory_bytes),
            ("cpu", RUN_WEIGHT),
        ]
        mounts = _mounts()
        if any(fs == "cgroup" and "cpuacct" in opts for _m, fs, opts in mounts):
            wanted.append(("cpuacct", 0))  # v1: the run's CPU time (v2 dirs have cpu.stat)
        for controller, value in wanted:
            if value is None:
                continue
            made = None
            try:
                version, parent = locate(controller, mounts)
                path = next(
                    (d for v, d in self.dirs.values() if v == "v2" and version == "v2"), None
                )
                if path is None:
                    path = made = os.path.join(parent, name)
                    os.mkdir(path, 0o755)
                self._limit(controller, version, path, value)
                self.dirs[controller] = (version, path)
            except OSError as exc:
                if made is not None:
                    try:
                        os.rmdir(made)
                    except OSError:
                        pass
                reason = str(exc) if isinstance(exc, CgroupError) else exc.strerror
                notes.append(f"no {controller} cgroup: {reason}")
        return self, notes

    def _limit(self, controller: str, version: str, path: str, value: int) -> None:
        if controller == "cpuacct":
            return  # accounting only
        if controller == "cpu":
            _set_weight(path, version, RUN_WEIGHT)
            _set_weight(os.path.dirname(path), version, HOME_WEIGHT)
            return
        if controller == "pids":
            _write(os.path.join(path, "pids.max"), str(value))
        elif version == "v1":
            _write(os.path.join(path, "memory.limit_in_bytes"), str(value))
            try:  # with swap accounting, swap counts too (else the bomb just swaps)
                _write(os.path.join(path, "memory.memsw.limit_in_bytes"), str(value))
            except OSError:
                pass
        else:
            _write(os.path.join(path, "memory.max"), str(value))
            try:
                _write(os.path.join(path, "memory.swap.max"), "0")
            except OSError:
                pass

    def sweep_others(self) -> None:
        """``sweep`` the hierarchies this run's cgroups are in: what dead asyncplays left
        there. Called once the program is on its way (``Plan.sweep``), off the start-up's
        path: this run's own cgroups have a live owner, so a sweep never takes them."""
        for parent in sorted({os.path.dirname(d) for _v, d in self.dirs.values()}):
            sweep(parent)

    @property
    def controllers(self) -> list[str]:
        return sorted(self.dirs)

    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files listing the run's processes (deduplicated)."""
        return sorted({os.path.join(d, "cgroup.procs") for _v, d in self.dirs.values()})

    def join_files(self) -> list[str]:
        """The files a new, single-threaded process writes ``0`` into to join (itself):
        v1's ``tasks``, v2's ``cgroup.procs``. A v1 ``cgroup.procs`` write takes the
        kernel's global thread-group lock, whose first taking waits a whole RCU grace
        period (7-14 ms of every run's start here); moving the writing thread itself
        through ``tasks`` does not take it (Linux 6.0+; older kernels only wait), and
        the forked child before exec has no other thread to leave behind."""
        return sorted(
            {
                os.path.join(d, "tasks" if v == "v1" else "cgroup.procs")
                for v, d in self.dirs.values()
            }
        )

    def refused_forks(self) -> int:
        """How many times the kernel refused the run a new process or thread."""
        if "pids" not in self.dirs:
            return 0
        return _read_keyed(os.path.join(self.dirs["pids"][1], "pids.events")).get("max", 0)

    def peak_procs(self) -> int | None:
        """The most processes and threads the run had at once (where the kernel keeps it)."""
        if "pids" not in self.dirs:
            return None
        return _read_int(os.path.join(self.dirs["pids"][1], "pids.peak"))

    def cpu_seconds(self) -> float | None:
        """CPU time all of the run's processes used, reaped or not (None: not counted)."""
        if "cpuacct" in self.dirs:
            ns = _read_int(os.path.join(self.dirs["cpuacct"][1], "cpuacct.usage"))
            return None if ns is None else ns / 1e9
        for version, path in self.dirs.values():
            if version == "v2":
                usec = _read_keyed(os.path.join(path, "cpu.stat")).get("usage_usec")
                return None if usec is None else usec / 1e6
        return None

    def oom_kills(self) -> int:
        """How many of the run's processes the kernel killed for going over the memory limit."""
        if "memory" not in self.dirs:
            return 0
        version, path = self.dirs["memory"]
        name = "memory.oom_control" if version == "v1" else "memory.events"
        return _read_keyed(os.path.join(path, name)).get("oom_kill", 0)

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.procs_files():
            try:
                with open(path) as f:
                    found.update(int(x) for x in f.read().split())
            except (OSError, ValueError):
                pass
        return found

    def kill_all(self) -> None:
        """SIGKILL every process still in the run's cgroups (it may fork meanwhile: repeat)."""
        for _ in range(50):
            left = self.pids()
            if not left:
                return
            for pid in left:
                try:
                    os.kill(pid, SIGKILL)
                except OSError:
                    pass

    def remove(self) -> None:
        """Remove the run's cgroup directories (the kernel refuses while a task is left)."""
        import time

        for _version, path in {d for d in self.dirs.values()}:
            for attempt in range(20):
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if attempt == 19:
                        break  # swept by a later run once this process is gone
                    self.kill_all()
                    time.sleep(0.01)
        self.dirs.clear()

    def adopt(self, pid: int) -> None:
        """Take over the v2 cgroup ``pid`` is in (a systemd scope made for the run)."""
        mount = next((m for m, fstype, _o in _mounts() if fstype == "cgroup2"), None)
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                path = next(line[3:].strip() for line in f if line.startswith("0::"))
        except (OSError, StopIteration):
            return
        if mount is None or not path.endswith(".scope"):
            return
        where = os.path.join(mount, path.lstrip("/"))
        self.dirs = {"pids": ("v2", where), "memory": ("v2", where)}


def systemd_scope() -> tuple[bool, str]:
    """(works, why not): a non-root user may put a run in a ``systemd-run --user`` scope."""
    if "answer" not in _SYSTEMD:
        exe = which("systemd-run")
        if exe is None:
            _SYSTEMD["answer"] = (False, "systemd-run is not installed")
        elif not os.environ.get("XDG_RUNTIME_DIR") and not os.environ.get(
            "DBUS_SESSION_BUS_ADDRESS"
        ):
            _SYSTEMD["answer"] = (False, "no systemd user session (XDG_RUNTIME_DIR unset)")
        else:
            import subprocess  # (only where a systemd user session may hold the limits)

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


def scope_prefix(procs: int | None, memory_bytes: int | None) -> list[str]:
    """The ``systemd-run --user --scope`` command line (up to ``--``) holding these limits."""
    out = ["systemd-run", "--user", "--scope", "--quiet", "--collect"]
    if procs:
        out += ["-p", f"TasksMax={procs}"]
    if memory_bytes:
        out += ["-p", f"MemoryMax={memory_bytes}", "-p", "MemorySwapMax=0"]
    out.append("--")
    return out
