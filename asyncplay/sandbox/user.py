"""Never root inside: when asyncplay runs as root, the program runs as an unprivileged user.

A user namespace that maps the inside uid to the outside root still writes ``/proc/sys``
and reads root's files, so the drop is real: the forked child joins its cgroups first
(only root may), then - still root - enters a mount namespace of its own where

* folders the program needs but that user cannot reach (root's ``/root`` holds pyenv's
  interpreters) are covered by an empty tmpfs with just those folders put back;
* the project folder (the working directory, the program's folder, ``--write`` folders),
  which as root usually belongs to root, is bound back as an *idmapped* mount: its owner's
  files appear, and are created, as the run user's, so the program can write there;
* ``/sys`` and ``/proc/sys`` are read-only, and host unix sockets are covered;

then drops every privilege (groups, gid, uid: no capability is left, and no-new-privs keeps
setuid programs from giving any back) and execs bwrap or the interpreter. bwrap then makes
its user namespace as that user, inheriting the mounts above. The parent prepares each mount
as a descriptor (``mounts.clone``), so what cannot be had becomes a note, not a failed spawn.
"""

from __future__ import annotations

import errno
import os
import stat

from asyncplay.sandbox import mounts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["RUN_USER", "Identity", "MountPlan", "can", "identity", "plan_mounts"]

RUN_USER = "nobody"  # the user a root asyncplay runs programs as
READ_ONLY_TREES = ("/sys", "/proc/sys")  # the kernel's settings: read-only in the run
PR_SET_NO_NEW_PRIVS = 38


class Identity:
    """The uid and gid a program runs as (when asyncplay is root: ``RUN_USER``)."""

    __slots__ = ("gid", "name", "uid")

    def __init__(self, uid: int, gid: int, name: str) -> None:
        self.uid, self.gid, self.name = uid, gid, name

    def __repr__(self) -> str:
        return f"{self.name} (uid {self.uid})"


def identity() -> Identity | None:
    """Who a run drops to: None unless asyncplay is root."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(RUN_USER)
        return Identity(entry.pw_uid, entry.pw_gid, RUN_USER)
    except KeyError:
        return Identity(65534, 65534, "uid 65534")


def current() -> Identity:
    """The identity of this process (a non-root asyncplay's runs keep it)."""
    return Identity(os.getuid(), os.getgid(), str(os.getuid()))


def _allowed(st: os.stat_result, who: Identity, bits: int) -> bool:
    if who.uid == 0:
        return True
    mode = st.st_mode
    if st.st_uid == who.uid:
        shift = 6
    elif st.st_gid == who.gid or (who.uid == os.getuid() and st.st_gid in os.getgroups()):
        shift = 3
    else:
        shift = 0
    return (mode >> shift) & bits == bits


def blocked_at(path: str, who: Identity) -> str | None:
    """The topmost folder above ``path`` that ``who`` cannot pass through (None: none)."""
    parts = [p for p in os.path.realpath(path).split("/") if p]
    for i in range(len(parts)):
        here = "/" + "/".join(parts[:i])
        try:
            st = os.stat(here)
        except OSError:
            return here
        if not _allowed(st, who, 1):
            return here
    return None


def can(who: Identity, path: str, write: bool = False) -> bool:
    """``who`` can reach ``path`` and read it (and write it), by its mode bits."""
    real = os.path.realpath(path)
    if blocked_at(real, who) is not None:
        return False
    try:
        st = os.stat(real)
    except OSError:
        return False
    want = 4 | (2 if write else 0) | (1 if stat.S_ISDIR(st.st_mode) else 0)
    if write and _read_only_fs(real):
        return False
    return _allowed(st, who, want)


def _read_only_fs(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


class MountPlan:
    """The run's own mount namespace, prepared in the parent, entered in the child."""

    def __init__(self) -> None:
        self.masks: list[str] = []  # folders covered by an empty tmpfs
        self.make: list[tuple[str, bool]] = []  # (path, is_dir) made inside the masks
        self.clones: list[tuple[str, int]] = []  # (target, descriptor), attached in order
        self.covers: list[str] = []  # host sockets: /dev/null bound over each

    def descriptors(self) -> list[int]:
        return [fd for _t, fd in self.clones]

    def close(self) -> None:
        """The parent's copies of the descriptors (after the spawn, or on failure)."""
        for fd in self.descriptors():
            try:
                os.close(fd)
            except OSError:
                pass
        self.clones = []

    def enter(self, cwd: str) -> None:
        """In the forked child, as root: build the namespace, then go to ``cwd`` in it."""
        mounts.private_namespace()
        for mask in self.masks:
            mounts.tmpfs(mask)
        for path, is_dir in self.make:
            if os.path.lexists(path):
                continue
            if is_dir:
                os.mkdir(path, 0o755)
            else:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
        for target, fd in self.clones:
            mounts.attach(fd, target)
        for sock in self.covers:
            try:
                mounts.bind("/dev/null", sock)
            except mounts.MountError as exc:
                if exc.errno != errno.ENOENT:
                    raise
                # Gone since /proc/net/unix was read (a daemon stopped, an agent's folder
                # removed at a logout): nothing left there to reach.
        os.chdir(cwd)


def plan_mounts(
    who: Identity,
    read: Iterable[str],
    write: Iterable[str],
    hide: Iterable[str] = (),
    covers: Iterable[str] = (),
    trees: Iterable[str] = READ_ONLY_TREES,
) -> tuple[MountPlan, list[str], list[str]]:
    """(plan, notes, folders left read-only) so that ``who`` can read ``read``, write
    ``write``, and cannot see into ``hide`` (protected folders it cannot read anyway are
    covered instead of revealed; what it needs inside them is in ``read``). ``trees`` are
    made read-only (not ``/proc/sys`` under bwrap: the kernel lets a user namespace mount
    a fresh /proc only where no part of the machine's is covered, and bwrap's own /proc
    has its ``sys`` read-only already)."""
    plan = MountPlan()
    notes: list[str] = []
    readonly: list[str] = []
    wanted: dict[str, bool] = {}
    for path in read:
        if os.path.exists(path):
            wanted.setdefault(os.path.realpath(path), False)
    for path in write:
        if os.path.isdir(path):
            wanted[os.path.realpath(path)] = True
    hidden = {os.path.realpath(h) for h in hide if os.path.isdir(h) and not can(who, h)}
    masks: set[str] = set(hidden)
    clones: list[tuple[str, bool, int | None]] = []  # (target, rw, userns or None)
    for path in sorted(wanted, key=lambda p: (p.count("/"), p)):
        rw = wanted[path]
        # Inside a folder already bound with at least these rights: nothing to do.
        if any(_inside(path, t) and (r or not rw) for t, r, _u in clones):
            continue
        block = blocked_at(path, who)
        mask = next((m for m in sorted(masks) if _inside(path, m) and m != path), None)
        if block is not None and mask is None:
            mask = block
            masks.add(block)
        ok = can(who, path, rw)
        if ok and mask is None:
            continue
        userns = None
        if not ok and (rw or not can(who, path)):
            st = os.stat(path)
            try:
                userns = mounts.idmap_userns(st.st_uid, st.st_gid, who.uid, who.gid)
            except OSError as exc:
                notes.append(f"{path}: no idmapped mount ({exc})")
                if rw:
                    readonly.append(path)
                    rw = False
        clones.append((path, rw, userns))
    # A mask inside another one is covered with it.
    plan.masks = sorted(m for m in masks if not any(_inside(m, o) and o != m for o in masks))
    for target, rw, userns in clones:
        try:
            fd = mounts.clone(target, readonly=not rw, userns_fd=userns)
        except OSError as exc:
            if rw and userns is not None:
                # The file system cannot be idmapped: read-only, as the user sees it.
                readonly.append(target)
                notes.append(f"{target}: {exc}")
                try:
                    fd = mounts.clone(target, readonly=True)
                except OSError as exc2:
                    notes.append(f"{target}: {exc2}")
                    continue
            else:
                notes.append(f"{target}: {exc}")
                continue
        plan.clones.append((target, fd))
        mask = next((m for m in plan.masks if _inside(target, m) and m != target), None)
        outer = [t for t, _fd in plan.clones[:-1] if _inside(target, t) and t != target]
        if mask is not None and not any(_inside(t, mask) for t in outer):
            _make_below(plan, mask, target)
    for tree in trees:
        try:
            plan.clones.append((tree, mounts.clone(tree, readonly=True)))
        except OSError as exc:
            notes.append(f"{tree} stays as it is ({exc}); the run user cannot write it anyway")
    plan.covers = [s for s in covers if can(who, os.path.dirname(s))]
    return plan, notes, readonly


def prestart(folder: str, who: Identity) -> None:
    """Start making the user namespace the project ``folder``'s idmapped mount will need
    (``plan_mounts`` asks for it), while asyncplay still imports and prepares the run:
    only where it needs the helper (a clone makes it at once when asked)."""
    from asyncplay.sandbox import userns_clone

    if userns_clone.usable():
        return
    try:
        if can(who, folder, write=True):
            return
        st = os.stat(folder)
    except OSError:
        return
    mounts.start_idmap_userns(st.st_uid, st.st_gid, who.uid, who.gid)


def idmap_works(folder: str, who: Identity) -> str | None:
    """None if ``folder`` can be idmapped for ``who`` here (doctor), else why not."""
    try:
        st = os.stat(folder)
        userns = mounts.idmap_userns(st.st_uid, st.st_gid, who.uid, who.gid)
        os.close(mounts.clone(folder, readonly=True, userns_fd=userns))
    except OSError as exc:
        return str(exc)
    return None


def _make_below(plan: MountPlan, mask: str, target: str) -> None:
    """The folders from ``mask`` down to ``target`` (and ``target`` itself) in the tmpfs."""
    rel = os.path.relpath(target, mask).split("/")
    here = mask
    for i, part in enumerate(rel):
        here = os.path.join(here, part)
        is_dir = i < len(rel) - 1 or os.path.isdir(target)
        if (here, is_dir) not in plan.make:
            plan.make.append((here, is_dir))


def drop(who: Identity) -> Callable[[], None]:
    """The child's last step as root: every privilege goes, for good."""
    from asyncplay import libc

    try:
        prctl = libc.lib().prctl
    except (OSError, AttributeError):
        prctl = None

    def _drop() -> None:
        _give_stdin_pipe(who)
        os.setgroups([who.gid])
        os.setresgid(who.gid, who.gid, who.gid)
        os.setresuid(who.uid, who.uid, who.uid)
        if prctl is not None:
            prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        if os.geteuid() == 0 or os.getuid() == 0:  # never go on as root
            os._exit(126)

    return _drop


def _give_stdin_pipe(who: Identity) -> None:
    """A pipe on stdin (``... | asyncplay run /dev/stdin``) is root's (0600): the run user
    may reopen it, as python would. Only an anonymous pipe: never a file, FIFO or tty."""
    try:
        if os.readlink("/proc/self/fd/0").startswith("pipe:"):
            os.fchown(0, who.uid, who.gid)
    except OSError:
        pass  # no stdin, or not ours to change: reopening it fails as it would anyway


def give(path: str, who: Identity) -> None:
    """Let ``who`` read the run's folder: it may pass through (0711, still root's, so the
    sweep of dead owners' folders knows it for root's) and owns the spec files in it."""
    os.chmod(path, 0o711)
    for name in os.listdir(path):
        if name.endswith((".json", ".marshal")):
            os.chown(os.path.join(path, name), who.uid, who.gid, follow_symlinks=False)
