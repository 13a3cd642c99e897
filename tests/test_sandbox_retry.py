"""A bwrap that fails before the program starts, because a path its command line binds over
vanished meanwhile (a socket removed between /proc/net/unix and bwrap's mounts), is started
again with a command line made afresh - and a program is never run twice: only a bwrap
that provably did not start it (no exit code on its status pipe) is retried.

Deterministic: the socket is removed by a hook between the plan and the spawn, not by a
race. The start gate (the program waits for the session's byte) is tested here too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid

import pytest

from asyncplay import protocol, sandbox
from asyncplay.runner import core as runner_core
from asyncplay.runner.spec import RunSpec
from asyncplay.runner.sync_driver import run_blocking
from asyncplay.sandbox import bwrap

BWRAP_OK, BWRAP_WHY = bwrap.usable()
ROOT = os.geteuid() == 0

need_bwrap = pytest.mark.skipif(not BWRAP_OK, reason=f"bwrap unavailable: {BWRAP_WHY}")

PROGRAM = """
import sys
with open("ran.txt", "a") as f:
    f.write("ran\\n")
print("ran")
"""


@pytest.fixture
def daemon_socket():
    """A real listening socket the run user could reach (so its run covers it): under
    /run as root (the run user cannot pass /root), under $HOME as a user."""
    tag = uuid.uuid4().hex[:8]
    base = "/run" if ROOT else os.path.expanduser("~")
    folder = os.path.join(base, f".asyncplay-retry-{tag}")
    os.makedirs(folder)
    os.chmod(folder, 0o755)
    path = os.path.join(folder, "daemon.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    os.chmod(path, 0o777)
    s.listen()
    try:
        yield s, path
    finally:
        s.close()
        shutil.rmtree(folder, ignore_errors=True)


def _spec(tmp_path) -> RunSpec:
    (tmp_path / "p.py").write_text(PROGRAM)
    return RunSpec(path="p.py", cwd=str(tmp_path), sandbox="bwrap", network="off")


def _run(spec: RunSpec) -> tuple[dict, list[dict], bytes]:
    events: list[dict] = []
    err: list[bytes] = []

    def raw(name: str, data: bytes) -> None:
        if name == "stderr":
            err.append(data)

    end = run_blocking(spec, events.append, raw, stdin="null")
    return end, events, b"".join(err)


def _retried(events: list[dict]) -> list[str]:
    start = next(e for e in events if e["event"] == "run_start")
    return [n for n in start["sandbox"]["notes"] if "started again" in n]


@need_bwrap
@pytest.mark.parametrize("what", ["socket", "folder"])
def test_a_cover_vanishing_before_bwrap_mounts_it_starts_bwrap_again(
    tmp_path, monkeypatch, daemon_socket, what
) -> None:
    server, path = daemon_socket
    real = sandbox.prepare
    prefixes: list[list[str]] = []

    def prepare(spec, run_dir, env=None):  # noqa: ANN001, ANN202
        plan = real(spec, run_dir, env)
        prefixes.append(list(plan.prefix))
        if len(prefixes) == 1:
            assert path in plan.prefix  # covered on this command line...
            server.close()  # ... and gone before bwrap makes its mounts
            if what == "socket":
                os.unlink(path)
            else:
                shutil.rmtree(os.path.dirname(path))
        return plan

    monkeypatch.setattr(sandbox, "prepare", prepare)
    end, events, err = _run(_spec(tmp_path))
    assert end["exit_code"] == 0, err
    assert (tmp_path / "ran.txt").read_text() == "ran\n"  # the program ran once
    # (Another test's socket vanishing meanwhile may add a try: -n 4 runs them together.)
    assert len(prefixes) >= 2 and path not in prefixes[-1]
    assert b"bwrap" not in err  # the failed try left nothing on the run's stderr
    assert any(path in n for n in _retried(events))


@need_bwrap
def test_a_failure_that_is_not_a_vanished_path_is_not_retried(tmp_path, monkeypatch) -> None:
    """bwrap failing for another reason (here: a bind of a source that was never there)
    is the run's failure, told once with bwrap's own message."""
    real = sandbox.prepare
    calls = []

    def prepare(spec, run_dir, env=None):  # noqa: ANN001, ANN202
        plan = real(spec, run_dir, env)
        calls.append(1)
        i = plan.prefix.index("--chdir")
        plan.prefix[i:i] = ["--ro-bind", "/nonexistent-asyncplay-src", "/mnt"]
        return plan

    monkeypatch.setattr(sandbox, "prepare", prepare)
    end, events, err = _run(_spec(tmp_path))
    retried = _retried(events)  # (only for other tests' sockets vanishing meanwhile)
    assert len(calls) == 1 + sum(n.count(",") + 1 for n in retried)
    assert not any("nonexistent" in n for n in retried)
    assert end["exit_code"] != 0 and not (tmp_path / "ran.txt").exists()
    assert err.startswith(b"bwrap: ") and b"nonexistent-asyncplay-src" in err


@need_bwrap
def test_a_program_saying_what_bwrap_says_is_not_run_again(
    tmp_path, monkeypatch, daemon_socket
) -> None:
    """The cover vanishes after bwrap's mounts, and the program itself prints bwrap's
    words naming it and fails: the program started, so nothing is retried."""
    server, path = daemon_socket
    real = sandbox.prepare
    calls = []

    def prepare(spec, run_dir, env=None):  # noqa: ANN001, ANN202
        plan = real(spec, run_dir, env)
        calls.append(1)
        started = plan.started

        def started_then_gone(pid, stderr_fd=None):  # noqa: ANN001, ANN202
            failed = started(pid, stderr_fd)
            server.close()
            os.unlink(path)
            return failed

        plan.started = started_then_gone
        return plan

    monkeypatch.setattr(sandbox, "prepare", prepare)
    (tmp_path / "p.py").write_text(
        PROGRAM + f"sys.stderr.write('bwrap: Can\\'t create file at {path}: gone\\n')\n"
        "sys.exit(1)\n"
    )
    spec = RunSpec(path="p.py", cwd=str(tmp_path), sandbox="bwrap", network="off")
    end, _events, err = _run(spec)
    assert end["exit_code"] == 1
    assert (tmp_path / "ran.txt").read_text() == "ran\n"
    assert b"Can't create file at" in err


# ---- the proof: bwrap's status pipe, with a stand-in for bwrap ---------------------------

FAKE_BWRAP = """
import json, os, sys
args = sys.argv[1:]
status = int(args[args.index("--json-status-fd") + 1])
block = int(args[args.index("--block-fd") + 1])
os.write(status, json.dumps(dict(pid=os.getpid())).replace("pid", "child-pid").encode() + b"\\n")
sys.stderr.write("bwrap: Can't create file at /run/gone.sock: No such file or directory\\n")
sys.stderr.flush()
if STARTED:
    os.write(status, b'{ "exit-code": 1 }\\n')
os.read(block, 1)
os.close(block)
sys.exit(1)
"""


@pytest.mark.parametrize("started", [False, True])
def test_only_a_bwrap_that_reported_no_exit_code_failed_before_the_program(
    tmp_path, started
) -> None:
    fake = tmp_path / "bwrap.py"
    fake.write_text(FAKE_BWRAP.replace("STARTED", str(started)))
    launch = bwrap.Launch()
    proc = subprocess.Popen(
        [sys.executable, str(fake), *launch.args()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        pass_fds=launch.pass_fds,
    )
    try:
        assert proc.stderr is not None
        os.set_blocking(proc.stderr.fileno(), False)
        failed = launch.wait_setup(proc.stderr.fileno())
        assert launch.child_pid() == proc.pid
    finally:
        proc.wait()
        proc.stderr.close()  # type: ignore[union-attr]
        launch.close()
    if started:  # it reported the program's exit: whatever it said, the program ran
        assert failed is None and launch.early_stderr.startswith(b"bwrap: ")
    else:
        assert failed is not None and "/run/gone.sock" in failed
        argv = ["bwrap", "--ro-bind", "/dev/null", "/run/gone.sock", "--", "python"]
        assert bwrap.vanished(failed, argv) == "/run/gone.sock"
        assert bwrap.vanished(failed, ["bwrap", "--", "python"]) is None


# ---- the start gate ----------------------------------------------------------------------


@pytest.mark.parametrize("go", [b"1", b""])
def test_the_program_starts_only_when_the_session_says_so(tmp_path, go) -> None:
    """The runtime waits at the gate; no byte (a start given up) and the program never
    runs."""
    (tmp_path / "p.py").write_text(PROGRAM)
    channel_r, channel_w = os.pipe()
    gate_r, gate_w = os.pipe()
    spec = RunSpec(path="p.py", cwd=str(tmp_path)).child_spec(channel_w, None, gate_r)
    spec_path = tmp_path / "spec.marshal"
    spec_path.write_bytes(protocol.pack_spec(spec))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([runner_core.INJECT_DIR, env.get("PYTHONPATH", "")])
    env["ASYNCPLAY_CHILD_SPEC"] = str(spec_path)
    proc = subprocess.Popen(
        [sys.executable, "p.py"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        pass_fds=(channel_w, gate_r),
    )
    os.close(channel_w)
    os.close(gate_r)
    try:
        # The runtime is up (its hello is on the channel) and the program has not run.
        assert os.read(channel_r, 65536)
        assert not (tmp_path / "ran.txt").exists()
        os.write(gate_w, go) if go else None
        os.close(gate_w)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(channel_r)
    if go:
        assert proc.returncode == 0 and out == b"ran\n"
        assert (tmp_path / "ran.txt").read_text() == "ran\n"
    else:
        assert proc.returncode == 125 and out == b""
        assert not (tmp_path / "ran.txt").exists()


# ---- bwrap is not probed before a run: its first start is the probe ---------------------

NO_NAMESPACES = """#!/bin/sh
echo "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces." >&2
exit 1
"""


@pytest.fixture
def failing_bwrap(monkeypatch):
    """A bwrap that cannot make its namespaces here (as on a machine that forbids
    unprivileged user namespaces), in a folder the run user may enter; nothing probed."""
    folder = tempfile.mkdtemp(prefix="asyncplay-fake-bwrap-", dir=_shared_tmp())
    os.chmod(folder, 0o755)
    fake = os.path.join(folder, "bwrap")
    with open(fake, "w") as f:
        f.write(NO_NAMESPACES)
    os.chmod(fake, 0o755)
    monkeypatch.setattr(bwrap, "path", lambda: fake)
    monkeypatch.setattr(bwrap, "_USABLE", {})
    monkeypatch.setattr(bwrap, "_PENDING", {})
    try:
        yield fake
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _shared_tmp() -> str:
    """A folder every user may pass through (pytest's own is 0700)."""
    return "/tmp" if os.access("/tmp", os.W_OK) else os.path.expanduser("~")


def test_a_normal_run_starts_one_bwrap_and_probes_none(tmp_path, monkeypatch) -> None:
    if bwrap.path() is None:
        pytest.skip("bwrap is not installed")
    monkeypatch.setattr(bwrap, "_USABLE", {})
    monkeypatch.setattr(bwrap, "_PENDING", {})

    def no_probe(*_a, **_k):  # noqa: ANN202
        raise AssertionError("a run probed bwrap before starting it")

    monkeypatch.setattr(bwrap, "_probe", no_probe)
    monkeypatch.setattr(bwrap, "_start_probe", no_probe)
    if not BWRAP_OK:
        pytest.skip(f"bwrap unavailable: {BWRAP_WHY}")
    end, events, err = _run(_spec(tmp_path))
    assert end["exit_code"] == 0, err
    start = next(e for e in events if e["event"] == "run_start")
    assert "bwrap" in start["sandbox"]["layers"]


def test_auto_falls_back_when_bwrap_fails_to_make_its_namespaces(tmp_path, failing_bwrap) -> None:
    (tmp_path / "p.py").write_text(PROGRAM)
    spec = RunSpec(path="p.py", cwd=str(tmp_path), sandbox="auto", network="off")
    end, events, err = _run(spec)
    assert end["exit_code"] == 0, err
    assert (tmp_path / "ran.txt").read_text() == "ran\n"
    assert b"bwrap" not in err  # the failed start said nothing on the run's stderr
    sb = next(e for e in events if e["event"] == "run_start")["sandbox"]
    assert "bwrap" not in sb["layers"]
    assert any("no bwrap layer" in n and "namespace" in n for n in sb["notes"])


def test_sandbox_bwrap_that_cannot_start_is_a_usage_error(
    tmp_path, monkeypatch, capsys, failing_bwrap
) -> None:
    from asyncplay import exits
    from asyncplay.cli import main

    (tmp_path / "p.py").write_text(PROGRAM)
    monkeypatch.chdir(tmp_path)
    status = main(["run", "--sandbox", "bwrap", "--network", "off", "p.py"])
    err = capsys.readouterr().err
    assert status == exits.USAGE, err
    assert err.count("\n") == 1 and err.startswith("asyncplay: --sandbox bwrap: bwrap cannot")
    assert not (tmp_path / "ran.txt").exists()
