"""The wire format: every record decodes to its documented event; garbage never raises."""

from __future__ import annotations

import random

from asyncplay import protocol as P


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
    assert _approx(P.Decoder().feed(_stream())) == EXPECTED


def test_round_trip_byte_by_byte() -> None:
    d = P.Decoder()
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


def test_garbage_is_one_protocol_error_then_silence() -> None:
    d = P.Decoder()
    good = P.pack_json({"event": "hello", "t": 0.0, "version": 1})
    events = d.feed(good + b"\xff\x00\x00\x00\x10garbage-garbage!")
    assert [e["event"] for e in events] == ["hello", "protocol_error"]
    assert "malformed" in events[1]["message"]
    assert d.feed(good) == []  # nothing after the break is trusted


def test_forged_json_kinds_and_missing_time_are_errors() -> None:
    for obj in ({"event": "run_end", "t": 1}, {"event": "warning"}, [1, 2], {"t": 0}):
        data = b'{"x":' if obj is None else P.pack_json(obj)  # type: ignore[arg-type]
        events = P.Decoder().feed(data)
        assert [e["event"] for e in events] == ["protocol_error"], obj


def test_unknown_string_id_and_huge_length_are_errors() -> None:
    assert P.Decoder().feed(P.pack_step(1, 0.0, 0.0, 99, 0, 0))[-1]["event"] == "protocol_error"
    huge = P.HEADER.pack(P.K_JSON, P.MAX_PAYLOAD + 1)
    assert P.Decoder().feed(huge)[-1]["event"] == "protocol_error"


def test_random_bytes_never_raise() -> None:
    rng = random.Random(1234)
    for _ in range(300):
        d = P.Decoder()
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        for ev in d.feed(blob):
            assert ev["event"] in P.EVENT_KINDS
