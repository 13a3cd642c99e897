"""CPU fairness without a cpu cgroup: the run's autogroup (or, without autogroups, its
processes) at the lowest priority, so spinning runs cannot starve the machine's other users.

With the kernel's autogroups (``/proc/sys/kernel/sched_autogroup_enabled``), every session
(``setsid``) is a scheduling group of its own, and only the group's nice, in
``/proc/PID/autogroup``, weighs against other groups: a process's own nice does nothing for
its neighbours. asyncplay starts each run in a new session, and bwrap starts the program in
another one, so the pre-exec function sets the first group's nice and the parent's watch
sets the nice of every group the run's processes are in (a program that starts sessions of
its own, or puts its group's nice back, is set again at the next look). Without autogroups
the processes themselves get nice ``NICE``. Where a cpu cgroup holds the run (``cgroup.py``), this
is not needed: autogroups only count in the root cpu cgroup.
"""

from __future__ import annotations

import os
import time

from asyncplay.sandbox.memory import descendants

__all__ = ["NICE", "Autogroups", "autogroups_enabled", "lower_own_priority", "most_cpu_seconds"]

NICE = 10  # weight 110 against an ordinary group's 1024: ten runs weigh about one


def _cpu_seconds(pid: int) -> float:
    """CPU time ``pid`` has used (user + system, /proc/PID/stat): what RLIMIT_CPU counts."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def most_cpu_seconds(root_pid: int) -> float:
    """The most CPU time one process of the run has used: the evidence of --cpu where no
    cgroup counts it and the program is not reaped into what asyncplay waits on (bwrap)."""
    return max((_cpu_seconds(p) for p in [root_pid, *descendants(root_pid)]), default=0.0)


def autogroups_enabled() -> bool:
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


def _autogroup(pid: int | str) -> tuple[str, int] | None:
    """(group name, nice) from ``/proc/PID/autogroup`` ("/autogroup-42 nice 0")."""
    try:
        with open(f"/proc/{pid}/autogroup") as f:
            name, _word, nice = f.read().split()
        return name, int(nice)
    except (OSError, ValueError):
        return None


def _set(pid: int | str) -> bool:
    """Give ``pid``'s autogroup nice ``NICE``; False if the kernel said not now (EAGAIN:
    it takes one such change a tenth of a second from unprivileged users) or not at all."""
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(str(NICE))
        return True
    except OSError:
        return False


def lower_own_priority(autogroups: bool) -> None:
    """For the forked child before exec (after ``setsid``): its group's nice, or its own."""
    if autogroups:
        for _ in range(5):
            if _set("self"):
                return
            time.sleep(0.02)
        return  # the parent's watch sets it later
    try:
        os.setpriority(os.PRIO_PROCESS, 0, NICE)
    except OSError:
        pass


class Autogroups:
    """The parent's watch: every autogroup a process of the run is in gets nice ``NICE``."""

    def __init__(self) -> None:
        self.failed = 0  # writes the kernel refused (EAGAIN): tried again at the next look

    def tick(self, root_pid: int) -> None:
        seen: set[str] = set()
        for pid in [root_pid, *descendants(root_pid)]:
            group = _autogroup(pid)
            if group is None or group[0] in seen:
                continue
            seen.add(group[0])
            if group[1] < NICE and not _set(pid):
                self.failed += 1
