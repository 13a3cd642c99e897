"""The child runtime's own duties: naming waits, hostile programs, loops it cannot trace."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import asyncplay, env
from made_once import json_runs
from pythons import SUPPORTED_VERSIONS, python_or_skip

from asyncplay import decoder

WAITS = """
import asyncio
import threading

async def main():
    q = asyncio.Queue()
    lock = asyncio.Lock()
    ev = asyncio.Event()
    sem = asyncio.Semaphore(0)

    async def getter():
        return await q.get()

    async def locker():
        async with lock:
            pass

    async def waiter():
        await ev.wait()

    async def acquirer():
        await sem.acquire()

    async def sleeper():
        await asyncio.sleep(0.05)

    await lock.acquire()
    tasks = [asyncio.create_task(c(), name=c.__name__) for c in (getter, locker, waiter, acquirer)]
    g = asyncio.gather(sleeper(), sleeper())
    follower = asyncio.create_task(asyncio.wait_for(tasks[0], 5), name="follower")
    # (a thread that waits: on 3.14+ a to_thread whose thread is already done never suspends)
    gate = threading.Event()
    threaded = asyncio.create_task(asyncio.to_thread(gate.wait), name="threaded")
    await asyncio.sleep(0.02)
    q.put_nowait(1); lock.release(); ev.set(); sem.release(); gate.set()
    await g
    await asyncio.gather(*tasks, follower, threaded)

asyncio.run(main())
"""


def _awaited(result) -> dict[str, set[str]]:
    names = {e["id"]: e["name"] for e in result.kinds("task_created")}
    for e in result.kinds("task_renamed"):
        names[e["id"]] = e["name"]
    seen: dict[str, set[str]] = {}
    for batch in result.kinds("steps"):
        for tid, _start, _dur, awaiting, _file, _line in batch["steps"]:
            if awaiting:
                seen.setdefault(names[tid], set()).add(awaiting)
    return seen


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_waits_are_named_like_a_person_would(tmp_path, version) -> None:
    (tmp_path / "w.py").write_text(WAITS)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), "w.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:]
    seen = _awaited(r)
    assert seen["getter"] == {"Queue.get()"}
    assert seen["locker"] == {"Lock.acquire()"}
    assert seen["waiter"] == {"Event.wait()"}
    assert seen["acquirer"] == {"Semaphore.acquire()"}
    assert seen["follower"] == {"wait_for(...)"} or seen["follower"] == {"getter"}
    assert seen["threaded"] == {"to_thread(Event.wait)"}
    by_coro = {e["coro"]: e["name"] for e in r.kinds("task_created")}
    assert seen[by_coro["main.<locals>.sleeper"]] == {"sleep(0.05)"}
    assert "gather(2)" in seen[by_coro["main"]]
    # Suspended lines point into the user's file.
    lines = {
        line
        for b in r.kinds("steps")
        for _t, _s, _d, a, f, line in b["steps"]
        if a == "Queue.get()" and f.endswith("w.py")
    }
    assert lines == {12}


def test_internal_flag(tmp_path) -> None:
    (tmp_path / "i.py").write_text(
        "import asyncio\nasync def main():\n"
        "    t = asyncio.create_task(asyncio.sleep(0.01))\n    await t\nasyncio.run(main())\n"
    )
    r = asyncplay("run", "--json", "i.py", cwd=tmp_path)
    created = {e["coro"]: e for e in r.kinds("task_created")}
    assert created["main"]["internal"] is False
    assert created["sleep"]["internal"] is False and created["sleep"]["line"] == 3
    assert created["BaseEventLoop.shutdown_asyncgens"]["internal"] is True
    assert created["BaseEventLoop.shutdown_default_executor"]["internal"] is True


CREATED_AT = """import asyncio
async def work(n):
    await asyncio.sleep(0)
def spawn(n):
    a = asyncio.create_task(work(n), name=f"a{n}")
    if n % 2:
        return [a, asyncio.create_task(work(n), name=f"odd{n}")]
    return [a, asyncio.ensure_future(work(n))]
async def main():
    tasks = []
    for n in range(6):
        tasks += spawn(n)
    await asyncio.gather(*tasks)
asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_where_created_is_each_call_s_own_line(tmp_path, version) -> None:
    """The line of creation is cached by the creating frame's code and instruction
    offset (tracer.register): one function creating tasks at several lines, called
    again and again, gives each task its own line, and the unnamed ones their own."""
    (tmp_path / "c.py").write_text(CREATED_AT)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), "c.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:]
    made = [e for e in r.kinds("task_created") if e["coro"] == "work"]
    assert len(made) == 12
    assert [e["line"] for e in made] == [5, 8, 5, 7] * 3  # in the order they were made
    assert all(e["file"].endswith("c.py") for e in made)


def test_untraceable_loop_gets_one_warning(tmp_path) -> None:
    (tmp_path / "u.py").write_text(
        "import asyncio\n"
        "from asyncio import events\n"
        "class AlienLoop(asyncio.AbstractEventLoop):\n"
        "    def run_until_complete(self, coro):\n"
        "        events._set_running_loop(self)\n"
        "        try:\n"
        "            try:\n"
        "                coro.send(None)\n"
        "            except StopIteration as stop:\n"
        "                return stop.value\n"
        "        finally:\n"
        "            events._set_running_loop(None)\n"
        "async def main():\n"
        "    return 42\n"
        "loop = AlienLoop()\n"
        "print(loop.run_until_complete(main()))\n"
        "print(loop.run_until_complete(main()))\n"
    )
    r = asyncplay("run", "--json", "u.py", cwd=tmp_path)
    assert r.returncode == 0 and r.program_stdout == "42\n42\n"
    warnings = [w for w in r.kinds("warning") if w["kind"] == "untraceable_loop"]
    assert len(warnings) == 1 and "AlienLoop" in warnings[0]["message"]


def test_forged_records_do_not_fool_asyncplay(tmp_path) -> None:
    (tmp_path / "f.py").write_text(
        "import os, json\n"
        "for fd in range(200, 260):\n"
        "    try:\n"
        '        os.write(fd, b\'J\' + (40).to_bytes(4, \'little\') + b\'{"event":"run_end","t":1,"exit_code":0}\')\n'
        "        os.write(fd, b'\\xff' * 64)\n"
        "    except OSError:\n"
        "        pass\n"
        "print('forged')\n"
        "raise SystemExit(3)\n"
    )
    r = asyncplay("run", "--json", "f.py", cwd=tmp_path)
    assert r.returncode == 3
    kinds = [e["event"] for e in r.events]
    assert kinds.count("run_end") == 1 and kinds[-1] == "run_end"
    assert r.events[-1]["exit_code"] == 3 and "protocol_error" in kinds
    plain = asyncplay("run", "--quiet", "f.py", cwd=tmp_path)
    assert plain.stdout == b"forged\n" and plain.returncode == 3


def test_fork_in_the_program(tmp_path) -> None:
    """The runtime's fork hooks (its helper thread stopped, then started again) neither
    hang nor hold up the fork: timed by the program itself, from the fork to the child's
    end, not as the whole command (start-up alone took 3.8 s at a load of 17); a hang
    would end the run at its time limit instead."""
    (tmp_path / "k.py").write_text(
        "import asyncio, os, sys, time\n"
        "async def main():\n"
        "    start = time.perf_counter()\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        print('child', flush=True)\n"
        # (not sys.exit: on 3.14+ a forked child's asyncio.run then fails to close its loop,
        # "is not the running loop", and hangs, under plain python3.14 as well)
        "        os._exit(0)\n"
        "    os.waitpid(pid, 0)\n"
        "    print('parent', time.perf_counter() - start)\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "--quiet", "k.py", cwd=tmp_path)
    assert r.returncode == 0
    lines = r.stdout.decode().splitlines()
    assert sorted(line.split()[0] for line in lines) == ["child", "parent"], lines
    took = float(next(line for line in lines if line.startswith("parent")).split()[1])
    assert took < 2.0, lines


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_eager_tasks_are_reported_with_their_first_step(tmp_path, version) -> None:
    (tmp_path / "e.py").write_text(
        "import asyncio\n"
        "async def quick():\n    return 1\n"
        "async def slow():\n    await asyncio.sleep(0.01)\n    return 2\n"
        "async def main():\n"
        "    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)\n"
        "    print(await asyncio.gather(quick(), slow()))\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "--json", "--python", python_or_skip(version), "e.py", cwd=tmp_path)
    assert r.returncode == 0 and r.program_stdout == "[1, 2]\n"
    ids = {e["coro"]: e["id"] for e in r.kinds("task_created")}
    done = {e["id"]: e for e in r.kinds("task_done")}
    assert done[ids["quick"]]["result"] == "1" and done[ids["slow"]]["result"] == "2"
    steps = [s for b in r.kinds("steps") for s in b["steps"]]
    assert sum(1 for s in steps if s[0] == ids["quick"]) == 1  # ran eagerly, once
    assert sum(1 for s in steps if s[0] == ids["slow"]) == 2


def test_real_uvloop_runs_with_one_warning(tmp_path) -> None:
    pytest.importorskip("uvloop", reason="uvloop is not installed (test extra)")
    (tmp_path / "uv.py").write_text(
        "import asyncio, uvloop\n"
        "async def main():\n"
        "    await asyncio.gather(asyncio.sleep(0.01), asyncio.sleep(0.02))\n"
        "    print('done')\n"
        "uvloop.run(main())\n"
    )
    import sys

    r = asyncplay("run", "--json", "--python", sys.executable, "uv.py", cwd=tmp_path)
    assert r.returncode == 0 and r.program_stdout == "done\n"
    assert [w["kind"] for w in r.kinds("warning")] == ["untraceable_loop"]


def _run_snippet(source: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``source`` with this checkout importable (the runtime's pieces, unit by unit)."""
    return subprocess.run(
        [sys.executable, "-c", source], env=env(), capture_output=True, timeout=timeout
    )


STOP_GIVES_UP = """
import _thread, sys, time
from asyncplay.child.periodic import Periodic

class Slow(Periodic):
    period = 0.001
    stop_wait = 0.02  # stop() gives up on the thread while it is in its tick
    ticks = []
    def tick(self):
        Slow.ticks.append(_thread.get_ident())
        time.sleep(1.5)  # longer than any stop() waits

p = Slow()
p.start()
while not Slow.ticks:
    time.sleep(0.001)
p.stop()
assert not p.running
if sys.argv[1] == "restart":  # again while the old thread is still in its tick
    p.start()
    time.sleep(2.0)
    old, new = Slow.ticks[0], Slow.ticks[-1]
    assert old != new and Slow.ticks.count(old) == 1, Slow.ticks  # the old one left
    p.stop()
time.sleep(2.0)  # every thread has left its tick by now
n = len(Slow.ticks)
time.sleep(0.3)
assert len(Slow.ticks) == n, "a thread still ticks after stop()"
print("ok")
"""


@pytest.mark.parametrize("how", ["stop", "restart"])
def test_a_helper_thread_that_outlives_stop_prints_nothing(how: str) -> None:
    """The PYTHONUNBUFFERED flood bug: at exit, stop() gave up waiting on a flusher stuck
    in a long tick and released the thread's lock itself; the thread's own release then
    raised and Python printed 'Exception ignored in thread started by' on stderr. A
    start() after such a stop() must not mix up the two threads' locks either."""
    r = _run_snippet(STOP_GIVES_UP.replace("sys.argv[1]", repr(how)))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"ok\n", b"")


RAISING_TICK = """
import time
from asyncplay.child.periodic import Periodic

class Broken(Periodic):
    period = 0.001
    def tick(self):
        raise SystemExit("a tick that raises anything at all")  # not an Exception

p = Broken()
p.start()
time.sleep(0.1)
p.stop()
print("ok")
"""


def test_a_helper_thread_swallows_everything() -> None:
    r = _run_snippet(RAISING_TICK)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"ok\n", b"")


# The child runtime booted by hand, its channel going to a file: what it sends, record by
# record, without the parent in between. argv: channel file, then "refuse-threads" or not.
BOOT = """
import _thread, json, os, sys, tempfile

if sys.argv[2] == "refuse-threads":  # what a pids limit of 1 does to every thread start

    def refuse(*args, **kwargs):
        raise RuntimeError("can't start new thread")

    _thread.start_new_thread = refuse
channel = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)  # boot moves it
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
    json.dump({"channel_fd": channel, "slow_step": 0.1}, spec)
os.environ["ASYNCPLAY_CHILD_SPEC"] = spec.name
from asyncplay.child import boot

boot.setup(os.path.join(tempfile.gettempdir(), "no-such-inject-dir"))
os.unlink(spec.name)
del _thread, json, os, sys, tempfile, channel, spec, boot
"""


def _boot_child(
    tmp_path,
    program: str,
    *,
    refuse_threads: bool = False,
    unbuffered: bool = False,
    python: str = sys.executable,
) -> tuple[subprocess.CompletedProcess, list[dict]]:
    channel = tmp_path / "channel"
    e = env()
    e.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        e["PYTHONUNBUFFERED"] = "1"
    how = "refuse-threads" if refuse_threads else "threads"
    r = subprocess.run(
        [python, "-c", BOOT + program, str(channel), how],
        env=e,
        capture_output=True,
        timeout=60,
    )
    return r, decoder.Decoder().feed(channel.read_bytes())


SLOW_STEP = """
import asyncio, sys, time

async def main():
    print("hi")
    time.sleep(0.3)
    await asyncio.sleep(0.01)  # where the slow step resumed
    print("bye", file=sys.stderr)

asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_the_runtime_works_without_its_helper_threads(tmp_path, version: str) -> None:
    """--procs 1 (a pids limit counts threads): the flusher and the watchdog cannot start.
    The runtime goes on without them, silently; the slow step is still reported, at the
    line the step resumed at."""
    r, events = _boot_child(
        tmp_path, SLOW_STEP, refuse_threads=True, python=python_or_skip(version)
    )
    assert (r.returncode, r.stdout, r.stderr) == (0, b"hi\n", b"bye\n")
    kinds = [e["event"] for e in events]
    assert kinds[0] == "hello" and kinds[-1] == "bye" and "protocol_error" not in kinds
    warnings = [e for e in events if e["event"] == "warning"]
    assert [w["kind"] for w in warnings] == ["slow_step"], warnings
    resumed = (
        (BOOT + SLOW_STEP)
        .splitlines()
        .index("    await asyncio.sleep(0.01)  # where the slow step resumed")
    )
    assert warnings[0]["line"] == resumed + 1 and warnings[0]["duration"] >= 0.3


FLOOD = """
import asyncio, os, sys

async def main():
    for i in range(20_000):
        print("line", i)
    await asyncio.sleep(0)
    print("a", end="")
    os.write(1, b"b\\n")
    print("c")
    print("d", file=sys.stderr)

asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
@pytest.mark.parametrize("unbuffered", [True, False], ids=["-u", "buffered"])
def test_a_flood_is_sent_in_few_output_records(tmp_path, unbuffered: bool, version: str) -> None:
    """Under python -u every write of a print is a chunk (four per line here): one record
    each made the parent ten times slower than the program. A flood now goes in one
    record per run of a stream; a step that writes a little keeps one record per write,
    so bytes written with os.write between two prints are told apart exactly."""
    r, events = _boot_child(tmp_path, FLOOD, unbuffered=unbuffered, python=python_or_skip(version))
    lines = "".join(f"line {i}\n" for i in range(20_000)).encode()
    # Buffered, "a" waits in the buffer until the step ends: os.write goes first.
    tail = b"ab\nc\n" if unbuffered else b"b\nac\n"
    assert (r.returncode, r.stdout, r.stderr) == (0, lines + tail, b"d\n")
    records = [e for e in events if e["event"] == "output_record"]
    out = [e for e in records if e["stream"] == "stdout"]
    assert b"".join(e["data"] for e in out) == lines + b"ac\n"
    assert {e["task"] for e in out} == {1}
    assert len(out) < 2_000  # was 80,000 under -u
    last = [e["data"] for e in out[-3:]]
    assert last[-3:] == [b"a", b"c", b"\n"] if unbuffered else last[-1:] == [b"ac\n"]
    assert b"".join(e["data"] for e in records if e["stream"] == "stderr") == b"d\n"
    assert records[-1]["stream"] == "stderr"


def _pids_cgroup_why() -> str:
    if os.geteuid() != 0:
        return "not root: no pids cgroup of asyncplay's own"
    from asyncplay.sandbox.cgroup import CgroupError, locate

    try:
        locate("pids")
    except (CgroupError, OSError) as exc:
        return str(exc)
    return ""


def test_procs_1_runs_the_program_as_plain_python_would(tmp_path) -> None:
    why = _pids_cgroup_why()
    if why:
        pytest.skip(f"--procs cannot be enforced here: {why}")
    (tmp_path / "p.py").write_text(
        "import asyncio, sys\n"
        "async def main():\n"
        "    print('hi')\n"
        "    await asyncio.sleep(0.1)\n"
        "    print('there', file=sys.stderr)\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "--json", "--procs", "1", "p.py", cwd=tmp_path)
    assert r.program_stdout == "hi\n"
    assert [e["kind"] for e in r.kinds("warning")] == []
    assert r.events[-1]["reason"] == "exited" and r.returncode == 0
    assert b"sitecustomize" not in r.stderr
    quiet = asyncplay("run", "--quiet", "--procs", "1", "p.py", cwd=tmp_path)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, b"hi\n", b"there\n")


SLEEPS = """
import asyncio

async def main():
    for delay in (0.1 + 0.2, 1e-05, 0.25, 0.0):
        await asyncio.sleep(delay)
    await asyncio.sleep(1)  # an int stays an int
    await asyncio.wait_for(asyncio.sleep(10.0), 0.01)  # as does a whole float

try:
    asyncio.run(main())
except TimeoutError:
    pass
except asyncio.TimeoutError:
    pass
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_sleep_labels_are_short(session_dir, version) -> None:
    """``sleep(0.3)``, not ``sleep(0.30000000000000004)``: lanes and tables have no room.
    (The session's runs, on every version at once: 1.5 s of sleeps each.)"""
    python_or_skip(version)
    r = json_runs(session_dir, session_dir / "sleep_labels.py", SLEEPS)[version]
    seen = set().union(*_awaited(r).values())
    assert {"sleep(0.3)", "sleep(1e-05)", "sleep(0.25)", "sleep(1)", "sleep(10)"} <= seen, seen
    assert not any("0000" in a for a in seen), seen


def test_short_number() -> None:
    from asyncplay.child.safe_repr import short_number

    cases = [(1.8093983775872016, "1.81"), (0.25, "0.25"), (10, "10"), (10.0, "10")]
    cases += [(1e-05, "1e-05"), (1500.5, "1500"), (123.456, "123"), (-0.5, "-0.5")]
    cases += [(1e20, "1e+20"), (2**70, str(2**70))]
    for value, text in cases:
        assert short_number(value) == text, value
    assert short_number(None) == "None" and short_number(float("nan")) == "nan"
    assert short_number(True) == "True"


# ---- what the tracer sees of a program ------------------------------------------------------


def test_probing_for_asyncio_does_not_switch_tracing_off(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "import importlib.util\nimportlib.util.find_spec('asyncio')\nimport asyncio\n"
        "async def main():\n    await asyncio.sleep(0)\nasyncio.run(main())\n"
    )
    r = asyncplay("run", "--json", "p.py", cwd=tmp_path)
    assert "main" in {e["coro"] for e in r.kinds("task_created")}


def test_a_name_set_late_is_reported(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "import asyncio\n"
        "async def slow():\n"
        "    await asyncio.sleep(0.01)\n"
        "    asyncio.current_task().set_name('renamed-later')\n"
        "async def main():\n    await asyncio.create_task(slow(), name='first')\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "--json", "p.py", cwd=tmp_path)
    assert "renamed-later" in {e["name"] for e in r.kinds("task_renamed")}
