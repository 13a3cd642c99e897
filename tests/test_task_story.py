"""The prose about one task is said one way: the summary, the timeline's detail and the
explanations take their words and their times from ``views.task_story`` and
``views.seconds``; a span is read by its field names."""

from __future__ import annotations

import gc
import os

import pytest
from streams import Stream

from asyncplay.model import (
    SPAN_AWAITING,
    SPAN_BUSY,
    SPAN_EXTENT,
    SPAN_FILE,
    SPAN_LINE,
    SPAN_START,
    SPAN_STEPS,
    RunModel,
    build,
)
from asyncplay.views import explain, summary, task_story
from asyncplay.views.seconds import duration, seconds_text


def cancelled(name: str = "main", cause: str = "cancel") -> RunModel:
    s = Stream().task(1, 0.0, "main", name="main").task(2, 0.0, "victim", name="victim")
    s.step(1, 0.0, 0.001, "sleep(0.2)", 3)
    s.step(2, 0.01, 0.001, "sleep(9)", 8)
    s.events.append(
        {"event": "cancel_source", "t": 0.2, "id": 2, "cause": cause, "by": 1,
         "file": "/p/x.py", "line": 12}
    )  # fmt: skip
    s.step(2, 0.2, 0.0001).done(2, 0.2001, "cancelled")
    s.step(1, 0.2, 0.001).done(1, 1.0)
    m = build(s.end(1.0))
    m.tasks[1].name = name  # create_task(name="") as the model holds it
    return m


@pytest.mark.parametrize(
    "name, cause, words",
    [
        ("main", "cancel", "by main"),
        ("", "cancel", f"by {task_story.NO_NAME}"),  # the summary used to say "by "
        ("main", "timeout", "timeout"),
    ],
)
def test_the_summary_and_the_timeline_name_the_canceller_alike(name, cause, words) -> None:
    m = cancelled(name, cause)
    victim = m.tasks[2]
    assert summary.cancelled_by(m, victim, cwd="/p") == f"{words} at x.py:12"
    detail = task_story.detail_line(m, victim, 0.9, 0.01)
    shown = words if words.startswith("by ") else f"({words} at line 12)"
    assert f"cancelled at {seconds_text(0.2001)} {shown}" in detail
    if words.startswith("by "):
        assert detail.endswith(f"{words} at line 12")


def test_explain_and_the_table_name_an_unnamed_canceller_as_the_timeline_does() -> None:
    m = cancelled(name="")
    ex = explain.explain_cancel(m, 2)
    assert ex is not None and f"{task_story.NO_NAME} called victim.cancel()" in ex.what
    assert explain.cancel_label(m, m.tasks[2], 20) == f"✕ by {task_story.NO_NAME}:12"


def test_no_task_text_is_one_sentence_for_every_view() -> None:
    m = build(Stream().end(0.5, exit_code=1))
    text = task_story.no_task_text(m)
    assert text == "no task: the program ended (exit 1) before asyncio.run: see the Output"


@pytest.mark.parametrize("x", [0.0000451, 0.0123, 0.25, 1.5, 12.0, 999.0])
def test_the_table_and_the_timeline_write_a_time_with_the_same_figures(x) -> None:
    assert duration(x) == seconds_text(x).replace(" ", "")
    assert summary.duration is duration  # the summary's column, the task table's too


def test_explain_writes_a_held_step_as_the_timeline_does() -> None:
    w = {"kind": "slow_step", "t": 1.0, "task": 1, "line": 9, "duration": 0.25, "ongoing": True}
    assert f"for {seconds_text(0.25)}" in explain.explain(w).what


def test_spans_are_read_by_name_and_cost_the_collector_nothing() -> None:
    m = cancelled()
    first = m.tasks[2].spans[0]
    fields = (first[SPAN_START], first[SPAN_STEPS], first[SPAN_AWAITING], first[SPAN_LINE])
    assert fields == (0.01, 1, "sleep(9)", 8) and first[SPAN_FILE] == "/p/x.py"
    assert first[SPAN_BUSY] == first[SPAN_EXTENT] == pytest.approx(0.001)
    # A plain tuple of numbers and strings, which the collector stops tracking (a
    # NamedTuple's never are: 300,000 of them made the fold 2.5x slower).
    gc.collect()
    assert type(first) is tuple and not gc.is_tracked(first)


def test_a_line_is_placed_one_way_for_the_timeline_and_the_graph() -> None:
    here = os.path.abspath("x.py")
    assert task_story.line_place("x.py", 5, here) == "line 5"  # relative or absolute: the program
    assert task_story.line_place("/lib/other.py", 3, here) == "other.py:3"
    assert task_story.line_place(None, 7, here) == "line 7"
    assert task_story.line_place(here, 0, here) == ""
