"""A deferred model (``RunModel(deferred=True)``, the headless command's): what the events
do to the tasks is done when something first reads them. Whatever the events and
whenever they are read, every reader sees what an event-by-event fold shows then."""

from __future__ import annotations

import subprocess
import sys

from helpers import env
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncplay.model import RunModel, TaskInfo, apply

FIELDS = [f for f in TaskInfo.__slots__ if f != "_f"]
ids = st.integers(1, 6)
times = st.floats(0, 10)
strs = st.sampled_from([None, "", "sleep(0)", "Queue.get()"])
lines = st.sampled_from([0, 3, 9])


def _event(kind: str, t: float, draw: st.DrawFn) -> dict:
    ev: dict = {"event": kind, "t": t}
    if kind == "tasks_created":
        ev["tasks"] = [
            (t, draw(ids), draw(st.sampled_from(["", "Task-1", "w"])), "c", draw(st.none() | ids),
             draw(st.booleans()), draw(strs), draw(st.none() | st.just(4)))
            for _ in range(draw(st.integers(1, 4)))
        ]  # fmt: skip
    elif kind == "task_created":
        ev.update(id=draw(ids), name="n", coro="c", parent=draw(st.none() | ids))
    elif kind == "figures":
        ev["tasks"] = [
            (draw(ids), draw(st.integers(1, 9)), draw(times), draw(times), draw(times),
             draw(times), draw(strs), draw(strs), draw(strs), draw(lines))
            for _ in range(draw(st.integers(1, 4)))
        ]  # fmt: skip
    elif kind == "steps":
        ev["steps"] = [
            [draw(ids), t, draw(st.floats(0, 1)), draw(strs), draw(strs), draw(lines)]
            for _ in range(draw(st.integers(1, 4)))
        ]
    elif kind == "tasks_done":
        ev["tasks"] = [
            (t, draw(ids), draw(st.sampled_from(["done", "cancelled", "failed"])), "None",
             draw(strs), draw(strs), draw(strs), draw(st.none() | st.just(5)))
            for _ in range(draw(st.integers(1, 3)))
        ]  # fmt: skip
    elif kind == "task_done":
        ev.update(id=draw(ids), state=draw(st.sampled_from(["done", "cancelled"])))
    elif kind == "step_open":
        ev.update(id=draw(ids), start=draw(st.sampled_from([t, t / 2])), file=draw(strs),
                  line=draw(lines))  # fmt: skip
    elif kind == "warning":
        w = draw(st.sampled_from(["slow", "ongoing", "update", "deadlock", "other"]))
        if w == "deadlock":
            ev.update(kind="deadlock", message="stuck")
        elif w == "other":
            ev.update(kind="loop", message="m")
        else:
            ev.update(kind="slow_step", message="Task held the event loop for 0.2 s so far",
                      task=draw(ids), step=draw(st.sampled_from([0.5, 1.0])), duration=0.2,
                      ongoing=w == "ongoing", update=w == "update")  # fmt: skip
    elif kind in ("task_renamed", "cancel_source", "task_existing"):
        ev.update(id=draw(ids), name="renamed", cause="timeout", awaiting=draw(strs))
    elif kind == "output":
        ev.update(stream="stdout", text="x\n", task=draw(st.none() | ids))
    elif kind == "run_end":
        ev.update(exit_code=0)
    return ev


KINDS = ["tasks_created", "task_created", "figures", "steps", "tasks_done", "task_done"]
KINDS += ["step_open", "warning", "task_renamed", "cancel_source", "task_existing", "output"]
KINDS += ["run_end"]
READS = ["tasks", "steps", "warnings", "warnings_version", "slow_steps", "waits", "none"]


@st.composite
def runs(draw: st.DrawFn) -> list[tuple[dict, str]]:
    """Events, each with what is read of the model right after it is folded."""
    out, t = [], 0.0
    for _ in range(draw(st.integers(1, 30))):
        t += draw(st.floats(0, 0.5))
        kind = draw(st.sampled_from(KINDS))
        out.append((_event(kind, t, draw), draw(st.sampled_from(READS))))
    return out


def _read(m: RunModel, what: str) -> object:
    if what == "tasks":
        return [(tid, [getattr(t, f) for f in FIELDS]) for tid, t in m.tasks.items()]
    if what == "waits":
        return m.waits()
    return None if what == "none" else getattr(m, what)


def _whole(m: RunModel) -> tuple:
    tasks = [(tid, [getattr(t, f) for f in FIELDS], t.spans) for tid, t in m.tasks.items()]
    snaps = [(s.t, s.warning, s.waits) for s in m.snapshots]
    return (tasks, m.steps, m.warnings, m.warnings_version, m.slow_steps, m.now, m.status,
            m.end, snaps, m.errors, [(o.stream, o.text, o.task, o.t) for o in m.output])  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(runs())
def test_a_deferred_model_shows_what_an_event_by_event_fold_shows(run) -> None:
    eager, deferred = RunModel(), RunModel(deferred=True)
    for ev, what in run:
        apply(eager, ev)
        apply(deferred, ev)
        assert _read(deferred, what) == _read(eager, what)
    assert _whole(deferred) == _whole(eager)


def test_a_deferred_model_folds_nothing_until_read_then_all_in_order() -> None:
    m = RunModel(deferred=True)
    apply(m, {"event": "tasks_created", "t": 0.1, "tasks": [(0.1, 1, "a", "c", None, False,
                                                             None, None)]})  # fmt: skip
    apply(m, {"event": "figures", "t": 0.2, "tasks": [(1, 2, 0.1, 0.05, 0.1, 0.2, "sleep(0)",
                                                       "sleep(0)", "/p.py", 3)]})  # fmt: skip
    apply(m, {"event": "run_end", "t": 0.3, "exit_code": 0})
    assert m._tasks == {} and len(m._pending) == 3 and m.status == "ended"
    info = m.tasks[1]
    assert (info.steps, info.state, info.unfinished, m.steps) == (2, "waiting", True, 2)
    assert m._pending == []


def test_a_deferred_model_folds_what_it_holds_past_max_held_rows() -> None:
    """A long run's events must not pile up unfolded (a 3 s yield loop's steps reached
    145 MiB, tests/test_replay.py): past MAX_HELD rows the model folds them, the same
    figures as an event-by-event fold."""
    from asyncplay.model_deferred import MAX_HELD

    events = [{"event": "tasks_created", "t": 0.1, "tasks": [(0.1, 1, "a", "c", None, False,
                                                              None, None)]}]  # fmt: skip
    per = 1000
    for i in range(MAX_HELD // per + 2):
        t = 0.2 + i * 0.001
        row = (1, per * (i + 1), 0.0001 * per * (i + 1), 0.0001, 0.1, t, None, None, None, 0)
        events.append({"event": "figures", "t": t, "tasks": [row] * per})
    deferred, eager = RunModel(deferred=True), RunModel()
    for ev in events:
        apply(deferred, ev)
        apply(eager, ev)
    assert 0 < len(deferred._pending) < len(events) // 2  # folded once on the way
    assert deferred.tasks[1].steps == eager.tasks[1].steps
    assert deferred.tasks[1].running == eager.tasks[1].running


def _held_at_the_end() -> list[dict]:
    """A task whose step is still going on when the run ends, past the slow-step threshold:
    the run's end gives it a slow step's warning (model._held_until_end)."""
    return [
        {"event": "tasks_created", "t": 0.1,
         "tasks": [(0.1, 1, "a", "c", None, False, None, None)]},
        {"event": "step_open", "t": 0.5, "id": 1, "start": 0.2, "file": "/p.py", "line": 3},
        {"event": "run_end", "t": 0.9, "exit_code": 0},
    ]  # fmt: skip


def test_the_runs_end_warning_of_a_step_cut_short_is_there_when_the_warnings_are_read() -> None:
    for read in ("warnings", "warnings_version", "slow_steps"):
        eager, deferred = RunModel(), RunModel(deferred=True)
        for ev in _held_at_the_end():
            apply(eager, ev)
            apply(deferred, ev)
        assert len(deferred._pending) == 3
        assert getattr(deferred, read) == getattr(eager, read)
        assert _whole(deferred) == _whole(eager)
        assert eager.warnings[0]["until_end"] and eager.slow_steps == 1


def test_a_warning_after_the_runs_end_comes_after_the_ends_own() -> None:
    late = {"event": "warning", "t": 1.0, "kind": "loop", "message": "late"}
    eager, deferred = RunModel(), RunModel(deferred=True)
    for ev in [*_held_at_the_end(), late]:
        apply(eager, ev)
        apply(deferred, ev)
    assert [w["message"] for w in eager.warnings][1:] == ["late"]
    assert _whole(deferred) == _whole(eager)


# A run's program whose parent reads nothing of its tasks under --quiet.
PROBE = """
import sys
from asyncplay import model
from asyncplay.cli import main
settled = []
made = model.RunModel.settle
def settle(self):
    settled.append(len(self._pending or ()))
    made(self)
model.RunModel.settle = settle
status = main(["run", "--sandbox", "none", *sys.argv[2:], "p.py"])
with open(sys.argv[1], "w") as f:
    f.write(repr(settled))
"""


def test_a_quiet_headless_run_never_folds_its_tasks_and_a_summary_folds_them_once(
    tmp_path,
) -> None:
    (tmp_path / "p.py").write_text(
        "import asyncio\nasync def w():\n    await asyncio.sleep(0)\n"
        "async def main():\n    await asyncio.gather(*(w() for _ in range(50)))\n"
        "asyncio.run(main())\n"
    )
    # (The summary of 50 alike tasks reads them as columns, model_columns.py: never folded
    # either; one filtered (read as objects) folds them once.)
    for flags, want in (
        (["--quiet"], "never"),
        ([], "never"),
        (["--sort", "steps", "--filter", "w"], "once"),
    ):
        out = tmp_path / "settled.txt"
        subprocess.run(
            [sys.executable, "-c", PROBE, str(out), *flags],
            cwd=tmp_path,
            env=env(),
            capture_output=True,
            timeout=120,
            check=True,
        )
        settled = [n for n in eval(out.read_text()) if n]  # noqa: S307 - our own repr
        assert len(settled) == (0 if want == "never" else 1), settled
