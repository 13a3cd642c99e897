"""Playback's model at step k (``views/playback.py``): where each position cuts the events,
and that any walk back and forth lands on exactly the model a fold from scratch gives."""

from __future__ import annotations

from collections import deque
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streams import Stream, gather_run

from asyncplay import model_steps
from asyncplay.model import RunModel, TaskInfo, apply, build
from asyncplay.model_output import OutputLog
from asyncplay.model_steps import StepFigures
from asyncplay.views.playback import (
    EventLog,
    Playback,
    cuts,
    in_step_order,
    next_line,
    next_words,
    status_forms,
    status_words,
)


def state(obj: object) -> object:
    """Everything a model holds, as plain comparable data (slots and dicts walked; the
    output's lines built first: unbuilt or built, they are the same lines). The tasks'
    spans once, from the model's StepFigures, made (the steps kept depend on how the
    batches were cut), none empty (a span list is made empty when something asks for a
    task's spans before it has any)."""
    if isinstance(obj, OutputLog):
        obj.settle()
    if isinstance(obj, StepFigures):
        obj.flush()
        figures = {s: state(getattr(obj, s)) for s in obj.__slots__ if s != "spans"}
        figures["spans"] = {tid: state(spans) for tid, spans in obj.spans.items() if spans}
        return ["StepFigures", figures]
    if isinstance(obj, TaskInfo):
        return ["TaskInfo", {s: state(getattr(obj, s)) for s in obj.__slots__ if s != "_f"}]
    if isinstance(obj, dict):
        return {k: state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, deque)):
        return [type(obj).__name__, [state(v) for v in obj]]
    if isinstance(obj, (set, frozenset)):
        return [type(obj).__name__, sorted(map(repr, obj))]  # a copy: the model's set moves on
    slots = getattr(type(obj), "__slots__", None)
    if slots is not None:
        return [type(obj).__name__, {s: state(getattr(obj, s, None)) for s in slots}]
    if hasattr(obj, "__dict__"):
        return [type(obj).__name__, state(vars(obj))]
    return obj


def reference(events: list[dict], k: int) -> RunModel:
    """The model at position ``k`` folded from scratch, in one pass."""
    events = in_step_order(events)
    index, offset, _end = cuts(events)
    m = RunModel()
    for ev in events[: index[k]]:
        apply(m, ev)
    if offset[k]:
        piece = events[index[k]]["steps"][: offset[k]]
        apply(m, {"event": "steps", "t": piece[-1][1] + piece[-1][2], "steps": piece})
    return m


def demo() -> list[dict]:
    """main creates two workers in its first step and prints; the second batch holds two
    steps (one printed nothing); a worker ends after its last step."""
    s = Stream()
    s.task(1, 0.01, "main", line=12)
    s.task(2, 0.021, "work", name="w1", parent=1, line=9)
    s.task(3, 0.022, "work", name="w2", parent=1, line=9)
    s.output(0.023, "start\n", 1)
    s.step(1, 0.02, 0.005, "gather(2)", line=10)
    s.output(0.031, "w1 here\n", 2)
    s.events.append(
        {
            "event": "steps",
            "t": 0.05,
            "steps": [[2, 0.03, 0.002, "sleep(1)", "/p/x.py", 5], [3, 0.04, 0.001, None, None, 0]],
        }
    )
    s.done(3, 0.0415)
    s.output(1.031, "w1 again\n", 2)
    s.step(2, 1.03, 0.002).done(2, 1.033)
    s.step(1, 1.04, 0.001).done(1, 1.042)
    return s.end(1.1)


def test_positions_cut_before_what_the_next_step_did() -> None:
    events = demo()
    pb = Playback(events)
    assert pb.total == 5
    assert pb.model.tasks.keys() == {1}  # main exists; the workers come in its step
    assert [line.text for line in pb.model.output] == []
    assert pb.next_task() == 1
    pb.seek(1)
    assert pb.model.tasks.keys() == {1, 2, 3}
    assert [line.text for line in pb.model.output] == ["start"]
    assert pb.model.tasks[1].state == "waiting" and pb.model.tasks[2].state == "pending"
    assert pb.next_task() == 2
    pb.seek(2)  # inside the batch: w1's step in, w2's not
    assert [line.text for line in pb.model.output] == ["start", "w1 here"]
    assert pb.model.tasks[2].steps == 1 and pb.model.tasks[3].steps == 0
    assert pb.model.now == pytest.approx(0.032)  # when the step ended, not the batch
    pb.seek(3)  # w2's only step, and its end (before the next step began)
    assert pb.model.tasks[3].state == "done"
    assert [line.text for line in pb.model.output] == ["start", "w1 here"]  # not "again"
    pb.seek(4)
    assert pb.model.output[-1].text == "w1 again" and pb.model.tasks[2].state == "done"
    pb.seek(5)
    assert pb.model.status == "ended"
    assert state(pb.model) == state(build(events))  # the last position is the whole run
    assert [pb.time_at(k) for k in range(6)] == pytest.approx(
        [0, 0.025, 0.032, 0.041, 1.032, 1.041]
    )
    assert pb.position_at(0.5) == 3 and pb.position_at(0.0) == 0 and pb.position_at(9) == 5


def test_a_task_ends_right_after_its_last_step_in_a_batch() -> None:
    """The decoder puts a batch's task ends after it: playback puts each after its step."""
    s = Stream()
    s.task(1, 0.0, "a").task(2, 0.0, "b")
    steps = [[1, 0.1, 0.01, None, None, 0], [2, 0.2, 0.01, "sleep(1)", "/p/x.py", 3]]
    s.events.append({"event": "steps", "t": 0.3, "steps": steps})
    s.done(1, 0.111)
    s.done(9, 0.3)  # no step of it in the batch: stays after it
    events = s.end(0.5)
    moved = in_step_order(events)
    assert [ev["event"] for ev in moved[4:]] == [
        "steps",
        "task_done",
        "steps",
        "task_done",
        "run_end",
    ]
    assert moved[4]["t"] == pytest.approx(0.11) and moved[6]["t"] == 0.3
    pb = Playback(events)
    pb.seek(1)
    assert pb.model.tasks[1].state == "done" and pb.model.tasks[2].steps == 0
    pb.seek(2)
    assert state(pb.model) == state(build(events))
    assert in_step_order(gather_run()) is not None
    plain = gather_run()
    assert in_step_order(plain) is plain  # nothing to move: the same list


def test_output_released_late_goes_back_to_its_step() -> None:
    """Under load the session releases a step's output after the records of later steps
    (its bytes came out of the pipe late): playback shows it with the step that printed."""
    s = Stream()
    s.task(1, 0.0, "main").task(2, 0.01, "w", name="w1", parent=1)
    s.events.append(
        {"event": "steps", "t": 0.03, "steps": [[1, 0.005, 0.01, "gather(1)", None, 0],
                                                [2, 0.02, 0.001, "sleep(1)", None, 0]]}
    )  # fmt: skip
    s.output(0.0151, "main here\n", 1)  # released after the records of both steps,
    s.output(0.0211, "w1 here\n", 2)  # in the order they were printed
    s.step(2, 1.02, 0.001).done(2, 1.022)
    events = s.end(1.1)
    moved = in_step_order(events)
    assert [(ev["event"], ev.get("task")) for ev in moved[4:9]] == [
        ("output", 1),
        ("steps", None),
        ("output", 2),
        ("steps", None),
        ("steps", None),
    ]
    pb = Playback(events)
    assert [x.text for x in pb.model.output] == []
    pb.seek(1)
    assert [x.text for x in pb.model.output] == ["main here"]
    pb.seek(2)
    assert [x.text for x in pb.model.output] == ["main here", "w1 here"]
    pb.seek(pb.total)
    assert state(pb.model) == state(build(events))


def test_going_back_restores_and_refolds() -> None:
    events = gather_run()
    pb = Playback(events, every=2)
    pb.seek(pb.total)
    assert pb.snapshots > 2
    for k in range(pb.total, -1, -1):
        pb.seek(k)
        assert state(pb.model) == state(reference(events, k)), k
    assert pb.restored == pb.total


def test_a_snapshot_keeps_its_spans_while_the_fold_goes_on() -> None:
    """A snapshot shares a task's span list with the model folding on, which merges new
    steps into the last span: what it loads must be the spans as they were."""
    s = Stream()
    s.task(1, 0.0, "w")
    t = 0.01
    for _ in range(20):
        s.step(1, t, 0.001, "sleep(0)", line=3)
        t += 0.01
    events = s.end(t)
    with mock.patch.object(model_steps, "MAX_SPANS_PER_TASK", 4):  # merged spans
        pb = Playback(events, every=1)
        pb.seek(pb.total)
        assert pb.model.tasks[1].span_steps > 1
        for k in range(pb.total, -1, -1):
            pb.seek(k)
            assert state(pb.model) == state(reference(events, k)), k


def test_a_limited_seek_goes_part_way() -> None:
    events = gather_run()
    pb = Playback(events)
    assert not pb.seek(pb.total, limit=2)
    assert 0 < pb.position < pb.total
    while not pb.seek(pb.total, limit=2):
        pass
    assert state(pb.model) == state(build(events))


def test_snapshots_stay_within_their_bytes() -> None:
    events = gather_run()
    pb = Playback(events, every=1, budget=1)  # every snapshot is over: thinned each time
    pb.seek(pb.total)
    assert pb.snapshots <= 3
    for k in (3, 0, 7, 1):
        pb.seek(k)
        assert state(pb.model) == state(reference(events, k))


def test_status_words_and_next() -> None:
    pb = Playback(demo())
    assert status_words(pb, "/p/x.py") == "playback - step 0/5 - 0.00 s - next: Task-1 (main)"
    pb.seek(3)
    assert status_words(pb, "/p/x.py", playing=True, speed=2) == (
        "playback >> 2x - step 3/5 - 0.04 s - next: w1 (work) at line 5"
    )
    assert next_words(pb.model, 2, "/elsewhere.py") == "w1 (work) at x.py:5"  # not ours
    assert next_line(pb.model, 2, "/p/x.py") == 5 and next_line(pb.model, 3, "/p/x.py") is None
    assert status_forms(pb, "/p/x.py")[1:] == [
        "playback - step 3/5 - 0.04 s - next: w1 at line 5",
        "playback - step 3/5 - 0.04 s - next: w1",
        "playback - step 3/5 - 0.04 s",
    ]
    pb.model.tasks[2].name = "\x1b[2Jevil"  # the program's text, never the terminal's
    assert next_words(pb.model, 2, "/p/x.py").startswith(r"\e[2Jevil (work)")
    pb.seek(5)
    assert status_words(pb, None).endswith("step 5/5 - 1.04 s - end of the run")


def test_a_run_without_steps_has_one_position() -> None:
    events = Stream().end(0.5)
    pb = Playback(events)
    assert pb.total == 0 and pb.model.status == "ended" and pb.next_task() is None
    assert pb.seek(3) and pb.position == 0


def test_the_event_log_keeps_the_start_and_the_end() -> None:
    log = EventLog(max_steps=3, max_events=100)
    for ev in gather_run():
        log.add(ev)
    assert log.steps == 3 and log.cut == pytest.approx(0.0041)
    assert log.events[-1]["event"] == "run_end"
    pb = Playback(log.events)
    assert pb.total == 3
    pb.seek(3)
    assert pb.model.status == "ended"
    many = EventLog(max_steps=100, max_events=4)
    for ev in gather_run():
        many.add(ev)
    assert many.cut is not None and len(many.events) == 4 + 1


# ---- any walk lands where a fold from scratch does -------------------------------------


@st.composite
def runs(draw: st.DrawFn) -> list[dict]:
    """A run as the child tells it: tasks created in steps or outside, steps batched,
    output whole and in pieces, open steps, warnings, cancels, ends; times only grow."""
    s = Stream()
    t = 0.0
    alive: list[int] = []
    made = 0
    pending: list[list] = []  # steps waiting for their batch
    ends: list[int] = []  # tasks ended among them: told after the batch, as the decoder does
    late: list[dict] = []  # output released after the batch (the pipe was read late)

    def flush() -> None:
        if pending:
            s.events.append({"event": "steps", "t": t, "steps": list(pending)})
            pending.clear()
        s.events.extend(late)  # before or after the ends: either can be read first
        late.clear()
        for tid in ends:
            s.done(tid, t, draw(st.sampled_from(["done", "cancelled", "failed"])))
        ends.clear()

    for _ in range(draw(st.integers(1, 40))):
        t += draw(st.sampled_from([0.0, 0.001, 0.01, 0.5]))
        what = draw(st.sampled_from(["task", "step", "step", "step", "flush", "out", "misc"]))
        if what == "task" or not alive:
            made += 1
            parent = draw(st.sampled_from([None, *alive]))
            s.task(made, t, "work", name=draw(st.sampled_from([None, f"w{made}"])), parent=parent)
            alive.append(made)
        elif what == "step":
            tid = draw(st.sampled_from(alive))
            if draw(st.booleans()):
                text = draw(st.sampled_from(["x\n", "part", "a\nb", "\n"]))
                out = {"event": "output", "t": t, "stream": "stdout", "text": text, "task": tid}
                # once one is late, the ones printed after it are too (printed order)
                (late if late or draw(st.booleans()) else s.events).append(out)
            if draw(st.integers(0, 5)) == 0:
                flush()
                s.events.append({"event": "step_open", "t": t + 0.2, "id": tid, "start": t})
            dur = draw(st.sampled_from([0.0001, 0.3]))
            awaiting = draw(st.sampled_from([None, "sleep(1)", "gather(2)"]))
            pending.append([tid, t, dur, awaiting, "/p/x.py" if awaiting else None, 4])
            t += dur
            if draw(st.integers(0, 3)) == 0:
                if draw(st.booleans()):
                    flush()
                ends.append(tid)
                alive.remove(tid)
        elif what == "flush":
            flush()
        elif what == "out":
            flush()
            s.output(t, "top level\n", None)
        else:
            flush()
            tid = draw(st.sampled_from(alive))
            kind = draw(st.sampled_from(["slow", "deadlock", "cancel", "rename"]))
            if kind == "slow":
                s.warn("slow_step", t, tid, step=t, ongoing=True, duration=2.0)
            elif kind == "deadlock":
                s.warn("deadlock", t, tid)
            elif kind == "cancel":
                s.events.append({"event": "cancel_source", "t": t, "id": tid, "cause": "timeout"})
            else:
                s.events.append({"event": "task_renamed", "t": t, "id": tid, "name": "renamed"})
    flush()
    if draw(st.booleans()):
        return s.end(t + 0.1)
    return s.events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=runs(),
    moves=st.lists(st.integers(-3, 60), min_size=1, max_size=12),
    every=st.integers(1, 6),
    limit=st.sampled_from([None, 1, 3]),
    budget=st.sampled_from([1, 10**9]),
)
def test_any_walk_lands_on_the_fold_from_scratch(events, moves, every, limit, budget) -> None:
    with mock.patch.object(model_steps, "MAX_SPANS_PER_TASK", 4):  # spans merge too
        pb = Playback(events, every=every, budget=budget)
        assert state(pb.model) == state(reference(events, 0))
        for move in moves:
            k = max(0, min(pb.total, move))
            while not pb.seek(k, limit=limit):
                pass
            assert pb.position == k
            assert state(pb.model) == state(reference(events, k))
        pb.seek(pb.total)
        assert state(pb.model) == state(build(events))


@settings(max_examples=60, deadline=None)
@given(events=runs())
def test_one_step_back_after_one_forward_is_where_it_was(events) -> None:
    pb = Playback(events, every=3)
    for k in range(pb.total):
        before = state(pb.model)
        pb.seek(k + 1)
        pb.seek(k)
        assert state(pb.model) == before
        pb.seek(k + 1)
