"""The model's steps (``model_steps``): spans made only when asked, from the steps kept,
are the spans made step by step, however the batches are cut and whenever they are read;
the kept steps stay bounded; the headless path never makes them."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncplay import model_steps
from asyncplay.model import RunModel, apply

TASKS = (1, 2, 3)


def _created(tid: int) -> dict:
    return {"event": "task_created", "t": 0.0, "id": tid, "name": f"T{tid}", "coro": "c"}


def _steps(n: int, tids: list[int]) -> list[list]:
    rows, t = [], 0.0
    for i in range(n):
        tid = tids[i % len(tids)]
        line = i % 3  # 0: where it waits is unchanged
        rows.append(
            [tid, t, 0.001 * (1 + i % 4), f"sleep({i % 2})" if i % 5 else None, "f.py", line]
        )
        t += 0.01
    return rows


def _eager(rows: list[list]) -> RunModel:
    """One step per event, every task's spans read after each: made step by step."""
    m = RunModel()
    for tid in TASKS:
        apply(m, _created(tid))
    for row in rows:
        apply(m, {"event": "steps", "t": row[1] + row[2], "steps": [row]})
        for info in m.tasks.values():
            _ = info.spans
    return m


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 120),
    tids=st.lists(st.sampled_from(TASKS), min_size=1, max_size=5),
    cuts=st.lists(st.integers(1, 40), max_size=10),
    reads=st.sets(st.integers(0, 12), max_size=4),
    most=st.sampled_from([4, 6, 2_000]),
    opened=st.booleans(),
)
def test_spans_made_when_asked_are_the_spans_made_step_by_step(
    n, tids, cuts, reads, most, opened
) -> None:
    with mock.patch.object(model_steps, "MAX_SPANS_PER_TASK", most):
        _compare(n, tids, cuts, reads, opened)


def _compare(n: int, tids: list, cuts: list, reads: set, opened: bool) -> None:
    rows = _steps(n, tids)
    lazy = RunModel()
    for tid in TASKS:
        apply(lazy, _created(tid))
    i = batch = 0
    while i < len(rows):
        size = cuts[batch % len(cuts)] if cuts else len(rows)
        piece = rows[i : i + size]
        if opened and batch == 1:  # a step still running: its record comes later
            row = piece[0]
            apply(lazy, {"event": "step_open", "t": row[1] + 0.2, "id": row[0], "start": row[1]})
        apply(lazy, {"event": "steps", "t": piece[-1][1] + piece[-1][2], "steps": piece})
        if batch in reads:
            _ = lazy.tasks[TASKS[0]].spans
        i += size
        batch += 1
    eager = _eager(rows)
    for tid in TASKS:
        a, b = lazy.tasks[tid], eager.tasks[tid]
        assert a.spans == b.spans, tid
        assert a.span_steps == b.span_steps
        assert (a.steps, a.state, a.awaiting, a.wait_line) == (
            b.steps,
            b.state,
            b.awaiting,
            b.wait_line,
        )
        # (an open step's time counted, then taken back: exact but for the last bit)
        assert a.running == pytest.approx(b.running, abs=1e-12)
        assert a.longest_step == b.longest_step
        assert a.last_active == b.last_active and a.first_step == b.first_step
    assert lazy.steps == eager.steps == n


def test_a_fold_keeps_the_steps_and_makes_no_span_until_asked() -> None:
    m = RunModel()
    for tid in TASKS:
        apply(m, _created(tid))
    apply(m, {"event": "steps", "t": 1.0, "steps": _steps(30, list(TASKS))})
    assert m.figures.pending_steps == 30 and m.figures.spans == {}
    assert m.tasks[1].steps == 10  # the figures are there at once
    assert len(m.tasks[1].spans) == 10 and m.figures.pending == []


def test_the_kept_steps_stay_bounded(monkeypatch) -> None:
    monkeypatch.setattr(model_steps, "PENDING_STEPS", 50)
    m = RunModel()
    for tid in TASKS:
        apply(m, _created(tid))
    rows = _steps(400, list(TASKS))
    for i in range(0, 400, 20):
        apply(m, {"event": "steps", "t": 1.0, "steps": rows[i : i + 20]})
        assert m.figures.pending_steps <= 50
    assert sum(len(m.tasks[t].spans) for t in TASKS) == 400


def test_steps_of_an_unknown_task_are_not_kept() -> None:
    m = RunModel()
    apply(m, _created(1))
    apply(m, {"event": "steps", "t": 1.0, "steps": [[9, 0.0, 0.1, None, None, 0]] + _steps(2, [1])})
    assert m.steps == 2 and m.tasks[1].steps == 2
    assert 9 not in m.figures.spans and len(m.tasks[1].spans) == 2


def test_a_task_id_created_again_starts_without_the_old_spans() -> None:
    m = RunModel()
    apply(m, _created(1))
    apply(m, {"event": "steps", "t": 1.0, "steps": _steps(3, [1])})
    apply(m, _created(1))
    assert m.tasks[1].spans == [] and m.tasks[1].steps == 0
