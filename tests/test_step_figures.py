"""Figures mode (``child/step_figures.py``): a run nothing asks step by step of gets each
task's figures in batches instead of a record per step, and the model built from them is
the model built from the steps, exactly (the same floats), for every figure a headless
run without step options prints.

The exactness tests run real programs with ``step_records="both"`` (the child sends the
steps and the figures, from one run) on each installed CPython 3.10-3.13, fold the events
twice (once without the ``figures`` events, once without the ``steps`` events) and compare
the two models: every task's figures, the run's, the warnings, the deadlock snapshots,
the headless summary's text (sorted, filtered, with asyncio's tasks) and ``--json``'s
summary event. The other tests check that the saving is there (a plain ``asyncplay run``
decodes no step record) and that every option that needs steps still gets them.
"""

from __future__ import annotations

import collections
import json
import math
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
from helpers import PROGRAMS, env
from pythons import find_pythons

from asyncplay.child import step_figures
from asyncplay.cli.run import STEP_OPTIONS, step_records
from asyncplay.limits import Limits
from asyncplay.model import RunModel, apply
from asyncplay.runner.spec import RunSpec
from asyncplay.runner.sync_driver import run_blocking
from asyncplay.views import summary

VERSIONS = ("3.10", "3.11", "3.12", "3.13")
FIGURES = PROGRAMS / "figures"

#: Every TaskInfo attribute the fold of steps or of figures sets (and what the views read).
TASK_FIELDS = (
    "name", "coro", "parent", "internal", "file", "line", "created", "state", "unfinished",
    "awaiting", "wait_file", "wait_line", "steps", "running", "longest_step", "first_step",
    "last_active", "ended", "result", "exc_type", "exc_msg", "exc_file", "exc_line",
    "last_awaited", "children", "cancel_source", "slow_steps", "open",
)  # fmt: skip


def _run_both(python: str, program: str, timeout: float = 0, clock: str = "real") -> list[dict]:
    spec = RunSpec(
        path=str(FIGURES / program),
        python=python,
        cwd=str(FIGURES),
        limits=Limits(timeout=timeout),
        clock=clock,
        sandbox="none",
        step_records="both",
    )
    events: list[dict] = []
    run_blocking(spec, events.append, lambda _name, _data: None, stdin="null")
    return events


def _models(events: list[dict]) -> tuple[RunModel, RunModel]:
    """(from the steps, from the figures) of one run that sent both."""
    by_steps, by_figures = RunModel(), RunModel()
    for ev in events:
        if ev["event"] != "figures":
            apply(by_steps, ev)
        if ev["event"] != "steps":
            apply(by_figures, ev)
    return by_steps, by_figures


def _same(a: RunModel, b: RunModel) -> None:
    assert a.tasks.keys() == b.tasks.keys()
    for tid, ta in a.tasks.items():
        tb = b.tasks[tid]
        for field in TASK_FIELDS:
            va, vb = getattr(ta, field), getattr(tb, field)
            assert va == vb, f"task {tid} ({ta.name}): {field} {va!r} from steps, {vb!r}"
            assert type(va) is type(vb), (tid, field)
    for field in ("now", "steps", "slow_steps", "status", "warnings", "errors", "end"):
        assert getattr(a, field) == getattr(b, field), field
    assert a.waits() == b.waits()
    assert [(s.t, s.waits) for s in a.snapshots] == [(s.t, s.waits) for s in b.snapshots]
    for all_tasks in (False, True):
        for sort in (None, "running", "waiting", "steps"):
            for filt in (None, "e"):
                text_a = summary.summary(a, all_tasks, str(FIGURES), 0, sort, filt)
                assert text_a == summary.summary(b, all_tasks, str(FIGURES), 0, sort, filt)
                assert summary.summary_event(a, all_tasks, sort, filt) == summary.summary_event(
                    b, all_tasks, sort, filt
                )


def _python(version: str) -> str:
    python = find_pythons().get(version)
    if python is None:
        pytest.skip(f"CPython {version} is not installed here")
    return python


def _kinds(events: list[dict]) -> collections.Counter:
    return collections.Counter(ev["event"] for ev in events)


@pytest.mark.parametrize("version", VERSIONS)
def test_mixed_program_same_figures_from_steps_and_figures(version: str) -> None:
    """gather, a queue with workers, cancellation, exceptions (one never retrieved),
    wait_for's timeout, a lock, a TaskGroup (3.11+)."""
    events = _run_both(_python(version), "mixed.py")
    kinds = _kinds(events)
    assert kinds["steps"] and kinds["figures"] and kinds["cancel_source"], kinds
    a, b = _models(events)
    assert a.steps > 200 and not a.errors
    states = collections.Counter(t.state for t in a.tasks.values())
    assert states["failed"] >= 2 and states["cancelled"] >= 3, states
    _same(a, b)


@pytest.mark.parametrize("version", VERSIONS)
def test_slow_step_cut_off_and_eager_tasks_same_figures(version: str) -> None:
    """A slow step (its step_open records, then its warning), tasks still pending when
    main() returns (cancelled at the run's end, cut_off warnings), and on 3.12+ eager
    tasks, nested inside an eager task (their step time taken out of the outer one's)."""
    events = _run_both(_python(version), "slow_cut_eager.py")
    kinds = _kinds(events)
    assert kinds["step_open"] >= 1, kinds
    a, b = _models(events)
    warned = collections.Counter(w["kind"] for w in a.warnings)
    assert warned["slow_step"] == 1 and warned["cut_off"] == 4, warned
    if version >= "3.12":
        eager = [t for t in a.tasks.values() if t.coro in ("eager_parent", "child")]
        assert len(eager) == 9 and all(t.state == "done" for t in eager)
    _same(a, b)


@pytest.mark.parametrize("version", VERSIONS)
def test_two_runs_and_a_thread_with_its_own_loop_same_figures(version: str) -> None:
    """Two asyncio.run one after the other, then a third while a thread runs a loop of
    its own: tasks of two loops step at once, in two threads, into one tracer."""
    events = _run_both(_python(version), "runs_threads.py")
    a, b = _models(events)
    roots = [t for t in a.tasks.values() if t.coro in ("first", "second", "together")] + [
        t for t in a.tasks.values() if t.coro.endswith("inner")
    ]
    assert len(roots) == 4 and all(t.state == "done" for t in roots)
    ticks = [t for t in a.tasks.values() if t.coro == "tick"]
    assert sum(t.steps for t in ticks) > 300
    _same(a, b)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_run_killed_mid_step_same_figures(version: str) -> None:
    """The time limit kills the program while a task spins without awaiting: what the
    child had flushed is what both models know, and the step it was in is counted up to
    the run's end (``step_open``) in both."""
    events = _run_both(_python(version), "killed.py", timeout=2.0)
    a, b = _models(events)
    assert a.end is not None and a.end.get("reason") == "timeout", a.end
    spinner = [t for t in a.tasks.values() if t.coro == "spinner"]
    assert spinner, _kinds(events)
    assert (spinner[0].unfinished, spinner[0].state) == (True, "running"), _kinds(events)
    assert spinner[0].running > 0.1, spinner[0].running
    _same(a, b)


@pytest.mark.parametrize("clock", ["real", "virtual"])
def test_a_deadlock_snapshot_and_the_virtual_clock_same_figures(clock: str) -> None:
    """A deadlock warning takes a snapshot of every task's wait when it is folded: the
    figures of the steps before it must be there first. Under the virtual clock the run's
    time comes from the child's records only (the end's is asyncplay's)."""
    python = _python("3.11") if "3.11" in find_pythons() else sys.executable
    events = _run_both(python, "deadlock.py", timeout=1.0, clock=clock)
    a, b = _models(events)
    assert [w["kind"] for w in a.warnings] == ["deadlock"]
    assert a.snapshots and any(w[0] for w in a.snapshots[0].waits.values())
    _same(a, b)
    events = _run_both(python, "mixed.py", clock=clock)
    _same(*_models(events))


def test_figures_mode_sends_the_waits_before_a_deadlock_warning() -> None:
    """Figures mode proper (past 500 tasks changed, sent every SEND_EVERY, not at every
    flush; and before a warning): the deadlock's snapshot has each task's wait of that
    moment, 600 tasks on an event and two in a cycle on two locks."""
    python = _python("3.11") if "3.11" in find_pythons() else sys.executable
    spec = RunSpec(
        path=str(FIGURES / "deadlock_many.py"),
        python=python,
        cwd=str(FIGURES),
        limits=Limits(timeout=1.5),
        sandbox="none",
        step_records="figures",
    )
    events: list[dict] = []
    run_blocking(spec, events.append, lambda _name, _data: None, stdin="null")
    assert "steps" not in _kinds(events)
    model = RunModel()
    for ev in events:
        apply(model, ev)
    (snap,) = model.snapshots
    waits = collections.Counter(snap.waits.values())
    where = str(FIGURES / "deadlock_many.py")
    assert waits[("Lock.acquire()", where, 7)] == 2, waits
    assert waits[("Event.wait()", where, 14)] == 600, waits


# ---- which runs get figures --------------------------------------------------------------

# Runs asyncplay's command line with the decoder counting what it decodes (into a file).
COUNTING = """
import collections, json, os, sys
from asyncplay import decoder, protocol
from asyncplay.cli import main

seen = collections.Counter()
feed = decoder.Decoder.feed

def counting(self, data):
    events = feed(self, data)
    seen.update(ev["event"] for ev in events)
    seen["figure rows"] += sum(len(ev["tasks"]) for ev in events if ev["event"] == "figures")
    return events

decoder.Decoder.feed = counting
try:
    status = main(sys.argv[1:])
finally:
    with open(os.environ["KINDS_FILE"], "w") as f:
        json.dump(seen, f)
sys.exit(status)
"""

TASKS = """
import asyncio

async def work(i):
    for _ in range(3):
        await asyncio.sleep(0)
    return i

async def main():
    print(sum(await asyncio.gather(*(work(i) for i in range(20)))))

asyncio.run(main())
"""


def _counted(tmp_path, *args: str, program: str = TASKS, status: int = 0):  # noqa: ANN001, ANN202
    (tmp_path / "tasks.py").write_text(program)
    kinds_file = tmp_path / "kinds.json"
    e = env()
    e["KINDS_FILE"] = str(kinds_file)
    e.pop("COLUMNS", None)
    p = subprocess.run(
        [sys.executable, "-c", COUNTING, "run", "--sandbox", "none", *args, "tasks.py"],
        cwd=tmp_path,
        env=e,
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert p.returncode == status, p.stderr.decode()[-2000:]
    return (
        collections.Counter(json.loads(kinds_file.read_text())),
        p.stdout.decode(),
        (p.stderr.decode()),
    )


def test_a_plain_headless_run_decodes_no_step_record(tmp_path) -> None:
    """The saving itself: ``asyncplay run FILE`` gets figures, never a step record, and
    prints the same summary figures (20 tasks of 4 steps each, main's 2)."""
    kinds, out, err = _counted(tmp_path)
    assert out == "190\n"
    assert kinds["figures"] >= 1 and kinds["steps"] == 0, kinds
    rows = {line.split()[0] + " " + line.split()[1]: line.split() for line in err.splitlines()}
    assert rows["20 tasks"][4:6] == ["20", "done"] and rows["20 tasks"][6] == "80", err
    assert rows["Task-1 main"][4] == "2", err


def test_many_tasks_stepping_all_run_long_are_far_fewer_rows_than_steps(tmp_path) -> None:
    """3,000 tasks stepping 100 times each, all through the run: with their figures sent
    at every flush of the channel (every 50 ms), nearly a row per task per flush, as many
    rows as steps; sent every SEND_EVERY, a row per task per send, and at the end."""
    program = TASKS.replace("range(3)", "range(99)").replace("range(20)", "range(3000)")
    kinds, out, err = _counted(tmp_path, program=program)
    assert out == f"{sum(range(3000))}\n" and kinds["steps"] == 0, kinds
    assert "3000 tasks" in err and " 300000 " in err, err
    took = float(re.search(r"exited with status 0 after ([0-9.]+) s", err).group(1))
    sends = math.ceil(took / step_figures.SEND_EVERY) + 2  # (and the first and last)
    assert 3000 <= kinds["figure rows"] <= min(3000 * sends, 300_000 // 4), (kinds, took)


def test_a_run_of_many_tasks_that_dies_shows_its_figures_of_just_before(tmp_path) -> None:
    """Past SEND_FEW changed tasks the figures go every SEND_EVERY: a run that ends without
    its last records (os._exit here; a limit's kill, a fatal signal) shows them as of at
    most that long before, as the steps were (sent once a second, a run of 600 tasks that
    ended at 0.6 s showed 0 steps and 0 running for every one)."""
    program = (
        "import asyncio, os\n"
        "async def spin():\n"
        "    while True:\n"
        "        await asyncio.sleep(0.001)\n"
        "async def main():\n"
        "    ts = [asyncio.create_task(spin()) for _ in range(600)]\n"
        "    await asyncio.sleep(0.6)\n"
        "    os._exit(3)\n"
        "asyncio.run(main())\n"
    )
    kinds, _out, err = _counted(tmp_path, program=program, status=3)
    assert kinds["steps"] == 0 and kinds["figures"] >= 2, kinds
    row = next(line.split() for line in err.splitlines() if line.startswith("600 tasks"))
    assert row[4:6] == ["600", "unfinished"], err
    assert int(row[6]) >= 600, err  # each task stepped, and the parent knows it


@pytest.mark.parametrize("option", STEP_OPTIONS)
def test_each_option_that_needs_steps_gets_them(tmp_path, option: str) -> None:
    args = {
        "json": ["--json"],
        "record": ["--record", str(tmp_path / "run.jsonl")],
        "timeline": ["--timeline"],
        "trace": ["--trace", str(tmp_path / "trace.json")],
        "graph": ["--graph"],
    }[option]
    kinds, _out, _err = _counted(tmp_path, *args)
    assert kinds["steps"] >= 1 and kinds["figures"] == 0, (option, kinds)


def test_only_a_run_without_step_options_asks_for_figures() -> None:
    plain = {name: None for name in (*STEP_OPTIONS, "quiet", "all_tasks", "sort", "filter")}
    assert step_records(SimpleNamespace(**plain)) == "figures"
    for name in ("quiet", "all_tasks"):
        assert step_records(SimpleNamespace(**{**plain, name: True})) == "figures"
    assert step_records(SimpleNamespace(**{**plain, "sort": "running"})) == "figures"
    for name in STEP_OPTIONS:
        assert step_records(SimpleNamespace(**{**plain, name: "x"})) == "steps", name
    # Everything else (the playground, asyncplay check and exercises, attach) builds a
    # RunSpec without asking: the full stream, and no key in the child's spec.
    spec = RunSpec(path="p.py")
    assert spec.step_records == "steps" and "step_records" not in spec.child_spec(9)
    assert RunSpec(path="p.py", step_records="figures").child_spec(9)["step_records"] == ("figures")
    with pytest.raises(ValueError):
        RunSpec(path="p.py", step_records="some")


def test_asyncplay_check_gets_steps(tmp_path) -> None:
    """An exercise's checks judge how the program ran (its steps interleaving): check
    runs keep the full stream."""
    kinds_file = tmp_path / "kinds.json"
    e = env()
    e["KINDS_FILE"] = str(kinds_file)
    p = subprocess.run(
        [sys.executable, "-c", COUNTING, "check", "--sandbox", "none", "--solution", "deadline"],
        cwd=tmp_path,
        env=e,
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert p.returncode == 0, p.stderr.decode()[-2000:] + p.stdout.decode()[-2000:]
    kinds = collections.Counter(json.loads(kinds_file.read_text()))
    assert kinds["steps"] >= 1 and kinds["figures"] == 0, kinds


def test_the_child_module_lists_the_modes_the_runner_asks_for() -> None:
    from asyncplay.child import step_figures
    from asyncplay.runner.spec import STEP_RECORDS

    assert step_figures.MODES == STEP_RECORDS
    assert os.path.basename(step_figures.__file__) == "step_figures.py"


def test_a_step_open_closed_by_its_record_leaves_the_exact_sum_of_the_durations() -> None:
    """``step_open`` counts a running step's time so far; its record takes that back. Put
    back, not subtracted: (r + c) - c + d is not r + d in floats (here with 0.1, 0.7 and
    0.33), and the child's own sum, which figures mode sends, is r + d."""
    r, d = 0.1, 0.33
    c = 1.7 - 1.0  # what the step_open counted
    assert (r + c) - c + d != r + d
    created = {"event": "task_created", "t": 0.0, "id": 1, "name": "t", "coro": "c"}
    opened = {"event": "step_open", "t": 1.7, "id": 1, "start": 1.0}
    by_steps, by_figures = RunModel(), RunModel()
    for ev in (
        created,
        {"event": "steps", "t": 0.1, "steps": [[1, 0.0, r, None, None, 0]]},
        opened,
        {"event": "steps", "t": 1.9, "steps": [[1, 1.0, d, "sleep(1)", "p.py", 3]]},
    ):
        apply(by_steps, ev)
    for ev in (
        created,
        {"event": "figures", "t": 0.1, "tasks": [(1, 1, r, r, 0.0, r, None, None, None, 0)]},
        opened,
        {
            "event": "figures",
            "t": 1.9,
            "tasks": [(1, 2, r + d, d, 0.0, 1.0 + d, "sleep(1)", "sleep(1)", "p.py", 3)],
        },
    ):
        apply(by_figures, ev)
    for model in (by_steps, by_figures):
        (info,) = model.tasks.values()
        assert (info.running, info.steps, info.longest_step, model.steps) == (r + d, 2, d, 2)
        assert (info.state, info.awaiting, info.wait_line, info.open) == (
            "waiting", "sleep(1)", 3, None,
        )  # fmt: skip


# ---- recordings ----------------------------------------------------------------------------

_RUN = [
    {"event": "run_start", "t": 0.0, "target": "p.py", "mode": "file", "args": []},
    {"event": "task_created", "t": 0.001, "id": 1, "name": "Task-1", "coro": "main",
     "parent": None, "internal": False, "file": "p.py", "line": 9},
]  # fmt: skip
_END = {"event": "run_end", "t": 1.0, "exit_code": 0, "message": "the program exited"}


def _replayed(tmp_path, protocol: int, events: list[dict]):  # noqa: ANN001, ANN202
    from helpers import asyncplay

    head = {"asyncplay_recording": 1, "protocol": protocol}
    lines = [json.dumps(e) for e in [head, *_RUN, *events, _END]]
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n")
    return asyncplay("replay", "--print", "r.jsonl", cwd=tmp_path)


@pytest.mark.parametrize("protocol", [1, 2, 3])
def test_recordings_of_every_version_still_replay(tmp_path, monkeypatch, protocol: int) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    steps = {"event": "steps", "t": 0.5, "steps": [[1, 0.1, 0.25, "sleep(1)", "p.py", 4]] * 3}
    r = _replayed(tmp_path, protocol, [steps])
    assert r.returncode == 0, r.stderr
    assert "Task-1" in r.stderr.decode() and " 3 " in r.stderr.decode()


def test_a_recorded_figures_event_replays_and_a_forged_one_is_damage(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    row = [1, 7, 0.75, 0.25, 0.1, 0.9, None, "sleep(1)", "p.py", 4]
    r = _replayed(tmp_path, 3, [{"event": "figures", "t": 0.9, "tasks": [row]}])
    assert r.returncode == 0, r.stderr
    assert "7      750.0ms" in r.stderr.decode() and "sleep(1)" in r.stderr.decode()
    for bad in ([*row[:9]], [*row[:2], "x", *row[3:]], [*row[:4], float("1e13"), *row[5:]]):
        r = _replayed(tmp_path, 3, [{"event": "figures", "t": 0.9, "tasks": [bad]}])
        assert r.returncode == 65 and b"malformed figures" in r.stderr, (bad, r.stderr)


def test_an_attach_channel_without_figures_still_tells_an_open_step() -> None:
    """``asyncplay attach``'s channel (``attached.SendQueue``) is a Channel without its
    ``__init__``: the watchdog's ``step_open`` must not ask it for figures held back."""
    import socket
    import time

    from asyncplay.child import attached, slow_steps
    from asyncplay.child.task_record import new_record
    from asyncplay.child.tracer import Tracer
    from asyncplay.decoder import Decoder

    a, b = socket.socketpair()
    try:
        channel = attached.SendQueue(a)
        tracer = Tracer(channel, time.perf_counter() - 1.0)
        rec = new_record(None, 1, "t")
        slow_steps.step_open(tracer, rec, tracer.t0 + 0.5, tracer.t0 + 0.8)
        (ev,) = Decoder().feed(bytes(channel.buf))
        assert (ev["event"], ev["id"], ev["start"]) == ("step_open", 1, 0.5)
    finally:
        a.close()
        b.close()


def test_many_queued_rows_wait_longer_than_few_and_the_first_send_too(monkeypatch) -> None:
    """Past SEND_FEW queued records a flush packs them once SEND_EVERY or ROW_SECONDS a
    record passed since the last pack (or since figures mode began), whichever is longer:
    20,000 rows wait 0.8 s, 600 the 0.2 s, a few go at every flush."""
    from asyncplay.child import channel as channel_mod

    clock = [100.0]
    monkeypatch.setattr(channel_mod.time, "perf_counter", lambda: clock[0])
    packs: list[tuple[int, float]] = []
    at = [0.0]  # (the time a flush is made at, since the last pack)
    with open(os.devnull, "wb") as null:
        ch = channel_mod.Channel(null.fileno())
        tracer = SimpleNamespace(channel=ch, held=[], step_records="figures")
        step_figures.start(tracer)
        assert ch.held_at == 100.0  # (from the start of figures mode, not at once)
        for n, first in ((20_000, 0.81), (600, 0.21), (9, 0.0)):
            packs.clear()
            tracer.held[:] = [object()] * n
            start = ch.held_at = clock[0]
            ch.pack_held = lambda: (packs.append((len(tracer.held), at[0])), tracer.held.clear())
            for dt in (0.0, 0.19, 0.21, 0.5, 0.79, 0.81):
                clock[0] = start + dt
                at[0] = dt
                ch.flush()
            assert packs == [(n, first)], (n, packs)
            clock[0] += 1.0
