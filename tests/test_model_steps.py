"""The model's steps (``model_steps``): spans made only when asked, from the steps kept,
are the spans made step by step, however the batches are cut and whenever they are read;
the kept steps stay bounded; the headless path never makes them."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from helpers import asyncplay
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


REAL = """import asyncio

async def worker(i):
    for k in range(30):
        await asyncio.sleep(0 if k % 3 else 0.001)
    return i

async def main():
    q = asyncio.Queue()
    await asyncio.gather(*(worker(i) for i in range(12)), q.put(1))
    print(await q.get())

asyncio.run(main())
"""


def test_a_real_runs_spans_and_figures_are_those_made_step_by_step(tmp_path, monkeypatch) -> None:
    """A real run's events (``run --json``): folded as a run folds them, the spans made
    at the end, against the same events folded one step at a time with every span made
    at once, as the reducer did before, with spans merging past a small cap."""
    (tmp_path / "prog.py").write_text(REAL)
    r = asyncplay("run", "--json", "--sandbox", "none", "prog.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert sum(len(e["steps"]) for e in events if e["event"] == "steps") > 12 * 30
    monkeypatch.setattr(model_steps, "MAX_SPANS_PER_TASK", 8)
    lazy = RunModel()
    for ev in events:
        apply(lazy, ev)
    eager = RunModel()
    for ev in events:
        for row in ev["steps"] if ev["event"] == "steps" else [None]:
            apply(eager, ev if row is None else {**ev, "steps": [row]})
            for info in eager.tasks.values():
                _ = info.spans
    assert lazy.steps == eager.steps
    assert lazy.tasks.keys() == eager.tasks.keys()
    if not any(ev["event"] == "step_open" for ev in events):  # (a loaded machine's)
        reference = _old_spans(
            [row for ev in events if ev["event"] == "steps" for row in ev["steps"]], 8
        )
        assert {tid: a.spans for tid, a in lazy.tasks.items() if a.spans} == reference
    for tid, a in lazy.tasks.items():
        b = eager.tasks[tid]
        assert a.spans == b.spans and a.span_steps == b.span_steps, a
        for key in ("steps", "running", "longest_step", "first_step", "last_active", "state"):
            assert getattr(a, key) == getattr(b, key), (a, key)
        assert (a.awaiting, a.last_awaited, a.wait_file, a.wait_line) == (
            b.awaiting, b.last_awaited, b.wait_file, b.wait_line
        )  # fmt: skip
    assert any(a.span_steps > 1 for a in lazy.tasks.values())  # merged spans were made


def _old_spans(rows: list, most: int) -> dict[int, list]:
    """The spans as the reducer made them at each step before they were made when asked
    (fc4379e's ``model._steps`` and ``_halve``), written out apart, for a run without
    open steps."""
    spans: dict[int, list] = {}
    per: dict[int, int] = {}
    for tid, start, dur, awaiting, file, line in rows:
        mine = spans.setdefault(tid, [])
        k = per.get(tid, 1)
        if k > 1 and mine[-1][3] < k:
            s0, _e, busy, n = mine[-1][:4]
            mine[-1] = (s0, start + dur - s0, busy + dur, n + 1, awaiting, file, line)
            continue
        mine.append((start, dur, dur, 1, awaiting, file, line))
        if len(mine) >= most:
            merged = [
                (a[0], b[0] + b[1] - a[0], a[2] + b[2], a[3] + b[3], *b[4:])
                for a, b in zip(mine[::2], mine[1::2], strict=False)
            ]
            if len(mine) % 2:
                merged.append(mine[-1])
            spans[tid] = merged
            per[tid] = k * 2
    return spans
