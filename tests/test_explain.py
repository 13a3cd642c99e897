"""explain.py: every warning kind and cancel source explained with the run's own facts."""

from __future__ import annotations

import ast
import textwrap

import pytest

from asyncplay.explain import KINDS, Explanation, cancel_label, explain, explain_cancel
from asyncplay.model import RunModel, build
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
    assert "for 250 ms so far" in ongoing.what


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
    m = cancelled("timeout", line=9)
    m.tasks[2].state = "done"
    ex = explain_cancel(m, 2)
    assert ex is not None and "Yet it ended done" in ex.what


def test_cancel_label_keeps_the_line_and_cuts_the_name() -> None:
    s = Stream(P)
    s.task(1, 0.0, "main", name="a-very-long-task-name")
    s.task(2, 0.1, "work", name="worker")
    s.events.append(
        {"event": "cancel_source", "t": 0.5, "id": 2, "cause": "cancel", "by": 1, "line": 1234}
    )
    m = build(s.events)
    label = cancel_label(m, m.tasks[2])
    assert label == "✕ by a-v~:1234" and len(label) == 14
    assert len(cancel_label(m, m.tasks[2], width=40)) < 40
    assert len(cancel_label(m, m.tasks[2], width=6)) <= 6


# ---- cut_off: how main() ended ------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "title", "said"),
    [
        ({"main_ended": "returned"}, "main() returned", "when main() returned"),
        ({"main_ended": "raised", "main_exc": "KeyError"}, "main() failed", "raised KeyError"),
        ({"main_ended": "cancelled"}, "main() was cancelled", "when main() was cancelled"),
        ({"main_ended": "interrupted"}, "the run was stopped", "was interrupted (Ctrl+C"),
    ],
)
def test_cut_off_says_how_main_ended(extra: dict, title: str, said: str) -> None:
    """The advice to await tasks before main() returns only when main() did return."""
    ex = explain(warning("cut_off", task=3, line=22, **extra), run())
    assert ex.title.endswith(title) and said in ex.what
    assert ("Await the tasks you start" in ex.fix) == (extra["main_ended"] == "returned")


def _main_ending(state: str | None, exc: str | None = None, reason: str = "exited") -> RunModel:
    """A recording without ``main_ended``: main (1) ended ``state``, sleeper (2) cut off."""
    s = Stream(P)
    s.task(1, 0.0, "main", name="main", line=40)
    s.task(2, 0.01, "work", name="sleeper", parent=1, line=30)
    if state is not None:
        s.done(1, 0.5, state, exc=exc)
    events = s.end(1.0, 130 if reason == "stopped" else 0)
    events[-1]["reason"] = reason
    return build(events)


@pytest.mark.parametrize(
    ("model", "said"),
    [
        (_main_ending("done"), "when main() returned"),
        (_main_ending("failed", "KeyError"), "when main() raised KeyError"),
        (_main_ending("cancelled"), "when main() was cancelled"),
        (_main_ending("cancelled", reason="stopped"), "interrupted"),
        (_main_ending(None, reason="stopped"), "interrupted"),  # 3.10: main never ended
        (_main_ending("failed", "KeyboardInterrupt"), "interrupted"),
    ],
)
def test_cut_off_without_main_ended_reads_the_model(model: RunModel, said: str) -> None:
    assert said in explain(warning("cut_off", task=2), model).what


def test_a_forged_main_ended_is_ignored() -> None:
    ex = explain(
        warning("cut_off", task=2, main_ended=["raised"], main_exc=7), _main_ending("done")
    )
    assert "when main() returned" in ex.what
    odd = explain(warning("cut_off", task=2, main_ended="raised", main_exc=None), run())
    assert "raised an exception" in odd.what
