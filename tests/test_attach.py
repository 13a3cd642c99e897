"""``asyncplay attach PID`` against real programs started with plain python3.14/3.15.

Each program reports, every tick, whether ``Handle._run`` and ``create_task`` are its own
originals, its thread and fd counts and the modules it has loaded since it started: after
a detach they must be what they were. Every process started here is killed at the end
(and conftest checks that none is left).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from asyncplay import exits
from tests.pythons import find_pythons

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ["python3.14", "python3.15"]

DEMO = r"""
import asyncio, json, os, sys
from asyncio import events, base_events
ORIG = (events.Handle.__dict__["_run"], base_events.BaseEventLoop.__dict__["create_task"])
MODS = set(sys.modules)
TICKS = int(sys.argv[1]) if len(sys.argv) > 1 else 10**9

def state():
    now = (events.Handle.__dict__["_run"], base_events.BaseEventLoop.__dict__["create_task"])
    return json.dumps({"hooked": [a is not b for a, b in zip(now, ORIG)],
        "threads": len(os.listdir("/proc/self/task")), "fds": len(os.listdir("/proc/self/fd")),
        "new_modules": sorted(set(sys.modules) - MODS),
        "writes": ["write" in vars(sys.stdout), "write" in vars(sys.stderr)]})

async def worker(n):
    while True:
        await asyncio.sleep(0.2 + n / 10)

async def short(i):
    await asyncio.sleep(0.02)

async def main():
    ws = [asyncio.create_task(worker(n), name=f"worker-{n}") for n in range(3)]
    for i in range(TICKS):
        await asyncio.sleep(0.1)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(short(i), name=f"short-{i}")
        print("tick", state(), flush=True)
    for w in ws:
        w.cancel()

asyncio.run(main())
"""


def _python(name: str) -> str:
    """The interpreter ``pythonX.Y`` (found as the other cross-version tests find it)."""
    path = find_pythons().get(name.removeprefix("python"))
    if path is None:
        pytest.skip(f"{name} is not installed (docs/testing.md says how to get it)")
    return path


class Program:
    """A program started with plain Python, its ticks read as they come."""

    def __init__(self, tmp_path: Path, python: str, *args: str, env: dict | None = None) -> None:
        script = tmp_path / "demo.py"
        script.write_text(DEMO)
        self.err = open(tmp_path / "demo.err", "w+b")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [python, *args, str(script)],
            stdout=subprocess.PIPE,
            stderr=self.err,
            env=env,
            text=True,
        )
        self.tick()  # its loop runs

    def tick(self, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise AssertionError("the program ended")
            if line.startswith("tick "):
                return json.loads(line[5:])
        raise AssertionError("no tick")

    def stderr(self) -> bytes:
        self.err.seek(0)
        return self.err.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()  # type: ignore[union-attr]
        self.err.close()


def _attach(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "asyncplay", "attach", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _unhooked(prog: Program, baseline: dict) -> dict:
    """The first tick after the detach: the program's own classes, threads, fds, modules."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = prog.tick()
        if state == baseline:
            return state
    raise AssertionError(f"still hooked after the detach: {state} (before: {baseline})")


@pytest.mark.parametrize("pyname", PYTHONS)
def test_attach_json_lists_existing_tasks_then_detaches_cleanly(tmp_path, pyname):
    prog = Program(tmp_path, _python(pyname))
    try:
        baseline = prog.tick()
        assert baseline["hooked"] == [False, False]
        done = _attach("--json", "--timeout", "1", str(prog.proc.pid))
        assert done.returncode == 0, done.stderr
        events = _events(done.stdout)
        kinds = [e["event"] for e in events]
        assert kinds[0] == "run_start" and events[0]["mode"] == "attach"
        assert events[0]["sandbox"]["mode"] == "none"
        assert kinds[-1] == "run_end" and events[-1]["reason"] == "detached"
        hello = next(e for e in events if e["event"] == "hello")
        assert hello["attached"] is True and hello["python"].startswith(pyname[6:])
        created = {e["id"]: e["name"] for e in events if e["event"] == "task_created"}
        existing = {created[e["id"]]: e for e in events if e["event"] == "task_existing"}
        assert {"worker-0", "worker-1", "worker-2"} <= set(existing)
        assert existing["worker-0"]["awaiting"].startswith("sleep(")
        assert existing["worker-0"]["file"].endswith("demo.py")
        assert any(name.startswith("short-") for name in created.values())  # new tasks
        steps = [s for e in events if e["event"] == "steps" for s in e["steps"]]
        assert len(steps) >= 5
        assert any(e["event"] == "detached" for e in events)
        # The program goes on as before: its originals back, no thread, fd or module left.
        after = _unhooked(prog, baseline)
        assert after["threads"] == baseline["threads"] and after["new_modules"] == []
        prog.tick()
        assert prog.proc.poll() is None
        assert prog.stderr() == b""
        assert "no sandbox applies" in done.stderr
    finally:
        prog.kill()


def test_attach_summary_and_timeline_then_attach_again(tmp_path):
    prog = Program(tmp_path, _python("python3.14"))
    try:
        baseline = prog.tick()
        done = _attach("--timeline", "--timeout", "0.5", str(prog.proc.pid))
        assert done.returncode == 0, done.stderr
        assert "worker-0" in done.stderr and "detached from process" in done.stderr
        _unhooked(prog, baseline)
        again = _attach("--json", "--timeout", "0.3", str(prog.proc.pid))  # a second attach
        assert again.returncode == 0, again.stderr
        assert '"task_existing"' in again.stdout
        _unhooked(prog, baseline)
        assert prog.stderr() == b""
    finally:
        prog.kill()


def _attached(prog: Program) -> subprocess.Popen:
    """``asyncplay attach --json`` on ``prog``, once it is attached and receiving steps."""
    attacher = subprocess.Popen(
        [sys.executable, "-m", "asyncplay", "attach", "--json", str(prog.proc.pid)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        while True:
            line = attacher.stdout.readline()  # type: ignore[union-attr]
            assert line, "attach ended early"
            if '"event": "steps"' in line:
                return attacher
    except BaseException:
        attacher.kill()
        attacher.wait()
        attacher.stdout.close()  # type: ignore[union-attr]
        raise


def test_asyncplay_killed_mid_attach_the_program_unhooks(tmp_path):
    prog = Program(tmp_path, _python("python3.14"))
    attacher = None
    try:
        baseline = prog.tick()
        attacher = _attached(prog)
        deadline = time.monotonic() + 10
        while prog.tick()["hooked"] != [True, True]:  # (ticks printed before the attach)
            assert time.monotonic() < deadline
        second = _attach("--json", "--timeout", "1", str(prog.proc.pid))  # one at a time
        assert second.returncode == exits.ATTACH_NO_LOOP
        assert "another asyncplay is attached" in second.stderr
        attacher.kill()
        attacher.wait()
        _unhooked(prog, baseline)
        assert prog.proc.poll() is None and prog.stderr() == b""
    finally:
        if attacher is not None:
            if attacher.poll() is None:
                attacher.kill()
            attacher.wait()
            attacher.stdout.close()  # type: ignore[union-attr]
        prog.kill()


def test_ctrl_c_detaches(tmp_path):
    prog = Program(tmp_path, _python("python3.14"))
    attacher = None
    try:
        baseline = prog.tick()
        attacher = _attached(prog)
        attacher.send_signal(signal.SIGINT)
        out, _ = attacher.communicate(timeout=10)
        assert attacher.returncode == 0
        assert '"reason": "detached"' in out and "Ctrl+C" in out
        _unhooked(prog, baseline)
    finally:
        if attacher is not None and attacher.poll() is None:
            attacher.kill()
            attacher.wait()
        prog.kill()


def test_program_exits_while_attached(tmp_path):
    python = _python("python3.14")
    script = tmp_path / "demo.py"
    script.write_text(DEMO)
    proc = subprocess.Popen(
        [python, str(script), "25"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().startswith("tick")  # type: ignore[union-attr]
        done = _attach("--json", str(proc.pid))
        assert done.returncode == 0, done.stderr
        events = _events(done.stdout)
        assert events[-1]["event"] == "run_end" and events[-1]["reason"] == "exited"
        assert any(e["event"] == "detached" and "exited" in e["reason"] for e in events)
        names = {e["id"]: e["name"] for e in events if e["event"] == "task_created"}
        ended = {names.get(e["id"]) for e in events if e["event"] == "task_done"}
        assert "worker-0" in ended  # the last records arrived: cancelled at the end
        proc.wait(10)
        assert proc.returncode == 0 and proc.stderr.read() == ""  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]


SPEAKER = r"""
import asyncio, json, logging, os, sys, traceback
logging.basicConfig(format="%(levelname)s %(message)s")  # on stderr
BAD = []

def write_error_is_theirs():
    try:
        sys.stdout.write(5)  # the stream's own TypeError, without a frame of asyncplay's
    except TypeError as exc:
        files = {f.filename for f in traceback.extract_tb(exc.__traceback__)}
        if files != {__file__} or "must be str" not in str(exc):
            BAD.append([sorted(files), str(exc)])

async def printer():
    i = 0
    while True:
        print(f"out {i} \u00fc", flush=True)
        os.write(1, f"raw {i}\n".encode())  # not through sys.stdout: not copied
        sys.stderr.write(f"err {i}\n")
        logging.warning("log %d", i)
        write_error_is_theirs()
        print("state", json.dumps({
            "writes": ["write" in vars(sys.stdout), "write" in vars(sys.stderr)],
            "same": [sys.stdout is sys.__stdout__, sys.stderr is sys.__stderr__,
                     type(sys.stdout).__name__, type(sys.stderr).__name__],
            "bad": BAD}), flush=True)
        i += 1
        await asyncio.sleep(0.05)

async def main():
    await asyncio.create_task(printer(), name="printer")

asyncio.run(main())
"""


@pytest.mark.parametrize("pyname", PYTHONS)
def test_what_it_prints_is_copied_and_still_goes_where_it_went(tmp_path, pyname):
    """While attached, what the program writes through sys.stdout and sys.stderr (print,
    logging, a write) arrives as ``output`` events of the task that wrote it, and its own
    files get exactly what they get without asyncplay: every line, in order, once; its
    streams are the same objects of the same type; a failing write raises the stream's
    own error without a frame of asyncplay's; detaching takes the copy away. What
    os.write puts on fd 1 is not copied."""
    script = tmp_path / "speaker.py"
    script.write_text(SPEAKER)
    out_path, err_path = tmp_path / "out", tmp_path / "err"

    def lines(path: Path) -> list[str]:
        return path.read_text(encoding="utf-8").splitlines()

    def states() -> list[dict]:
        return [json.loads(x[6:]) for x in lines(out_path) if x.startswith("state ")]

    def wait(cond, what: str) -> None:  # noqa: ANN001
        deadline = time.monotonic() + 20
        while not cond():
            assert time.monotonic() < deadline, what
            time.sleep(0.02)

    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([_python(pyname), str(script)], stdout=out, stderr=err)
    try:
        wait(lambda: len(states()) >= 3, "the program did not start printing")
        done = _attach("--json", "--timeout", "1", str(proc.pid))
        assert done.returncode == 0, done.stderr
        after = len(states())
        wait(lambda: len(states()) > after + 3, "the program stopped printing")
    finally:
        proc.kill()
        proc.wait()
    events = _events(done.stdout)
    names = {e["id"]: e["name"] for e in events if e["event"] == "task_created"}
    copies = [e for e in events if e["event"] == "output"]
    assert {names.get(e["task"]) for e in copies} == {"printer"}
    copied = {
        stream: "".join(e["text"] for e in copies if e["stream"] == stream).splitlines()
        for stream in ("stdout", "stderr")
    }
    # Its own files: every line of every round, in order, once (the last round may be cut).
    real_out, real_err = lines(out_path), lines(err_path)
    n = len(states())
    assert n >= 8
    for i in range(n):
        assert real_out[3 * i : 3 * i + 2] == [f"out {i} \u00fc", f"raw {i}"]
        assert real_out[3 * i + 2].startswith("state ")
        assert real_err[2 * i : 2 * i + 2] == [f"err {i}", f"WARNING log {i}"]
    seen = states()
    assert all(st["bad"] == [] for st in seen), seen
    assert all(st["same"] == [True, True, "TextIOWrapper", "TextIOWrapper"] for st in seen)
    assert seen[0]["writes"] == seen[-1]["writes"] == [False, False]  # before and after
    assert [True, True] in [st["writes"] for st in seen]  # the copy, while attached
    # The copy: a run of consecutive rounds, exactly as printed, without os.write's lines.
    assert len(copied["stdout"]) >= 4 and len(copied["stderr"]) >= 4, copied
    sent = [x for x in real_out if not x.startswith("raw ")]
    start = sent.index(copied["stdout"][0])
    assert sent[start : start + len(copied["stdout"])] == copied["stdout"]
    start = real_err.index(copied["stderr"][0])
    assert real_err[start : start + len(copied["stderr"])] == copied["stderr"]


# ---- refusals ----------------------------------------------------------------------------


def _refused(pid: int, status: int, *words: str) -> None:
    done = _attach("--timeout", "1", str(pid))
    assert done.returncode == status, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("asyncplay: cannot attach: "), lines
    for word in words:
        assert word in lines[0]


def _started(argv: list[str], env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    proc.stdout.readline()  # type: ignore[union-attr]  # it is running
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()
    proc.stdout.close()  # type: ignore[union-attr]


LOOP = "import asyncio\nasync def m():\n    print('up', flush=True)\n    await asyncio.sleep(60)\nasyncio.run(m())"


def test_refusals_no_process_not_python_no_loop():
    pid = 4_000_000
    while os.path.exists(f"/proc/{pid}"):
        pid += 1
    _refused(pid, exits.ATTACH_NO_PROCESS, f"no process {pid}")
    proc = _started(["sh", "-c", "echo up; exec sleep 60"])
    try:
        _refused(proc.pid, exits.ATTACH_NOT_PYTHON, "is not Python 3.14 or later")
    finally:
        _stop(proc)
    sleeper = "import time\nprint(1, flush=True)\nwhile True: time.sleep(0.05)"
    proc = _started([_python("python3.14"), "-c", sleeper])
    try:
        _refused(proc.pid, exits.ATTACH_NO_LOOP, "no running asyncio loop")
    finally:
        _stop(proc)


def test_refusal_python_313():
    proc = _started([_python("python3.13"), "-c", LOOP])
    try:
        _refused(proc.pid, exits.ATTACH_OLD_PYTHON, "runs Python 3.13", "3.14 or later")
    finally:
        _stop(proc)


@pytest.mark.parametrize("how", ["env", "xoption"])
def test_refusal_remote_debug_disabled(how):
    env = dict(os.environ)
    argv = [_python("python3.14"), "-c", LOOP]
    if how == "env":
        env["PYTHON_DISABLE_REMOTE_DEBUG"] = "1"
        word = "PYTHON_DISABLE_REMOTE_DEBUG"
    else:
        argv[1:1] = ["-X", "disable-remote-debug"]
        word = "-X disable-remote-debug"
    proc = _started(argv, env)
    try:
        _refused(proc.pid, exits.ATTACH_DISABLED, word, "restart it without")
    finally:
        _stop(proc)


def test_refusal_another_users_process(monkeypatch):
    """As another user (the check reads the owner of /proc/PID before anything else)."""
    from asyncplay.runner.attach_target import Refused, check_target

    if os.getuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to start a process as another user")
    proc = _started(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c",
         "echo up; exec sleep 60"]
    )  # fmt: skip
    try:
        monkeypatch.setattr(os, "getuid", lambda: 1000)
        with pytest.raises(Refused) as refused:
            check_target(proc.pid)
        assert refused.value.status == exits.ATTACH_OTHER_USER
        assert "belongs to nobody" in str(refused.value) and "your own" in str(refused.value)
    finally:
        _stop(proc)


def _fake_yama(monkeypatch, tmp_path: Path, scope: str | None, cap: bool) -> None:
    """kernel.yama.ptrace_scope read as ``scope`` (None: no Yama), CAP_SYS_PTRACE as
    ``cap``: this kernel has no Yama, and the host's sysctl is never changed (3 would
    stay until a reboot, and the other engineers' attaches would fail meanwhile)."""
    from asyncplay.runner import attach_target

    path = tmp_path / "ptrace_scope"
    if scope is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(scope + "\n")
    monkeypatch.setattr(attach_target, "YAMA", str(path))
    monkeypatch.setattr(attach_target, "may_ptrace_anyone", lambda: cap)


YAMA_WORDS = {
    "1": ["kernel.yama.ptrace_scope is 1", "its own descendants",
          "'sudo sysctl kernel.yama.ptrace_scope=0'", "running asyncplay as root"],
    "2": ["kernel.yama.ptrace_scope is 2", "only root (CAP_SYS_PTRACE)",
          "'sudo sysctl kernel.yama.ptrace_scope=0'", "running asyncplay as root"],
    "3": ["kernel.yama.ptrace_scope is 3", "root included, until a reboot", "'asyncplay run'"],
}  # fmt: skip


@pytest.mark.parametrize("scope", [None, "0", "1", "2", "3"])
@pytest.mark.parametrize("cap", [False, True], ids=["user", "cap_sys_ptrace"])
def test_ptrace_sentences(monkeypatch, tmp_path, scope, cap):
    """What the kernel's refusal says for each kernel.yama.ptrace_scope: why, and what
    would allow it. Scopes 1 and 2 let CAP_SYS_PTRACE through, so a refused root is
    refused for another reason; 3 refuses everyone."""
    from asyncplay.runner import attach_target

    _fake_yama(monkeypatch, tmp_path, scope, cap)
    why = attach_target.ptrace_why(os.getpid())  # dumpable: the Yama reading decides
    if scope == "3" or (scope in ("1", "2") and not cap):
        for words in YAMA_WORDS[scope]:
            assert words in why, why
    else:
        assert "yama" not in why and "not dumpable" in why and "security module" in why


def test_a_yama_refusal_is_one_line_and_its_status(monkeypatch, tmp_path, capsys):
    """The command line's refusal under Yama: the kernel's EPERM on /proc/PID/mem (faked:
    there is no Yama here) becomes one line naming the scope and the way out, status 85,
    and the program is left alone."""
    from asyncplay.cli import main
    from asyncplay.runner import attach_target

    def refused(pid: int) -> None:
        raise PermissionError(1, "Operation not permitted", f"/proc/{pid}/mem")

    proc = _started([sys.executable, "-c", LOOP])
    try:
        for scope in "123":
            _fake_yama(monkeypatch, tmp_path, scope, cap=False)
            monkeypatch.setattr(attach_target, "target_python", refused)
            status = main(["attach", "--json", str(proc.pid)])
            out, err = capsys.readouterr()
            assert status == exits.ATTACH_PTRACE == 85
            assert out == "" and err.count("\n") == 1, err
            assert err.startswith(f"asyncplay: cannot attach: the kernel does not let you "
                                  f"inspect process {proc.pid}: ptrace restrictions: ")  # fmt: skip
            for words in YAMA_WORDS[scope]:
                assert words in err
        assert proc.poll() is None
    finally:
        _stop(proc)


def test_an_undumpable_program_is_told_as_such_whatever_yama_says(monkeypatch, tmp_path):
    """The reason that would still hold with Yama off comes first: a program of nobody's
    that made itself undumpable (its /proc files are given to root) is told "not
    dumpable", even with ptrace_scope 1; its dumpable neighbour is told Yama's."""
    from asyncplay.runner import attach_target

    py = _python("python3.14")
    _as_nobody_possible(py)
    _fake_yama(monkeypatch, tmp_path, "1", cap=False)
    code = (
        "import ctypes, sys, time\n"
        "if sys.argv[1] == 'off':\n    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n"
        "print('up', flush=True)\ntime.sleep(60)"
    )
    shut = _started([*NOBODY, py, "-c", code, "off"])
    plain = _started([*NOBODY, py, "-c", code, "on"])
    try:
        assert attach_target.undumpable(shut.pid) and not attach_target.undumpable(plain.pid)
        assert "it is not dumpable" in attach_target.ptrace_why(shut.pid)
        assert "kernel.yama.ptrace_scope is 1" in attach_target.ptrace_why(plain.pid)
    finally:
        _stop(shut)
        _stop(plain)


# ---- the playground ----------------------------------------------------------------------


@pytest.mark.usefixtures("home")
async def test_the_playground_attaches_shows_tasks_and_f6_detaches(tmp_path):
    """The app with an injected attach session (really attached): the existing tasks in
    its model and task table, F5 says there is nothing to run, F6 detaches, quitting
    leaves the program going on, unhooked."""
    from asyncplay.runner.attach_session import AttachSession
    from asyncplay.tui.attach_mode import AttachApp
    from tests.tui_helpers import wait_for

    prog = Program(tmp_path, _python("python3.14"))
    try:
        baseline = prog.tick()
        session = AttachSession(prog.proc.pid)
        first = session.start()
        app = AttachApp(session, first)
        async with app.run_test(size=(120, 40)) as pilot:

            def names() -> set[str]:
                model = app.model
                return {t.name for t in model.tasks.values()} if model is not None else set()

            await wait_for(
                pilot,
                lambda: "worker-0" in names() and any(n.startswith("short-") for n in names()),
            )
            assert app.editor.read_only and "asyncplay attach" in app.editor.text
            # What it prints from now on shows in the Output pane too (a copy).
            await wait_for(pilot, lambda: "tick {" in app.output.text())
            assert "shown here as a copy" in app.editor.text
            worker = next(t for t in app.model.tasks.values() if t.name == "worker-0")
            assert worker.existing and worker.wait_file.endswith("demo.py")
            await pilot.press("f5")
            assert "nothing to run" in app.status_note()
            await pilot.press("f10")  # not asyncplay's to pause
            assert "F10 steps only a run the playground started" in app.status_note()
            await pilot.press("f6")
            await wait_for(pilot, lambda: app.model is not None and app.model.end is not None)
            assert app.model.end["reason"] == "detached"
            assert "detached from process" in app.model.end["message"]
            assert "detaching" in app.status_note()
            _unhooked(prog, baseline)
            await pilot.press("ctrl+q")
        session.close()
        _unhooked(prog, baseline)
        assert prog.stderr() == b""
    finally:
        prog.kill()


@pytest.mark.usefixtures("home")
async def test_closing_the_playground_detaches(tmp_path):
    from asyncplay.runner.attach_session import AttachSession
    from asyncplay.tui.attach_mode import AttachApp
    from tests.tui_helpers import wait_for

    prog = Program(tmp_path, _python("python3.14"))
    try:
        baseline = prog.tick()
        session = AttachSession(prog.proc.pid)
        app = AttachApp(session, session.start(), timeout=30)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.model is not None and app.model.steps > 3)
            await app.action_quit()
        _unhooked(prog, baseline)
        session = AttachSession(prog.proc.pid)  # --timeout detaches; the app stays open
        app = AttachApp(session, session.start(), timeout=0.5)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.model is not None and app.model.end is not None)
            assert "(--timeout 0.5 s)" in app.model.end["message"]
            assert app.is_running
            _unhooked(prog, baseline)
            await app.action_quit()
    finally:
        prog.kill()


# ---- the undo ----------------------------------------------------------------------------


def test_patches_put_back_own_and_inherited_attributes_and_leave_later_ones():
    from asyncplay.child.patches import Patches

    class Base:
        def f(self) -> str:
            return "base"

    class Kid(Base):
        def g(self) -> str:
            return "kid"

    def f_new(self) -> str:
        return "f"

    def g_new(self) -> str:
        return "g"

    def theirs(self) -> str:
        return "theirs"

    orig_g = Kid.__dict__["g"]
    patches = Patches()
    patches.set(Kid, "f", f_new)  # inherited: deleted again on undo
    patches.set(Kid, "g", g_new)  # its own: put back
    patches.set(Base, "f", theirs)
    assert Kid().f() == "f" and Kid().g() == "g"
    Base.f = lambda self: "later"  # someone replaced ours after us: theirs stays
    assert patches.undo() == ["f"]
    assert "f" not in Kid.__dict__ and Kid.__dict__["g"] is orig_g
    assert Kid().f() == "later" and len(patches) == 0


def test_a_runtime_the_program_cannot_load_is_one_line(tmp_path, monkeypatch):
    """asyncplay's folder unreadable to the program's user (here: not there at all)."""
    from asyncplay.runner import attach_session

    prog = Program(tmp_path, _python("python3.14"))
    try:
        baseline = prog.tick()
        monkeypatch.setattr(attach_session, "_package_root", lambda: str(tmp_path / "gone"))
        with pytest.raises(attach_session.Refused) as refused:
            attach_session.AttachSession(prog.proc.pid).start()
        assert refused.value.status == exits.INTERNAL
        assert "could not load asyncplay's runtime (ModuleNotFoundError" in str(refused.value)
        _unhooked(prog, baseline)
        assert prog.stderr() == b""
    finally:
        prog.kill()


def test_the_programs_own_asyncplay_is_never_loaded_in_place_of_ours(tmp_path, monkeypatch):
    """asyncplay's folder unreadable, and the program has an asyncplay of its own on its
    path (another version, or the same installed in its venv): that one is not run."""
    from asyncplay.runner import attach_session

    theirs = tmp_path / "theirs" / "asyncplay" / "child"
    theirs.mkdir(parents=True)
    (theirs.parent / "__init__.py").write_text("")
    (theirs / "__init__.py").write_text("")
    ran = tmp_path / "theirs_ran"
    (theirs / "attached.py").write_text(
        f"def start(sock, token):\n    open({str(ran)!r}, 'w').close()\n"
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "theirs"))
    prog = Program(tmp_path, _python("python3.14"), env=env)
    try:
        baseline = prog.tick()
        monkeypatch.setattr(attach_session, "_package_root", lambda: str(tmp_path / "gone"))
        with pytest.raises(attach_session.Refused) as refused:
            attach_session.AttachSession(prog.proc.pid, connect_timeout=5).start()
        assert refused.value.status == exits.INTERNAL
        assert "(ModuleNotFoundError: no asyncplay package readable there)" in str(refused.value)
        assert str(refused.value).endswith(f"must be able to read {tmp_path / 'gone'}")
        assert not ran.exists()
        _unhooked(prog, baseline)
        assert prog.stderr() == b""
    finally:
        prog.kill()


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _as_nobody_possible(py: str) -> None:
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run as nobody")
    probe = subprocess.run(
        [*NOBODY, py, "-c", "import asyncplay.cli"], cwd=ROOT, capture_output=True, timeout=30
    )
    if probe.returncode != 0:
        pytest.skip("the checkout is not readable by nobody")


def test_a_plain_user_attaches_to_their_own_program_not_to_an_undumpable_one(tmp_path):
    """No root, no capability: nobody attaches to nobody's program (asyncplay itself on
    Debian's python3.14); a program that made itself undumpable is refused."""
    py = _python("python3.14")
    _as_nobody_possible(py)
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="asyncplay-attach-test-"))  # nobody reads it
    os.chmod(shared, 0o755)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(shared)}
    prog = Program(shared, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", py)
    shut = None
    try:
        baseline = prog.tick()
        done = subprocess.run(
            [*NOBODY, py, "-m", "asyncplay", "attach", "--json", "--timeout", "0.5",
             str(prog.proc.pid)],
            cwd=ROOT, capture_output=True, text=True, timeout=30, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert '"task_existing"' in done.stdout
        _unhooked(prog, baseline)
        code = (
            "import ctypes, asyncio\nctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n"
            "async def m():\n    print('up', flush=True)\n    await asyncio.sleep(60)\n"
            "asyncio.run(m())"
        )
        shut = _started([*NOBODY, py, "-c", code])
        refused = subprocess.run(
            [*NOBODY, py, "-m", "asyncplay", "attach", str(shut.pid)],
            cwd=ROOT, capture_output=True, text=True, timeout=30, env=env,
        )  # fmt: skip
        assert refused.returncode == exits.ATTACH_PTRACE, refused.stderr
        assert "not dumpable" in refused.stderr
    finally:
        if shut is not None:
            _stop(shut)
        prog.kill()
        shutil.rmtree(shared, ignore_errors=True)


def test_a_loop_in_another_thread_is_not_reached(tmp_path):
    """sys.remote_exec runs in the main thread only: one blocked in join() never runs it."""
    import tempfile

    from asyncplay.runner import attach_session
    from asyncplay.runner.attach_session import AttachSession, Refused

    code = (
        "import asyncio, threading\n"
        "async def m():\n    print('up', flush=True)\n    await asyncio.sleep(60)\n"
        "t = threading.Thread(target=asyncio.run, args=(m(),))\nt.start()\nt.join()"
    )
    proc = _started([_python("python3.14"), "-c", code])
    try:
        with pytest.raises(Refused) as refused:
            AttachSession(proc.pid, connect_timeout=1.0).start()
        assert refused.value.status == exits.ATTACH_NO_ANSWER
        assert "another thread" in str(refused.value)
        # The script is still pending in the program: left, emptied (deleting it would
        # make the program print "Can't open debugger script" when it runs at last).
        base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
        left = list(Path(base).glob(f"asyncplay-attach-{proc.pid}-*/attach.py"))
        assert len(left) == 1 and left[0].read_text() == ""
    finally:
        _stop(proc)
    attach_session._sweep(base)  # its program is gone: the next attach removes it
    assert not left[0].parent.exists()


@pytest.mark.parametrize("pyname", PYTHONS)
def test_an_idle_loop_is_woken(pyname):
    """A loop asleep for a minute with nothing else to do: without the self-pipe wake-up the
    script would wait for that timer, and the attach would give up after 10 s."""
    proc = _started([_python(pyname), "-c", LOOP])
    try:
        start = time.monotonic()
        done = _attach("--json", "--timeout", "0.2", str(proc.pid))
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - start < 8
        assert '"task_existing"' in done.stdout and "sleep(60)" in done.stdout
    finally:
        _stop(proc)


def test_warnings_while_attached(tmp_path):
    """A step that blocks the loop is told, with the program's line, as in a run."""
    script = tmp_path / "slow.py"
    script.write_text(
        "import asyncio, time\n"
        "async def hog():\n"
        "    while True:\n"
        "        await asyncio.sleep(0.2)\n"
        "        time.sleep(0.15)\n"
        "async def main():\n"
        "    print('up', flush=True)\n"
        "    asyncio.create_task(hog(), name='hog')\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    proc = _started([_python("python3.14"), str(script)])
    try:
        done = _attach("--json", "--timeout", "1", str(proc.pid))
        assert done.returncode == 0, done.stderr
        warnings = [e for e in _events(done.stdout) if e["event"] == "warning"]
        assert warnings and warnings[0]["kind"] == "slow_step"
        assert warnings[0]["file"] == str(script) and warnings[0]["line"] == 5
    finally:
        _stop(proc)


def test_the_help_says_no_sandbox_applies():
    done = _attach("--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "No sandbox applies" in text and "--timeout" in text and "--queue-sizes" not in text
    assert "a copy of what the program writes through sys.stdout and sys.stderr" in text
    bad = _attach("abc")
    assert bad.returncode == exits.USAGE and "process id" in bad.stderr


OBJECTS = r"""
import asyncio, json, time
from asyncio import locks, queues
INITS = [c.__dict__["__init__"] for c in (queues.Queue, locks.Lock, locks.Event)]
KEPT = []

def wrapped(o):
    return sorted(n for n in ("put_nowait", "join", "acquire", "release", "wait", "set")
                  if n in vars(o))

async def main():
    while True:
        jobs = asyncio.Queue(maxsize=1)
        guard = asyncio.Lock()
        async with guard:
            await jobs.put(1)
            await asyncio.to_thread(time.sleep, 0.01)
            jobs.get_nowait()
        KEPT.extend([jobs, guard])  # every one made, those made while attached among them
        print("tick", json.dumps({
            "inits": [c.__dict__["__init__"] is i
                      for c, i in zip((queues.Queue, locks.Lock, locks.Event), INITS)],
            "wrapped": sorted({n for o in KEPT for n in wrapped(o)}),
            "lines": sorted({type(q._putters).__name__ for q in KEPT[::2]})}), flush=True)
        await asyncio.sleep(0.1)

asyncio.run(main())
"""


@pytest.mark.parametrize("pyname", PYTHONS)
def test_queues_locks_and_executor_jobs_made_while_attached_are_seen(tmp_path, pyname):
    """Objects made after the attach are told as in a run (``primitive`` with the name its
    line assigns, ``executor_job`` with the thread); at the detach asyncio's own
    ``__init__``s come back and the objects made meanwhile lose their wrappers."""
    script = tmp_path / "objs.py"
    script.write_text(OBJECTS)
    proc = subprocess.Popen(
        [_python(pyname), str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def tick() -> dict:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("tick "), line + proc.stderr.read()  # type: ignore[union-attr]
        return json.loads(line[5:])

    try:
        before = tick()
        assert before == {"inits": [True] * 3, "wrapped": [], "lines": ["deque"]}
        done = _attach("--json", "--timeout", "1", str(proc.pid))
        assert done.returncode == 0, done.stderr
        events = _events(done.stdout)
        made = [e for e in events if e["event"] == "primitive"]
        assert {(e["kind"], e["name"]) for e in made} == {("Queue", "jobs"), ("Lock", "guard")}
        assert all(e["file"] == str(script) for e in made)
        assert {e["line"] for e in made if e["kind"] == "Queue"} == {13}
        states = [e for e in events if e["event"] == "primitive_state"]
        assert any(e.get("puts", 0) >= 1 for e in states)
        assert any(e["acquisitions"] >= 1 for e in states)
        jobs = [e for e in events if e["event"] == "executor_job" and e["ended"] is not None]
        assert jobs and jobs[0]["function"] == "time.sleep"
        assert jobs[0]["thread"].startswith("asyncio_")
        # after the detach: asyncio's own classes and objects again, every one of them
        # (those made while attached had their wrappers: the ticks of then said so)
        attached = {
            "inits": [False, False, False],
            "wrapped": ["acquire", "join", "put_nowait", "release"],
            "lines": ["WaitLine", "deque"],
        }
        deadline = time.monotonic() + 10
        for want in (attached, before):  # the ticks of then (in the pipe), then after
            state = tick()
            while state != want:
                assert time.monotonic() < deadline, f"never {want}: {state}"
                state = tick()
            assert state == want
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
