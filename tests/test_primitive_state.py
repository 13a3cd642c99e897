"""A ``primitive_state`` record's figures (child/primitive_figures.py ``_send_state``):
an object with no hold or wait going on sends its figures as they are (the fast path),
one with holds and waits adds each one's time up to now."""

from __future__ import annotations

from types import SimpleNamespace

from asyncplay.child import primitive_figures as pf


def _state(st: pf.Stats, now: float = 10.0) -> dict:
    sent: list[dict] = []
    pf._send_state(SimpleNamespace(send_json=sent.append), st, 0.0, now)
    (event,) = sent
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
