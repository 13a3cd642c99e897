"""Warnings in the TUI: gutter marks for every kind, warnings_at, and the explain screens."""

from __future__ import annotations

from asyncplay.model import RunModel, apply, build
from asyncplay.tui.marks import GUTTER, WARNING, RunMarks, warning_lines, warnings_at
from tests.streams import Stream

P = "/p/x.py"


def run() -> RunModel:
    """main (1); w (2) and v (3) await each other at lines 12 and 13; s (4) sleeps at 20."""
    s = Stream(P)
    s.task(1, 0.0, "main", name="main", line=40)
    s.task(2, 0.01, "ring", name="w", parent=1, line=30)
    s.task(3, 0.02, "ring", name="v", parent=1, line=31)
    s.task(4, 0.03, "work", name="s", parent=1, line=32)
    s.step(2, 0.05, 0.001, "v", line=12)
    s.step(3, 0.06, 0.001, "w", line=13)
    s.step(4, 0.07, 0.001, "sleep(9)", line=20)
    return build(s.events)


def warn(m: RunModel, kind: str, line: int | None = 7, **kw) -> dict:
    ev = {"event": "warning", "t": 1.0, "kind": kind, "message": kind, "task": None}
    ev.update({"file": P if line else None, "line": line})
    ev.update(kw)
    apply(m, ev)
    return m.warnings[-1]


def test_every_kind_with_a_line_is_marked_there() -> None:
    m = run()
    kinds = ["never_awaited", "exception_never_retrieved", "destroyed_pending", "cut_off"]
    kinds += ["slow_step", "loop_error", "untraceable_loop", "brand_new"]
    for n, kind in enumerate(kinds):
        warn(m, kind, line=50 + n, task=4)
    marks = RunMarks(m, P).update(None)
    assert marks is not None
    for n in range(len(kinds)):
        assert WARNING in marks[50 + n - 1], kinds[n]
    # Another file's line is not this program's.
    other = run()
    warn(other, "slow_step", line=5, file="/elsewhere.py")
    assert warning_lines(other, other.warnings[0], P) == []


def test_a_deadlock_is_marked_where_each_of_its_tasks_waited() -> None:
    m = run()
    ev = warn(m, "deadlock", line=12, task=2, tasks=[2, 3], cycle=True)
    # The run goes on: w is cancelled at shutdown and last stands at another line.
    apply(m, {"event": "steps", "t": 2.0, "steps": [[2, 1.9, 0.001, "x", P, 25]]})
    assert warning_lines(m, ev, P) == [12, 13]  # the moment of the warning, not now
    marks = RunMarks(m, P).update(None)
    assert marks is not None and WARNING in marks[11] and WARNING in marks[12]
    assert WARNING not in marks.get(24, set())
    # A stall naming tasks (no line of its own): where each waits now.
    stall = {"kind": "deadlock", "tasks": [3, 4, 99, "x", [1]], "cycle": False}
    assert warning_lines(m, stall, P) == [13, 20]


def test_task_warnings_without_a_line_fall_back_to_the_tasks_line() -> None:
    m = run()
    cut = warn(m, "cut_off", line=None, task=4)
    assert warning_lines(m, cut, P) == [20]
    slow = warn(m, "slow_step", line=None, task=4)
    assert warning_lines(m, slow, P) == []  # held the loop somewhere unknown: no guess
    forged = warn(m, "cut_off", line="9", task=[4])
    assert warning_lines(m, forged, P) == []


def test_warnings_at_a_line() -> None:
    m = run()
    slow = warn(m, "slow_step", line=20, task=4, duration=0.5)
    dead = warn(m, "deadlock", line=12, task=2, tasks=[2, 3, 4], cycle=False)
    assert warnings_at(m, P, 20) == [slow, dead]
    assert warnings_at(m, P, 13) == [dead]
    assert warnings_at(m, P, 14) == []
    assert warnings_at(m, "/p/../p/x.py", 12) == [dead]  # the same file, spelled otherwise
    assert warnings_at(None, P, 12) == [] and warnings_at(m, None, 12) == []


def test_the_gutter_legend_covers_every_mark_kind() -> None:
    kinds = [kind for kind, _glyph, _style, _meaning in GUTTER]
    assert kinds == ["created", "warning", "error", "selected"]
    glyphs = [glyph for _kind, glyph, _style, _meaning in GUTTER]
    assert len(set(glyphs)) == len(glyphs) and all(len(g) == 1 for g in glyphs)
    assert all(meaning for *_rest, meaning in GUTTER)
