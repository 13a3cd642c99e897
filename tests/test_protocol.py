"""The wire format: every record decodes to its documented event; garbage never raises."""

from __future__ import annotations

import random
import subprocess

import pytest
from helpers import ROOT, asyncplay
from pythons import SUPPORTED_VERSIONS, python_or_skip

from asyncplay import decoder as D
from asyncplay import protocol as P
from asyncplay.child.step_figures import pack_record


def _stream() -> bytes:
    buf = bytearray()
    buf += P.pack_json({"event": "hello", "t": 0.0, "version": P.PROTOCOL_VERSION})
    buf += P.pack_str(1, "main")
    buf += P.pack_str(2, "/tmp/x.py")
    buf += P.pack_str(3, "sleep(1.0)")
    buf += P.pack_created(1, 0, 0.01, 1, 2, 7, False, "Task-1")
    buf += P.pack_step(1, 0.02, 0.001, 3, 2, 9)
    buf += P.pack_step(1, 0.03, 0.002, 0, 0, 0)
    buf += P.pack_output(1, 1, 0.04, "héllo\n".encode())
    buf += P.pack_str(4, "ValueError")
    buf += P.pack_done(1, 0.05, 2, 4, 2, 11, "boom")
    return bytes(buf)


EXPECTED = [
    {"event": "hello", "t": 0.0, "version": P.PROTOCOL_VERSION},
    {
        "event": "task_created",
        "t": 0.01,
        "id": 1,
        "name": "Task-1",
        "coro": "main",
        "parent": None,
        "internal": False,
        "file": "/tmp/x.py",
        "line": 7,
    },
    {
        "event": "steps",
        "t": 0.032,
        "steps": [[1, 0.02, 0.001, "sleep(1.0)", "/tmp/x.py", 9], [1, 0.03, 0.002, None, None, 0]],
    },
    {
        "event": "output_record",
        "t": 0.04,
        "stream": "stdout",
        "data": "héllo\n".encode(),
        "task": 1,
    },
    {
        "event": "task_done",
        "t": 0.05,
        "id": 1,
        "state": "failed",
        "result": None,
        "exc_type": "ValueError",
        "exc_msg": "boom",
        "file": "/tmp/x.py",
        "line": 11,
    },
]


def _approx(events: list[dict]) -> list[dict]:
    for ev in events:
        if ev["event"] == "steps":
            ev["t"] = round(ev["t"], 6)
    return events


def test_round_trip_whole() -> None:
    assert _approx(D.Decoder().feed(_stream())) == EXPECTED


def test_round_trip_byte_by_byte() -> None:
    d = D.Decoder()
    events: list[dict] = []
    for b in _stream():
        events += d.feed(bytes([b]))
    # Steps split across feeds arrive as several batches; merge them for comparison.
    merged: list[dict] = []
    for ev in events:
        if ev["event"] == "steps" and merged and merged[-1]["event"] == "steps":
            merged[-1]["steps"] += ev["steps"]
            merged[-1]["t"] = ev["t"]
        else:
            merged.append(ev)
    assert _approx(merged) == EXPECTED


def _ending_tasks(n: int) -> bytes:
    """n tasks created, then each one's last step and its end, one after another (how
    gather's children finish): the stream that was one steps event per task."""
    buf = bytearray(P.pack_str(1, "tiny"))
    for tid in range(1, n + 1):
        buf += P.pack_created(tid, 0, 0.01, 1, 0, 0, False, f"Task-{tid}")
    for tid in range(1, n + 1):
        buf += P.pack_step(tid, 0.02 + tid / 1000, 0.0001, 0, 0, 0)
        buf += P.pack_done(tid, 0.021 + tid / 1000, 0, 0, 0, 0, "None")
    return bytes(buf)


def test_task_ends_wait_for_the_batch_of_steps_around_them() -> None:
    """One steps event for a run of tasks ending one after another (not one per task),
    then their task_done events; each task's last step still comes before its end, and
    a batch fed byte by byte folds to the same model."""
    from asyncplay.model import build

    events = D.Decoder().feed(_ending_tasks(100))
    kinds = [e["event"] for e in events]
    assert kinds == ["task_created"] * 100 + ["steps"] + ["task_done"] * 100
    assert [s[0] for s in events[100]["steps"]] == list(range(1, 101))
    d = D.Decoder()
    slow = [ev for b in _ending_tasks(100) for ev in d.feed(bytes([b]))]
    seen_step: set[int] = set()
    for ev in slow:
        if ev["event"] == "steps":
            seen_step.update(s[0] for s in ev["steps"])
        elif ev["event"] == "task_done":
            assert ev["id"] in seen_step
    whole, piecewise = build(events), build(slow)
    assert [(t.id, t.state, t.steps, t.ended) for t in whole.tasks.values()] == [
        (t.id, t.state, t.steps, t.ended) for t in piecewise.tasks.values()
    ]
    assert all(t.state == "done" and t.steps == 1 for t in whole.tasks.values())


def test_output_records_do_not_cut_a_batch_of_steps() -> None:
    """A task printing at every step: its output records come right after the one steps
    event they were read among, in the order read (with the task ends), not a steps event
    per step; fed byte by byte it is the same records and steps."""
    buf = bytearray(P.pack_created(1, 0, 0.0, 0, 0, 0, False, "Task-1"))
    for i in range(50):
        buf += P.pack_output(1 + i % 2, 1, i / 100, f"line {i}\n".encode())
        buf += P.pack_step(1, i / 100, 0.0001, 0, 0, i)
    buf += P.pack_done(1, 0.6, 0, 0, 0, 0, "None")
    events = D.Decoder().feed(bytes(buf))
    kinds = [e["event"] for e in events]
    assert kinds == ["task_created", "steps"] + ["output_record"] * 50 + ["task_done"]
    assert [s[5] for s in events[1]["steps"]] == list(range(50))
    records = [(e["stream"], e["data"], e["t"]) for e in events[2:52]]
    assert records == [
        ("stdout" if i % 2 == 0 else "stderr", f"line {i}\n".encode(), i / 100) for i in range(50)
    ]
    d = D.Decoder()
    slow = [ev for b in bytes(buf) for ev in d.feed(bytes([b]))]
    assert [e for e in slow if e["event"] == "output_record"] == events[2:52]
    assert [s for e in slow if e["event"] == "steps" for s in e["steps"]] == events[1]["steps"]


def test_a_long_run_of_steps_is_one_batch_and_a_record_after_it_ends_it() -> None:
    """Runs of steps are found 16, 32, 64 ... records at a time: 1,000 steps, then a
    JSON record, then 3 steps: two steps events, every step in its place."""
    buf = bytearray(P.pack_json({"event": "hello", "t": 0.0, "version": 1}))
    buf += P.pack_created(1, 0, 0.0, 0, 0, 0, False, "Task-1")
    buf += b"".join(P.pack_step(1, i / 1000, 0.0001, 0, 0, i) for i in range(1000))
    buf += P.pack_json({"event": "task_renamed", "t": 1.0, "id": 1, "name": "w"})
    buf += b"".join(P.pack_step(1, 1 + i / 1000, 0.0001, 0, 0, i) for i in range(3))
    for cut in (len(buf), len(buf) - 7):  # whole, and the last step cut in two
        d = D.Decoder()
        events = d.feed(bytes(buf[:cut])) + d.feed(bytes(buf[cut:]))
        batches = [e["steps"] for e in events if e["event"] == "steps"]
        assert [len(b) for b in batches][:1] == [1000]
        assert [s[5] for b in batches for s in b] == list(range(1000)) + [0, 1, 2]
        assert [e["event"] for e in events if e["event"] != "steps"] == [
            "hello",
            "task_created",
            "task_renamed",
        ]


def test_garbage_is_one_protocol_error_then_silence() -> None:
    d = D.Decoder()
    good = P.pack_json({"event": "hello", "t": 0.0, "version": 1})
    events = d.feed(good + b"\xff\x00\x00\x00\x10garbage-garbage!")
    assert [e["event"] for e in events] == ["hello", "protocol_error"]
    assert "malformed" in events[1]["message"]
    assert d.feed(good) == []  # nothing after the break is trusted


def test_forged_json_kinds_and_missing_time_are_errors() -> None:
    for obj in ({"event": "run_end", "t": 1}, {"event": "warning"}, [1, 2], {"t": 0}):
        data = b'{"x":' if obj is None else P.pack_json(obj)  # type: ignore[arg-type]
        events = D.Decoder().feed(data)
        assert [e["event"] for e in events] == ["protocol_error"], obj


def test_unknown_string_id_and_huge_length_are_errors() -> None:
    assert D.Decoder().feed(P.pack_step(1, 0.0, 0.0, 99, 0, 0))[-1]["event"] == "protocol_error"
    huge = P.HEADER.pack(P.K_JSON, P.MAX_PAYLOAD + 1)
    assert D.Decoder().feed(huge)[-1]["event"] == "protocol_error"


def test_random_bytes_never_raise() -> None:
    rng = random.Random(1234)
    for _ in range(300):
        d = D.Decoder()
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        for ev in d.feed(blob):
            assert ev["event"] in P.EVENT_KINDS


NAN, INF = float("nan"), float("inf")


def _raw_json(text: bytes) -> bytes:
    return P.HEADER.pack(P.K_JSON, len(text)) + text


_HELLO = P.pack_json({"event": "hello", "t": 0.0, "version": 1})
# Every record kind with a number no view can take: NaN, an infinity, a negative time,
# a time past MAX_TIME, an id past u32 (JSON has no width of its own).
OUT_OF_RANGE = {
    "step start NaN": P.pack_step(1, NAN, 0.1, 0, 0, 0),
    "step lasting +inf": P.pack_step(1, 0.5, INF, 0, 0, 0),
    "step lasting -1": P.pack_step(1, 0.5, -1.0, 0, 0, 0),
    "step ending past MAX_TIME": P.pack_step(1, P.MAX_TIME, 1.0, 0, 0, 0),
    "created at -inf": P.pack_created(1, 0, -INF, 0, 0, 0, False, "x"),
    "created at NaN": P.pack_created(1, 0, NAN, 0, 0, 0, False, "x"),
    "done at inf": P.pack_done(1, INF, 0, 0, 0, 0, "None"),
    "done at 1e300": P.pack_done(1, 1e300, 0, 0, 0, 0, "None"),
    "output at NaN": P.pack_output(1, 0, NAN, b"x"),
    "json t NaN": _raw_json(b'{"event":"bye","t":NaN}'),
    "json t Infinity": P.pack_json({"event": "bye", "t": INF}),
    "json t 1e400": _raw_json(b'{"event":"bye","t":1e400}'),
    "json t -1": P.pack_json({"event": "bye", "t": -1}),
    "warning duration inf": P.pack_json(
        {"event": "warning", "t": 1, "kind": "slow_step", "message": "m", "duration": INF}
    ),
    "warning duration -Infinity": _raw_json(
        b'{"event":"warning","t":1,"kind":"slow_step","message":"m","duration":-Infinity}'
    ),
    "warning nested NaN": P.pack_json(
        {"event": "warning", "t": 1, "kind": "deadlock", "message": "m", "tasks": [1, NAN]}
    ),
    "warning task past u32": P.pack_json(
        {"event": "warning", "t": 1, "kind": "x", "message": "m", "task": 2**40}
    ),
    "warning line negative": P.pack_json(
        {"event": "warning", "t": 1, "kind": "x", "message": "m", "line": -3}
    ),
    "cancel_source by huge": P.pack_json(
        {"event": "cancel_source", "t": 1, "id": 1, "cause": "cancel", "by": 10**30}
    ),
    "hello speed 1e300": P.pack_json({"event": "hello", "t": 0, "version": 1, "speed": 1e300}),
    "step_open start inf": P.pack_json({"event": "step_open", "t": 1, "id": 1, "start": INF}),
    "step_open start -1": P.pack_json({"event": "step_open", "t": 1, "id": 1, "start": -1}),
    "uncaught vm_size 10**30": P.pack_json(
        {
            "event": "uncaught",
            "t": 1,
            "kind": "memory",
            "exc_type": "MemoryError",
            "errno": None,
            "bare": True,
            "rlimits": None,
            "vm_size": 10**30,
            "threads": 1,
        }
    ),
}


def _figure(**change: object) -> tuple:
    """One task's row of an ``F`` record (task 1: 3 steps, 0.2 s running ...), changed."""
    row = {"tid": 1, "steps": 3, "running": 0.2, "longest": 0.1, "first": 0.5, "last": 0.9}
    row.update({"awaiting": 0, "waited": 0, "file": 0, "line": 0}, **change)
    return tuple(row.values())


OUT_OF_RANGE.update(
    {
        "figures at NaN": pack_record(NAN, [_figure()]),
        "figures at -1": pack_record(-1.0, [_figure()]),
        "figures running inf": pack_record(1.0, [_figure(running=INF)]),
        "figures longest NaN": pack_record(1.0, [_figure(longest=NAN)]),
        "figures first -1": pack_record(1.0, [_figure(first=-1.0)]),
        "figures last past MAX_TIME": pack_record(1.0, [_figure(last=P.MAX_TIME * 2)]),
        "figures of 0 steps": pack_record(1.0, [_figure(), _figure(tid=2, steps=0)]),
        "figures with an unknown string": pack_record(1.0, [_figure(waited=7)]),
        "figures with part of a row": P.HEADER.pack(P.K_FIGURES, 8 + P.FIGURE.size - 3)
        + pack_record(1.0, [_figure()])[P.HEADER.size : -3],
        "figures without a time": P.HEADER.pack(P.K_FIGURES, 4) + b"\0\0\0\0",
    }
)


def test_figures_decode_with_their_strings() -> None:
    """An ``F`` record (figures mode): each task's row, string ids made text."""
    events = D.Decoder().feed(
        _HELLO
        + P.pack_str(1, "sleep(1)")
        + P.pack_str(2, "/p.py")
        + pack_record(2.5, [_figure(), _figure(tid=2, awaiting=1, waited=1, file=2, line=7)])
        + pack_record(3.0, [])
    )
    assert [e["event"] for e in events] == ["hello", "figures", "figures"]
    assert events[1]["t"] == 2.5 and events[2]["tasks"] == []
    assert events[1]["tasks"] == [
        (1, 3, 0.2, 0.1, 0.5, 0.9, None, None, None, 0),
        (2, 3, 0.2, 0.1, 0.5, 0.9, "sleep(1)", "sleep(1)", "/p.py", 7),
    ]


def test_non_finite_and_out_of_range_numbers_are_a_protocol_error_in_every_kind() -> None:
    """The contract (docs/protocol.md, Numbers): the record is malformed, so it becomes the
    run's one protocol_error and nothing later is trusted; nothing of it reaches a view."""
    for what, record in OUT_OF_RANGE.items():
        d = D.Decoder()
        events = d.feed(_HELLO + P.pack_created(1, 0, 0.1, 0, 0, 0, False, "t") + record)
        kinds = [e["event"] for e in events]
        assert kinds == ["hello", "task_created", "protocol_error"], what
        assert events[-1]["t"] == 0.1, what  # the last good time, never the forged one
        assert d.feed(_HELLO) == [], what


def test_numbers_in_range_still_decode() -> None:
    """The edges: time 0, a step ending exactly at MAX_TIME, u32 ids, integer times."""
    events = D.Decoder().feed(
        _HELLO
        + P.pack_step(2**32 - 1, 0.0, P.MAX_TIME, 0, 0, 2**32 - 1)
        + P.pack_json({"event": "warning", "t": 5, "kind": "slow_step", "message": "m",
                       "task": 2**32 - 1, "duration": 0.25, "tasks": [1, 2]})
    )  # fmt: skip
    assert [e["event"] for e in events] == ["hello", "steps", "warning"]


def test_a_protocol_error_quotes_a_forged_value_in_one_short_line() -> None:
    forged = {"event": "bye", "t": ["x" * 100_000]}
    (error,) = D.Decoder().feed(P.pack_json(forged))
    assert error["event"] == "protocol_error" and len(error["message"]) < 300


# ---- records forged by the program itself ---------------------------------------------------

FORGE = (
    "import os, sys\n"
    "payload = open(sys.argv[1], 'rb').read()\n"
    "record = b'J' + len(payload).to_bytes(4, 'little') + payload\n"
    "for fd in range(200, 260):\n"
    "    try:\n"
    "        os.write(fd, record)\n"
    "        break\n"
    "    except OSError:\n"
    "        pass\n"
    "print('program output')\n"
    "raise SystemExit(3)\n"
)


@pytest.mark.parametrize(
    "payload",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"event":"bye","t":1' + "0" * 400 + "}",
        '{"event":"task_renamed","t":1,"id":[1],"name":"x"}',
        '{"event":"warning","t":1,"kind":"k","message":"m","task":null,"file":123,"line":1}',
    ],
    ids=["deep", "huge-t", "bad-id", "bad-file"],
)
def test_forged_json_never_crashes_the_parent(tmp_path, payload) -> None:
    (tmp_path / "f.py").write_text(FORGE)
    (tmp_path / "payload").write_text(payload)
    r = asyncplay("run", "f.py", "payload", cwd=tmp_path)
    assert r.returncode == 3, r.stderr[-500:]
    assert r.stdout == b"program output\n"
    assert b"internal error" not in r.stderr


def test_decoder_survives_hostile_json() -> None:
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    events = D.Decoder().feed(P.HEADER.pack(P.K_JSON, len(deep)) + deep)
    assert [e["event"] for e in events] == ["protocol_error"]


PRIMITIVE = {"event": "primitive", "t": 0.1, "id": 1, "kind": "Queue", "name": "q",
             "file": "/p/x.py", "line": 3, "maxsize": 2}  # fmt: skip
STATE = {"event": "primitive_state", "t": 0.2, "id": 1, "acquisitions": 0, "holders": [2],
         "waiters": [[3, "put"], [None, "get"]], "max_waiters": 2, "longest_wait": 0.1,
         "held": 0.0, "size": 2, "peak_size": 2, "puts": 2, "gets": 0, "put_wait": 0.1,
         "get_wait": 0.0, "sizes": [[0.1, 1], [0.2, 2]]}  # fmt: skip
JOB = {"event": "executor_job", "t": 0.3, "id": 1, "function": "time.sleep", "task": 1,
       "pool": "default", "thread": "asyncio_0", "submitted": 0.1, "started": 0.1,
       "ended": 0.3}  # fmt: skip


@pytest.mark.parametrize(
    "record, change",
    [
        (PRIMITIVE, {"kind": "Lockk"}),
        (PRIMITIVE, {"kind": None}),
        (PRIMITIVE, {"maxsize": -1}),
        (PRIMITIVE, {"maxsize": 2**40}),
        (PRIMITIVE, {"maxsize": True}),
        (PRIMITIVE, {"name": 5}),
        (PRIMITIVE, {"id": "1"}),
        (STATE, {"holders": [0]}),
        (STATE, {"holders": ["a"]}),
        (STATE, {"holders": None}),
        (STATE, {"waiters": [[3]]}),
        (STATE, {"waiters": [[3, "steal"]]}),
        (STATE, {"waiters": [3]}),
        (STATE, {"sizes": [[-1.0, 2]]}),
        (STATE, {"sizes": [[0.1, -2]]}),
        (STATE, {"sizes": [[0.1, 2.5]]}),
        (STATE, {"sizes": [[1e13, 2]]}),
        (STATE, {"sizes": [[0.1]]}),
        (STATE, {"held": -1}),
        (STATE, {"longest_wait": 1e13}),
        (STATE, {"put_wait": "x"}),
        (STATE, {"puts": -1}),
        (STATE, {"acquisitions": 2**33}),
        (STATE, {"set": 1}),
        (JOB, {"started": -0.5}),
        (JOB, {"ended": 0.05}),  # before it started
        (JOB, {"submitted": None}),
        (JOB, {"function": None}),
        (JOB, {"task": 2**33}),
        (JOB, {"thread": 7}),
    ],
)
def test_forged_object_records_are_a_protocol_error(record, change) -> None:
    good = D.Decoder().feed(P.pack_json(record))
    assert [e["event"] for e in good] == [record["event"]]
    events = D.Decoder().feed(P.pack_json({**record, **change}))
    assert [e["event"] for e in events] == ["protocol_error"], change


def test_the_childs_json_encoder_writes_what_json_dumps_writes() -> None:
    """protocol.dumps (the child's, without importing json: cost, #15) gives json.dumps's
    exact text for every value, plain or not (the rest is json's own)."""
    import json
    import math

    from hypothesis import given, settings
    from hypothesis import strategies as st

    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text()
    )
    values = st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner)
            | st.tuples(inner, inner)
            | st.dictionaries(st.text() | st.integers() | st.booleans(), inner)
        ),
        max_leaves=30,
    )

    @settings(max_examples=300, deadline=None)
    @given(values)
    def same(value: object) -> None:
        assert P.dumps(value) == json.dumps(value, separators=(",", ":"), default=repr)

    same()
    odd = {"e": ValueError("x"), "n": math.nan, "s": {1, 2}, "t": type("S", (str,), {})("q")}
    assert P.dumps(odd) == json.dumps(odd, separators=(",", ":"), default=repr)
    deep: list = []
    for _ in range(200):
        deep = [deep]
    assert P.dumps(deep) == json.dumps(deep, separators=(",", ":"))
    cycle: list = [1]
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular reference"):
        P.dumps(cycle)
    assert P._c_encode is not None  # json.encoder's own C encoder, where json keeps it


ENCODER_PROBE = r"""
import json, math, sys
sys.path.insert(0, sys.argv[1])
from asyncplay import decoder as D
from asyncplay import protocol as P
assert P._c_encode is not None, "_json.make_encoder moved"
class Num(int):
    pass
values = [
    {"event": "primitive_state", "id": 3, "waiters": [[i, "acquire"] for i in range(2000)]},
    {"t": 0.1 + 0.2, "big": 2**70, "neg": -1e-300, "nan": math.nan, "inf": -math.inf},
    {"s": "caf\u00e9 \U0001f600 \\ \"q\"\n", 1: None, True: False, 2.5: [()]},
    [Num(7), {"e": ValueError("x")}, {1, 2}], "top", 5, None,
]
for value in values:
    assert P.dumps(value) == json.dumps(value, separators=(",", ":"), default=repr), value
cycle = {}
cycle["me"] = cycle
try:
    P.dumps(cycle)
except ValueError as exc:
    assert "Circular reference" in str(exc)
else:
    raise AssertionError("a cycle was encoded")
print("same")
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_the_childs_json_encoder_is_json_s_own_on_every_python(version) -> None:
    """The child runs on each interpreter: ``_json.make_encoder`` there takes what
    ``json.dumps`` gives it, and writes json.dumps's text (a CPython that changes its
    signature fails here, and the child falls back to ``json``)."""
    out = subprocess.run(
        [python_or_skip(version), "-c", ENCODER_PROBE, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (out.returncode, out.stdout.strip()) == (0, "same"), out.stderr[-2000:]


def test_the_child_reads_a_marshal_spec_and_a_json_one(tmp_path) -> None:
    import marshal

    from asyncplay.child.boot import _read_spec

    spec = {"channel_fd": 5, "args": ["a"], "slow_step": 0.1, "source": None}
    (tmp_path / "m").write_bytes(P.pack_spec(spec))
    (tmp_path / "j").write_text('{"channel_fd": 5, "args": ["a"], "slow_step": 0.1}')
    assert _read_spec(str(tmp_path / "m")) == spec
    assert _read_spec(str(tmp_path / "j"))["args"] == ["a"]
    for bad in (b"", b"\xff\x00garbage", P.SPEC_MAGIC + b"\xff", P.SPEC_MAGIC + marshal.dumps([1])):
        (tmp_path / "b").write_bytes(bad)
        with pytest.raises(ValueError):
            _read_spec(str(tmp_path / "b"))


def _mixed_stream(seed: int) -> tuple[bytes, list[dict], list[list], list[int]]:
    """A run's records as the child writes them, in random runs: task_created records one
    after another, task ends among single steps and runs of steps, strings, output. The
    bytes, the events each non-step record must decode to, every step in order, and for
    each task end the number of steps written before it."""
    rng = random.Random(seed)
    buf = bytearray(P.pack_json({"event": "hello", "t": 0.0, "version": P.PROTOCOL_VERSION}))
    events: list[dict] = [{"event": "hello", "t": 0.0, "version": P.PROTOCOL_VERSION}]
    steps: list[list] = []
    before: list[int] = []
    strings = {0: None}
    t, tid = 0.0, 0
    for _ in range(60):
        t += rng.random() / 100
        what = rng.choice(["created", "created", "ended", "steps", "string", "output"])
        if what == "string":
            sid = len(strings)
            strings[sid] = f"name-{sid}-é"
            buf += P.pack_str(sid, strings[sid])
        elif what == "created":
            for _ in range(rng.choice([1, 2, 3, 40])):
                tid += 1
                parent, coro, file = rng.randrange(tid), rng.choice(list(strings)), 0
                if rng.random() < 0.05:  # an id used again (forged, or a reused one)
                    tid -= 1
                line, internal = rng.choice([0, 7]), rng.random() < 0.2
                name = rng.choice(["", f"Task-{tid}", "ünïcode name"])
                buf += P.pack_created(tid, parent, t, coro, file, line, internal, name)
                events.append(
                    {"event": "task_created", "t": t, "id": tid, "name": name,
                     "coro": strings[coro], "parent": parent or None, "internal": internal,
                     "file": strings[file], "line": line or None}
                )  # fmt: skip
        elif what == "steps":
            for _ in range(rng.choice([1, 2, 17, 100])):
                step = [max(tid, 1), t, 0.0001, rng.choice(list(strings)), 0, rng.randrange(9)]
                buf += P.pack_step(*step)
                steps.append([step[0], t, 0.0001, strings[step[3]], None, step[5]])
        elif what == "output":
            buf += P.pack_output(1, 0, t, b"out\n")
            events.append(
                {"event": "output_record", "t": t, "stream": "stdout", "data": b"out\n",
                 "task": None}
            )  # fmt: skip
        else:  # tasks ending one after another, each after its last step (gather's end),
            # or with no step record between them (figures mode)
            alone = rng.random() < 0.5
            for _ in range(rng.choice([1, 5, 30])):
                ending = rng.randrange(1, tid + 1) if tid else 1
                if not alone:
                    step = [ending, t, 0.0002, 0, 0, 0]
                    buf += P.pack_step(*step)
                    steps.append([ending, t, 0.0002, None, None, 0])
                state = rng.randrange(3)
                exc = rng.choice(list(strings))
                text = rng.choice(["None", "boom ü", ""])
                buf += P.pack_done(ending, t, state, exc, 0, state * 3, text)
                before.append(len(steps))
                events.append(
                    {"event": "task_done", "t": t, "id": ending, "state": P.STATES[state],
                     "result": text if state == 0 else None,
                     "exc_type": strings[exc] if state == 2 else None,
                     "exc_msg": text if state == 2 else None, "file": None,
                     "line": state * 3 or None}
                )  # fmt: skip
    return bytes(buf), events, steps, before


@pytest.mark.parametrize("seed", range(12))
def test_runs_of_task_records_decode_to_their_events_however_they_are_fed(seed) -> None:
    """The decoder's inline paths for runs of task_created records and for task ends among
    steps: every record its event, in the order written, every step once and before the
    end of its task, whether the bytes come whole, in random pieces or byte by byte."""
    data, expected, steps, before = _mixed_stream(seed)
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), 40))
    for pieces in (
        [data],
        [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)],
        [data[i : i + 1] for i in range(len(data))] if seed < 2 else [],
    ):
        if not pieces:
            continue
        d = D.Decoder()
        got = [ev for piece in pieces for ev in d.feed(piece)]
        assert [e for e in got if e["event"] != "steps"] == expected
        assert [s for e in got if e["event"] == "steps" for s in e["steps"]] == steps
        told, ends = 0, iter(before)  # a task's end comes after its last step's batch
        for ev in got:
            if ev["event"] == "steps":
                told += len(ev["steps"])
            elif ev["event"] == "task_done":
                assert told >= next(ends)
        assert d.last_t == got[-1]["t"]


@pytest.mark.parametrize("where", ["created", "done"])
def test_a_bad_record_inside_a_run_of_task_records_ends_the_stream_there(where) -> None:
    """A forged time in the middle of a run of task_created records (or of task ends):
    the records before it are delivered, then one protocol_error at the last good time."""
    buf = bytearray(P.pack_str(1, "tiny"))
    for tid in range(1, 6):
        buf += P.pack_created(tid, 0, tid / 10, 1, 0, 0, False, f"Task-{tid}")
    for tid in range(1, 6):
        buf += P.pack_step(tid, 0.6, 0.001, 0, 0, 0)
        buf += P.pack_done(tid, 0.7 + tid / 100, 0, 0, 0, 0, "None")
    bad = bytearray(buf)
    if where == "created":  # the third task_created's time
        at = bytes(buf).index(P.pack_created(3, 0, 0.3, 1, 0, 0, False, "Task-3"))
        bad[at : at + P.CREATED_RECORD.size] = P.CREATED_RECORD.pack(
            P.K_CREATED, P.CREATED.size + 6, 3, 0, float("nan"), 1, 0, 0, 0
        )
    else:  # the third task end's
        at = bytes(buf).index(P.pack_done(3, 0.73, 0, 0, 0, 0, "None"))
        bad[at : at + P.DONE_RECORD.size] = P.DONE_RECORD.pack(
            P.K_DONE, P.DONE.size + 4, 3, -1.0, 0, 0, 0, 0
        )
    events = D.Decoder().feed(bytes(bad))
    kinds = [e["event"] for e in events]
    if where == "created":
        assert kinds == ["task_created", "task_created", "protocol_error"]
        assert events[-1]["t"] == 0.2 and "a record at nan s" in events[-1]["message"]
    else:
        assert kinds == ["task_created"] * 5 + ["steps"] + ["task_done"] * 2 + ["protocol_error"]
        assert [e["id"] for e in events[6:8]] == [1, 2]
        assert events[-1]["t"] == 0.72 and "a record at -1.0 s" in events[-1]["message"]


def _folded(events: list[dict]) -> tuple:
    """Everything a model holds of its tasks and its clock, to compare two folds."""
    from asyncplay.model import TaskInfo, build

    m = build(events)
    fields = [f for f in TaskInfo.__slots__ if f != "_f"]
    tasks = [
        (tid, [getattr(t, f) for f in fields], t.spans, t.finished) for tid, t in m.tasks.items()
    ]
    return tasks, m.now, m.steps, m.errors, m.warnings


@pytest.mark.parametrize("seed", range(12))
def test_a_batched_decoder_folds_to_the_same_model(seed) -> None:
    """``Decoder(batched=True)`` (the headless command's): the task records of a read as
    ``tasks_created``/``tasks_done`` events of tuples; folded, the same model to the last
    field as an event each, however the bytes are fed, a forged record in them too; the
    other events as they were, and a record each counted by the session."""
    data, _expected, _steps, _before = _mixed_stream(seed)
    rng = random.Random(seed)
    if seed % 3 == 2:  # a record cut short in the middle: a protocol error there
        cut = rng.randrange(len(data) // 2, len(data))
        data = data[:cut] + b"\xff" + data[cut + 1 :]
    cuts = sorted(rng.sample(range(1, len(data)), 30))
    for pieces in (
        [data],
        [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)],
    ):
        one, batched = D.Decoder(), D.Decoder(batched=True)
        each = [ev for piece in pieces for ev in one.feed(piece)]
        some = [ev for piece in pieces for ev in batched.feed(piece)]
        assert one.last_t == batched.last_t
        assert _folded(each) == _folded(some)
        kinds = {ev["event"] for ev in some}
        assert "tasks_created" in kinds and not kinds & {"task_created", "task_done"}
        assert [e for e in each if e["event"] not in ("task_created", "task_done")] == [
            e for e in some if e["event"] not in ("tasks_created", "tasks_done")
        ]
        rows = [r for e in some if e["event"] == "tasks_created" for r in e["tasks"]]
        assert [dict(zip(P.TASKS_CREATED, r, strict=True), event="task_created") for r in rows] == [
            e for e in each if e["event"] == "task_created"
        ]
        rows = [r for e in some if e["event"] == "tasks_done" for r in e["tasks"]]
        assert [dict(zip(P.TASKS_DONE, r, strict=True), event="task_done") for r in rows] == [
            e for e in each if e["event"] == "task_done"
        ]
        for ev in some:
            if ev["event"] in ("tasks_created", "tasks_done"):
                assert ev["t"] == max(r[0] for r in ev["tasks"])


def test_a_batched_session_counts_each_task_record_as_an_event() -> None:
    """The session's ``--events`` limit counts a task record once, batched or not."""
    import sys

    from asyncplay.runner.core import SessionCore
    from asyncplay.runner.spec import RunSpec

    data = _mixed_stream(3)[0]
    counts = []
    for batched in (False, True):
        core = SessionCore(RunSpec(python=sys.executable, args=(), path="p.py"), batched=batched)
        for i in range(0, len(data), 4096):
            core.on_channel(data[i : i + 4096])
        counts.append(core.events)
    assert counts[0] == counts[1] > 0
