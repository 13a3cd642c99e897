"""Unsaved work, one entry per file, and which playground has which file open.

The editor's unsaved edits are kept per *buffer*, never in one shared slot: opening
another file, quitting, or a second playground never overwrites another file's edits.
Everything lives in ``data_dir()/unsaved/`` (0700)::

    <id>.json   a buffer's unsaved edits (the autosave fields, its key, the first
                changed line); only while the buffer differs from its saved version
    <id>.lock   {host, boot, pid, start, since, key}: a playground has it open

``id`` is a hash of the buffer's *key*: ``file:<real path>`` (so ``p1/main.py`` and
``p2/main.py`` are two entries, and a symlink to a file is the file),
``snippet:<name>`` for an edited copy of a bundled snippet, ``copy:<id>`` for a
separate copy, ``untitled``.

Locks work across machines sharing a home over NFS: a lock is made by writing a
private file and ``link()``-ing it to the lock's name (atomic on NFS, as ``open(2)``
recommends; a lost reply is checked by the link count). A lock is *stale* when its
playground is gone: on this host (same host name and boot) when its PID is dead or
is now another process (its start time differs); on another host when its heartbeat
(the lock's mtime, refreshed every :data:`HEARTBEAT` seconds) is older than
:data:`STALE_AFTER`, measured against the file server's clock, not ours. Every entry is
written atomically (:func:`asyncplay.storage.write_atomic`: temp file in the same
folder, fsync, rename).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import socket
import stat
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from asyncplay import storage
from asyncplay.storage import Autosave

__all__ = [
    "HEARTBEAT",
    "STALE_AFTER",
    "Entry",
    "Holder",
    "acquire",
    "discard",
    "first_change",
    "heartbeat",
    "key_of",
    "label",
    "list_entries",
    "live_holder",
    "load_entry",
    "new_copy_id",
    "release",
    "remove_entry",
    "save_entry",
    "store_dir",
]

UNSAVED_DIR = storage.UNSAVED_DIR
HEARTBEAT = 15.0  # seconds between refreshes of a held lock's mtime
STALE_AFTER = 120.0  # a lock from another host not refreshed for this long is stale
MAX_LISTED = 500
LOCK_LIMIT = 4096


def store_dir() -> Path:
    """``data_dir()/unsaved``, 0700 (a symlink there is refused, never followed)."""
    return storage.ensure_private_dir(storage.data_dir() / UNSAVED_DIR, follow=False)


def key_of(buffer: Autosave) -> str:
    """What the buffer's unsaved work is filed under (see the module's docstring)."""
    if buffer.copy_id:
        return f"copy:{buffer.copy_id}"
    if buffer.path:
        return f"file:{os.path.realpath(buffer.path)}"
    if buffer.snippet:
        return f"snippet:{buffer.snippet}"
    return "untitled"


def _id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]


def label(buffer: Autosave) -> str:
    """A short name for the buffer: the file's name, or what it is a copy of."""
    if buffer.copy_id:
        origin = buffer.copy_of or buffer.snippet or "untitled"
        return f"a copy of {os.path.basename(origin) if buffer.copy_of else origin}"
    if buffer.path:
        return os.path.basename(buffer.path)
    if buffer.snippet:
        return f"copy of snippet {buffer.snippet}"
    return "untitled"


def new_copy_id() -> str:
    """A name for a separate copy no other playground can pick."""
    return f"{socket.gethostname()}-{os.getpid()}-{time.time_ns()}"


# -- entries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One buffer's unsaved edits as kept on disk."""

    key: str
    buffer: Autosave
    first_line: int  # 1-based, the first line that differs from the saved version
    first_text: str

    @property
    def age(self) -> float:
        return max(0.0, time.time() - self.buffer.saved_at)


def first_change(text: str, clean: str | None) -> tuple[int, str]:
    """The first line (1-based) of ``text`` that differs from ``clean``, and its text; a
    blank one gives way to the next changed line with text (Enter, then typing: the
    typed line is what tells the buffer apart in the list)."""
    new = text.splitlines()
    old = (clean or "").splitlines()
    first = None
    for n, line in enumerate(new):
        if n >= len(old) or line != old[n]:
            if line.strip():
                return n + 1, line
            first = first or (n + 1, line)
    if first is not None:
        return first
    return len(new) + 1 if len(old) > len(new) else max(1, len(new)), ""


def save_entry(buffer: Autosave, clean: str | None) -> None:
    """Keep ``buffer``'s unsaved edits (atomically); ``clean`` is its saved text."""
    line, text = first_change(buffer.text, clean)
    data = storage.autosave_data(buffer)
    data.update(
        key=key_of(buffer),
        dirty=True,
        first_line=line,
        first_text=text[:200],
        host=socket.gethostname(),
        pid=os.getpid(),
    )
    target = store_dir() / f"{_id(key_of(buffer))}.json"
    storage.write_atomic(target, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def _parse_entry(path: Path) -> Entry | None:
    data = storage.read_json(path)
    if data is None:
        return None
    buffer = storage.parse_autosave(data)
    key = data.get("key")
    if buffer is None or not isinstance(key, str):
        storage.quarantine(path, "is not an unsaved buffer")
        return None
    buffer.dirty = True
    line = data.get("first_line")
    text = data.get("first_text")
    return Entry(
        key=key,
        buffer=buffer,
        first_line=line if type(line) is int and line > 0 else 1,
        first_text=text if isinstance(text, str) else "",
    )


def load_entry(key: str) -> Entry | None:
    """The unsaved edits filed under ``key``, or None (a damaged entry is quarantined)."""
    try:
        path = store_dir() / f"{_id(key)}.json"
    except OSError:
        return None
    entry = _parse_entry(path)
    return entry if entry is not None and entry.key == key else None


def remove_entry(key: str) -> None:
    """Forget the unsaved edits filed under ``key`` (saved, undone, or discarded)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(store_dir() / f"{_id(key)}.json")


def discard(key: str) -> None:
    """Forget the unsaved edits under ``key`` for good (the user asked): the entry, and
    the last-buffer pointer's copy of them, so they do not come back from there."""
    remove_entry(key)
    last = storage.load_autosave()
    if last is not None and last.dirty and key_of(last) == key:
        storage.save_autosave(
            Autosave(text="", path=last.path, snippet=last.snippet, saved_at=last.saved_at)
        )


def list_entries() -> list[Entry]:
    """Every kept buffer, newest first (at most :data:`MAX_LISTED`)."""
    try:
        folder = store_dir()
        storage.sweep_stale_temps(folder)  # temp and lock files killed writers left
        names = sorted(p for p in folder.iterdir() if p.suffix == ".json")
    except OSError:
        return []
    entries = [e for e in (_parse_entry(p) for p in names[: MAX_LISTED * 2]) if e is not None]
    entries.sort(key=lambda e: e.buffer.saved_at, reverse=True)
    return entries[:MAX_LISTED]


# -- locks ------------------------------------------------------------------------------


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _proc_stat(pid: int) -> tuple[str, str]:
    """(state, start time in clock ticks since boot) of a process; ("", "") unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rpartition(")")[2].split()
        return fields[0], fields[19]
    except (OSError, IndexError):
        return "", ""


def _start_time(pid: int) -> str:
    """The process's start time: tells a reused PID apart."""
    return _proc_stat(pid)[1]


@dataclass(frozen=True)
class Holder:
    """The playground holding a lock."""

    host: str
    boot: str
    pid: int
    start: str
    since: float
    key: str

    @classmethod
    def me(cls, key: str) -> Holder:
        pid = os.getpid()
        return cls(socket.gethostname(), _boot_id(), pid, _start_time(pid), time.time(), key)

    def same_process(self, other: Holder) -> bool:
        return (self.host, self.boot, self.pid, self.start) == (
            other.host,
            other.boot,
            other.pid,
            other.start,
        )

    def on_this_host(self) -> bool:
        return self.host == socket.gethostname() and self.boot == _boot_id()

    def describe(self) -> str:
        when = time.strftime("%H:%M", time.localtime(self.since)) if self.since else "?"
        where = "this machine" if self.on_this_host() else f"host {self.host}"
        return f"process {self.pid} on {where}, since {when}"


def _lock_path(key: str) -> Path:
    return store_dir() / f"{_id(key)}.lock"


def _read_lock(path: Path) -> tuple[Holder | None, float] | None:
    """(holder or None if unreadable, mtime); None when there is no lock.

    Opened (not just stat'ed): on NFS an open revalidates the attributes, so the
    heartbeat seen is the one on the server.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError:
        return None, 0.0
    try:
        info = os.fstat(fd)
        raw = os.read(fd, LOCK_LIMIT) if stat.S_ISREG(info.st_mode) else b""
    finally:
        os.close(fd)
    try:
        data = json.loads(raw.decode("utf-8"))
        holder = Holder(
            str(data["host"]),
            str(data["boot"]),
            int(data["pid"]),
            str(data["start"]),
            float(data["since"]),
            str(data["key"]),
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None, info.st_mtime
    return holder, info.st_mtime


def _alive(pid: int, start: str) -> bool:
    """Whether the process that took a lock on this host still runs: not a zombie (a
    killed playground its parent has not reaped yet), nor a new process on its PID."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive
    state, started = _proc_stat(pid)
    if state in ("Z", "X"):
        return False
    return not start or started in ("", start)


def _server_now(folder: Path) -> float:
    """The file server's clock: the mtime of a file just touched there (clocks of two
    machines sharing a home may disagree by minutes)."""
    probe = folder / ".clock"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return time.time()
    try:
        os.utime(fd)
        return os.fstat(fd).st_mtime
    except OSError:
        return time.time()
    finally:
        os.close(fd)


def _stale(holder: Holder | None, mtime: float, now: float) -> bool:
    if holder is None:
        return True  # unreadable: a lock is linked whole, so this one is not ours to keep
    if holder.on_this_host():
        return not _alive(holder.pid, holder.start)
    return now - mtime > STALE_AFTER


def live_holder(key: str) -> Holder | None:
    """The other running playground that has ``key`` open, or None (no lock, ours, or
    stale)."""
    try:
        path = _lock_path(key)
        found = _read_lock(path)
    except OSError:
        return None
    if found is None:
        return None
    holder, mtime = found
    if holder is not None and holder.same_process(Holder.me(key)):
        return None
    if _stale(holder, mtime, _server_now(path.parent)):
        return None
    return holder


def _link(tmp: Path, lock: Path) -> bool:
    """Make ``lock`` another name of ``tmp``; False if a lock is there already."""
    try:
        os.link(tmp, lock)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        with contextlib.suppress(OSError):
            if os.stat(tmp).st_nlink == 2:
                return True  # NFS: the link was made, its reply was lost
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
    # A file system without hard links: O_EXCL is atomic on NFSv3 and later.
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(tmp.read_bytes())
        handle.flush()
        os.fsync(handle.fileno())
    return True


def _break(lock: Path, judged: Holder | None) -> None:
    """Move a stale lock out of the way; if another playground took the name meanwhile
    (what was moved is not what was judged stale), put it back."""
    grave = lock.with_name(f".{lock.stem}.stale.{os.getpid()}.{time.time_ns()}.tmp")
    try:
        os.rename(lock, grave)
    except FileNotFoundError:
        return
    moved = _read_lock(grave)
    if moved is not None and moved[0] != judged:
        with contextlib.suppress(OSError):
            os.link(grave, lock)
    with contextlib.suppress(OSError):
        os.unlink(grave)


def acquire(key: str) -> Holder | None:
    """Take the lock on ``key`` for this process; returns None when ours, else the live
    playground that holds it. Raises OSError when the folder cannot be written."""
    lock = _lock_path(key)
    me = Holder.me(key)
    tmp = lock.with_name(f".{lock.stem}.{me.host}.{me.pid}.{time.time_ns()}.lk.tmp")
    body = json.dumps(asdict(me)).encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        holder: Holder | None = None
        for _attempt in range(5):
            if _link(tmp, lock):
                return None
            found = _read_lock(lock)
            if found is None:
                continue  # released meanwhile: try again
            holder, mtime = found
            if holder is not None and holder.same_process(me):
                return None
            if not _stale(holder, mtime, os.stat(tmp).st_mtime):
                return holder
            _break(lock, holder)
        if holder is None:
            raise OSError(errno.EAGAIN, "could not take the lock", str(lock))
        return holder
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _ours(key: str) -> Path | None:
    try:
        lock = _lock_path(key)
    except OSError:
        return None
    found = _read_lock(lock)
    if found is None or found[0] is None or not found[0].same_process(Holder.me(key)):
        return None
    return lock


def release(key: str) -> None:
    """Give up the lock on ``key`` if this process holds it."""
    lock = _ours(key)
    if lock is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)


def heartbeat(key: str) -> bool:
    """Refresh the lock's mtime (what other hosts check); False if it is not ours any
    more (another playground judged it stale and took it)."""
    lock = _ours(key)
    if lock is None:
        return False
    os.utime(lock)
    return True
