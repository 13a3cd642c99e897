"""The headless summary read from a deferred model's columns (``model_columns.py``,
``RunModel.task_columns``, ``views/summary.py``'s ``_column_rows``): every line it prints is
the line the tasks' objects give, to the bit, on any channel a batched decoder reads (runs
of alike task records kept as bytes, F records made when read, rows forged, steps left
open, slow steps, tasks cut off by the run's end), and reading the columns changes nothing
of what the model shows afterwards."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_model_deferred import _whole

from asyncplay import protocol as P
from asyncplay.child.step_figures import pack_record
from asyncplay.decoder import Decoder
from asyncplay.model import RunModel, apply
from asyncplay.views import summary

STRINGS = [(1, "w"), (2, "/p.py"), (3, "sleep(0)"), (4, "other"), (5, ""), (6, "Queue.get()")]
VIEWS = [{}, {"all_tasks": True}, {"sort": "running"}, {"sort": "waiting"}, {"sort": "steps"}]


def _events(data: bytes, cuts: list[int], end: bool) -> list[dict]:
    d = Decoder(batched=True)
    bounds = [0, *cuts, len(data)]
    events = [ev for a, b in zip(bounds, bounds[1:], strict=False) for ev in d.feed(data[a:b])]
    if end:
        events.append({"event": "run_end", "t": 99.0, "exit_code": 0})
    return events


def _model(events: list[dict], objects_first: bool) -> RunModel:
    m = RunModel(deferred=True)
    for ev in events:
        apply(m, ev)
    if objects_first:
        assert m.tasks is not None  # (folds them: the summary then reads the objects)
    return m


@st.composite
def channels(draw: st.DrawFn) -> tuple[bytes, list[int], bool]:
    """A figures-mode channel: tasks made in runs of alike records, their figures rows,
    their ends, open steps and slow steps among them; now and then a record the columns
    cannot read (a rename, a cancel's source, steps)."""
    out = bytearray(b"".join(P.pack_str(sid, text) for sid, text in STRINGS))
    n = draw(st.integers(1, 60))
    made: list[int] = []
    kinds = ["figures"] * 9 + ["done"] * 6 + ["open"] * 2 + ["slow"]
    if not draw(st.integers(0, 3)):  # (records the columns cannot read: now and then)
        kinds.append("other")
    times = st.floats(0, 5)
    for i in range(1, n + 1):
        coro = draw(st.sampled_from([1, 1, 1, 4, 0, 5]))
        internal = draw(st.integers(0, 12)) == 0
        out += P.pack_created(i, draw(st.sampled_from([0, 1, i])), draw(times), coro, 2,
                              draw(st.integers(0, 9)), internal, f"Task-{i:02d}")  # fmt: skip
        made.append(i)
        if draw(st.integers(0, 6)) == 0 or i == n:
            for _ in range(draw(st.integers(0, 3))):
                what = draw(st.sampled_from(kinds))
                tid = draw(st.sampled_from(made)) if draw(st.integers(0, 39)) else n + 5
                if what == "figures":
                    rows = [
                        (draw(st.sampled_from(made)) if draw(st.integers(0, 999)) else n + 5,
                         draw(st.integers(1, 9)),
                         draw(times), draw(times), draw(times), draw(times),
                         draw(st.sampled_from([0, 3, 5, 6])), draw(st.sampled_from([0, 3, 6])),
                         draw(st.sampled_from([0, 2])), draw(st.integers(0, 9)))
                        for _ in range(draw(st.integers(1, 20)))
                    ]  # fmt: skip
                    out += pack_record(draw(times), rows)
                elif what == "done":
                    for k in range(draw(st.integers(1, 20))):
                        out += P.pack_done(made[(tid + k) % len(made)], draw(times),
                                           draw(st.sampled_from([0, 0, 1, 2])), 3, 2, 4, "None")  # fmt: skip
                elif what == "open":
                    out += P.pack_json({"event": "step_open", "t": draw(times), "id": tid,
                                        "start": draw(times), "file": "/p.py", "line": 3})  # fmt: skip
                elif what == "slow":
                    out += P.pack_json({"event": "warning", "t": 1.0, "kind": "slow_step",
                                        "message": "held", "task": tid, "file": "/p.py",
                                        "line": 3, "duration": 0.2, "step": 0.5})  # fmt: skip
                else:
                    out += draw(st.sampled_from([
                        P.pack_json({"event": "task_renamed", "t": 1.0, "id": tid, "name": "r"}),
                        P.pack_json({"event": "cancel_source", "t": 1.0, "id": tid,
                                     "cause": "timeout", "by": None, "file": None, "line": None}),
                        P.pack_step(tid, 0.5, 0.01, 3, 2, 4),
                    ]))  # fmt: skip
    if draw(st.integers(0, 4)):  # the last send: every task's figures (a short run's one)
        out += pack_record(6.0, [(i, 3, 0.5, 0.2, 0.1, 6.0, 0, 3, 2, 4) for i in made])
    cuts = sorted(set(draw(st.lists(st.integers(1, len(out) - 1), max_size=3))))
    return bytes(out), cuts, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(channels(), st.sampled_from(VIEWS))
def test_the_summary_from_columns_is_the_summary_from_the_tasks(channel, view) -> None:
    data, cuts, end = channel
    # Each model its own events: folding a batch's rows makes them, after which the other
    # model's columns would be read from the rows made, not from the bytes.
    by_columns = _model(_events(data, cuts, end), False)
    by_objects = _model(_events(data, cuts, end), True)
    text = summary.summary(by_columns, cwd="/", **view)
    assert text == summary.summary(by_objects, cwd="/", **view)
    eager = RunModel()
    for ev in _events(data, cuts, end):
        apply(eager, ev)
    assert _whole(by_columns) == _whole(eager)  # (reading the columns changed nothing)


def test_twenty_thousand_alike_tasks_are_summed_from_columns_and_never_made_objects() -> None:
    n = 20_000
    data = b"".join(P.pack_str(sid, text) for sid, text in STRINGS)
    data += b"".join(P.pack_created(i, 1 if i > 1 else 0, i / 1e4, 1 if i > 1 else 4, 2, 7,
                                    False, f"Task-{i}") for i in range(1, n + 1))  # fmt: skip
    data += pack_record(3.0, [(i, 4, 1e-4 * (i % 7), 5e-5, 2.0, 2.5, 0, 3 if i % 3 else 0, 2, 7)
                              for i in range(n, 0, -1)])  # fmt: skip
    data += b"".join(P.pack_done(i, 3.0 + i / 1e5, 0, 0, 2, 9, "None") for i in range(2, n + 1))
    events = _events(data, [len(data) // 3], True)
    by_columns = _model(events, False)
    text = summary.summary(by_columns, cwd="/")
    assert by_columns.task_columns() is not None and by_columns._tasks == {}
    assert text == summary.summary(_model(events, True), cwd="/")
    assert "19999 tasks  w" in text and "19999 done" in text and "unfinished (ready)" in text


def test_a_wait_an_earlier_row_told_is_the_last_awaited_when_the_last_row_tells_none() -> None:
    """A task's last awaited is from its last row that has one (the fold keeps it): read by
    id over every row, in both ways the columns find a task's last row."""
    data = b"".join(P.pack_str(sid, text) for sid, text in STRINGS)
    data += b"".join(
        P.pack_created(i, 0, 0.1, 1, 2, 7, False, f"Task-{i:02d}") for i in range(1, 13)
    )
    data += pack_record(1.0, [(i, 1, 0.1, 0.1, 0.1, 0.2, 0, 3 if i < 12 else 6, 2, 4)
                              for i in range(1, 13)])  # fmt: skip
    data += P.pack_created(13, 0, 0.1, 4, 2, 7, False, "Task-13")
    last = [(i, 2, 0.2, 0.1, 0.1, 0.3, 0, 0, 2, 4) for i in range(1, 14)]
    for rows in (last, last[1:] + [(13, 1, 0.1, 0.1, 0.1, 0.2, 0, 6, 2, 4)]):
        events = _events(data + pack_record(2.0, rows), [], True)
        by_columns = _model(events, False)
        text = summary.summary(by_columns, cwd="/")
        assert by_columns.task_columns() is not None
        assert text == summary.summary(_model(events, True), cwd="/")
        assert "12 tasks" in text and "2 kinds" in text
