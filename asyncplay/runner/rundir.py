"""A run's private folder in the temp directory, and the sweep of those dead owners left.

Each run gets ``$TMPDIR/asyncplay-run-XXXXXXXXXXXX`` (0700) holding its spec - the program's
source among it. A clean end removes it; an asyncplay that was SIGKILLed cannot, so the
next run of the same user sweeps what dead owners left behind.

Safe on a shared machine: a folder is removed only when it is provably abandoned -

* it is a real directory (not a symlink) belonging to this user (never another user's,
  also when asyncplay runs as root);
* its ``owner`` record's lock is free: the owner holds an exclusive ``flock`` on it for as
  long as it lives, and the kernel drops it the moment the owner dies, however it dies;
* and the owner the record names is gone: another boot, no such pid, or a pid reused by a
  process that started at another time (a lock alone could be free in a PID namespace
  that sees the same /tmp; the record alone could be fooled by pid reuse).

The record is written under its lock before it gets its name, so a sweeper never sees a
record without a live lock or a dead owner. Removal never follows symlinks (it works on file
descriptors, each folder opened ``O_NOFOLLOW`` inside its parent, as ``shutil.rmtree``
does) and holds the lock while it works, so two sweepers never race.
"""

from __future__ import annotations

import fcntl
import os
import stat
import time

__all__ = ["OWNER", "PREFIX", "RunDir", "make", "sweep", "sweep_once"]

PREFIX = "asyncplay-run-"
OWNER = "owner"  # "pid boot-id start-time": the live owner holds its flock
EMPTY_GRACE = 3600.0  # seconds: an empty folder without a record (killed before writing it)

_SWEPT: set[str] = set()  # temp directories this process has swept already


class RunDir:
    """One run's folder, locked for as long as this process holds it."""

    def __init__(self, path: str, lock_fd: int) -> None:
        self.path = path
        self._lock_fd = lock_fd

    def remove(self) -> None:
        """Remove the folder, then let go of its lock (never the other way round: a
        sweeper would find a live folder unlocked)."""
        if self._lock_fd < 0:
            return
        _rmtree(self.path)
        os.close(self._lock_fd)
        self._lock_fd = -1


def base_dir() -> str:
    return os.environ.get("TMPDIR") or "/tmp"


def sweep_once() -> None:
    """:func:`sweep` the temp directory, the first time this process asks (asyncplay's
    start: the editor's launch, or a run's folder being made)."""
    base = base_dir()
    if base not in _SWEPT:
        _SWEPT.add(base)
        sweep(base)


def make(sweep_first: bool = True) -> RunDir:
    """A new private folder for a run; stale ones are swept first, once per process,
    unless the caller sweeps later (``sweep_first=False``: ``asyncplay run`` sweeps once
    the program is on its way, off the start-up's path)."""
    if sweep_first:
        sweep_once()
    base = base_dir()
    for _ in range(100):
        path = os.path.join(base, PREFIX + os.urandom(6).hex())
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        try:
            return RunDir(path, _claim(path))
        except BaseException:
            _rmtree(path)
            raise
    raise OSError(f"cannot create a run directory in {base}")


def _claim(path: str) -> int:
    """Write the owner record under its lock, then give it its name; returns the lock's fd."""
    tmp = os.path.join(path, OWNER + ".new")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"{os.getpid()} {_boot_id()} {_start_time(os.getpid())}\n".encode())
        os.rename(tmp, os.path.join(path, OWNER))
    except BaseException:
        os.close(fd)
        raise
    return fd


def sweep(base: str | None = None) -> list[str]:
    """Remove the run folders in ``base`` whose owners are provably dead; returns them.

    Never raises: a folder that cannot be judged or removed is left where it is.
    """
    base = base or base_dir()
    removed: list[str] = []
    try:
        names = [n for n in os.listdir(base) if n.startswith(PREFIX)]
    except OSError:
        return removed  # no temp directory to sweep: nothing of ours is in it
    me = os.geteuid()
    for name in names:
        path = os.path.join(base, name)
        try:
            st = os.lstat(path)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != me:
                continue  # a symlink, a file, another user's: never ours to remove
            if _abandoned(path, st):
                removed.append(path)
        except OSError:
            continue  # vanished meanwhile, or unreadable: leave it
    return removed


def _abandoned(path: str, st: os.stat_result) -> bool:
    """Remove ``path`` if its owner is provably dead (True when it did)."""
    try:
        fd = os.open(os.path.join(path, OWNER), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        # No record: made by an asyncplay older than this file, or killed between mkdir and
        # the record. Only an empty folder that old is surely dead (rmdir keeps any other).
        if time.time() - st.st_mtime > EMPTY_GRACE:
            os.rmdir(path)
            return True
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its owner is alive
        record = os.read(fd, 200).decode("ascii", "replace").split()
        if len(record) != 3 or not record[0].isdigit() or _alive(*record):
            return False
        _rmtree(path)
        return True
    finally:
        os.close(fd)


def _alive(pid: str, boot: str, start: str) -> bool:
    """Whether the process a record names may still be running."""
    if boot != _boot_id():
        return False
    return _start_time(int(pid)) == start


def _rmtree(path: str) -> None:
    """``shutil.rmtree(path, ignore_errors=True)`` on file descriptors, without importing
    ``shutil`` (and its ``re``, ``bz2``, ``lzma``) into every run's start-up.

    What the program made unremovable (a folder it chmodded 000) stays; the rest goes,
    and a folder left with its record is tried again by the next sweep."""
    try:
        fd = os.open(path, _DIR_FLAGS)
    except OSError:
        return  # gone, or a symlink: never followed
    try:
        _empty(fd)
    finally:
        os.close(fd)
    try:
        os.rmdir(path)
    except OSError:
        pass  # something in it stayed: the next sweep tries again


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _empty(top: int) -> None:
    """Remove what the folder open as ``top`` holds; a symlink is removed, never followed.
    A loop with its own stack, not recursion: a program can nest folders deeper than
    Python's recursion limit (each level holds a descriptor: past the descriptor limit the
    rest stays, for the next sweep)."""
    try:
        stack = [(top, iter(os.listdir(top)), None)]
    except OSError:
        return
    while stack:
        fd, names, name_in_parent = stack[-1]
        name = next(names, None)
        if name is None:
            stack.pop()
            if name_in_parent is not None:
                os.close(fd)
                try:
                    os.rmdir(name_in_parent, dir_fd=stack[-1][0])
                except OSError:
                    pass  # something in it stayed: the next sweep tries again
            continue
        try:
            sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
        except OSError:  # a file, a symlink (ELOOP), or a folder closed to us
            try:
                os.unlink(name, dir_fd=fd)
            except OSError:
                pass  # a folder closed to us stays (shutil's ignore_errors)
            continue
        try:
            stack.append((sub, iter(os.listdir(sub)), name))
        except OSError:
            os.close(sub)


_BOOT: list[str] = []


def _boot_id() -> str:
    if not _BOOT:
        try:
            with open("/proc/sys/kernel/random/boot_id") as f:
                _BOOT.append(f.read().strip())
        except OSError:
            _BOOT.append("unknown")
    return _BOOT[0]


def _start_time(pid: int) -> str:
    """When ``pid`` started, in clock ticks since boot ("" when there is no such process)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat_line = f.read()
    except OSError:
        return ""
    # Field 22; the command name (field 2) may hold spaces and parentheses.
    return stat_line[stat_line.rfind(b")") + 2 :].split()[19].decode()
