"""``asyncplay attach PID``: may this process be attached to, and which Python is it?

Checked before anything is sent, each refusal one line (``Refused``) saying why and what
would allow it, with its own exit status (``exits.py``). The target's Python version is
read the way ``sys.remote_exec`` itself finds it: the ``PyRuntime`` ELF section of a
mapped file (the interpreter or libpython, whatever the exe is named) starts with the
debug-offsets cookie ``xdebugpy`` and the version (``PY_VERSION_HEX``), read through
``/proc/PID/mem`` (the same ptrace permission ``remote_exec`` needs).
"""

from __future__ import annotations

import os
import struct

from asyncplay import exits

__all__ = [
    "Refused",
    "Target",
    "check_target",
    "may_ptrace_anyone",
    "ptrace_why",
    "remote_debug_off_why",
    "undumpable",
    "yama_scope",
]

YAMA = "/proc/sys/kernel/yama/ptrace_scope"


class Refused(Exception):
    """One line for the user (why, and what would allow it) and its exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Target:
    __slots__ = ("pid", "exe", "uid", "version", "cmdline")

    def __init__(self, pid: int, exe: str, uid: int, version: tuple[int, int, int]) -> None:
        self.pid = pid
        self.exe = exe
        self.uid = uid
        self.version = version
        self.cmdline = _cmdline(pid)

    @property
    def label(self) -> str:
        return ".".join(map(str, self.version))


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            parts = f.read().split(b"\0")
    except OSError:
        return ""
    return " ".join(p.decode("utf-8", "replace") for p in parts if p)


def _elf_section(path: str, name: bytes) -> tuple[int, int] | None:
    """(section address, first PT_LOAD's aligned address) of ``name`` in a 64-bit ELF."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return None
        e_phoff, e_shoff = struct.unpack_from("<QQ", head, 0x20)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", head, 0x36)
        f.seek(e_shoff)
        sections = f.read(shentsize * shnum)

        def sh(i: int) -> tuple:
            return struct.unpack_from("<IIQQQQIIQQ", sections, i * shentsize)

        strtab = sh(shstrndx)
        f.seek(strtab[4])
        names = f.read(strtab[5])
        addr = None
        for i in range(shnum):
            s = sh(i)
            end = names.find(b"\0", s[0])
            if names[s[0] : end] == b"." + name:
                addr = s[3]
                break
        if addr is None:
            return None
        f.seek(e_phoff)
        programs = f.read(phentsize * phnum)
    for i in range(phnum):
        p_type, _fl, _off, vaddr, _pa, _fs, _ms, align = struct.unpack_from(
            "<IIQQQQQQ", programs, i * phentsize
        )
        if p_type == 1:  # PT_LOAD
            return addr, vaddr - (vaddr % align if align else 0)
    return None


def target_python(pid: int) -> tuple[int, int, int] | None:
    """The target's (major, minor, micro) from its debug offsets (3.13+), or None (not
    Python, or a Python before 3.13). PermissionError when the kernel refuses."""
    with open(f"/proc/{pid}/maps") as f:
        maps = f.read().splitlines()
    seen = set()
    for line in maps:
        parts = line.split(None, 5)
        if len(parts) < 6 or not parts[5].startswith("/"):
            continue
        path = parts[5]
        if "python" not in os.path.basename(path) or path in seen:
            continue
        seen.add(path)
        low, high = (int(x, 16) for x in parts[0].split("-"))
        try:  # the file the process mapped (its own mount namespace; replaced since?)
            found = _elf_section(f"/proc/{pid}/map_files/{low:x}-{high:x}", b"PyRuntime")
        except PermissionError:
            found = None
        except (OSError, ValueError, struct.error):
            continue
        if found is None:
            try:
                found = _elf_section(path, b"PyRuntime")
            except (OSError, ValueError, struct.error):
                continue
        if found is None:
            continue
        section, load = found
        offset = int(parts[2], 16)
        with open(f"/proc/{pid}/mem", "rb") as mem:
            mem.seek(low - offset + section - load)
            head = mem.read(16)
        if head[:8] != b"xdebugpy":
            continue
        (v,) = struct.unpack("<Q", head[8:16])
        return (v >> 24) & 0xFF, (v >> 16) & 0xFF, (v >> 8) & 0xFF
    return None


CAP_SYS_PTRACE = 19  # bit of /proc/self/status's CapEff


def yama_scope() -> str:
    """``kernel.yama.ptrace_scope`` ("0" to "3"), or "" (no Yama in this kernel)."""
    try:
        with open(YAMA) as f:
            return f.read().strip()
    except OSError:
        return ""


def may_ptrace_anyone() -> bool:
    """Whether asyncplay has CAP_SYS_PTRACE (root, unless a container dropped it), which
    Yama's scopes 1 and 2 let through."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_SYS_PTRACE & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


def undumpable(pid: int) -> bool:
    """Whether process ``pid`` is not dumpable: the kernel then gives the files inside
    /proc/PID to root, while /proc/PID itself stays its user's (for a root process it
    cannot be told, and root's asyncplay is not stopped by it anyway)."""
    try:
        owner = os.stat(f"/proc/{pid}").st_uid
        files = os.stat(f"/proc/{pid}/environ").st_uid
    except OSError:
        return False
    return owner != 0 and files == 0


def ptrace_why(pid: int) -> str:
    """Why the kernel refuses to let us read process ``pid``, and what would allow it."""
    if undumpable(pid):
        return (
            "it is not dumpable (setuid, file capabilities, or prctl PR_SET_DUMPABLE 0): "
            "restart it as a plain program of yours"
        )
    scope = yama_scope()
    if scope == "3":
        return (
            "ptrace restrictions: kernel.yama.ptrace_scope is 3, no process may inspect "
            "another, root included, until a reboot; run the program with 'asyncplay run' "
            "instead"
        )
    if scope in ("1", "2") and not may_ptrace_anyone():
        who = (
            "a process may inspect only its own descendants"
            if scope == "1"
            else "only root (CAP_SYS_PTRACE) may inspect a process"
        )
        return (
            f"ptrace restrictions: kernel.yama.ptrace_scope is {scope} ({who}); "
            "'sudo sysctl kernel.yama.ptrace_scope=0' (until the next boot) or running "
            "asyncplay as root would allow it"
        )
    return (
        "it is not dumpable or runs with other credentials (setuid, file capabilities, "
        "prctl PR_SET_DUMPABLE 0), or a security module (AppArmor, SELinux) forbids it: "
        "restart it as a plain program of yours"
    )


def remote_debug_off_why(pid: int) -> str:
    """Which setting turned remote debugging off in the target."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
        if any(e.startswith(b"PYTHON_DISABLE_REMOTE_DEBUG=") and len(e) > 28 for e in env):
            return "PYTHON_DISABLE_REMOTE_DEBUG is set in its environment; restart it without it"
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"disable-remote-debug" in f.read():
                return "it was started with -X disable-remote-debug; restart it without that"
    except OSError:
        pass
    return (
        "remote debugging is off in it (PYTHON_DISABLE_REMOTE_DEBUG, -X "
        "disable-remote-debug, or a build configured --without-remote-debug)"
    )


def _owner(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def check_target(pid: int) -> Target:
    """The target, or ``Refused`` with the one line that says why not."""
    if pid <= 0:
        raise Refused(f"no process {pid}", exits.ATTACH_NO_PROCESS)
    if pid == os.getpid():
        raise Refused("that is asyncplay itself", exits.ATTACH_NO_PROCESS)
    try:
        st = os.stat(f"/proc/{pid}")
    except FileNotFoundError:
        raise Refused(f"no process {pid}", exits.ATTACH_NO_PROCESS) from None
    if st.st_uid != os.getuid() and os.getuid() != 0:
        owner = _owner(st.st_uid)
        raise Refused(
            f"process {pid} belongs to {owner}: asyncplay attaches only to your own "
            f"programs (run asyncplay as {owner})",
            exits.ATTACH_OTHER_USER,
        )
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        exe = "?"
    try:
        version = target_python(pid)
    except FileNotFoundError:
        raise Refused(f"no process {pid}", exits.ATTACH_NO_PROCESS) from None
    except PermissionError:
        raise Refused(
            f"the kernel does not let you inspect process {pid}: {ptrace_why(pid)}",
            exits.ATTACH_PTRACE,
        ) from None
    if version is None:
        raise Refused(
            f"process {pid} ({exe}) is not Python 3.14 or later: attach needs "
            "sys.remote_exec (3.14+); run the program with 'asyncplay run' instead",
            exits.ATTACH_NOT_PYTHON,
        )
    if version[:2] < (3, 14):
        raise Refused(
            f"process {pid} runs Python {'.'.join(map(str, version))}: attach needs 3.14 "
            "or later (sys.remote_exec); run it with 'asyncplay run' instead",
            exits.ATTACH_OLD_PYTHON,
        )
    return Target(pid, exe, st.st_uid, version)
