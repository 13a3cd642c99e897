"""explain.py: every warning kind and cancel source explained with the run's own facts."""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pytest

from asyncplay.model import RunModel, build
from asyncplay.views.explain import KINDS, Explanation, cancel_label, explain, explain_cancel
from tests.streams import Stream

P = "/p/x.py"


def run() -> RunModel:
    """main (1) with workers a (2), b (3), 'ring-x' (4) and 'ring-y' (5) awaiting each other."""
    s = Stream(P)
    s.task(1, 0.0, "main", name="main", line=40)
    s.task(2, 0.01, "fetch", name="fetcher", parent=1, line=30)
    s.task(3, 0.02, "work", name="sleeper", parent=1, line=31)
    s.task(4, 0.03, "ring", name="ring-x", parent=1, line=32)
    s.task(5, 0.04, "ring", name="ring-y", parent=1, line=33)
    s.step(4, 0.05, 0.001, "ring-y", line=12)
    s.step(5, 0.06, 0.001, "ring-x", line=13)
    s.done(2, 0.5, "failed", exc="ValueError")
    return build(s.events)


def warning(kind: str, **kw) -> dict:
    ev = {"event": "warning", "t": 1.0, "kind": kind, "message": f"{kind}!", "task": None}
    ev.update({"file": P, "line": 7})
    ev.update(kw)
    return ev


ALL = [*KINDS, "brand_new_kind"]


def test_the_protocol_kinds_are_all_explained() -> None:
    with open("docs/protocol.md", encoding="utf-8") as f:
        doc = f.read()
    table = doc[doc.index("### `warning`") : doc.index("**`deadlock`: when.**")]
    documented = {row.split("`")[1] for row in table.splitlines() if row.startswith("| `")}
    assert documented and documented <= set(KINDS), documented - set(KINDS)


@pytest.mark.parametrize("kind", ALL)
def test_every_kind_has_a_short_complete_explanation(kind: str) -> None:
    ex = explain(warning(kind, task=3, tasks=[4, 5], cycle=True, duration=0.3), run())
    assert isinstance(ex, Explanation) and ex.kind == kind
    assert ex.title and ex.what and ex.why and ex.fix
    assert ex.line == 7 and ex.file == P
    # It fits a modal at 80x24 (76 usable columns), a little scrolling at most.
    rows = sum(len(textwrap.wrap(p, 74)) + 1 for p in (ex.what, ex.why, ex.fix))
    rows += len(ex.example.splitlines())
    assert rows <= 24, (kind, rows)
    assert all(len(line) <= 64 for line in ex.example.splitlines()), kind
    if kind in KINDS:
        assert ex.example
        # The example is real Python (top-level await allowed: it is a fragment).
        compile(ex.example, "<example>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_never_awaited_names_the_coroutine_and_line() -> None:
    msg = "coroutine 'main.<locals>.fetch' was never awaited: calling an async function ..."
    ex = explain(warning("never_awaited", message=msg, line=8), run())
    assert "fetch()" in ex.what and "line 8" in ex.what
    assert "await fetch()" in ex.example and "create_task" in ex.example
    plain = explain(warning("never_awaited", message="odd"), None)
    assert "coroutine was created" in plain.what


def test_exception_never_retrieved_names_task_and_exception() -> None:
    ex = explain(warning("exception_never_retrieved", task=2, line=5), run())
    assert "fetcher failed with ValueError: boom at line 5" in ex.what
    assert "TaskGroup" in ex.fix and "await task" in ex.example


def test_slow_step_gives_the_duration_and_the_async_fixes() -> None:
    m = run()
    ex = explain(warning("slow_step", task=3, duration=1.5, line=9), m)
    assert "sleeper held the event loop for 1.50 s" in ex.what and "line 9" in ex.what
    assert "so far" not in ex.what
    assert "asyncio.sleep" in ex.example and "to_thread" in ex.example
    assert "run_in_executor" in ex.example
    ongoing = explain(warning("slow_step", task=3, duration=0.25, ongoing=True), m)
    assert "for 250.0 ms so far" in ongoing.what  # as the timeline writes it


def test_deadlock_cycle_and_stall_name_their_tasks() -> None:
    m = run()
    cycle = explain(warning("deadlock", task=4, tasks=[4, 5], cycle=True, line=12), m)
    assert "ring-x awaits ring-y awaits ring-x" in cycle.what
    assert "each other" in cycle.title and "line 12" in cycle.what
    stall = explain(warning("deadlock", task=3, tasks=[1, 3], cycle=False), m)
    assert "main, sleeper: every task is waiting" in stall.what
    assert "every task is waiting" in stall.title
    nobody = explain(warning("deadlock", cycle=False), m)
    assert nobody.what.startswith("Every task is waiting")
    assert stall.title != cycle.title
    assert "Event" in stall.why and "Queue" in stall.why
    assert "wait_for" in stall.example
    many = explain(warning("deadlock", tasks=list(range(1, 6)) * 2, cycle=False), m)
    assert "and 4 more" in many.what


def test_cut_off_and_destroyed_pending_name_the_task() -> None:
    m = run()
    cut = explain(warning("cut_off", task=3, line=22), m)
    assert cut.what.startswith("sleeper was still running at line 22 when main() returned")
    assert "gather" in cut.example
    gone = explain(warning("destroyed_pending", task=3), m)
    assert gone.what.startswith("sleeper was garbage-collected")
    assert "weak references" in gone.why and "add_done_callback" in gone.example


def test_other_kinds_and_unknown_kinds() -> None:
    m = run()
    loop = explain(warning("loop_error", message="the event loop reported: boom"), m)
    assert "boom" in loop.what and "set_exception_handler" in loop.example
    assert "uvloop" in explain(warning("untraceable_loop"), m).what
    assert "os._exit" in explain(warning("channel_lost"), m).what
    assert "asyncplay's failure" in explain(warning("tracer_failed"), m).why
    new = explain(warning("brand_new_kind", message="something odd happened"), m)
    assert new.title == "Warning: brand_new_kind" and "something odd happened" in new.what
    assert new.example == ""


@pytest.mark.parametrize(
    "forged",
    [
        {},
        {"kind": None},
        {"kind": 12, "line": "7"},
        {"kind": "slow_step", "task": [1], "duration": "long", "line": True},
        {"kind": "slow_step", "task": 99, "duration": float("nan"), "line": -3},
        {"kind": "deadlock", "tasks": "abc", "cycle": "yes", "task": {"a": 1}},
        {"kind": "deadlock", "tasks": [[1], None, 4.5, 99], "cycle": True},
        {"kind": "exception_never_retrieved", "task": True, "file": 3},
        {"kind": "never_awaited", "message": ["x"]},
        {"kind": "cut_off", "task": "2", "message": None},
        {"kind": "x" * 10_000, "message": "\n" * 50},
    ],
)
@pytest.mark.parametrize("model", [None, "run"])
def test_forged_or_missing_facts_never_crash(forged: dict, model: str | None) -> None:
    ex = explain(forged, run() if model else None)
    assert ex.title and ex.what and ex.line is None
    assert "\n" not in ex.title and len(ex.title) < 80
    assert ex.file is None or isinstance(ex.file, str)
    assert "None" not in ex.what and "[" not in ex.what


def test_a_warning_that_is_not_a_dict() -> None:
    assert explain(None, None).kind == "unknown"  # type: ignore[arg-type]


def test_a_long_task_name_is_cut() -> None:
    s = Stream(P)
    s.task(1, 0.0, "main", name="n" * 500)
    ex = explain(warning("cut_off", task=1), build(s.events))
    assert len(ex.what) < 300 and "…" in ex.what


# ---- cancellations ------------------------------------------------------------------------


def cancelled(cause: str | None, by: int | None = None, line: int | None = None) -> RunModel:
    s = Stream(P)
    s.task(1, 0.0, "main", name="main", line=40)
    s.task(2, 0.1, "work", name="worker", parent=1, line=30)
    if cause is not None:
        s.events.append(
            {
                "event": "cancel_source",
                "t": 0.5,
                "id": 2,
                "cause": cause,
                "by": by,
                "file": P if line else None,
                "line": line,
            }
        )
    s.done(2, 0.6, "cancelled")
    return build(s.events)


def test_cancel_by_a_task_at_a_line() -> None:
    m = cancelled("cancel", by=1, line=12)
    ex = explain_cancel(m, 2)
    assert ex is not None and ex.kind == "cancel:cancel" and ex.line == 12 and ex.file == P
    assert ex.what == "main called worker.cancel() at line 12."
    assert "CancelledError" in ex.why and "finally" in ex.example
    assert cancel_label(m, m.tasks[2]) == "✕ by main:12"
    assert explain_cancel(m, m.tasks[2]) == ex  # a TaskInfo works as well as its id


@pytest.mark.parametrize(
    ("cause", "by", "line", "title", "words", "label"),
    [
        (
            "cancel",
            None,
            12,
            "cancelled by cancel()",
            "worker.cancel() was called",
            "✕ cancel() :12",
        ),
        ("timeout", None, 9, "by a timeout", "time limit expired at line 9", "timeout :9"),
        ("taskgroup", 1, 30, "by its TaskGroup", "main failed at line 30", "taskgroup :30"),
        ("taskgroup", None, None, "by its TaskGroup", "a task of its TaskGroup", "taskgroup"),
        ("shutdown", None, None, "at shutdown", "main() returned", "shutdown"),
        ("unknown", None, None, "worker was cancelled", "could not see", "✕ ?"),
        ("forged!", 77, None, "worker was cancelled", "could not see", "✕ ?"),
        (None, None, None, "worker was cancelled", "could not see", ""),
    ],
)
def test_every_cancel_source(cause, by, line, title, words, label) -> None:
    m = cancelled(cause, by, line)
    ex = explain_cancel(m, 2)
    assert ex is not None
    assert title in ex.title and words in ex.what, (ex.title, ex.what)
    assert ex.line == line
    assert cancel_label(m, m.tasks[2]) == label


def test_not_cancelled_or_unknown_tasks_have_no_cancel_explanation() -> None:
    m = run()
    assert explain_cancel(m, 3) is None  # waiting, never asked to cancel
    assert explain_cancel(m, 99) is None and explain_cancel(None, 2) is None
    assert explain_cancel(m, "2") is None  # type: ignore[arg-type]


def test_a_task_that_survived_its_cancel_says_so() -> None:
    m = cancelled("cancel", by=1, line=9)
    m.tasks[2].state = "done"
    ex = explain_cancel(m, 2)
    assert ex is not None and "Yet it ended done" in ex.what
    assert "let CancelledError propagate" in ex.fix


def _source(tid: int, t: float, cause: str, line: int, by: int | None = None) -> dict:
    ev = {"event": "cancel_source", "t": t, "id": tid, "cause": cause, "by": by}
    return {**ev, "file": P, "line": line}


def timeout_lesson(end: str = "done", exc: str | None = None) -> RunModel:
    """The shape snippets/timeout.py records on 3.11 (and wait_for on 3.12+): main waits in
    sleep() at line 28 under asyncio.timeout; the timer cancels that wait, main goes on."""
    s = Stream(P)
    s.task(1, 0.0, "main", line=47)
    for k in range(4):
        s.step(1, 0.03 + 0.3 * k, 0.001, "sleep(0.3)", line=28)
    s.events.append(_source(1, 1.13, "timeout", 28))
    s.step(1, 1.131, 0.001)
    s.done(1, 1.132, end, exc=exc)
    return build(s.events)


def test_a_task_past_its_own_time_limit_went_on_and_nothing_is_blamed() -> None:
    ex = explain_cancel(timeout_lesson(), 1)
    assert ex is not None and ex.kind == "cancel:timeout" and ex.line == 28
    assert "Task-1 was waiting at line 28" in ex.what and "TimeoutError" in ex.what
    assert "went on, and ended done" in ex.what
    assert "running" not in ex.what and "caught the CancelledError" not in ex.what
    assert "Nothing to fix" in ex.fix and "swallowing" not in ex.fix
    assert "wait_for" in ex.why and "3.10" in ex.why and "asyncio.timeout" in ex.example
    failed = explain_cancel(timeout_lesson("failed", exc="TimeoutError"), 1)
    assert failed is not None and "ended failed with TimeoutError" in failed.what


def test_a_task_that_swallowed_a_cancel_passed_on_from_a_time_limit_is_still_suspicious() -> None:
    """3.10-3.11's wait_for cancels the task it waits for, at main's line 37: that task
    waits at line 23; if it ends done, it swallowed the CancelledError."""
    s = Stream(P)
    s.task(1, 0.0, "main", line=43).task(3, 0.2, "answer", parent=1, line=35)
    s.step(1, 0.21, 0.001, "wait_for(...)", line=37).step(3, 0.22, 0.001, "sleep(2)", line=23)
    s.events.append(_source(3, 0.7, "timeout", 37))
    s.step(3, 0.71, 0.001).done(3, 0.72, "done")
    ex = explain_cancel(build(s.events), 3)
    assert ex is not None and "Yet it ended done" in ex.what and "swallowing" in ex.fix


def test_a_taskgroup_owner_that_caught_the_group_error_went_on() -> None:
    """3.12: boom (2) fails at line 5; the group cancels slow (3) and main (1), main
    catches the ExceptionGroup with except* and ends done."""
    s = Stream(P)
    s.task(1, 0.0, "main", name="main", line=18)
    s.task(2, 0.1, "boom", name="boom", parent=1, line=13)
    s.task(3, 0.1, "slow", name="slow", parent=1, line=14)
    s.step(1, 0.1, 0.001, "TaskGroup.__aexit__()", line=12)
    s.done(2, 0.2, "failed", exc="ValueError")
    s.events += [_source(3, 0.2, "taskgroup", 5, by=2), _source(1, 0.2, "taskgroup", 5, by=2)]
    s.done(3, 0.21, "cancelled").done(1, 0.22, "done")
    m = build(s.events)
    ex = explain_cancel(m, 1)
    assert ex is not None and ex.kind == "cancel:taskgroup"
    assert "boom failed at line 5" in ex.what and "ExceptionGroup" in ex.what
    assert "main caught it and went on" in ex.what and "Nothing to fix" in ex.fix
    child = explain_cancel(m, 3)
    assert child is not None and "by its TaskGroup" in child.title and "Yet" not in child.what
    m.tasks[3].state = "done"  # a child of the group that swallowed its cancel
    swallowed = explain_cancel(m, 3)
    assert swallowed is not None and "Yet it ended done" in swallowed.what


def test_the_timeout_lesson_recorded_is_explained_as_a_time_limit() -> None:
    """A real recording of ``asyncplay run --json snippets/timeout.py`` on 3.11."""
    path = Path(__file__).parent / "data" / "timeout_events.jsonl"
    m = build([json.loads(line) for line in path.read_text().splitlines()])
    main = m.tasks[1]
    ex = explain_cancel(m, main)
    assert main.state == "done" and main.cancel_source["cause"] == "timeout"
    assert ex is not None and ex.title == "Task-1 hit a time limit" and ex.line == 28
    assert "waiting at line 28" in ex.what and "Nothing to fix" in ex.fix
