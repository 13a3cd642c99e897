"""Per-task timing in the model, the summary (--sort, --filter) and the --json summary."""

from __future__ import annotations

import pytest
from helpers import asyncplay
from streams import Stream, gather_run

from asyncplay import model_steps
from asyncplay.model import RunModel, apply, build
from asyncplay.views import summary


def test_running_waiting_steps_and_longest_step() -> None:
    m = build(gather_run())
    b = m.tasks[3]
    assert b.steps == 2 and abs(b.running - 0.0002) < 1e-12
    assert abs(b.longest_step - 0.0001) < 1e-12
    assert abs(b.waited(m.now) - (3.0032 - 0.001 - 0.0002)) < 1e-9
    # Running plus waiting is the task's whole life.
    for t in m.tasks.values():
        assert abs(t.running + t.waited(m.now) - t.lifetime(m.now)) < 1e-9


def test_a_task_alive_at_the_end_waits_until_the_end() -> None:
    events = Stream().task(1, 0.0, "main").step(1, 0.0, 0.5, "Event.wait()", 3).end(10.0)
    m = build(events)
    assert abs(m.tasks[1].waited(m.now) - 9.5) < 1e-9
    assert m.tasks[1].waiting == 0.0  # up to its last activity only


def test_spans_keep_every_step_under_the_cap() -> None:
    m = build(gather_run())
    spans = m.tasks[1].spans
    assert [(s[0], s[3], s[4], s[6]) for s in spans] == [
        (0.0005, 1, "gather(3)", 35),
        (3.004, 1, None, 0),
    ]


def test_spans_past_the_cap_merge_and_totals_stay_exact(monkeypatch) -> None:
    monkeypatch.setattr(model_steps, "MAX_SPANS_PER_TASK", 8)
    m = RunModel()
    apply(m, {"event": "task_created", "t": 0.0, "id": 1, "name": "T", "coro": "c"})
    steps = [[1, i * 1.0, 0.25, "sleep(0.75)", "f.py", 3] for i in range(100)]
    apply(m, {"event": "steps", "t": 100.0, "steps": steps[:50]})
    apply(m, {"event": "steps", "t": 100.0, "steps": steps[50:]})
    t = m.tasks[1]
    assert t.steps == 100 and t.running == 25.0 and t.longest_step == 0.25
    assert 4 <= len(t.spans) < 8
    assert sum(s[3] for s in t.spans) == 100  # every step in exactly one span
    assert sum(s[2] for s in t.spans) == 25.0  # busy time is exact
    for a, b in zip(t.spans, t.spans[1:], strict=False):
        assert a[0] + a[1] <= b[0]  # in order, never overlapping
    last = t.spans[-1]
    assert last[0] + last[1] == 99.25  # the last step's end


def test_cancel_source_the_latest_told_wins() -> None:
    """The child tells a second source only after the first was withdrawn (an
    ``asyncio.timeout`` block turned it into TimeoutError): the later one ended the task."""
    s = Stream().task(1, 0.0, "main").task(2, 0.1, "worker", parent=1)
    s.events.append(
        {"event": "cancel_source", "t": 0.5, "id": 2, "cause": "timeout", "by": None,
         "file": "/p/x.py", "line": 9}
    )  # fmt: skip
    s.events.append(
        {"event": "cancel_source", "t": 0.6, "id": 2, "cause": "cancel", "by": 1,
         "file": "/p/x.py", "line": 12}
    )  # fmt: skip
    s.done(2, 0.7, "cancelled").done(1, 0.8)
    m = build(s.end(1.0))
    src = m.tasks[2].cancel_source
    assert src == {"cause": "cancel", "by": 1, "file": "/p/x.py", "line": 12, "t": 0.6}
    text = summary.summary(m, cwd="/p")
    assert "cancelled (by Task-1 at x.py:12)" in text


def test_long_names_give_way_in_a_narrow_terminal_so_the_figures_stay() -> None:
    """At 80 columns, two tasks named ``philosopher-number-one/-two`` pushed steps,
    running and waiting off the line (the last columns were cut, whatever they held)."""
    s = Stream().task(1, 0.0, "main")
    for tid in (2, 3):
        name = f"philosopher-number-{'one' if tid == 2 else 'two'}"
        s.task(tid, 0.1, "main.<locals>.philosopher_dines", name=name, parent=1)
        s.step(tid, 0.2, 0.0123)
    lines = summary.summary(build(s.end(3.0)), cwd="/p", width=80).splitlines()
    header = lines[1]
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines), lines
    assert "steps" in header and "running" in header, header
    rows = [line for line in lines if line.startswith("phil")]
    assert len(rows) == 2 and rows[0].split()[0] != rows[1].split()[0], rows
    assert rows[0].split()[0].endswith("one") and "12.3ms" in rows[0], rows
    wide = summary.summary(build(s.events), cwd="/p").splitlines()  # no width: whole
    assert any("philosopher-number-two" in line for line in wide)


@pytest.mark.parametrize(
    "cause, by, line, shown",
    [
        ("timeout", None, 9, "cancelled (timeout at x.py:9)"),
        ("taskgroup", None, None, "cancelled (taskgroup)"),
        ("cancel", None, 4, "cancelled (by cancel() at x.py:4)"),
        ("unknown", None, None, "cancelled  "),
    ],
)
def test_cancel_causes_in_the_summary(cause, by, line, shown) -> None:
    s = Stream().task(1, 0.0, "main")
    s.events.append(
        {"event": "cancel_source", "t": 0.5, "id": 1, "cause": cause, "by": by,
         "file": "/p/x.py" if line else None, "line": line}
    )  # fmt: skip
    m = build(s.done(1, 0.6, "cancelled").end(1.0))
    assert shown in summary.summary(m, cwd="/p")


def test_slow_steps_are_counted_and_folded_in_the_summary() -> None:
    s = Stream().task(1, 0.0, "main")
    for i in range(3):
        s.warn("slow_step", 0.2 * i, task=1, line=8, duration=0.15)
    m = build(s.done(1, 1.0).end(1.0))
    assert m.tasks[1].slow_steps == 3 and m.slow_steps == 3
    text = summary.summary(m, cwd="/p")
    assert "(3 slow)" in text
    assert text.count("slow_step here") == 1 and "x.py:8: slow_step here (3 times)" in text


def test_deadlock_warning_snapshots_the_waits() -> None:
    s = Stream().task(1, 0.0, "main").task(2, 0.0, "a").task(3, 0.0, "b")
    s.step(2, 0.1, 0.001, "Task-3", 5).step(3, 0.2, 0.001, "Task-2", 9)
    s.warn("deadlock", 0.3, line=5, tasks=[2, 3], cycle=True)
    s.step(2, 0.4, 0.001, "sleep(1)", 6)  # the run goes on after the warning
    m = build(s.end(1.0))
    (snap,) = m.snapshots
    assert snap.t == pytest.approx(0.3) and snap.warning["tasks"] == [2, 3]
    assert snap.waits[2] == ("Task-3", "/p/x.py", 5) and snap.waits[3][0] == "Task-2"
    assert m.waits()[2][0] == "sleep(1)"


def _timed_model() -> RunModel:
    s = Stream()
    s.task(1, 0.0, "main", name="main-task")
    s.task(2, 0.0, "fetch", name="small")
    s.task(3, 0.0, "crunch", name="busy")
    s.step(1, 0.0, 0.01, "sleep(5)", 3)
    s.step(2, 0.0, 0.001).step(2, 0.1, 0.001).step(2, 0.2, 0.001).done(2, 0.3)
    s.step(3, 0.0, 0.5).done(3, 0.5)
    s.step(1, 5.0, 0.01).done(1, 5.01)
    return build(s.end(5.1))


@pytest.mark.parametrize(
    "sort, order",
    [
        (None, ["main-task", "small", "busy"]),
        ("created", ["main-task", "small", "busy"]),
        ("running", ["busy", "main-task", "small"]),
        ("waiting", ["main-task", "small", "busy"]),
        ("steps", ["small", "main-task", "busy"]),
    ],
)
def test_sort(sort, order) -> None:
    m = _timed_model()
    assert [r[0] for r in summary.rows(m, sort=sort)] == order
    ev = summary.summary_event(m, sort=sort)
    assert [t["name"] for t in ev["tasks"]] == order


def test_filter_on_name_or_coroutine_any_case() -> None:
    m = _timed_model()
    assert [r[0] for r in summary.rows(m, filter="BUS")] == ["busy"]
    assert [r[0] for r in summary.rows(m, filter="fetch")] == ["small"]
    text = summary.summary(m, filter="zzz")
    assert "0 of 3 match 'zzz'" in text and "main-task" not in text


def test_sort_applies_to_folded_rows() -> None:
    s = Stream().task(1, 0.0, "main")
    for i in range(2, 14):
        s.task(i, 0.0, "tiny").step(i, 0.0, 0.001).done(i, 0.01)
    s.step(1, 0.0, 0.002).done(1, 0.02)
    m = build(s.end(0.1))
    rows = summary.rows(m, sort="running")
    assert rows[0][0] == "12 tasks" and rows[0][5] == "12.0ms"


def test_summary_event_fields() -> None:
    ev = summary.summary_event(build(gather_run()))
    assert ev["event"] == "summary" and ev["steps"] == 9
    names = [t["name"] for t in ev["tasks"]]
    assert names == ["Task-1", "worker-A", "worker-B", "worker-C"]  # internal ones hidden
    b = ev["tasks"][2]
    assert set(b) >= {"id", "running", "waiting", "steps", "longest_step", "cancel_source"}
    assert b["steps"] == 2 and b["ended"] == 3.0032


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--sort", "running", "--filter", "work", "p.py"],
        ["run", "--sort=steps", "--filter=x", "--all-tasks", "p.py"],
        ["run", "--sort", "bogus", "p.py"],
        ["run", "--trace", "t.json", "--record=r.jsonl", "--graph", "--timeline", "p.py", "-x"],
    ],
)
def test_fast_parser_agrees_with_argparse(argv) -> None:
    from asyncplay.cli.args import UsageError, build_parser, fast_parse

    fast = fast_parse(argv)
    if fast is None:
        with pytest.raises(UsageError):
            build_parser().parse_args(argv)
        return
    assert vars(fast) == vars(build_parser().parse_args(argv))


def test_replay_takes_the_view_options_of_run() -> None:
    from asyncplay.cli.args import (
        REPLAY_FLAGS,
        REPLAY_OPTIONS,
        RUN_FLAGS,
        RUN_OPTIONS,
        build_parser,
    )

    ns = build_parser().parse_args(["replay", "--timeline", "--trace", "t.json", "r.jsonl"])
    assert ns.command == "replay" and ns.file == "r.jsonl" and ns.timeline and not ns.graph
    assert ns.trace == "t.json" and ns.sort is None and ns.filter is None
    assert set(REPLAY_OPTIONS) <= set(RUN_OPTIONS) and set(REPLAY_FLAGS) <= set(RUN_FLAGS)


def test_real_run_sorted_filtered_and_json_summary(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "import asyncio, time\n"
        "async def spin():\n    time.sleep(0.05)\n"
        "async def nap():\n    await asyncio.sleep(0.2)\n"
        "async def main():\n"
        "    await asyncio.gather(asyncio.create_task(nap(), name='napper'),\n"
        "                         asyncio.create_task(spin(), name='spinner'))\n"
        "    await asyncio.sleep(0.1)\n"  # main waits longest by 0.1 s, not a tie with nap
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "--sort", "running", "--filter", "er", p := "p.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.decode().splitlines()
    assert "2 of 3 match 'er'" in lines[0]
    assert lines[2].startswith("spinner") and lines[3].startswith("napper")
    r = asyncplay("run", "--json", "--sort", "waiting", p, cwd=tmp_path)
    kinds = [e["event"] for e in r.events]
    assert kinds[-2:] == ["summary", "run_end"]
    tasks = r.events[-2]["tasks"]
    assert tasks[0]["name"] == "Task-1" and tasks[0]["waiting"] > 0.25
    assert tasks[1]["name"] == "napper" and tasks[1]["waiting"] > 0.15
    spin = next(t for t in tasks if t["name"] == "spinner")
    assert spin["running"] >= 0.04 and spin["longest_step"] >= 0.04
    r = asyncplay("run", "--sort", "nope", p, cwd=tmp_path)
    assert r.returncode == 2 and b"--sort takes one of" in r.stderr


def test_real_run_says_who_cancelled(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "import asyncio\n"
        "async def sleeper():\n    await asyncio.sleep(10)\n"
        "async def main():\n"
        "    t = asyncio.create_task(sleeper(), name='victim')\n"
        "    await asyncio.sleep(0.01)\n"
        "    t.cancel()\n"
        "    try:\n        await t\n    except asyncio.CancelledError:\n        pass\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "p.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "cancelled (by Task-1 at p.py:7)" in r.stderr.decode()
    r = asyncplay("run", "--json", "--filter", "victim", "p.py", cwd=tmp_path)
    (task,) = r.events[-2]["tasks"]
    src = task["cancel_source"]
    assert src["cause"] == "cancel" and src["by"] == 1 and src["line"] == 7


def test_a_task_the_run_ended_before_is_unfinished_not_ready() -> None:
    """A limit stopping a busy loop left its task 'ready' in the summary, as if it ran on."""
    s = Stream().task(1, 0.0, "main").step(1, 0.0, 0.5, None, 3)
    s.task(2, 0.1, "worker", name="w").step(2, 0.1, 0.01, "Event.wait()", 4)
    s.task(3, 0.1, "quick", name="q").step(3, 0.1, 0.01).done(3, 0.2)
    live = build(s.events)  # before run_end: how they are now
    assert [live.tasks[i].state for i in (1, 2)] == ["ready", "waiting"]
    assert not any(t.unfinished for t in live.tasks.values())
    m = build(s.end(1.0, exit_code=124))
    assert [m.tasks[i].unfinished for i in (1, 2, 3)] == [True, True, False]
    assert m.tasks[1].state == "ready"  # how it last was, kept
    states = {r[0]: r[3] for r in summary.rows(m)}
    assert states == {"Task-1": "unfinished (ready)", "w": "unfinished (waiting)", "q": "done"}
    ev = summary.summary_event(m)
    assert [t["unfinished"] for t in ev["tasks"]] == [True, True, False]


def test_a_folded_rows_figures_are_its_tasks_figures_added_up() -> None:
    """The folded row of many tasks alike (one pass over them) says what its tasks' own
    figures add up to: states counted (unfinished apart), running and waiting summed as
    ``sum`` adds the tasks' ``running`` and ``waited``, steps, the longest step, slow
    steps, and what they last awaited."""
    s = Stream().task(1, 0.0, "main")
    for i in range(2, 40):
        s.task(i, i / 1000, "tiny")
        s.step(i, 0.1 + i / 100, 0.0001 * i, "sleep(0.1)" if i % 3 else "Event.wait()", 3)
        if i % 5 == 0:
            s.warn("slow_step", 0.2 + i / 100, task=i, duration=0.2)
        if i % 4 == 0:
            s.done(i, 0.3 + i / 7, "failed", exc="ValueError")
        elif i % 4 == 1:
            s.done(i, 0.3 + i / 9, "cancelled")
        elif i % 4 == 2:
            s.done(i, 0.3 + i / 11)
    m = build(s.end(7.25))
    group = [t for t in m.tasks.values() if t.coro == "tiny"]
    assert len(group) > summary.FOLD_OVER
    row = summary.rows(m)[1]
    states: dict[str, int] = {}
    for g in group:
        key = "unfinished" if g.unfinished else g.state
        states[key] = states.get(key, 0) + 1
    assert row[0] == f"{len(group)} tasks" and states["unfinished"] == 10
    assert row[3] == ", ".join(f"{n} {k}" for k, n in sorted(states.items()))
    assert row[4] == str(sum(g.steps for g in group))
    assert row[5] == summary.duration(sum(g.running for g in group))
    assert row[6] == summary.duration(sum(g.waited(m.now) for g in group))
    slow = sum(g.slow_steps for g in group)
    assert slow == 7
    assert row[7] == f"{summary.duration(max(g.longest_step for g in group))} ({slow} slow)"
    assert row[8] == "2 kinds"
    ev = summary.summary_event(m)  # --json: each task's own figures
    assert sum(t["waiting"] for t in ev["tasks"][1:]) == sum(g.waited(m.now) for g in group)
