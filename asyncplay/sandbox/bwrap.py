"""The bubblewrap layer: a read-only view of the machine, private /tmp, own network and PIDs.

``bwrap`` runs the program in new user, mount, network and PID namespaces: ``/`` is bound
read-only (the system and ``$HOME`` included) but for the project folders (``folders.py``),
``/tmp`` and ``/dev/shm`` are fresh tmpfs (sized by ``--memory``), host unix sockets are covered, the network is
the run's own (``network.py``), and the program sees none of the machine's processes, so it cannot
signal asyncplay or anything else outside. bwrap never runs as root: a root asyncplay drops
to an unprivileged user first (``user.py``), so the user namespace bwrap makes is that
user's and the program holds no capability on the machine.

The program's outer PID (the one asyncplay waits on) is bwrap's; bwrap's init (PID 1 in the
namespace) reaps the program, and when either bwrap process dies the kernel kills everything
left in the namespace.
"""

from __future__ import annotations

import os

from asyncplay.sandbox.which import which

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable

# Options whose availability the usability probe checks, in the order they are given.
NAMESPACES = [
    "--unshare-net",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--die-with-parent",
    "--new-session",
]
OVERHEAD = 2  # processes bwrap adds to a run: the outer monitor and the namespace's init

_USABLE: dict[str, tuple[bool, str]] = {}


def path() -> str | None:
    """bwrap's real file: a link in a folder only asyncplay's user may enter would not
    run for the unprivileged user a root asyncplay drops to."""
    found = which("bwrap")
    return os.path.realpath(found) if found else None


PRIVATE = ("/tmp",)  # replaced by an empty tmpfs of the run's own


def true_path() -> str:
    """``true`` for the probes, as the sandbox sees it (a PATH entry under /tmp is not)."""
    return os.path.realpath(which("true") or "/bin/true")


def _base(tmp_size: int | None, unshare_net: bool = True) -> list[str]:
    argv = [
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        # The kernel's settings read-only (bwrap's own /proc leaves them writable by
        # whoever the kernel lets; with this bind they refuse everyone).
        "--ro-bind",
        "/proc/sys",
        "/proc/sys",
    ]
    argv += _memory_mounts(tmp_size)
    argv += [ns for ns in NAMESPACES if unshare_net or ns != "--unshare-net"]
    return argv


SHM_SHARE = 4  # /dev/shm gets a quarter of --memory, /tmp the rest
MIB = 1024 * 1024
PAGE = 4096


def tmpfs_sizes(memory: int | None) -> dict[str, int]:
    """The size of the run's ``/tmp`` and ``/dev/shm`` under ``--memory`` (bytes; empty:
    unsized, where bwrap is older than 0.5 and has no --size)."""
    if not memory or not _USABLE.get("size", (True, ""))[0]:
        return {}
    shm = max(memory // SHM_SHARE // PAGE * PAGE, MIB)
    return {"/tmp": max(memory - shm, MIB), "/dev/shm": shm}


def _memory_mounts(memory: int | None) -> list[str]:
    """``/tmp`` and ``/dev/shm``: fresh tmpfs mounts no bigger than ``memory`` together,
    and the rest of bwrap's ``/dev`` (an unsized tmpfs) read-only, so no file the program
    writes in memory escapes ``--memory`` (docs/sandbox.md, Memory)."""
    sizes = tmpfs_sizes(memory)
    if not sizes:  # unsized (still charged to a memory cgroup where there is one)
        return ["--tmpfs", "/tmp", "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    tmp, shm = sizes["/tmp"], sizes["/dev/shm"]
    return [
        "--size",
        str(tmp),
        "--tmpfs",
        "/tmp",
        "--size",
        str(shm),
        "--tmpfs",
        "/dev/shm",
        "--remount-ro",
        "/dev",
    ]


def usable(preexec: Callable[[], None] | None = None) -> tuple[bool, str]:
    """(works, why not): bwrap is installed and may make the namespaces (once per process).

    Distributions that forbid unprivileged user namespaces make bwrap fail here; so does a
    container without the needed privileges. ``preexec`` drops to the user runs have.
    """
    if "answer" not in _USABLE:
        exe = path()
        if exe is None:
            _USABLE["answer"] = (False, "bwrap is not installed (package: bubblewrap)")
        else:
            pending = _PENDING.pop("size", None)
            _USABLE["size"] = (
                _finish_probe(pending) if pending is not None else _probe(exe, 1024 * 1024, preexec)
            )
            # bwrap before 0.5 has no --size: then /tmp is an unsized tmpfs (still charged
            # to the run's memory cgroup where there is one).
            _USABLE["answer"] = (
                _USABLE["size"] if _USABLE["size"][0] else _probe(exe, None, preexec)
            )
    return _USABLE["answer"]


def assumed() -> tuple[bool, str]:
    """``usable``'s answer if it was probed, else whether bwrap is installed: a run starts
    with bwrap on that assumption, and bwrap's own start is the probe - a run whose bwrap
    fails before the program (``Launch``) probes then (``usable``) and is planned again.
    A probe is a whole bwrap (namespaces, mounts, a process) every run would pay for."""
    if "answer" in _USABLE:
        return _USABLE["answer"]
    if path() is None:
        return False, "bwrap is not installed (package: bubblewrap)"
    return True, ""


def probed() -> bool:
    return "answer" in _USABLE


def probe_early(preexec: Callable[[], None] | None = None) -> None:
    """Start ``usable``'s probe now and return at once: the probe (a bwrap making its
    namespaces, some 5-40 ms) then runs while asyncplay imports and prepares the run, and
    ``usable`` collects its answer. ``preexec`` must be the one ``usable`` will be given."""
    if "answer" in _USABLE or "size" in _PENDING:
        return
    exe = path()
    if exe is None:
        return
    import subprocess  # (a probe only where bwrap's start failed, or for doctor)

    try:
        _PENDING["size"] = _start_probe(exe, 1024 * 1024, preexec)
    except (OSError, subprocess.SubprocessError):
        pass  # ``usable`` probes again and says why


def collect_probe() -> None:
    """Reap a probe ``probe_early`` started and nobody asked about (the run did not start)."""
    pending = _PENDING.pop("size", None)
    if pending is not None:
        _USABLE.setdefault("size", _finish_probe(pending))


_PENDING: dict[str, subprocess.Popen] = {}


def _start_probe(
    exe: str, tmp_size: int | None, preexec: Callable[[], None] | None
) -> subprocess.Popen:
    import subprocess

    return subprocess.Popen(
        [exe, *_base(tmp_size), "--", true_path()],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd="/",
        preexec_fn=preexec,
    )


def _finish_probe(proc: subprocess.Popen) -> tuple[bool, str]:
    import subprocess

    try:
        _out, stderr = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.communicate()
        return False, f"bwrap could not be run ({exc})"
    if proc.returncode == 0:
        return True, ""
    err = stderr.decode(errors="replace").strip().splitlines()
    why = err[-1] if err else f"status {proc.returncode}"
    return False, f"bwrap cannot make its namespaces here ({why})"


def _probe(exe: str, tmp_size: int | None, preexec: Callable[[], None] | None) -> tuple[bool, str]:
    import subprocess

    try:
        proc = _start_probe(exe, tmp_size, preexec)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"bwrap could not be run ({exc})"
    return _finish_probe(proc)


def argv(
    cwd: str,
    visible: list[str],
    tmp_size: int | None,
    writable: list[str] | tuple[str, ...] = (),
    covers: list[str] | tuple[str, ...] = (),
    hide: list[str] | tuple[str, ...] = (),
    unshare_net: bool = True,
    extra: list[str] | None = None,
    keep: list[str] | tuple[str, ...] = (),
) -> list[str]:
    """The bwrap command line (up to ``--``) for a run in ``cwd``.

    ``unshare_net``: a network namespace of the run's own (``--network on|off``);
    ``extra``: the network layer's arguments (its descriptors, a resolv.conf).

    ``visible`` are paths the run needs (its run directory, the interpreter, asyncplay's
    runtime, the program's file): those under ``/tmp``, which bwrap
    replaces with a fresh tmpfs, or inside a ``hide`` folder, are bound back, read-only, at
    the same place. ``writable`` folders are bound read-write; ``covers`` (host sockets)
    get ``/dev/null`` bound over them; ``hide`` folders an empty tmpfs. ``keep`` folders
    (asyncplay's own data inside a writable folder) are bound back read-only over it.
    """
    exe = path() or "bwrap"
    out = [exe, *_base(tmp_size, unshare_net)]
    covered = [*PRIVATE, *hide]
    binds: dict[str, str] = {}
    for folder in hide:
        if os.path.isdir(folder) and not any(_inside(folder, p) for p in PRIVATE):
            binds[folder] = "--tmpfs"
    for candidate in {c for p in visible for c in (os.path.abspath(p), os.path.realpath(p))}:
        if candidate in covered or not os.path.exists(candidate):
            continue  # (a private or hidden folder itself is never bound back)
        if any(_inside(candidate, c) for c in covered):
            binds.setdefault(candidate, "--ro-bind")
    for folder in writable:
        if os.path.isdir(folder):
            binds[folder] = "--bind"
    for folder in keep:
        if os.path.isdir(folder) and folder not in binds:
            binds[folder] = "keep"
    # Parents first (bwrap cannot bind into a directory that does not exist yet), and no
    # read-only bind inside a folder already bound whole.
    done: list[tuple[str, str]] = []
    for target in sorted(binds, key=lambda p: (p.count("/"), p)):
        how = binds[target]
        if how == "--ro-bind" and any(_inside(target, t) and h != "--tmpfs" for t, h in done):
            continue
        done.append((target, how))
        if how == "keep":
            how = "--ro-bind"
        out += [how, target] if how == "--tmpfs" else [how, target, target]
    for sock in covers:
        # A socket gone since /proc/net/unix was read needs no cover, and bwrap would fail
        # making its place in the read-only root (an agent's folder removed at a logout).
        if not any(_inside(sock, c) for c in covered) and os.path.lexists(sock):
            out += ["--ro-bind", "/dev/null", sock]
    # A hidden folder's tmpfs is read-only once what belongs in it is bound (else the
    # program could fill memory there, outside --memory's /tmp and /dev/shm).
    for target, how in done:
        if how == "--tmpfs":
            out += ["--remount-ro", target]
    out += [*(extra or []), "--chdir", cwd, "--"]
    return out


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


SETUP_TIMEOUT = 30.0  # seconds bwrap may take to make its namespaces and mounts
BWRAP_SAYS = b"bwrap: "  # how each of bwrap's own messages on stderr begins


class Launch:
    """One bwrap start, watched from outside: did bwrap make its namespaces and mounts and
    go on to start the program, or did it fail before (and why)?

    Two pipes, no polling. ``--block-fd`` gets a pipe whose one byte is written up front:
    bwrap reads it and closes it right after its mounts, before it starts the program, so
    the parent's write end reports an error (no reader left) at that moment, or earlier
    if bwrap died. ``--json-status-fd`` gives the namespace's process id first, and an
    ``exit-code`` at the end only if bwrap did start the program (it knows: a pipe of its
    own closes at the exec): its absence proves the program never ran.
    """

    def __init__(self) -> None:
        self._status_r, self._status_w = os.pipe()
        self._setup_r, self._setup_w = os.pipe()
        os.write(self._setup_w, b"1")  # bwrap never waits on it
        self._status = b""
        self.early_stderr = b""  # stderr bytes read while judging (the program's own)

    def args(self) -> list[str]:
        return ["--json-status-fd", str(self._status_w), "--block-fd", str(self._setup_r)]

    @property
    def pass_fds(self) -> tuple[int, ...]:
        return tuple(fd for fd in (self._status_w, self._setup_r) if fd >= 0)

    def spawned(self) -> None:
        """bwrap runs (or could not be started): the parent lets go of bwrap's ends."""
        self._close("_status_w", "_setup_r")

    def wait_setup(self, stderr_fd: int | None) -> str | None:
        """Wait until bwrap has made its namespaces and mounts (None), or return its own
        message when it failed before starting the program - proven: bwrap ended without
        reporting the program's exit code.

        ``stderr_fd`` (non-blocking) is the run's stderr: bwrap writes its message there
        before it exits, so it is there by the time its end of the setup pipe closes.
        What is read there is kept in ``early_stderr``, for the run's output."""
        self.spawned()
        import select  # (once bwrap is on its way: not before the spawn)

        try:
            poller = select.poll()
            poller.register(self._setup_w, 0)  # only the error: no reader left
            poller.poll(SETUP_TIMEOUT * 1000)
        finally:
            self._close("_setup_w")
        if stderr_fd is None:
            return None
        try:
            data = os.read(stderr_fd, 65536)
        except (BlockingIOError, OSError):
            data = b""
        self.early_stderr = data  # the run's, unless the session starts bwrap again
        if not data.startswith(BWRAP_SAYS):
            return None
        # bwrap complained: it is ending. Its status says whether the program had started.
        self._read_status(until_eof=True)
        if b'"exit-code"' in self._status:
            return None
        return data.decode(errors="replace").strip()

    def child_pid(self) -> int | None:
        """The namespace's first process, as bwrap reported it (None: bwrap failed).

        Its first JSON object, ``{ "child-pid": N, ...}``: read by hand, the number after
        the key (``json`` is not worth its import to a run's start-up for one integer)."""
        self._read_status(until_eof=False)
        line = self._status.split(b"\n", 1)[0] if b"\n" in self._status else b""
        key = line.find(b'"child-pid"')
        if key < 0:
            return None
        rest = line[key + len(b'"child-pid"') :].lstrip()
        if not rest.startswith(b":"):
            return None
        digits = rest[1:].lstrip()
        end = 0
        while end < len(digits) and digits[end : end + 1].isdigit():
            end += 1
        return int(digits[:end]) if end else None

    def _read_status(self, until_eof: bool) -> None:
        """Read what bwrap reported: its first line, or everything until it closes."""
        import select

        fd = self._status_r
        while fd >= 0 and (until_eof or b"\n" not in self._status):
            ready, _, _ = select.select([fd], [], [], SETUP_TIMEOUT)
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                break
            self._status += chunk

    def close(self) -> None:
        self._close("_status_r", "_status_w", "_setup_r", "_setup_w")

    def _close(self, *names: str) -> None:
        for name in names:
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)


def vanished(message: str, argv: list[str]) -> str | None:
    """The host socket bwrap's failure ``message`` names that ``argv`` covers and that is
    gone now (removed between the command line and bwrap's mounts), or None: then the
    failure is something a second try would not change."""
    covers = {
        argv[i + 2]
        for i in range(len(argv) - 2)
        if argv[i] == "--ro-bind" and argv[i + 1] == "/dev/null"
    }
    for path in sorted(covers, key=len, reverse=True):
        if path in message and not os.path.lexists(path):
            return path
    return None
