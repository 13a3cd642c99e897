"""Memory counted everywhere: ``--memory`` covers the run's files in memory, not only its heap.

A program can pin memory outside its address space: files in ``/tmp`` and ``/dev/shm``
(tmpfs), memfds, System V shared memory. A memory cgroup charges all of those pages to the
run (tmpfs and shm pages go to the cgroup of the process that touched them, and the run's
tmpfs goes with its mount namespace when the run ends), so where there is one nothing else is
needed. Without one, RLIMIT_AS counts none of them, so this layer adds:

* one tmpfs of ``--memory`` bytes behind both ``/tmp`` and ``/dev/shm`` (``bwrap.py``);
* a seccomp filter refusing ``memfd_create``, ``memfd_secret`` and ``shmget`` with ENOSYS
  (pages no size limit holds; Python's ``multiprocessing.shared_memory`` uses ``/dev/shm``);
* a watch from the parent summing the run's anonymous memory and its tmpfs use (pages, and
  ``INODE_COST`` per file: an empty file's inode is kernel memory too), which stops
  the run when the sum passes ``--memory`` (each process's own RLIMIT_AS cannot see the
  others' or the tmpfs);
* ``glibc.malloc.arena_max=2``: glibc reserves 64 MiB of address space per malloc arena, up
  to eight per core, so under RLIMIT_AS a program of a dozen threads ran out of address space
  it never used. The child runtime gives the program the user's own ``GLIBC_TUNABLES`` back.
"""

from __future__ import annotations

import os
import struct

from asyncplay.sandbox.rlimit import children_of

__all__ = [
    "ARENA_TUNABLE",
    "ENV_TUNABLES",
    "RunMemory",
    "add_arena_tunable",
    "shm_filter",
]

ARENA_TUNABLE = "glibc.malloc.arena_max=2"
_PAGE = 4096
# What one file in a tmpfs costs the kernel besides its pages (its inode and dentry, slab
# memory no size limit holds): about 1000 bytes measured on Linux 6.18 (100,000 empty files
# with 40-byte names in /dev/shm: Slab grew by 99.9 MB).
INODE_COST = 1024
# "=" + the user's own GLIBC_TUNABLES, or "" when it was unset (child/boot.py restores it).
ENV_TUNABLES = "ASYNCPLAY_ORIG_GLIBC_TUNABLES"


def add_arena_tunable(env: dict[str, str]) -> None:
    """Cap glibc's malloc arenas in ``env`` (the user's own tunables kept, and saved)."""
    own = env.get("GLIBC_TUNABLES")
    env[ENV_TUNABLES] = "" if own is None else "=" + own
    env["GLIBC_TUNABLES"] = ":".join(filter(None, [own, ARENA_TUNABLE]))


# ---- seccomp: no memory outside the counted places -----------------------------------------

# audit arch, the syscalls refused, whether x32 numbers (bit 30) are refused too
_ARCHES = {
    "x86_64": (0xC000003E, (319, 447, 29), True),  # memfd_create, memfd_secret, shmget
    "aarch64": (0xC00000B7, (279, 447, 194), False),
}
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_ENOSYS = 0x00050000 | 38  # SECCOMP_RET_ERRNO | ENOSYS
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def shm_filter(machine: str | None = None) -> bytes | None:
    """The classic BPF program (None: an architecture this does not know).

    Another ABI than the native one (i386 or x32 on x86_64) is refused outright: Python
    programs never use it, and its numbers differ.
    """
    arch = _ARCHES.get(machine or os.uname().machine)
    if arch is None:
        return None
    audit, calls, x32 = arch
    prog = [_insn(_LD_ABS, 4), _insn(_JEQ, audit, 1, 0), _insn(_RET, _ENOSYS), _insn(_LD_ABS, 0)]
    checks = [(_JGE, 0x40000000)] if x32 else []
    checks += [(_JEQ, nr) for nr in calls]
    for i, (op, k) in enumerate(checks):
        to_deny = len(checks) - i  # past the remaining checks and the allow
        prog.append(_insn(op, k, to_deny, 0))
    prog += [_insn(_RET, _ALLOW), _insn(_RET, _ENOSYS)]
    return b"".join(prog)


def filter_installer(prog: bytes):  # -> Callable[[], None]
    """A function for the forked child that installs ``prog`` (built here, before the fork:
    the child only makes two prctl calls). It raises OSError if the kernel refuses."""
    from asyncplay import libc

    buf = (libc.c_char * len(prog)).from_buffer_copy(prog)

    class SockFprog(libc.Structure):
        _fields_ = [("len", libc.c_ushort), ("filter", libc.c_void_p)]

    fprog = SockFprog(len(prog) // 8, libc.addressof(buf))
    prctl = libc.function("prctl")
    prctl.argtypes = [libc.c_int, libc.c_ulong, libc.c_void_p, libc.c_ulong, libc.c_ulong]

    def install() -> None:
        keep = (buf, fprog)  # noqa: F841  (alive as long as the closure)
        if (
            prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0
            or prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, libc.addressof(fprog), 0, 0) != 0
        ):
            err = libc.get_errno()
            raise OSError(err, f"seccomp: {os.strerror(err)}")

    return install


# ---- the parent's watch -----------------------------------------------------------------


def _rss_anon(pid: int) -> int:
    """A process's anonymous resident memory in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"RssAnon:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """``pid``'s children, theirs, and so on (the run's processes under bwrap)."""
    out: list[int] = []
    todo = [pid]
    while todo and len(out) < 100_000:
        kids = children_of(todo.pop())
        out += kids
        todo += kids
    return out


class RunMemory:
    """What the run pins in all where no cgroup counts it: anonymous memory of each of its
    processes plus what its own tmpfs mounts hold (``tmpfs``: their paths inside the run,
    seen from outside through ``/proc/PID/root``)."""

    def __init__(self, limit: int, tmpfs: dict[str, int] | None = None) -> None:
        self.limit = limit
        self.tmpfs = tmpfs or {}  # path inside -> its size

    def used(self, root_pid: int) -> int:
        pids = [root_pid, *descendants(root_pid)]
        total = sum(_rss_anon(p) for p in pids)
        for pid in reversed(pids):
            held = self._tmpfs_held(pid)
            if held is not None:
                total += held
                break
        return total

    def _tmpfs_held(self, pid: int) -> int | None:
        """What the run's tmpfs mounts hold, seen through ``pid``; None when ``pid`` does not
        see them (bwrap's outer process, or bwrap still setting up: the host's /tmp)."""
        held = 0
        for path, size in self.tmpfs.items():
            try:
                st = os.statvfs(f"/proc/{pid}/root{path}")
            except OSError:
                return None
            if abs(st.f_blocks * st.f_frsize - size) > _PAGE:
                return None
            held += (st.f_blocks - st.f_bfree) * st.f_frsize
            # Empty files take no blocks: 300,000 of them in /tmp pinned 200 MiB of the
            # kernel's memory under --memory 256, uncounted.
            held += max(0, st.f_files - st.f_ffree) * INODE_COST
        return held

    def over(self, root_pid: int) -> bool:
        return self.used(root_pid) > self.limit
