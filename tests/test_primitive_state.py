"""A ``primitive_state`` record's figures (child/primitive_figures.py ``_send_state``):
an object with no hold or wait going on sends its figures as they are (the fast path),
one with holds and waits adds each one's time up to now. Each record is the child's
binary ``P`` record read back by the parent's decoder."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncplay import protocol as P
from asyncplay.child import primitive_figures as pf
from asyncplay.decoder import Decoder
from asyncplay.model import RunModel, apply


def _state(st: pf.Stats, now: float = 10.0) -> dict:
    tracer = SimpleNamespace(enabled=True, channel=SimpleNamespace(buf=bytearray()))
    pf._send_state(tracer, st, 0.0, now)
    (event,) = Decoder().feed(bytes(tracer.channel.buf))
    assert event["event"] == "primitive_state" and event["t"] == now
    return event


def _figures(event: dict) -> tuple:
    keys = ("holders", "waiters", "held", "waited", "longest_wait", "longest_hold")
    return tuple(event[k] for k in keys)


def test_an_idle_object_sends_its_figures_as_they_are() -> None:
    st = pf.Stats(1, "Event")
    st.held, st.total_waited, st.longest_wait, st.longest_hold = 1.5, 0.25, 0.125, 0.5
    assert _figures(_state(st)) == ([], [], 1.5, 0.25, 0.125, 0.5)
    assert _state(st)["set"] is False
    st.set_since = 9.0  # set one second ago: held so far
    event = _state(st)
    assert _figures(event) == ([], [], 2.5, 0.25, 0.125, 0.5) and event["set"] is True
    fresh = _state(pf.Stats(2, "Lock"))
    assert _figures(fresh) == ([], [], 0.0, 0.0, 0.0, 0.0)
    assert all(type(fresh[k]) is float for k in ("held", "waited", "longest_wait"))


def test_holds_and_waits_going_on_count_up_to_now() -> None:
    st = pf.Stats(3, "Semaphore")
    st.held, st.total_waited, st.longest_wait, st.longest_hold = 1.0, 0.5, 1.0, 0.25
    st.holder, st.since = SimpleNamespace(tid=4), 8.0
    st.more = [(None, 9.0)]
    st.waiters = [[SimpleNamespace(tid=5), 9.5, "acquire"], [None, 7.0, "acquire"]]
    assert _figures(_state(st)) == (
        [4, None],
        [[5, "acquire"], [None, "acquire"]],
        1.0 + 2.0 + 1.0,
        0.5 + 0.5 + 3.0,
        3.0,
        2.0,
    )
    st.holder = st.since = None
    st.more = []
    assert _figures(_state(st))[:3] == ([], [[5, "acquire"], [None, "acquire"]], 1.0)


# ---- the P record against the JSON record it replaces (protocol 4) ------------------------


def _pack(event: dict, **forge: object) -> bytes:
    """``event`` (a ``primitive_state`` the JSON path takes) as a ``P`` record, each field
    where the child packs it; ``forge`` overrides a packed field (``shape``, a count)."""
    queued = "size" in event
    if queued:
        shape = P.STATE_QUEUED
    elif "set" in event:
        shape = P.STATE_SET if event["set"] else P.STATE_CLEAR
    else:
        shape = P.STATE_LOCK
    fields = {
        "t": event["t"], "id": event["id"], "acquisitions": event["acquisitions"],
        "max_waiters": event["max_waiters"], "longest_wait": event["longest_wait"],
        "held": event["held"], "waited": event["waited"], "longest_hold": event["longest_hold"],
        "shape": shape,
    }  # fmt: skip
    fields.update({k: v for k, v in forge.items() if k in fields})
    queue = None
    if queued:
        keys = ("size", "peak_size", "puts", "gets", "put_wait", "get_wait", "join_waiters",
                "max_join_waiters")  # fmt: skip
        queue = tuple(forge.get(k, event[k]) for k in keys)
    waiters = event["waiters"]
    return P.pack_state(
        tuple(fields.values()),
        queue,
        [h or 0 for h in event["holders"]],
        [w[0] or 0 for w in waiters],
        forge.get("wkinds", [P.WAIT_ORDER.index(w[1]) for w in waiters]),
        forge.get("sizes", [tuple(s) for s in event.get("sizes", ())]),
    )


_times = st.floats(0, 5) | st.sampled_from([0.0, 1e-12, 0.1 + 0.2, P.MAX_TIME])
_counts = st.integers(0, 9) | st.just(P.MAX_U32)
_ids = st.none() | st.integers(1, P.MAX_U32)
_states = st.fixed_dictionaries(
    {"event": st.just("primitive_state"), "id": st.integers(0, P.MAX_U32),
     "acquisitions": _counts, "holders": st.lists(_ids, max_size=4),
     "waiters": st.lists(st.tuples(_ids, st.sampled_from(P.WAIT_ORDER)).map(list),
                         max_size=4),
     "max_waiters": _counts, "longest_wait": _times, "held": _times, "waited": _times,
     "longest_hold": _times},
)  # fmt: skip
_queue_part = st.fixed_dictionaries(
    {"size": _counts, "peak_size": _counts, "puts": _counts, "gets": _counts,
     "put_wait": _times, "get_wait": _times, "join_waiters": _counts,
     "max_join_waiters": _counts,
     "sizes": st.lists(st.tuples(_times, _counts).map(list), max_size=4)},
)  # fmt: skip


@st.composite
def _any_state(draw: st.DrawFn) -> dict:
    event = draw(_states)
    shape = draw(st.sampled_from(["lock", "event", "queue"]))
    if shape == "queue":
        event.update(draw(_queue_part))
    elif shape == "event":
        event["set"] = draw(st.booleans())
    event["t"] = draw(_times)
    # in the order the child's JSON record had them (its --json line)
    return {k: event[k] for k in _ORDER if k in event}


_ORDER = ("event", "id", "acquisitions", "holders", "waiters", "max_waiters", "longest_wait",
          "held", "waited", "longest_hold", "size", "peak_size", "puts", "gets", "put_wait",
          "get_wait", "join_waiters", "max_join_waiters", "sizes", "set", "t")  # fmt: skip


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(_any_state())
def test_a_p_record_is_the_json_record_it_replaces(event: dict) -> None:
    """Decoded, a P record is the event the JSON record was: the same keys in the same
    order (``--json`` prints the same line), the same values and types, and the same model
    once folded."""
    from_json = Decoder().feed(P.pack_json(event))
    from_p = Decoder().feed(_pack(event))
    assert [list(e.items()) for e in from_p] == [list(e.items()) for e in from_json]
    assert [P.dumps(e) for e in from_p] == [P.dumps(e) for e in from_json]
    models = []
    for events in (from_json, from_p):
        m = RunModel()
        apply(m, {"event": "primitive", "t": 0.0, "id": event["id"], "kind": "Queue"
                  if "size" in event else "Event" if "set" in event else "Lock",
                  "name": "x", "file": None, "line": None})  # fmt: skip
        for e in events:
            apply(m, e)
        p = m.primitives[event["id"]]
        models.append({k: getattr(p, k) for k in p.__slots__})
    assert models[0] == models[1]


_EVENT = {"event": "primitive_state", "id": 1, "acquisitions": 3, "holders": [2, None],
          "waiters": [[3, "put"], [None, "get"]], "max_waiters": 2, "longest_wait": 0.1,
          "held": 0.5, "waited": 0.25, "longest_hold": 0.5, "size": 2, "peak_size": 2,
          "puts": 2, "gets": 0, "put_wait": 0.1, "get_wait": 0.0, "join_waiters": 0,
          "max_join_waiters": 1, "sizes": [[0.1, 1], [0.2, 2]], "t": 0.2}  # fmt: skip
_BAD_TIMES = [-1.0, -1e-300, P.MAX_TIME * 2, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize(
    "forge",
    [
        {key: bad}
        for key in ("t", "longest_wait", "held", "waited", "longest_hold", "put_wait", "get_wait")
        for bad in _BAD_TIMES
    ]  # fmt: skip
    + [{"sizes": [(bad, 1)]} for bad in _BAD_TIMES]
    + [{"shape": 4}, {"shape": 255}, {"wkinds": [0, 4]}, {"wkinds": [255, 0]}],
)
def test_every_field_of_a_forged_p_record_is_checked(forge: dict) -> None:
    good = Decoder().feed(_pack(_EVENT))
    assert [e["event"] for e in good] == ["primitive_state"]
    events = Decoder().feed(_pack(_EVENT, **forge))
    assert [e["event"] for e in events] == ["protocol_error"], forge


def test_a_p_record_of_the_wrong_length_is_a_protocol_error() -> None:
    record = _pack(_EVENT)
    body = record[P.HEADER.size :]
    lock = _pack({k: v for k, v in _EVENT.items() if k not in _QUEUE_KEYS})
    for forged in (
        body[:-1],  # cut inside the size samples
        body + b"\0",  # a byte past them
        body[: P.STATE.size - 1],  # not even the head
        body[: P.STATE.size],  # a queue's head without its queue part
        # a lock's head claiming a size sample (sizes are a queue's only)
        lock[P.HEADER.size : P.HEADER.size + P.STATE.size - 4]
        + P.STR.pack(1)
        + lock[P.HEADER.size + P.STATE.size :]
        + bytes(12),
    ):
        events = Decoder().feed(P.HEADER.pack(P.K_STATE, len(forged)) + forged)
        assert [e["event"] for e in events] == ["protocol_error"], len(forged)
    # ... and a well-formed one after such a stream is never read: the channel is done
    dec = Decoder()
    dec.feed(P.HEADER.pack(P.K_STATE, 3) + b"abc")
    assert dec.feed(record) == []


_QUEUE_KEYS = ("size", "peak_size", "puts", "gets", "put_wait", "get_wait", "join_waiters",
               "max_join_waiters", "sizes")  # fmt: skip


# ---- figures mode: a lock's or an event's state deferred, the same last state --------------

_OPS = st.lists(
    st.tuples(
        st.sampled_from(["acquire", "release", "wait", "woken", "set", "clear", "tick",
                         "flush", "long wait"]),
        st.integers(0, 2),  # which object (0, 1: semaphores; 2: an event)
        st.integers(1, 4),  # which task
        st.sampled_from([0.0, 0.001, 0.03, 0.07, 0.25]),  # a tick's seconds
    ),
    max_size=60,
)  # fmt: skip


def _play(ops: list, mode: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict], int]:
    """``ops`` on two semaphores and an event through the helpers the wrappers use, with
    a flush where asked, on a clock that only ticks; the events the parent decodes."""
    clock = [100.0]
    monkeypatch.setattr(pf, "_perf", lambda: clock[0])

    def failed(_tracer: object, site: str, exc: BaseException) -> None:
        raise AssertionError(f"{site}: {exc!r}")

    monkeypatch.setattr(pf, "report_failure", failed)
    tracer = SimpleNamespace(enabled=True, channel=SimpleNamespace(buf=bytearray()), t0=90.0,
                             current=None, step_records=mode)  # fmt: skip
    reg = pf.Registry(tracer)
    assert reg.defer is (mode == "figures")
    stats = [pf.Stats(1, "Semaphore"), pf.Stats(2, "Semaphore"), pf.Stats(3, "Event")]
    waits: list[list] = [[], [], []]
    tasks = {n: SimpleNamespace(tid=n) for n in range(1, 5)}
    for op, which, task, seconds in ops:
        s = stats[which]
        tracer.current = tasks[task]
        if op == "tick":
            clock[0] += seconds
        elif op == "flush":
            pf.send_states(reg)
        elif op == "long wait":
            if pf.before_wait(reg, 1.0):
                pf.send_states(reg)
        elif op == "acquire" and s.kind != "Event":
            s.acquisitions += 1
            pf.hold(s, tasks[task], clock[0])
            pf.mark(reg, s)
        elif op == "release" and (s.since is not None or s.more):
            pf.released(s, tasks[task])
            pf.mark(reg, s)
        elif op == "wait":
            waits[which].append(pf.start_wait(reg, s, "wait" if s.kind == "Event" else "acquire"))
        elif op == "woken" and waits[which]:
            pf.end_wait(reg, s, waits[which].pop(0))
            s.acquisitions += 1
        elif op == "set" and s.kind == "Event" and s.set_since is None:
            s.set_since = clock[0]
            pf.mark(reg, s)
        elif op == "clear" and s.kind == "Event" and s.set_since is not None:
            s.held += clock[0] - s.set_since
            s.set_since = None
            pf.mark(reg, s)
    clock[0] += 0.01
    reg.due = True  # the run's end (the at_exit the registry wraps in figures mode)
    pf.send_states(reg)
    assert not reg.pending
    events = Decoder().feed(bytes(tracer.channel.buf))
    assert all(e["event"] == "primitive_state" for e in events)
    return events, sum(s.acquisitions for s in stats)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(_OPS)
def test_deferred_states_end_in_the_model_each_flush_made(ops: list) -> None:
    """Figures mode sends a lock's or an event's state every SEND_EVERY, as of the flush
    that saw its last change: folded, the model's objects are the ones the records of
    every flush make, field for field (times to the bit, ``updated`` included)."""
    with pytest.MonkeyPatch.context() as mp:
        each, acquired = _play(ops, "steps", mp)
    with pytest.MonkeyPatch.context() as mp:
        deferred, acquired_too = _play(ops, "figures", mp)
    assert acquired == acquired_too
    assert len(deferred) <= len(each)
    models = []
    for events in (each, deferred):
        m = RunModel()
        for pid, kind in ((1, "Semaphore"), (2, "Semaphore"), (3, "Event")):
            apply(m, {"event": "primitive", "t": 0.0, "id": pid, "kind": kind, "name": None,
                      "file": None, "line": None})  # fmt: skip
        for e in events:
            apply(m, e)
        models.append([{k: getattr(p, k) for k in p.__slots__} for p in m.primitives.values()])
    assert models[0] == models[1]
    if acquired:
        assert sum(p["acquisitions"] for p in models[1]) == acquired


def test_deferred_states_go_every_send_every_and_before_a_long_wait(monkeypatch) -> None:
    ops = [("acquire", 0, 1, 0.0), ("flush", 0, 1, 0.0)]  # the first flush sends
    ops += [("tick", 0, 1, 0.03), ("release", 0, 1, 0.0), ("flush", 0, 1, 0.0)] * 3
    ops += [("tick", 0, 1, 0.25), ("acquire", 0, 2, 0.0), ("flush", 0, 1, 0.0)]
    ops += [("tick", 0, 1, 0.001), ("release", 0, 2, 0.0), ("long wait", 0, 1, 0.0)]
    events, _ = _play(ops, "figures", monkeypatch)
    # the first flush; the release 0.03 s later only at the flush 0.2 s on (with the
    # acquire seen then); the release before the long wait; none at the end
    assert [(e["acquisitions"], e["holders"]) for e in events] == [
        (1, [1]), (2, [2]), (2, []),
    ]  # fmt: skip
    assert events[0]["t"] == 10.0 and events[2]["t"] == pytest.approx(10.341)
    each, _ = _play(ops, "steps", monkeypatch)
    assert len(each) == 4  # a record at each flush that saw a change (the 2nd, 3rd: none)
