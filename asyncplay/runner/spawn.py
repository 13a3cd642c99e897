"""Starting a run's process: the sandbox's plan, the spawn, bwrap's start watched (and
started again when a socket it was to cover vanished meanwhile), and the start gate.

bwrap is not probed before a run: its own start is the probe (``sandbox.bwrap.assumed``).
When it fails before the program started - proven by bwrap itself, which reports no exit
code then (``sandbox.bwrap.Launch``) - the try is undone and another made with a plan made
afresh, if that can change anything: a covered socket that vanished is left out, and a
bwrap that cannot work here is probed and left out (``auto``) or refused (``bwrap``).
A program is never started twice: it waits at the start gate until ``open_gate``.
"""

from __future__ import annotations

import os

import asyncplay
from asyncplay import sandbox, selfguard
from asyncplay.runner.spec import RunSpec
from asyncplay.sandbox import process
from asyncplay.sandbox.which import which

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BWRAP_RETRIES", "INJECT_DIR", "check_interpreter", "grow_pipe", "open_gate", "start"]

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(asyncplay.__file__)))
INJECT_DIR = os.path.join(_ROOT, "asyncplay", "child", "inject")
BWRAP_RETRIES = 2  # new starts of a bwrap whose covered socket vanished as it started


def start(
    spec: RunSpec,
    run_dir: str,
    argv: list[str],
    stdin: int | None,
    spec_path: str,
    child_fds: tuple[int, ...],
    meanwhile: Callable[[], None] | None = None,
) -> tuple[process.Process, sandbox.Plan, bytes]:
    """Prepare the sandbox and start ``argv`` in it: (the process, its plan, what was read
    of its stderr while bwrap was watched, for the run's output). ``child_fds`` are
    handed to the run (the channel, the control pipe, the gate). ``meanwhile`` may be
    called (once: it must not mind being called again) while the network's helper comes
    up (``sandbox.Plan.meanwhile``)."""
    retried: list[str] = []
    for attempt in range(BWRAP_RETRIES + 1):
        got = _try(spec, run_dir, argv, stdin, spec_path, child_fds, retried, attempt, meanwhile)
        if got is not None:
            return got
    raise AssertionError("the last try always returns")  # pragma: no cover


def _try(
    spec: RunSpec,
    run_dir: str,
    argv: list[str],
    stdin: int | None,
    spec_path: str,
    child_fds: tuple[int, ...],
    retried: list[str],
    attempt: int,
    meanwhile: Callable[[], None] | None,
) -> tuple[process.Process, sandbox.Plan, bytes] | None:
    """One try; None when bwrap failed before the program and another try may do better."""
    conf = sandbox.prepare(spec, run_dir)
    conf.meanwhile = meanwhile
    try:
        if retried:
            conf.notes.append(f"bwrap was started again: {', '.join(retried)} vanished")
        env = conf.env
        # The runtime rides in on site's sitecustomize import; boot.setup erases all of it.
        if "PYTHONPATH" in env:
            env["ASYNCPLAY_ORIG_PYTHONPATH"] = env["PYTHONPATH"]
        # An empty entry would put the current directory on sys.path: add none.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [INJECT_DIR, env.get("PYTHONPATH")]))
        env["ASYNCPLAY_CHILD_SPEC"] = spec_path
        proc = process.start(
            conf.prefix + argv,
            stdin=stdin,
            stdout=process.PIPE,
            stderr=process.PIPE,
            pass_fds=(*child_fds, *conf.pass_fds),
            cwd=spec.cwd,
            env=env,
            start_new_session=True,
            preexec=_child_preexec(conf.preexec),
        )
    except BaseException:
        conf.close()
        raise
    conf.spawned()
    assert proc.stdout is not None and proc.stderr is not None
    for f in (proc.stdout, proc.stderr):
        os.set_blocking(f.fileno(), False)
    try:
        # bwrap's namespaces and mounts made; e.g. the network brought up meanwhile
        failed = conf.started(proc.pid, proc.stderr.fileno())
        if failed is None or attempt == BWRAP_RETRIES:
            return proc, conf, conf.early_stderr()
        # bwrap ended before the program started (it says so, and reported no exit code):
        # nothing of this try ran.
        gone = conf.vanished(failed)
        if gone is None and not sandbox.reconsider(conf):
            return proc, conf, conf.early_stderr()  # the failure stands: the run tells it
    except BaseException:
        _undo(proc, conf)
        raise
    _undo(proc, conf)
    if gone is not None:
        retried.append(gone)
    return None


def _undo(proc: process.Process, conf: sandbox.Plan) -> None:
    """Reap a bwrap that never started the program and undo its sandbox."""
    proc.kill()  # (gone already; a plan's own failure after the spawn may leave it)
    proc.wait()
    for f in (proc.stdin, proc.stdout, proc.stderr):
        if f is not None:
            f.close()
    conf.close()


def open_gate(gate_w: int) -> None:
    """Let the program start (docs/protocol.md, the start gate), and close the gate."""
    try:
        os.write(gate_w, b"1")
    except OSError:
        pass  # no one at the gate: the start failed (its status and stderr say why)
    os.close(gate_w)


def _child_preexec(preexec: Callable[[], None] | None) -> Callable[[], None]:
    """The run's pre-exec code, in a child that is dumpable again (``selfguard``)."""

    def run() -> None:
        selfguard.for_child()
        if preexec is not None:
            preexec()

    return run


def check_interpreter(python: str) -> None:
    """Fail the way Popen would for a missing interpreter, also when bwrap runs it (bwrap
    itself would start, then fail inside)."""
    import errno

    found = python if os.sep in python else which(python)
    if not found or not os.access(found, os.X_OK) or os.path.isdir(found):
        raise FileNotFoundError(errno.ENOENT, "no such interpreter", python)


F_SETPIPE_SZ = 1031


def grow_pipe(fd: int, size: int = 4 * 1024 * 1024) -> None:
    """A deep event pipe lets the child write its batches without waiting for the parent."""
    import fcntl

    for want in (size, 1024 * 1024):
        try:
            fcntl.fcntl(fd, F_SETPIPE_SZ, want)
            return
        except OSError:
            continue
