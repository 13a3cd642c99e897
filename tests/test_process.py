"""``asyncplay.sandbox.process``: a run's processes started without ``subprocess``, as
``subprocess.Popen`` starts them (docs/performance.md, the hello world's start-up)."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import threading
import warnings

import pytest

from asyncplay.sandbox import process


@pytest.fixture(autouse=True)
def forking(request, monkeypatch):
    """The fork path, also where the test runner has threads of its own (3.14+ under
    pytest): ``os.fork`` then warns, which these tests do not test (the playground's
    threads get ``Popen``: the last test)."""
    if request.node.name.startswith(("test_with_other_threads", "test_one_thread")):
        yield
        return
    monkeypatch.setattr(process, "_threads_running", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


# What the child reports about itself: its fds, session, cwd, ignored signals, an env var.
REPORT = r"""
import os, sys
fds = sorted(int(n) for n in os.listdir("/proc/self/fd"))
print(repr({
    "fds": fds,
    "sid_is_pid": os.getsid(0) == os.getpid(),
    "cwd": os.getcwd(),
    "env": os.environ.get("PROBE_VAR"),
    "stdin": sys.stdin.read(),
}))
"""


def _report(proc) -> dict:
    out = proc.stdout.read()
    proc.wait()
    return ast.literal_eval(out.decode())


@pytest.mark.parametrize("path", ["fork", "posix_spawn"])
def test_pipes_fds_session_cwd_env_and_signals_as_popen(tmp_path, monkeypatch, path) -> None:
    """Both ways: fork and exec (a working folder or pre-exec code asked for), else
    ``os.posix_spawn``."""
    spawned = []
    real = process._posix_spawn
    monkeypatch.setattr(process, "_posix_spawn", lambda *a: spawned.append(1) or real(*a))
    if path == "posix_spawn":
        monkeypatch.chdir(tmp_path)
    keep_r, keep_w = os.pipe()
    stray_r, stray_w = os.pipe()
    os.set_inheritable(stray_r, True)  # inheritable, but not handed on: closed in the child
    try:
        proc = process.start(
            [sys.executable, "-c", REPORT],
            stdin=process.PIPE,
            stdout=process.PIPE,
            stderr=process.DEVNULL,
            pass_fds=(keep_r,),
            cwd=str(tmp_path) if path == "fork" else None,
            env={"PROBE_VAR": "here", "PATH": os.defpath},
            start_new_session=True,
        )
        assert isinstance(proc, process.Process)
        proc.stdin.write(b"typed")
        proc.stdin.close()
        got = _report(proc)
        assert not os.get_inheritable(keep_r)  # (inheritable only in the child)
    finally:
        for fd in (keep_r, keep_w, stray_r, stray_w):
            os.close(fd)
    assert proc.returncode == 0
    assert spawned == ([1] if path == "posix_spawn" else [])
    assert keep_r in got["fds"] and stray_r not in got["fds"]
    assert got["sid_is_pid"] and got["cwd"] == str(tmp_path)
    assert got["env"] == "here" and got["stdin"] == "typed"


@pytest.mark.parametrize("preexec", [None, lambda: None])
def test_sigpipe_and_sigxfsz_are_default_after_the_exec(preexec) -> None:
    """Python ignores SIGPIPE and SIGXFSZ; an exec keeps what is ignored, so the child
    puts them back as Popen's ``restore_signals`` does (both ways)."""
    proc = process.start(
        ["/bin/sh", "-c", "grep SigIgn /proc/self/status"], stdout=process.PIPE, preexec=preexec
    )
    mask = int(proc.stdout.read().split()[1], 16)
    proc.wait()
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        assert not mask & (1 << (sig - 1)), hex(mask)


@pytest.mark.parametrize("preexec", [None, lambda: None])
def test_a_missing_program_raises_as_popen_does(tmp_path, preexec) -> None:
    missing = str(tmp_path / "nothing-here")
    with pytest.raises(FileNotFoundError) as got:
        process.start([missing], preexec=preexec)
    assert got.value.filename == missing
    with pytest.raises(FileNotFoundError):
        subprocess.Popen([missing])  # (the same class)


def test_a_missing_working_folder_is_named_as_popen_names_it(tmp_path) -> None:
    gone = str(tmp_path / "gone")
    with pytest.raises(FileNotFoundError) as got:
        process.start(["/bin/true"], cwd=gone, preexec=lambda: None)
    with pytest.raises(FileNotFoundError) as popen:
        subprocess.Popen(["/bin/true"], cwd=gone)
    assert got.value.filename == popen.value.filename == gone


def test_a_failing_preexec_is_told_and_nothing_is_left() -> None:
    def fails() -> None:
        raise ValueError("no such limit")

    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(
        process.SpawnError,
        match="^Exception occurred in the pre-exec code: ValueError: no such limit$",
    ):
        process.start([sys.executable, "-c", "pass"], stdout=process.PIPE, preexec=fails)
    assert set(os.listdir("/proc/self/fd")) == before  # (the pipes closed)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # (the child was reaped)


def test_the_preexec_runs_in_the_child_before_the_exec(tmp_path) -> None:
    mark = tmp_path / "mark"

    def preexec() -> None:
        mark.write_text(str(os.getpid()))

    proc = process.start(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        stdout=process.PIPE,
        preexec=preexec,
    )
    pid = int(proc.stdout.read())
    assert proc.wait() == 0
    assert mark.read_text() == str(pid) == str(proc.pid)


def test_a_command_is_found_on_the_path_of_its_environment(tmp_path) -> None:
    tool = tmp_path / "only-here"
    tool.write_text("#!/bin/sh\necho found\n")
    tool.chmod(0o755)
    proc = process.start(["only-here"], stdout=process.PIPE, env={"PATH": str(tmp_path)})
    assert proc.stdout.read() == b"found\n"
    assert proc.wait() == 0


def test_wait_times_out_and_a_signal_is_a_negative_status() -> None:
    proc = process.start([sys.executable, "-c", "import time; time.sleep(30)"])
    assert process.wait(proc, 0.05) is None
    assert proc.poll() is None
    proc.kill()
    assert process.wait(proc, 10) == -signal.SIGKILL
    assert proc.poll() == -signal.SIGKILL


def test_with_other_threads_running_it_is_popen() -> None:
    """``os.fork`` with threads warns on 3.12+ (an error in these tests): the playground,
    which has threads, gets ``subprocess.Popen``, and the same answers."""
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert process._threads_running()
        proc = process.start([sys.executable, "-c", "print('hi')"], stdout=process.PIPE)
        assert isinstance(proc, subprocess.Popen)
        assert proc.stdout.read() == b"hi\n"
        assert process.wait(proc, 10) == 0
        slow = process.start([sys.executable, "-c", "import time; time.sleep(30)"])
        assert process.wait(slow, 0.05) is None
        slow.kill()
        slow.wait()
        with pytest.raises(process.SpawnError):
            process.start([sys.executable, "-c", "pass"], preexec=lambda: 1 / 0)
    finally:
        stop.set()
        t.join()


def test_one_thread_is_told_from_several() -> None:
    """Threads are counted by the kernel, not by ``threading``: one started by
    ``_thread`` (or by C code) counts too."""
    import _thread

    if len(os.listdir("/proc/self/task")) > 1:
        pytest.skip("the test runner has threads of its own here")
    assert not process._threads_running()
    done = threading.Event()
    _thread.start_new_thread(done.wait, ())
    try:
        assert process._threads_running()
    finally:
        done.set()
