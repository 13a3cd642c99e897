"""Stepping's shared pieces without a run: the ``paused``/``resumed`` records (decoded,
checked like any untrusted record, folded by the reducer), ``Breakpoints``, the control
records and the parent's non-blocking control pipe (docs/protocol.md)."""

from __future__ import annotations

import os

import pytest

from asyncplay import decoder as D
from asyncplay import protocol as P
from asyncplay.breakpoints import Breakpoints
from asyncplay.model import Pause, RunModel, apply
from asyncplay.runner.control import MAX_PENDING, ControlPipe
from asyncplay.runner.spec import RunSpec

_HELLO = P.pack_json({"event": "hello", "t": 0.0, "version": P.PROTOCOL_VERSION})

GOOD_PAUSE = {
    "event": "paused",
    "t": 0.5,
    "reason": "step",
    "next": 3,
    "file": "/home/me/toast.py",
    "line": 15,
    "ready": [3, 0, 4],
    "timers": [[1.01, 2, "sleep(1)"], [2.0, None, "call_later(stop)"]],
    "at_line": None,
}


def decode(*records: dict) -> list[dict]:
    data = _HELLO + b"".join(P.pack_json(r) for r in records)
    return D.Decoder().feed(data)[1:]


def test_a_paused_and_a_resumed_record_decode_as_sent() -> None:
    resumed = {"event": "resumed", "t": 0.5, "how": "continue", "paused": 12.5}
    assert decode(GOOD_PAUSE, resumed) == [GOOD_PAUSE, resumed]


def _bad(**change: object) -> dict:
    return {**GOOD_PAUSE, **change}


HOSTILE = {
    "unknown reason": _bad(reason="whim"),
    "next not an int": _bad(next="3"),
    "next negative": _bad(next=-1),
    "next past u32": _bad(next=2**32),
    "line past u32": _bad(line=2**40),
    "at_line a float": _bad(at_line=1.5),
    "file not text": _bad(file=7),
    "file a megabyte": _bad(file="x" * 5000),
    "ready not a list": _bad(ready={"a": 1}),
    "ready of text": _bad(ready=["Task-1"]),
    "ready of null": _bad(ready=[None]),
    "ready too long": _bad(ready=[1] * 1001),
    "timers too long": _bad(timers=[[1.0, 1, "x"]] * 1001),
    "timer not a triple": _bad(timers=[[1.0, 1]]),
    "timer due negative": _bad(timers=[[-1.0, 1, "x"]]),
    "timer due past MAX_TIME": _bad(timers=[[1e13, 1, "x"]]),
    "timer task text": _bad(timers=[[1.0, "t", "x"]]),
    "timer what too long": _bad(timers=[[1.0, 1, "x" * 201]]),
    "timer what null": _bad(timers=[[1.0, 1, None]]),
    "no ready": {k: v for k, v in GOOD_PAUSE.items() if k != "ready"},
    "resumed unknown how": {"event": "resumed", "t": 1.0, "how": "rewind"},
    "resumed paused negative": {"event": "resumed", "t": 1.0, "how": "step", "paused": -3},
    "resumed paused NaN-free huge": {"event": "resumed", "t": 1.0, "how": "step", "paused": 1e13},
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_forged_stepping_record_is_a_protocol_error(name: str) -> None:
    events = decode(HOSTILE[name], {"event": "bye", "t": 2.0})
    assert [e["event"] for e in events] == ["protocol_error"], events
    assert "malformed data" in events[0]["message"]


def test_the_bounds_themselves_are_accepted() -> None:
    edge = _bad(
        ready=[0] * 1000,
        timers=[[1e12, 2**32 - 1, "x" * 200]] * 1000,
        next=2**32 - 1,
        file="f" * 4096,
    )
    assert decode(edge) == [edge]


def test_the_reducer_keeps_the_pause_until_resumed_and_counts_it() -> None:
    m = RunModel()
    apply(m, {"event": "run_start", "t": 0.0})
    assert m.pause is None and m.pauses == 0 and m.paused_total == 0.0
    apply(m, GOOD_PAUSE)
    assert m.pause == Pause(
        "step",
        3,
        "/home/me/toast.py",
        15,
        (3, 0, 4),
        ((1.01, 2, "sleep(1)"), (2.0, None, "call_later(stop)")),
        None,
    )
    assert m.pauses == 1 and m.status == "running"
    apply(m, {"event": "resumed", "t": 0.5, "how": "step", "paused": 2.0})
    assert m.pause is None and m.paused_total == 2.0
    apply(m, {**GOOD_PAUSE, "reason": "line", "at_line": 17, "t": 0.6})
    assert m.pause is not None and m.pause.reason == "line" and m.pause.at == 17
    assert m.pauses == 2
    apply(m, {"event": "run_end", "t": 0.7, "exit_code": 0})
    assert m.pause is None and m.pauses == 2 and m.paused_total == 2.0


def test_a_pause_is_immutable_and_compares_by_value() -> None:
    p = Pause("start", None, None, None, (), (), None)
    with pytest.raises(AttributeError):
        p.next = 3  # type: ignore[misc]
    assert p == Pause("start") and hash(p) == hash(Pause("start")) and p != Pause("step")
    assert "reason='start'" in repr(p)


def test_breakpoints_are_immutable_sets_and_go_on_the_wire_sorted() -> None:
    bp = Breakpoints([("/b.py", 3), ("/a.py", 9), ("/a.py", 9)], ["worker", "alpha"])
    assert bp.lines == frozenset({("/a.py", 9), ("/b.py", 3)})
    assert bp.tasks == frozenset({"alpha", "worker"})
    assert bp and not Breakpoints()
    assert bp == Breakpoints([("/a.py", 9), ("/b.py", 3)], ["worker", "alpha"])
    with pytest.raises(AttributeError):
        bp.tasks = frozenset()  # type: ignore[misc]
    wire = bp.to_wire()
    assert wire == {
        "cmd": "breakpoints",
        "lines": [["/a.py", 9], ["/b.py", 3]],
        "tasks": ["alpha", "worker"],
    }
    assert P.control_problem(wire) is None
    with pytest.raises(ValueError):
        Breakpoints([("/a.py", 0)])
    with pytest.raises(ValueError):
        Breakpoints(tasks=[f"t{i}" for i in range(1001)])


@pytest.mark.parametrize(
    "record",
    [
        None,
        [],
        {"cmd": "rewind"},
        {"cmd": "breakpoints"},
        {"cmd": "breakpoints", "lines": [["/a.py"]], "tasks": []},
        {"cmd": "breakpoints", "lines": [["/a.py", -1]], "tasks": []},
        {"cmd": "breakpoints", "lines": [], "tasks": [3]},
        {"cmd": "breakpoints", "lines": [["/a.py", 1]] * 1001, "tasks": []},
    ],
)
def test_the_child_refuses_a_bad_control_record(record: object) -> None:
    assert P.control_problem(record) is not None


def test_the_spec_hands_the_child_its_control_fd_and_what_to_arm() -> None:
    spec = RunSpec(
        path="demo.py",
        cwd="/tmp",
        start_paused=True,
        breakpoints=Breakpoints([("/tmp/demo.py", 4)], ["worker"]),
    )
    child = spec.child_spec(5, 7)
    assert child["control_fd"] == 7 and child["start_paused"] is True
    assert child["breakpoints"] == {"lines": [["/tmp/demo.py", 4]], "tasks": ["worker"]}
    plain = RunSpec(path="demo.py", cwd="/tmp")
    assert plain.start_paused is False and plain.breakpoints == Breakpoints()
    assert "control_fd" not in plain.child_spec(5)


def _read_all(fd: int) -> bytes:
    os.set_blocking(fd, False)
    out = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return out
        if not data:
            return out
        out += data


def test_the_control_pipe_queues_before_it_opens_and_never_blocks() -> None:
    pipe = ControlPipe()
    pipe.send({"cmd": "pause"})  # the run is starting: queued
    assert pipe.pending and pipe.fd == -1
    r = pipe.open()
    try:
        pipe.send({"cmd": "step"})
        data = _read_all(r)
        assert data == P.pack_control({"cmd": "pause"}) + P.pack_control({"cmd": "step"})
        # Nobody reads: the pipe fills, the rest waits (bounded), nothing blocks.
        big = {"cmd": "breakpoints", "lines": [["/x" * 500, 1]] * 50, "tasks": []}
        for _ in range(200):
            pipe.send(big)
        assert 0 < len(pipe.pending) <= MAX_PENDING
        got = _read_all(r)
        pipe.flush()
        assert len(got) > 0 and not pipe.closed
    finally:
        os.close(r)
    # The reader is gone (the program closed it): dropped for good, no exception.
    pipe.send({"cmd": "continue"})
    pipe.flush()
    assert pipe.closed and not pipe.pending
    pipe.send({"cmd": "pause"})
    assert not pipe.pending
    pipe.close()


class _Signals:
    """What a session sends the program: the signals and the control records."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, paused: bool) -> None:
        from types import SimpleNamespace

        from asyncplay.runner.core import SessionCore

        self.core = core = SessionCore(RunSpec(path="p.py", cwd="/tmp", start_paused=True))
        self.sent: list[tuple[str, int]] = []
        monkeypatch.setattr(core, "signal_program", lambda sig: self.sent.append(("program", sig)))
        monkeypatch.setattr(core, "killpg", lambda sig: self.sent.append(("group", sig)))
        core.proc = SimpleNamespace(pid=0, stdout=None, stderr=None)  # type: ignore[assignment]
        self.clock = 0.0
        monkeypatch.setattr(core, "now", lambda: self.clock)
        self.r = core.control.open()
        records = [GOOD_PAUSE] if paused else []
        core.on_channel(_HELLO + b"".join(P.pack_json(r) for r in records))

    def control(self) -> bytes:
        return _read_all(self.r)


@pytest.mark.parametrize("paused", [True, False])
def test_a_stop_tells_a_paused_child_on_the_channel_and_signals_a_running_one(
    monkeypatch: pytest.MonkeyPatch, paused: bool
) -> None:
    """A paused run gets a ``stop`` command and no SIGINT (one sent after the channel
    unpaused it could land after main() ended, in the loop's cleanup); a running one gets
    SIGINT. Either way, still there after the grace, the whole group is killed."""
    import signal

    from asyncplay.runner.core import STOP_GRACE

    run = _Signals(monkeypatch, paused)
    try:
        run.core.request_stop()
        if paused:
            assert run.sent == [] and run.control() == P.pack_control({"cmd": "stop"})
            assert not run.core.control.closed  # (the child gives it up once it stopped)
        else:
            assert run.sent == [("program", signal.SIGINT)] and run.core.control.closed
        run.core.send_control({"cmd": "continue"})  # a stopped run takes no more commands
        if paused:
            assert run.control() == b""
        run.core.request_stop()  # a second stop is the same stop
        run.clock = STOP_GRACE / 2
        run.core.tick()
        assert ("group", signal.SIGKILL) not in run.sent
        run.clock = STOP_GRACE + 0.1  # the program did not obey within the grace
        run.core.tick()
        assert run.sent[-1] == ("group", signal.SIGKILL)
        assert [s for s in run.sent if s[1] == signal.SIGINT] == ([] if paused else [run.sent[0]])
    finally:
        os.close(run.r)
        run.core.control.close()


def test_the_child_takes_a_stop_command() -> None:
    assert P.control_problem({"cmd": "stop"}) is None


def _stepper(monkeypatch: pytest.MonkeyPatch) -> tuple[object, int, list[tuple[int, int]]]:
    """The child's Stepper on a real pipe (the write end returned), its kills recorded."""
    from types import SimpleNamespace

    from asyncplay.child import stepping

    r, w = os.pipe()
    kills: list[tuple[int, int]] = []
    monkeypatch.setattr(stepping.os, "kill", lambda pid, sig: kills.append((pid, sig)))
    return stepping.Stepper(SimpleNamespace(), r, {}), w, kills


def test_a_stop_the_child_reads_while_running_is_the_sigint_a_running_stop_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sent as the run left a pause (the parent had not seen its ``resumed`` yet), the
    stop reaches a running child: it sends itself SIGINT, once, and never pauses again."""
    import signal

    stepper, w, kills = _stepper(monkeypatch)
    try:
        os.write(w, P.pack_control({"cmd": "stop"}) + P.pack_control({"cmd": "pause"}))
        stepper.poll()  # (the helper thread's look at the pipe)
        assert kills == [(os.getpid(), signal.SIGINT)]
        assert stepper.reader.gone and stepper.wanted is None
        stepper.poll()
        assert stepper.pause("request", None, None) is False and len(kills) == 1
    finally:
        os.close(w)
        os.close(stepper.reader.fd)


def test_a_stop_read_at_a_pause_point_stops_there_without_a_signal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loop's thread reads the stop as it comes to pause (before a step, or at a line):
    no pause is told, the caller raises the interrupt there (True), no SIGINT is sent."""
    stepper, w, kills = _stepper(monkeypatch)
    try:
        os.write(w, P.pack_control({"cmd": "step"}) + P.pack_control({"cmd": "stop"}))
        assert stepper.pause("step", None, None) is True
        assert kills == [] and stepper.reader.gone
        assert stepper.pause("step", None, None) is False  # stopped once, never paused again
    finally:
        os.close(w)
        os.close(stepper.reader.fd)
