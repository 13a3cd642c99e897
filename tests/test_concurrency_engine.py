"""The child runtime's concurrency diagnostics: the blocking detector, the virtual clock,
deadlocks and where cancellations come from, on every installed CPython 3.10-3.15."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from helpers import PROGRAMS, ROOT, asyncplay
from made_once import json_runs
from pythons import SUPPORTED_VERSIONS, python_or_skip
from snippet_runs import VIRTUAL_VERSIONS, make_snippet_run, snippet_run

from asyncplay.model import build
from asyncplay.snippets import bundled_names, find_bundled

SNIPPETS = ROOT / "snippets"


def _line_of(path: Path, text: str) -> int:
    """The number of the one line of ``path`` that contains ``text``."""
    found = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(found) == 1, f"{text!r} in {path}: lines {found}"
    return found[0]


def _warnings(result, kind: str) -> list[dict]:
    return [w for w in result.kinds("warning") if w["kind"] == kind]


# ---- the blocking detector ---------------------------------------------------------------


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_blocking_lesson_gives_one_warning_at_the_time_sleep_line(
    version: str, session_dir: Path
) -> None:
    """The lesson 'a blocking time.sleep freezes everything': exactly one slow_step
    warning, at the time.sleep line (sampled while it blocks), with its duration. (The
    session's ``asyncplay run --json --python EXE blocking``, the run test_snippets checks:
    tests/snippet_runs.py.)"""
    python_or_skip(version)
    r = snippet_run("blocking", version, session_dir).result
    assert r.returncode == 0, r.stderr
    slow = _warnings(r, "slow_step")
    assert len(slow) == 1, slow
    (w,) = slow
    assert w["file"] == str(SNIPPETS / "blocking.py")
    assert w["line"] == _line_of(SNIPPETS / "blocking.py", "time.sleep(1)  #")
    assert 0.9 < w["duration"] < 5, w
    main = next(e for e in r.kinds("task_created") if e["coro"] == "main")
    assert w["task"] == main["id"]
    assert "held the event loop for 1.0" in w["message"] and "to_thread" in w["message"]


BLOCKED_IN_LIBRARY = """\
import asyncio
import queue


def helper():
    q = queue.Queue()
    try:
        q.get(timeout=0.4)  # blocks inside the standard library's queue.py
    except queue.Empty:
        pass


async def fine():
    await asyncio.sleep(0.01)
    sum(range(1000))


async def main():
    await asyncio.gather(fine(), fine())
    helper()
    await asyncio.sleep(0)


asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_slow_step_points_at_the_programs_own_line(version: str, tmp_path: Path) -> None:
    """Blocked deep inside the standard library: the line is the program's innermost one
    (the call into queue.py), not the library's; quick steps give no warning."""
    prog = tmp_path / "lib_block.py"
    prog.write_text(BLOCKED_IN_LIBRARY)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), str(prog), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    slow = _warnings(r, "slow_step")
    assert [(w["file"], w["line"]) for w in slow] == [(str(prog), 8)], slow


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS[-1:])
def test_slow_step_threshold_is_the_flag(version: str, tmp_path: Path) -> None:
    """``--slow-step MS``: a 0.3 s block is slow at the default 100 ms, not at 2000 ms."""
    prog = tmp_path / "block.py"
    prog.write_text(
        "import asyncio, time\n"
        "async def main():\n"
        "    await asyncio.sleep(0)\n"
        "    time.sleep(0.3)\n"
        "asyncio.run(main())\n"
    )
    py = python_or_skip(version)
    r = asyncplay("run", "--json", "--python", py, str(prog), cwd=tmp_path)
    assert [w["line"] for w in _warnings(r, "slow_step")] == [4]
    hello = r.kinds("hello")[0]
    assert hello["slow_step"] == pytest.approx(0.1)
    r = asyncplay("run", "--json", "--slow-step", "2000", "--python", py, str(prog), cwd=tmp_path)
    assert _warnings(r, "slow_step") == []
    assert r.kinds("hello")[0]["slow_step"] == pytest.approx(2.0)


@pytest.mark.parametrize("version", ["3.10", SUPPORTED_VERSIONS[-1]])
async def test_a_slow_step_cut_short_by_a_stop_is_still_warned(version: str, tmp_path) -> None:
    """``while True: pass`` stopped before the 2 s ongoing report: the run used to end
    with no warning at all. The watchdog's ``step_open`` now names the held line once the
    step is slow, and the reducer warns at the run's end, at that line."""
    from asyncplay.model import RunModel, apply
    from asyncplay.runner.session import RunSession
    from asyncplay.runner.spec import RunSpec

    source = (
        "import asyncio\n"
        "async def spin():\n"
        "    while True:\n"
        "        pass\n"
        "async def main():\n"
        "    await asyncio.create_task(spin(), name='spinner')\n"
        "asyncio.run(main())\n"
    )
    spec = RunSpec(source=source, path=str(tmp_path / "spin.py"), python=python_or_skip(version))
    s = await RunSession.start(spec)
    m = RunModel()
    async for ev in s.events():
        apply(m, ev)
        if ev["event"] == "step_open" and ev.get("line") in (3, 4):
            break  # slow, its line known, not told yet (that comes at 2 s)
    assert m.warnings == []
    await s.stop()
    async for ev in s.events():
        apply(m, ev)
    await s.aclose()
    assert m.status == "ended"
    [w] = m.warnings
    assert w["kind"] == "slow_step" and w["line"] in (3, 4), w
    assert w["message"].startswith("spinner held the event loop for "), w
    if version != "3.10":  # asyncio.run's SIGINT handler only cancels: the step goes on
        assert w.get("until_end") and "until the run ended, without an await" in w["message"]
    # (3.10 has no such handler: KeyboardInterrupt ends the step, which tells its length)


RUNAWAY = """\
import asyncio, time


async def main():
    print("starting")
    time.sleep(3.5)  # blocks past the ongoing mark, then ends
    await asyncio.sleep(0)
    while True: pass  # never awaits again: killed by --timeout (one line: 3.15 puts a
    # two-line loop's frame on its body's line, 3.10-3.14 on the while)


asyncio.run(main())
"""


@pytest.mark.parametrize("version", ["3.10", SUPPORTED_VERSIONS[-1]])
def test_a_step_that_never_ends_is_seen_while_it_runs(version: str, tmp_path: Path) -> None:
    """Records used to leave only at step ends and loop waits: a task spinning for ever
    never appeared (the time limit's kill lost them all), and its slow step was never
    reported. A helper thread now pushes records that waited 100 ms, and a step still
    running after 2 s is reported then, as ongoing - once: the step that ends after that
    gets no second warning."""
    prog = tmp_path / "runaway.py"
    prog.write_text(RUNAWAY)
    r = asyncplay(
        "run",
        "--json",
        "--timeout",
        "7",
        "--python",
        python_or_skip(version),
        str(prog),
        cwd=tmp_path,
    )
    assert r.events[-1]["reason"] == "timeout", r.stderr[-500:]
    assert [e["coro"] for e in r.kinds("task_created") if not e["internal"]] == ["main"]
    assert r.program_stdout == "starting\n"
    slow = _warnings(r, "slow_step")
    sleep_line, loop_line = _line_of(prog, "time.sleep(3.5)"), _line_of(prog, "while True:")
    # Told at 2 s while it ran, then updated with its real length once it ended (same
    # step, same line); the endless loop is told once and never ends.
    assert [(w["line"], w.get("ongoing"), w.get("update")) for w in slow] == [
        (sleep_line, True, None),
        (sleep_line, None, True),
        (loop_line, True, None),
    ], slow
    assert slow[0]["step"] == slow[1]["step"] != slow[2]["step"]
    assert 2.0 <= slow[0]["duration"] < 3.5 <= slow[1]["duration"] < 4.5, slow
    assert "has held the event loop for 2." in slow[0]["message"]
    assert "held the event loop for 3." in slow[1]["message"]
    # The model keeps one warning per slow step: the update replaces the first, and the
    # endless one says how long it held the loop, up to the run's end.
    m = build(r.events)
    assert [w["line"] for w in m.warnings] == [sleep_line, loop_line]
    assert m.warnings[0]["duration"] >= 3.5 and m.slow_steps == 2
    assert m.warnings[1].get("until_end") and m.warnings[1]["duration"] > 2.5
    assert "until the run ended" in m.warnings[1]["message"]
    # The step in progress is running: told while it ran (step_open), counted at the end.
    opens = r.kinds("step_open")
    assert opens and all(e["id"] == 1 for e in opens)
    main = m.tasks[1]
    assert (main.state, main.unfinished) == ("running", True)
    assert main.steps == 2 and main.running > 5.5 and main.waited(m.now) < 0.5


def test_a_task_that_never_awaits_still_appears(tmp_path: Path) -> None:
    """Its creation record waited for a step end that never came; the time limit's kill
    then lost it, and the TUI said "no task seen yet" for the whole run."""
    prog = tmp_path / "spin.py"
    prog.write_text(
        "import asyncio\n\nasync def main():\n    while True:\n        pass\n\nasyncio.run(main())\n"
    )
    # The limit must leave the program time to reach main() under load (a loaded machine
    # took more than 1.5 s to start it): it is the kill of a step that never ends that
    # is tested, not how soon it comes.
    r = asyncplay("run", "--json", "--timeout", "4", str(prog), cwd=tmp_path)
    assert r.events[-1]["reason"] == "timeout", r.stderr[-500:]
    assert [e["coro"] for e in r.kinds("task_created") if not e["internal"]] == ["main"]


# ---- the virtual clock -------------------------------------------------------------------

#: What may differ between the clocks in a snippet's output, each with its reason.
CLOCK_NORMALISE = (
    # Durations the snippet measures itself with the time module: that clock is real.
    (re.compile(r"\d+\.\d+ s\b"), "N.N s"),
    # Which worker thread of a pool takes a job is the OS's choice, under either clock.
    (re.compile(r"\bpool_\d+\b"), "pool_N"),
)


def _normalised(text: str) -> str:
    for pattern, replacement in CLOCK_NORMALISE:
        text = pattern.sub(replacement, text)
    return text


def _summary(result) -> list[tuple[str, str, str | None]]:
    """Each non-internal task's name, coroutine and end state (default names ``Task-N``
    count differently across Python versions)."""
    model = build(result.events)
    return sorted(
        (re.sub(r"^Task-\d+$", "Task-N", t.name), t.coro, t.state)
        for t in model.tasks.values()
        if not t.internal
    )


# (One Python per way the virtual clock meets asyncio, not six: snippet_runs.VIRTUAL_VERSIONS.)
@pytest.mark.parametrize("version", VIRTUAL_VERSIONS)
@pytest.mark.parametrize("name", bundled_names())
def test_virtual_clock_changes_nothing_but_time(name: str, version: str, session_dir) -> None:
    """Every bundled snippet prints the same lines in the same order and ends its tasks
    the same way under both clocks (compared with the real-clock run on the same Python
    that tests/test_snippets.py checks: tests/snippet_runs.py makes it once for both),
    apart from the durations it measures itself."""
    python = python_or_skip(version)
    snippet = find_bundled(name)
    assert snippet is not None
    # (the session's virtual run is made beside the real ones: tests/snippet_runs.py)
    v = snippet_run(name, version, session_dir, clock="virtual").result
    assert v.kinds("hello")[0]["clock"] == "virtual"
    if not snippet.supports(tuple(map(int, version.split(".")))):
        assert v.returncode == 1 and v.program_stdout == ""
        return
    real = snippet_run(name, version, session_dir).result
    assert real.kinds("hello")[0]["clock"] == "real"  # asyncplay's default
    for _ in range(2):
        if _normalised(v.program_stdout) == _normalised(real.program_stdout):
            break
        # Timers that two tasks' steps set one after the other are due microseconds apart
        # and fire in one loop pass on an idle machine, under either clock. On a busy one
        # the process can be held off between the two steps for milliseconds: more than
        # the virtual clock's 1 ms jump slack (2 virtual runs of the semaphore lesson in 25
        # at a load of 10 had 3.3 ms between 'download 1: started' and 'download 2:
        # started'), or than a real wake-up's lateness; the timers then fire in two passes
        # and 'download 3: started' comes before 'download 2: finished'. Either run may be
        # the one held off, so both are run again; a clock that changes the order on an
        # idle machine differs every time.
        v = make_snippet_run(name, python, session_dir, clock="virtual").result
        real = make_snippet_run(name, python, session_dir).result
    assert v.returncode == real.returncode
    assert _normalised(v.program_stdout) == _normalised(real.program_stdout)
    assert _summary(v) == _summary(real)


def test_gather_lesson_takes_three_virtual_seconds_in_no_time() -> None:
    """The tutorial's gather of 2, 3 and 1 s sleeps: the same lines, about 3 s of program
    time (task lifetimes, event times), far less real time than the 3 s a real run needs.
    Real time as the program itself measures it (``perf_counter``: the virtual clock moves
    only the loop's), not the command's wall time: start-up alone takes seconds on a busy
    machine (2.8 s at a load of 15)."""
    r = asyncplay("run", "--json", "--clock", "virtual", "gather", cwd=ROOT)
    assert r.returncode == 0, r.stderr
    found = re.search(r"main: total time (\d+\.\d) s", r.program_stdout)
    assert found is not None, r.program_stdout
    took = float(found[1])
    assert took < 2.0, r.program_stdout  # the sleeps alone are 3.0 s of real time
    model = build(r.events)
    main = next(t for t in model.tasks.values() if t.coro == "main")
    lifetime = main.ended - main.created
    # The jumps' 3 s, plus the real time its steps took (a loaded machine's too).
    assert 2.99 < lifetime < 3.2 + took, (lifetime, took)
    sleeps = {t.name: t.ended - t.created for t in model.tasks.values() if t.coro == "worker"}
    assert [round(sleeps[n]) for n in ("worker-A", "worker-B", "worker-C")] == [2, 3, 1]
    # Steps keep their real (tiny) durations.
    assert max(t.longest_step for t in model.tasks.values()) < 0.5


def test_virtual_time_runs_at_the_real_rate_while_a_thread_works(tmp_path: Path) -> None:
    """While to_thread is pending, a wait_for must not time out early: the clock does not
    jump past a thread's work (nor a subprocess's)."""
    prog = tmp_path / "thread.py"
    prog.write_text(
        "import asyncio, sys, time\n"
        "async def main():\n"
        "    r = await asyncio.wait_for(asyncio.to_thread(time.sleep, 0.3), 5)\n"
        "    print('thread done', r)\n"
        "    p = await asyncio.create_subprocess_exec(sys.executable, '-c', 'import time; time.sleep(0.3)')\n"
        "    await asyncio.wait_for(p.wait(), 5)\n"
        "    print('subprocess done', p.returncode)\n"
        "    await asyncio.sleep(100)\n"
        "    print('slept')\n"
        "asyncio.run(main())\n"
    )
    start = time.monotonic()
    r = asyncplay("run", "--json", "--clock", "virtual", str(prog), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.program_stdout == "thread done None\nsubprocess done 0\nslept\n"
    assert time.monotonic() - start < 30
    end = max(e["t"] for e in r.kinds("task_done"))
    assert end > 100.5  # 0.6 s of real waiting plus the 100 s jump


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS[-1:])
def test_speed_scales_the_waits(version: str, tmp_path: Path) -> None:
    """``--speed 8``: a 4 s sleep takes about 0.5 s of real time, and still reads as 4 s
    in the events (the program's clock). Real time as the program measures it around the
    sleep: the command's wall time counts start-up, 3.8 s at a load of 17."""
    prog = tmp_path / "sleepy.py"
    prog.write_text(
        "import asyncio, time\n"
        "async def main():\n"
        "    start = time.perf_counter()\n"
        "    await asyncio.sleep(4)\n"
        "    print(time.perf_counter() - start)\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "--json", "--speed", "8", "--python", python_or_skip(version), str(prog))
    assert r.returncode == 0, r.stderr
    assert r.kinds("hello")[0]["speed"] == 8.0
    (main,) = [e for e in r.kinds("task_created") if not e["internal"]]
    done = next(e for e in r.kinds("task_done") if e["id"] == main["id"])
    assert 3.95 < done["t"] - main["t"] < 4.5
    real = float(r.program_stdout)
    # A real wait of 4 / 8 s: no shorter (not a jump), far from the 4 s of speed 1.
    assert 0.49 < real < 2.0, f"{real:.2f} s of real time for a 4 s sleep at speed 8"


# ---- deadlocks ---------------------------------------------------------------------------


def _names(result) -> dict[int, str]:
    names = {e["id"]: e["name"] for e in result.kinds("task_created")}
    names.update({e["id"]: e["name"] for e in result.kinds("task_renamed")})
    return names


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_a_cycle_of_tasks_is_one_deadlock_warning(version: str, session_dir: Path) -> None:
    """ring-a awaits ring-b awaits ring-c awaits ring-a: one warning (the loop looks at
    every long wait, three times here), in ring order, at each task's await line; the run
    goes on. (The session's runs, on every version at once: 3.6 s of sleeps each; shared
    with tests/test_call_chains.py.)"""
    prog = PROGRAMS / "deadlock_cycle.py"
    python_or_skip(version)
    r = json_runs(session_dir, prog)[version]
    assert r.returncode == 0, r.stderr
    assert r.program_stdout == "still stuck: [False, False, False]\n"
    (w,) = _warnings(r, "deadlock")
    names = _names(r)
    assert w["cycle"] is True
    assert [names[t] for t in w["tasks"]] == ["ring-a", "ring-b", "ring-c"]
    assert (w["task"], w["file"], w["line"]) == (w["tasks"][0], str(prog), 11)
    assert "ring-a awaits ring-b" in w["message"] and "ring-c awaits ring-a" in w["message"]


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_every_task_waiting_with_nothing_to_wake_them(version: str, session_dir: Path) -> None:
    """No timer, I/O, thread or subprocess left: a deadlock as soon as it happens (not
    while the thread ran), naming each task and its line; a signal still wakes it."""
    prog = PROGRAMS / "deadlock_stall.py"
    python_or_skip(version)
    r = json_runs(session_dir, prog)[version]
    assert r.returncode == 0, r.stderr
    assert r.program_stdout == "worker woke up\n"
    (w,) = _warnings(r, "deadlock")
    names = _names(r)
    assert w["cycle"] is False
    assert [names[t] for t in w["tasks"]] == ["Task-1", "worker"]
    assert (w["file"], w["line"]) == (str(prog), 19)
    assert "worker awaits Event.wait() at deadlock_stall.py:8" in w["message"]
    # As soon as it happened: told after main's step that set the timer and began to
    # await the worker (the thread had ended), before the signal woke the worker. Ordered
    # by the run's own clock, not against a fixed time: start-up under load takes seconds.
    steps = [s for e in r.kinds("steps") for s in e["steps"]]
    main, worker = (next(t for t, n in names.items() if n == x) for x in ("Task-1", "worker"))
    (stuck,) = [s for s in steps if s[0] == main and s[5] == 19]
    woken = [s for s in steps if s[0] == worker][-1]
    assert stuck[1] + stuck[2] <= w["t"] < woken[1], (stuck, w["t"], woken)


@pytest.mark.parametrize("program", ["deadlock_cycle.py", "deadlock_stall.py"])
def test_deadlocks_under_the_virtual_clock(program: str) -> None:
    """Jumping from timer to timer finds the same one deadlock (cycles are looked for at
    most once a real second, the stall at once)."""
    r = asyncplay("run", "--json", "--clock", "virtual", str(PROGRAMS / program))
    assert r.returncode == 0, r.stderr
    (w,) = _warnings(r, "deadlock")
    assert w["cycle"] is (program == "deadlock_cycle.py")


def test_a_finished_thread_job_is_not_pending_when_it_wakes_the_loop() -> None:
    """The stall above was sometimes never told: the job left the runtime's pending set
    in a done callback that ran after asyncio's, which wakes the loop; on a busy machine
    the loop ran, waited again and still saw the job pending (the thread had not got the
    GIL back). The job must be gone by the time asyncio is told."""
    import asyncio
    import concurrent.futures
    import types

    from asyncplay.child.virtual_clock import install_wrap_future

    installed: dict = {}
    tracer = types.SimpleNamespace(
        executor_pending=set(),
        patches=types.SimpleNamespace(set=lambda obj, name, fn: installed.setdefault(name, fn)),
    )
    install_wrap_future(tracer, types.SimpleNamespace())  # patches nothing: kept above
    loop = asyncio.new_event_loop()
    try:
        seen = []
        wake = loop.call_soon_threadsafe
        loop.call_soon_threadsafe = lambda *a: (  # type: ignore[method-assign]
            seen.append(set(tracer.executor_pending)),
            wake(*a),
        )
        job: concurrent.futures.Future = concurrent.futures.Future()
        installed["wrap_future"](job, loop=loop)
        assert tracer.executor_pending == {job}
        job.set_result(3)  # as the pool's thread does: its done callbacks, in order
        assert seen == [set()]
    finally:
        loop.close()


def test_find_cycle_in_await_graphs() -> None:
    """The await graph's cycle, in await order from its lowest id (gather: many edges)."""
    from asyncplay.child.deadlocks import find_cycle as _find_cycle

    ident = lambda n: n  # noqa: E731
    assert _find_cycle({1: [2], 2: [3], 3: []}, ident) == []
    assert _find_cycle({4: [2], 2: [3], 3: [4]}, ident) == [2, 3, 4]
    assert _find_cycle({1: [5, 2], 2: [3], 3: [2], 5: []}, ident) == [2, 3]
    assert _find_cycle({7: [7]}, ident) == [7]
    assert _find_cycle({1: [2, 3], 2: [3], 3: []}, ident) == []  # a diamond is no cycle


# ---- where cancellations come from -----------------------------------------------------


def _sources(result) -> dict[str, tuple]:
    names = _names(result)
    seen: dict[str, tuple] = {}
    for e in result.kinds("cancel_source"):
        assert names[e["id"]] not in seen, f"two sources for {names[e['id']]}"
        by = names.get(e["by"]) if e["by"] is not None else None
        seen[names[e["id"]]] = (e["cause"], by, e["file"], e["line"])
    return seen


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_cancel_sources(version: str) -> None:
    """Each cancelled task: one ``cancel_source`` - who called cancel() and where, a
    cancel passed on through an awaited gather, a wait_for timeout, a plain callback
    (unknown), asyncio.run's shutdown."""
    prog = PROGRAMS / "cancel_sources.py"
    r = asyncplay("run", "--json", "--python", python_or_skip(version), str(prog))
    assert r.returncode == 0, r.stderr
    assert r.program_stdout == str(["CancelledError"] * 4) + "\n"
    src = _sources(r)
    f = str(prog)
    main = "Task-1"
    assert src["by-hand"] == ("cancel", main, f, _line_of(prog, "# CANCEL-1"))
    assert src["by-callback"] == ("unknown", None, None, None)
    assert src["outer"] == ("cancel", main, f, _line_of(prog, "# CANCEL-2"))
    assert src["in-gather"] == src["outer"]
    assert src["timed-out"] == ("timeout", None, f, _line_of(prog, "# TIMEOUT"))
    assert src["left-behind"] == ("shutdown", None, None, None)
    if version >= "3.12":  # wait_for cancels (and un-cancels) the task awaiting it
        assert src[main][0] == "timeout"
    assert set(src) <= {
        "by-hand",
        "by-callback",
        "outer",
        "in-gather",
        "timed-out",
        "left-behind",
        main,
    }


@pytest.mark.parametrize("version", [v for v in SUPPORTED_VERSIONS if v >= "3.11"])
def test_taskgroup_cancel_source_is_the_failing_sibling(version: str, session_dir: Path) -> None:
    """The TaskGroup lesson: slow is cancelled because broken failed (at its raise line),
    and so is main's own wait in the group. (The session's run of the lesson, the one
    test_snippets checks: tests/snippet_runs.py.)"""
    python_or_skip(version)
    r = snippet_run("taskgroup", version, session_dir).result
    src = _sources(r)
    prog = SNIPPETS / "taskgroup.py"
    raised = _line_of(prog, "raise ValueError")
    assert src["slow"] == ("taskgroup", "broken", str(prog), raised)
    assert src["Task-1"] == ("taskgroup", "broken", str(prog), raised)


def test_cancelled_tasks_of_a_task_factory_have_an_unknown_source(tmp_path: Path) -> None:
    """A task factory's tasks are not asyncplay's Task subclass: their cancel() cannot be
    seen, so the source is 'unknown' (sent when the task ends cancelled)."""
    prog = tmp_path / "factory.py"
    prog.write_text(
        "import asyncio\n"
        "async def main():\n"
        "    loop = asyncio.get_running_loop()\n"
        "    loop.set_task_factory(lambda loop, coro, **kw: asyncio.Task(coro, loop=loop, **kw))\n"
        "    t = asyncio.create_task(asyncio.sleep(10), name='made')\n"
        "    await asyncio.sleep(0)\n"
        "    t.cancel()\n"
        "    await asyncio.gather(t, return_exceptions=True)\n"
        "    print(type(t) is asyncio.Task)\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "--json", str(prog), cwd=tmp_path)
    assert r.program_stdout == "True\n"
    assert _sources(r)["made"] == ("unknown", None, None, None)


def test_cancel_source_on_the_wire() -> None:
    """The child's ``cancel_source`` record decodes as is; forged field types are a
    protocol error, never a crash."""
    from asyncplay import decoder, protocol

    ev = {
        "event": "cancel_source",
        "t": 1.5,
        "id": 3,
        "cause": "timeout",
        "by": None,
        "file": "/x.py",
        "line": 7,
    }
    assert decoder.Decoder().feed(protocol.pack_json(ev)) == [ev]
    bad = protocol.pack_json({**ev, "by": "Task-1"})
    (err,) = decoder.Decoder().feed(bad)
    assert err["event"] == "protocol_error"


FORK_IN_LOOP = """\
import asyncio, os, time


async def main():
    await asyncio.sleep(0.05)
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    await asyncio.sleep(0.05)
    time.sleep(0.3)  # slow, after the fork
    print("forked fine")


asyncio.run(main())
"""


@pytest.mark.parametrize("version", [v for v in SUPPORTED_VERSIONS if v >= "3.12"])
def test_watchdog_steps_aside_for_a_fork(version: str, tmp_path: Path) -> None:
    """3.12+ warn when a process with threads forks: the watchdog thread stops before a
    fork (no warning), and is back afterwards (the slow step after it is still caught)."""
    prog = tmp_path / "fork_in_loop.py"
    prog.write_text(FORK_IN_LOOP)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), str(prog), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.program_stdout == "forked fine\n"
    stderr = "".join(e["text"] for e in r.kinds("output") if e["stream"] == "stderr")
    assert "DeprecationWarning" not in stderr, stderr
    # Line 11 only comes from a sample (without one it would be line 10, where it resumed).
    assert [w["line"] for w in _warnings(r, "slow_step")] == [11]


def test_slow_step_without_a_sample_is_at_the_line_it_resumed_at() -> None:
    """No watchdog sample for this step (or one of another step): the warning names the
    line the task resumed at; with its own sample, the sampled line."""
    import os as _os

    from asyncplay import decoder
    from asyncplay.child.channel import Channel
    from asyncplay.child.slow_steps import slow_step_warning
    from asyncplay.child.task_record import new_record
    from asyncplay.child.tracer import Tracer

    r, w = _os.pipe()
    try:
        tracer = Tracer(Channel(w), 0.0)
        rec = new_record(None, 7, "worker")
        rec.wait = (tracer.strings.sid("sleep(1)"), tracer.strings.sid("/p/demo.py"), 12)
        tracer.slow_sample = (99.0, "/p/other.py", 3)  # another step's sample
        slow_step_warning(tracer, rec, None, 100.0, 0.4)
        tracer.slow_sample = (101.0, "/p/demo.py", 20)
        slow_step_warning(tracer, rec, None, 101.0, 0.5)
        events = decoder.Decoder().feed(_os.read(r, 65536))
    finally:
        _os.close(r)
        _os.close(w)
    slow = [e for e in events if e.get("kind") == "slow_step"]
    assert [(e["task"], e["file"], e["line"], e["duration"]) for e in slow] == [
        (7, "/p/demo.py", 12, 0.4),
        (7, "/p/demo.py", 20, 0.5),
    ]


# ---- a task cut off: how main() ended ----------------------------------------------------

CUT_OFF_ENDINGS = {
    "returned": "    return\n",
    "raised": "    raise KeyError('main crashed')\n",
    "cancelled": "    asyncio.current_task().cancel()\n    await asyncio.sleep(5)\n",
    "interrupted": "    print('started', flush=True)\n    await asyncio.sleep(30)\n",
}


def _cut_off_program(ending: str) -> str:
    return (
        "import asyncio\n"
        "async def helper():\n"
        "    await asyncio.sleep(30)\n"
        "async def main():\n"
        "    asyncio.create_task(helper(), name='helper')\n"
        "    await asyncio.sleep(0.05)\n" + CUT_OFF_ENDINGS[ending] + "asyncio.run(main())\n"
    )


async def _stopped_run(python: str, path: Path) -> list[dict]:
    """The events of a run stopped (SIGINT, as the TUI's F6) once it printed."""
    from asyncplay.runner.session import RunSession
    from asyncplay.runner.spec import RunSpec

    session = await RunSession.start(RunSpec(path=str(path), python=python))
    events: list[dict] = []
    async for ev in session.events():
        events.append(ev)
        if ev["event"] == "output" and "started" in ev["text"]:
            break
    await session.stop()
    events.extend([ev async for ev in session.events()])
    await session.aclose()
    return events


@pytest.mark.parametrize("ending", list(CUT_OFF_ENDINGS))
@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
async def test_cut_off_says_how_main_ended(version: str, ending: str, tmp_path: Path) -> None:
    """A task left pending is cut off whether main() returned, raised, was cancelled or
    the run was stopped; the warning says which (``main_ended``), so the advice to await
    tasks before main returns is given only when main() did return."""
    path = tmp_path / "cut.py"
    path.write_text(_cut_off_program(ending))
    if ending == "interrupted":
        events = await _stopped_run(python_or_skip(version), path)
    else:
        events = asyncplay("run", "--json", "--python", python_or_skip(version), str(path)).events
    cut = [e for e in events if e["event"] == "warning" and e["kind"] == "cut_off"]
    assert len(cut) == 1, cut
    (w,) = cut
    assert w["main_ended"] == ending, w
    assert w["line"] == 3 and "helper was still running" in w["message"]
    assert ("await it (or gather it)" in w["message"]) == (ending == "returned")
    if ending == "raised":
        assert w["main_exc"] == "KeyError" and "main() raised KeyError" in w["message"]
    else:
        assert "main_exc" not in w
    assert {
        "returned": "main() returned",
        "raised": "main() raised",
        "cancelled": "main() was cancelled",
        "interrupted": "interrupted",
    }[ending] in w["message"]


# ---- what a task waits on, in the program's words --------------------------------------


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_a_wait_is_named_by_the_call_the_program_made(version: str, session_dir: Path) -> None:
    """queue.join() waits inside an Event.wait(), as_completed inside a Queue.get(): the
    timeline and the table must say what the program awaited, not asyncio's insides. (The
    session's runs of the two lessons, those test_snippets checks: tests/snippet_runs.py.)"""
    python_or_skip(version)
    for lesson, said, not_said in (
        ("queues", "Queue.join()", "Event.wait()"),
        ("as_completed", "as_completed()", "Queue.get()"),
    ):
        r = snippet_run(lesson, version, session_dir).result
        assert r.returncode == 0, r.stderr
        waits = {s[3] for ev in r.kinds("steps") for s in ev["steps"]}
        assert said in waits and not_said not in waits, (lesson, waits)


LATER_CANCEL = """
import asyncio

async def main():
    try:
        async with asyncio.timeout(0.05):
            await asyncio.sleep(1)
    except TimeoutError:
        print("gave up")  # the deadline's cancel is withdrawn here
    task = asyncio.current_task()
    asyncio.get_running_loop().call_later(0.05, task.cancel)
    await asyncio.sleep(5)  # cancelled by the callback, not by the old deadline

try:
    asyncio.run(main())
except asyncio.CancelledError:
    pass
"""


@pytest.mark.parametrize("version", [v for v in SUPPORTED_VERSIONS if v != "3.10"])
def test_a_cancel_after_a_withdrawn_deadline_is_told_as_its_own(
    version: str, tmp_path: Path
) -> None:
    (tmp_path / "p.py").write_text(LATER_CANCEL)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), "p.py", cwd=tmp_path)
    sources = [e for e in r.kinds("cancel_source") if e["id"] == 1]
    assert [s["cause"] for s in sources] == ["timeout", "unknown"], sources
    main = build(r.events).tasks[1]
    assert main.state == "cancelled" and main.cancel_source["cause"] == "unknown"


RING = """\
import asyncio

async def a():
    await b_task

async def b():
    await a_task

async def main():
    global a_task, b_task
    a_task = asyncio.create_task(a(), name="A")
    b_task = asyncio.create_task(b(), name="B")
    print("started", flush=True)
    await asyncio.sleep({wait})

asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
async def test_tasks_the_program_kept_are_never_said_to_be_lost(
    version: str, tmp_path: Path
) -> None:
    """Tasks awaiting each other cannot be cancelled (the cancel goes round the ring until
    RecursionError), so asyncio.run's shutdown leaves them pending and Python complains
    "Task was destroyed but it is pending!". The program kept them (globals): the advice
    "keep tasks you create, e.g. in a set" was wrong. After Ctrl+C or a stop nothing is
    said of them (the cut_off warnings have told what the interrupt cut); at a normal
    end the warning says the cancel never got through."""
    path = tmp_path / "ring.py"
    path.write_text(RING.format(wait=30))
    events = await _stopped_run(python_or_skip(version), path)
    kinds = [e["kind"] for e in events if e["event"] == "warning"]
    assert "cut_off" in kinds and "destroyed_pending" not in kinds, kinds
    path.write_text(RING.format(wait=0.05))
    r = asyncplay("run", "--json", "--python", python_or_skip(version), str(path))
    lost = [w for w in r.kinds("warning") if w["kind"] == "destroyed_pending"]
    assert {w["task"] for w in lost} == {t["id"] for t in r.kinds("task_created")[1:3]}, lost
    for w in lost:
        assert w["cancelled_at_exit"] and "cancel never got through" in w["message"]
        assert "keep tasks" not in w["message"]
