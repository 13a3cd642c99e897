"""Linux mount calls through libc (``asyncplay/libc.py``): the new mount API (open_tree, mount_setattr, move_mount)
and the few classic ones (unshare, mount), for the run's own mount namespace as root.

The new API lets the parent prepare a run's mounts as file descriptors (an idmapped clone of
the project folder, a read-only clone of ``/sys``) where a failure is an ordinary exception
it can turn into a note; the forked child then only attaches them, which rarely fails.
Only x86_64 and aarch64 numbers are known; elsewhere ``available()`` says no.
"""

from __future__ import annotations

import os

from asyncplay import libc as c
from asyncplay.sandbox import process
from asyncplay.sandbox.which import which

__all__ = [
    "MountError",
    "attach",
    "available",
    "bind",
    "clone",
    "forget_pending",
    "reap_clones",
    "idmap_userns",
    "private_namespace",
    "start_idmap_userns",
    "tmpfs",
]

# Syscall numbers: the new mount API has the same numbers on every architecture since 5.2
# (it came after the numbering was unified), mount_setattr since 5.12.
_NR = {"open_tree": 428, "move_mount": 429, "mount_setattr": 442}
_ARCHES = ("x86_64", "aarch64", "amd64", "arm64")

OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = 0o2000000
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
MOUNT_ATTR_IDMAP = 0x100000
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000


class MountError(OSError):
    """A mount call failed; ``str()`` is one short line."""


class _MountAttr(c.Structure):
    _fields_ = [
        ("attr_set", c.c_uint64),
        ("attr_clr", c.c_uint64),
        ("propagation", c.c_uint64),
        ("userns_fd", c.c_uint64),
    ]


def _libc():  # noqa: ANN202 (libc.lib()'s functions)
    return c.lib()


def available() -> bool:
    """The new mount API can be called here (Linux on a known architecture)."""
    return os.uname().sysname == "Linux" and os.uname().machine in _ARCHES


def _check(result: int, what: str) -> int:
    if result < 0:
        err = c.get_errno()
        raise MountError(err, f"{what}: {os.strerror(err)}")
    return result


def clone(path: str, readonly: bool = False, userns_fd: int | None = None) -> int:
    """A detached copy of the mounts at ``path`` (with those below it), as a descriptor.

    ``readonly`` makes every mount in it read-only; ``userns_fd`` idmaps it: files owned by
    the uid that namespace maps to 0 inside appear, and are created, as its outside uid's.
    """
    libc = _libc()
    fd = _check(
        libc.syscall(
            _NR["open_tree"],
            AT_FDCWD,
            os.fsencode(path),
            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE,
        ),
        f"open_tree {path}",
    )
    flags = (MOUNT_ATTR_RDONLY if readonly else 0) | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV
    try:
        if userns_fd is not None:
            # The idmap alone first: it may only be set on mounts not yet idmapped.
            _setattr(fd, MOUNT_ATTR_IDMAP, userns_fd, f"idmapped mount of {path}")
        _setattr(fd, flags, 0, f"mount_setattr {path}")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _setattr(fd: int, flags: int, userns_fd: int, what: str) -> None:
    attr = _MountAttr(flags, 0, 0, userns_fd)
    _check(
        _libc().syscall(
            _NR["mount_setattr"],
            fd,
            b"",
            AT_EMPTY_PATH | AT_RECURSIVE,
            c.byref(attr),
            c.sizeof(attr),
        ),
        what,
    )


def attach(fd: int, target: str) -> None:
    """Mount a detached tree from ``clone`` at ``target`` (in the caller's namespace)."""
    _check(
        _libc().syscall(
            _NR["move_mount"], fd, b"", AT_FDCWD, os.fsencode(target), MOVE_MOUNT_F_EMPTY_PATH
        ),
        f"move_mount {target}",
    )


def private_namespace() -> None:
    """Enter a new mount namespace whose mounts never propagate back to the machine's."""
    libc = _libc()
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")


def tmpfs(target: str, size: int = 1 << 20) -> None:
    """An empty, small, root-owned (0755) tmpfs at ``target``."""
    _check(
        _libc().mount(
            b"tmpfs",
            os.fsencode(target),
            b"tmpfs",
            MS_NOSUID | MS_NODEV,
            f"mode=755,size={size}".encode(),
        ),
        f"tmpfs on {target}",
    )


def bind(source: str, target: str, readonly: bool = True) -> None:
    """Bind ``source`` on ``target`` (a file on a file: e.g. /dev/null on a socket)."""
    libc = _libc()
    src, dst = os.fsencode(source), os.fsencode(target)
    _check(libc.mount(src, dst, None, MS_BIND, None), f"bind {target}")
    if readonly:
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
        _check(libc.mount(None, dst, None, flags, None), f"remount {target} read-only")


_USERNS: dict[tuple[int, int, int, int], int] = {}
_CLONED: list[tuple[int, int, int, int]] = []  # the keys made by a clone (``reap_clones``)
# Helpers started ahead (``start_idmap_userns``), not yet asked for.
_PENDING: dict[tuple[int, int, int, int], _Helper] = {}


def _cat() -> str:
    """A program that waits for its stdin to close (found without the user's PATH)."""
    for path in ("/usr/bin/cat", "/bin/cat"):
        if os.access(path, os.X_OK):
            return path
    return which("cat") or "cat"


def _unshare_tool() -> str | None:
    for path in ("/usr/bin/unshare", "/bin/unshare"):
        if os.access(path, os.X_OK):
            return path
    return None


class _Helper:
    """A process in a user namespace of its own, there until ``end``: util-linux's
    ``unshare --user cat`` (a vfork and two execs: no copy of asyncplay's memory), or
    where that tool is missing ``cat`` forked with ``unshare(2)`` before its exec."""

    def __init__(self) -> None:
        tool = _unshare_tool()
        self.echo = tool is not None
        try:
            if tool is not None:
                self.proc = process.start(
                    [tool, "--user", _cat()],
                    stdin=process.PIPE,
                    stdout=process.PIPE,
                    stderr=process.DEVNULL,
                )
            else:
                libc = _libc()

                def _unshare() -> None:
                    _check(libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")

                self.proc = process.start(
                    [_cat()],
                    stdin=process.PIPE,
                    stdout=process.DEVNULL,
                    stderr=process.DEVNULL,
                    preexec=_unshare,
                )
        except OSError as exc:  # (process.SpawnError among them)
            raise MountError(getattr(exc, "errno", 0) or 0, f"no user namespace: {exc}") from None

    def ready(self) -> None:
        """Return once the helper is in its namespace: ``cat`` echoing a byte runs after
        ``unshare`` made it (the fork's way, Popen returned after it already)."""
        if not self.echo:
            return
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(b"\n")
            self.proc.stdin.flush()
            got = self.proc.stdout.read(1)
        except OSError as exc:
            raise MountError(exc.errno or 0, f"no user namespace: {exc}") from None
        if got != b"\n":
            raise MountError(0, "no user namespace: unshare --user failed")

    def end(self) -> None:
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass  # (cat gone already)
        self.proc.wait()


def start_idmap_userns(
    inside_uid: int, inside_gid: int, outside_uid: int, outside_gid: int
) -> None:
    """Where the namespace needs the helper (no clone way here: ``userns_clone``), start
    it now and return: it makes its user namespace while asyncplay goes on preparing the
    run; ``idmap_userns`` finishes it. Nothing is raised: ``idmap_userns`` tries again."""
    from asyncplay.sandbox import userns_clone  # (root's only: not in an ordinary run)

    key = (inside_uid, inside_gid, outside_uid, outside_gid)
    if key in _USERNS or key in _PENDING or userns_clone.usable():
        return  # (a clone makes it at once when asked: nothing to start ahead)
    try:
        _PENDING[key] = _Helper()
    except OSError:
        pass


def idmap_userns(inside_uid: int, inside_gid: int, outside_uid: int, outside_gid: int) -> int:
    """A user namespace (a descriptor, kept for this process's life) mapping one uid and
    one gid: what an idmapped mount needs. Made by a clone of this process
    (``userns_clone``), or where that cannot be, by a short-lived helper process in a
    user namespace of its own; either way we (root) write its maps and keep it."""
    key = (inside_uid, inside_gid, outside_uid, outside_gid)
    if key in _USERNS:
        reap_clones()  # (a playground's runs: the key's clone has long exited)
        return _USERNS[key]
    if key not in _PENDING:
        from asyncplay.sandbox import userns_clone

        try:
            fd = userns_clone.make(*key)
        except OSError as exc:
            raise MountError(exc.errno or 0, f"user namespace map: {exc.strerror}") from None
        if fd is not None:
            _USERNS[key] = fd
            _CLONED.append(key)
            return fd
    helper = _PENDING.pop(key, None) or _Helper()
    pid = helper.proc.pid
    try:
        helper.ready()
        with open(f"/proc/{pid}/uid_map", "w") as f:
            f.write(f"{inside_uid} {outside_uid} 1\n")
        with open(f"/proc/{pid}/gid_map", "w") as f:
            f.write(f"{inside_gid} {outside_gid} 1\n")
        fd = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise MountError(exc.errno or 0, f"user namespace map: {exc.strerror}") from None
    finally:
        helper.end()  # cat reads EOF and exits
    _USERNS[key] = fd
    return fd


def reap_clones() -> None:
    """Reap the namespaces' clones that have exited, without waiting (``userns_clone``
    reaps only at its next clone, and a playground makes one per key for its whole life:
    review, its clones stayed zombies). Nothing to do in a process that made none."""
    if _CLONED:
        from asyncplay.sandbox import userns_clone

        userns_clone.reap()


def forget_pending() -> None:
    """End the helpers started ahead that no run asked for, and reap the clones."""
    while _PENDING:
        _key, helper = _PENDING.popitem()
        helper.end()
    if _USERNS:  # (made here: by a clone, most likely)
        from asyncplay.sandbox import userns_clone

        userns_clone.reap(wait=True)
