"""Starting a run's processes without ``subprocess``: fork and exec, as ``Popen`` does.

``import subprocess`` brings ``locale`` (and with it ``re``), ``signal`` (``enum``),
``threading``, ``contextlib``, ``warnings`` and ``selectors``: on 3.13, whose own start
imports none of them, some 10 ms of CPU before asyncplay could start the program, every
run. What a run needs of ``Popen`` is small: pipes, descriptors handed on, a new session,
a working folder, the pre-exec code (the sandbox's), an exec whose failure is raised in the
parent, and the process's status. A process with other threads running (the playground)
gets a real ``Popen``: ``os.fork`` there warns (3.12+) and ``_posixsubprocess`` forks
those more carefully. Both have the attributes the session reads (``pid``, ``stdin``,
``stdout``, ``stderr``, ``returncode``, ``kill``, ``poll``); ``wait`` below waits on either.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["DEVNULL", "PIPE", "Process", "SpawnError", "start", "wait"]

PIPE = -1  # (subprocess's values: either module's constants mean the same)
DEVNULL = -3

# The signals Python ignores at its start, which an exec would keep ignored (Popen's
# restore_signals puts back these two; like Popen, a SIGINT ignored by whoever started
# asyncplay, a shell's background job, stays ignored).
_SIGPIPE, _SIGXFSZ = 13, 25


class SpawnError(OSError):
    """The pre-exec code failed in the child (``Popen`` says "Exception occurred in
    preexec_fn"): the message names the exception."""


class Process:
    """A started process, as much of ``Popen`` as a run uses."""

    def __init__(self, pid: int, stdin: object, stdout: object, stderr: object) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self._reap(os.WNOHANG)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """The status (Popen's: minus the signal's number when killed by one); None when
        ``timeout`` passed first."""
        if self.returncode is not None or timeout is None:
            if self.returncode is None:
                self._reap(0)
            return self.returncode
        import time

        end = time.monotonic() + timeout
        delay = 0.0005
        while self.poll() is None:
            left = end - time.monotonic()
            if left <= 0:
                return None
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(9)

    def _reap(self, flags: int) -> None:
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:
            self.returncode = 0  # (reaped by someone else: Popen says 0 then too)
            return
        if pid == self.pid:
            self.returncode = os.waitstatus_to_exitcode(status)


def wait(proc: object, timeout: float) -> int | None:
    """``proc.wait(timeout)`` for a ``Process`` or a ``Popen``: None when it timed out."""
    if isinstance(proc, Process):
        return proc.wait(timeout)
    import subprocess

    try:
        return proc.wait(timeout)  # type: ignore[attr-defined]
    except subprocess.TimeoutExpired:
        return None


def start(
    argv: Sequence[str],
    *,
    stdin: int | None = None,
    stdout: int | None = None,
    stderr: int | None = None,
    pass_fds: Sequence[int] = (),
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    start_new_session: bool = False,
    preexec: Callable[[], None] | None = None,
) -> Process:
    """Start ``argv`` as ``subprocess.Popen`` would with the
    same arguments and ``close_fds=True``; ``stdin``/``stdout``/``stderr`` are None
    (inherited), ``PIPE``, ``DEVNULL`` or a descriptor. Raises ``OSError`` as ``Popen``
    does when the exec fails (``FileNotFoundError`` ...), ``SpawnError`` when ``preexec``
    raised."""
    env = dict(os.environ) if env is None else env
    if os.sep not in argv[0]:  # (as Popen finds it: on the PATH of its environment)
        from asyncplay.sandbox.which import which

        argv = [which(argv[0], env.get("PATH", os.defpath)) or argv[0], *argv[1:]]
    if _threads_running():
        return _popen(argv, stdin, stdout, stderr, pass_fds, cwd, env, start_new_session, preexec)
    # (the parent's end, the child's end) of each of the three
    ends: list[tuple[int, int]] = []
    opened: list[int] = []
    try:
        for i, how in enumerate((stdin, stdout, stderr)):
            if how == PIPE:
                r, w = os.pipe()
                opened += (r, w)
                ends.append((w, r) if i == 0 else (r, w))
            elif how == DEVNULL:
                fd = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
                opened.append(fd)
                ends.append((-1, fd))
            else:
                ends.append((-1, -1 if how is None else how))
        if preexec is None and cwd is None:  # (a vfork: no copy of our page tables)
            pid = _posix_spawn(argv, env, [c for _p, c in ends], pass_fds, start_new_session)
            return _started(pid, ends, opened)
        err_r, err_w = os.pipe()
        opened += (err_r, err_w)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            _child(
                argv, env, [c for _p, c in ends], pass_fds, cwd, start_new_session, preexec, err_w
            )
        os.close(err_w)
        opened.remove(err_w)
        report = _read_all(err_r)
        if report:
            os.waitpid(pid, 0)
            raise _error(report, argv[0], cwd)
        return _started(pid, ends, opened)
    finally:
        for fd in opened:
            os.close(fd)


def _started(pid: int, ends: list[tuple[int, int]], opened: list[int]) -> Process:
    """The process, with our ends of its pipes (taken off ``opened``, which the caller
    closes: the child's ends)."""
    streams = []
    for i, (parent, _child_end) in enumerate(ends):
        if parent < 0:
            streams.append(None)
            continue
        streams.append(open(parent, "wb" if i == 0 else "rb", buffering=0))  # noqa: SIM115
        opened.remove(parent)
    return Process(pid, *streams)


def _posix_spawn(
    argv: Sequence[str],
    env: dict[str, str],
    fds: list[int],
    pass_fds: Sequence[int],
    start_new_session: bool,
) -> int:
    """What needs no Python code in the child, by ``os.posix_spawn`` (as ``Popen`` uses a
    vfork then): the three in place, every inheritable descriptor but ``pass_fds``
    closed, ``pass_fds`` inheritable meanwhile (no other thread runs: ``start``)."""
    keep = {0, 1, 2, *pass_fds}
    actions: list[tuple] = []
    for i, fd in enumerate(fds):
        if fd >= 0:
            actions.append((os.POSIX_SPAWN_DUP2, fd, i))
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                if os.get_inheritable(fd):
                    actions.append((os.POSIX_SPAWN_CLOSE, fd))
            except OSError:
                continue  # (the listing's own descriptor, closed by now)
    made = [fd for fd in pass_fds if not os.get_inheritable(fd)]
    for fd in made:
        os.set_inheritable(fd, True)
    try:
        return os.posix_spawn(
            argv[0],
            list(argv),
            env,
            file_actions=actions,
            setsid=start_new_session,
            setsigdef=(_SIGPIPE, _SIGXFSZ),
        )
    finally:
        for fd in made:
            os.set_inheritable(fd, False)


def _child(
    argv: Sequence[str],
    env: dict[str, str],
    fds: list[int],
    pass_fds: Sequence[int],
    cwd: str | None,
    start_new_session: bool,
    preexec: Callable[[], None] | None,
    err_w: int,
) -> None:
    """After the fork, in the child, in ``_posixsubprocess``'s order; reports a failure
    on ``err_w`` (closed by a successful exec) and never returns."""
    stage = "exec"
    try:
        for fd in pass_fds:
            os.set_inheritable(fd, True)
        # The three in place (a descriptor already among 0-2 is copied out of the way first).
        fds = [os.dup(fd) if 0 <= fd < 3 and fd != i else fd for i, fd in enumerate(fds)]
        for i, fd in enumerate(fds):
            if fd == i:
                os.set_inheritable(i, True)
            elif fd >= 0:
                os.dup2(fd, i)
        if cwd is not None:
            stage = "chdir"
            os.chdir(cwd)
        import _signal  # (the C module under ``signal``, without its enum classes)

        for sig in (_SIGPIPE, _SIGXFSZ):
            _signal.signal(sig, _signal.SIG_DFL)
        if start_new_session:
            os.setsid()
        if preexec is not None:
            stage = "preexec"
            preexec()
            stage = "exec"
        _close_all_but({*pass_fds, err_w, 0, 1, 2})
        os.execve(argv[0], list(argv), env)
    except BaseException as exc:  # noqa: BLE001 - told to the parent, whatever it was
        try:
            code = getattr(exc, "errno", None) or 0
            what = f"{stage}:{code}:{type(exc).__name__}: {exc}"
            os.write(err_w, what.encode("utf-8", "replace")[:4000])
        finally:
            os._exit(255)
    os._exit(255)  # pragma: no cover (execve does not return)


def _close_all_but(keep: set[int]) -> None:
    """Close every descriptor but ``keep`` (``close_fds``), those open as listed by
    ``/proc/self/fd`` (a loop up to the limit could be a million ``close`` calls)."""
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        try:
            top = os.sysconf("SC_OPEN_MAX")
        except (OSError, ValueError):
            top = 65536
        open_fds = list(range(3, top))
    for fd in open_fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # (not open: the listing's own descriptor, gone by now)


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except InterruptedError:
            continue
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _error(report: bytes, exe: str, cwd: str | None) -> OSError:
    stage, code, message = report.decode("utf-8", "replace").split(":", 2)
    if stage == "preexec":  # (one argument: no "[Errno 0]" before the words)
        return SpawnError(f"Exception occurred in the pre-exec code: {message}")
    errno = int(code)
    if errno:
        # (the file it is about, as Popen names it: the program, or the working folder)
        return OSError(errno, os.strerror(errno), exe if stage == "exec" else cwd)
    return SpawnError(message)


def _threads_running() -> bool:
    """Any thread but this one, Python's or not (as ``os.fork``'s warning counts them)."""
    try:
        return len(os.listdir("/proc/self/task")) > 1
    except OSError:
        threading = sys.modules.get("threading")
        return threading is None or threading.active_count() > 1


def _popen(
    argv: Sequence[str],
    stdin: int | None,
    stdout: int | None,
    stderr: int | None,
    pass_fds: Sequence[int],
    cwd: str | None,
    env: dict[str, str] | None,
    start_new_session: bool,
    preexec: Callable[[], None] | None,
) -> object:
    import subprocess

    try:
        return subprocess.Popen(
            list(argv),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            pass_fds=tuple(pass_fds),
            cwd=cwd,
            env=env,
            start_new_session=start_new_session,
            preexec_fn=preexec,
        )
    except subprocess.SubprocessError as exc:
        raise SpawnError(str(exc)) from None
