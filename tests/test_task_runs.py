"""Runs of task records kept as bytes by a batched decoder (``asyncplay/task_runs.py``):
made rows only when read, and only when their bytes vouch for every check the
record-by-record reading makes. Each must decode exactly as that reading does: the same
rows, the same ``protocol_error`` at the same record, the same ``last_t``."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_decoder_runs import _decode, _same, _slow

from asyncplay import decoder as D
from asyncplay import protocol as P
from asyncplay.task_runs import MIN_RUN, TaskRows

STRINGS = P.pack_str(1, "tiny") + P.pack_str(2, "/p.py") + P.pack_str(300, "far")
N = MIN_RUN + 4


def _created(i: int, **change: object) -> bytes:
    f = {"tid": i, "parent": 0, "t": i / 100, "coro": 1, "file": 2, "line": 7, "internal": False,
         "name": f"Task-{i:02d}"} | change  # fmt: skip
    return P.pack_created(*f.values())  # type: ignore[arg-type]


def _done(i: int, **change: object) -> bytes:
    f = {"tid": i, "t": 1 + i / 100, "state": 0, "exc": 0, "file": 2, "line": 9,
         "text": "None"} | change  # fmt: skip
    return P.pack_done(*f.values())  # type: ignore[arg-type]


def _both(data: bytes) -> tuple:
    """What the batched decoder gives (runs read), and the record-by-record reading."""
    fast = _decode(data, [], True)
    with pytest.MonkeyPatch.context() as mp:
        _slow(mp)
        slow = _decode(data, [], True)
    return fast, slow


def test_a_long_run_is_kept_as_bytes_until_read_then_the_same_rows() -> None:
    data = STRINGS + b"".join(map(_created, range(1, N + 1))) + b"".join(map(_done, range(1, N)))
    events = D.Decoder(batched=True).feed(data)
    assert [e["event"] for e in events] == ["tasks_created", "tasks_done"]
    made = events[0]["tasks"]
    assert isinstance(made, TaskRows) and made._made is None and len(made) == N
    assert made[4] == (0.05, 5, "Task-05", "tiny", None, False, "/p.py", 7)
    assert (events[0]["t"], events[1]["t"]) == (N / 100, 1 + (N - 1) / 100)
    fast, slow = _both(data)
    assert _same(fast, slow)


CHANGES = [
    ("created", {"t": -0.0}),  # accepted by the reading (0 <= -0.0): not vouched, read so
    ("created", {"t": 2.0**33}),  # in range, beyond what the top byte vouches for
    ("created", {"t": math.nan}),
    ("created", {"t": -1.0}),
    ("created", {"coro": 9}),  # an unknown string: the reading's KeyError
    ("created", {"file": 300}),  # a known string past 255: read so
    ("created", {"name": "Tâsk-1"}),  # not ASCII (valid UTF-8, as long as the others)
    ("created", {"name": "Task-é"}),
    ("done", {"state": 3}),
    ("done", {"state": 2, "exc": 300}),
    ("done", {"state": 1, "exc": 9}),  # (the reading does not look at it: not vouched)
    ("done", {"file": 9}),
    ("done", {"t": math.inf}),
    ("done", {"text": "Nöne"}),
]


@pytest.mark.parametrize(("kind", "change"), CHANGES)
@pytest.mark.parametrize("at", [0, MIN_RUN // 2, N - 1])
def test_a_record_its_bytes_do_not_vouch_for_is_read_as_record_by_record(kind, change, at) -> None:
    make = _created if kind == "created" else _done
    records = [make(i, **change) if i == at + 1 else make(i) for i in range(1, N + 1)]
    data = STRINGS + (b"".join(map(_created, range(1, N + 1))) if kind == "done" else b"")
    fast, slow = _both(data + b"".join(records))
    assert _same(fast, slow)


def test_a_bad_utf8_text_or_a_size_apart_is_read_as_record_by_record() -> None:
    records = [bytearray(_created(i)) for i in range(1, N + 1)]
    records[5][-1] = 0xFF  # the name's last byte: not UTF-8
    fast, slow = _both(STRINGS + b"".join(records))
    assert _same(fast, slow) and fast[0][-1]["event"] == "protocol_error"
    records = [bytearray(_done(i)) for i in range(1, N + 1)]
    struct.pack_into("<I", records[7], 1, P.DONE.size + 5)  # a size that swallows the next
    fast, slow = _both(STRINGS + b"".join(map(bytes, records)))
    assert _same(fast, slow)


def test_the_strings_of_a_run_are_those_when_it_was_read() -> None:
    """A string given again after the run (the child never does) changes none of its rows."""
    data = STRINGS + b"".join(map(_created, range(1, N + 1))) + P.pack_str(1, "other")
    data += b"".join(map(_created, range(N + 1, 2 * N + 1)))
    fast, slow = _both(data)
    assert _same(fast, slow)
    rows = [r for e in fast[0] for r in e.get("tasks", ())]
    assert {r[3] for r in rows[:N]} == {"tiny"} and {r[3] for r in rows[N:]} == {"other"}


@st.composite
def forged_runs(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """Long runs of alike task records, one field of a few records forged, fed in pieces."""
    n = draw(st.integers(MIN_RUN - 1, 2 * MIN_RUN + 3))
    data = bytearray(STRINGS + b"".join(map(_created, range(1, n + 1))))
    data += b"".join(_done(i, state=draw(st.integers(0, 2))) for i in range(1, n + 1))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(len(STRINGS), len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    cuts = sorted(set(draw(st.lists(st.integers(1, len(data) - 1), max_size=4))))
    return bytes(data), cuts


@settings(max_examples=300, deadline=None)
@given(forged_runs())
def test_runs_decode_as_record_by_record_whatever_is_forged_and_however_fed(stream) -> None:
    data, cuts = stream
    fast = _decode(data, cuts, True)
    with pytest.MonkeyPatch.context() as mp:
        _slow(mp)
        slow = _decode(data, cuts, True)
    assert _same(fast, slow)


def test_the_strings_snapshot_is_renewed_by_a_string_below_256_only() -> None:
    """Review: the runs' snapshot of the strings below 256 was made again after every new
    string, walking the whole table: a program making a string between runs (a new sleep
    value, a task awaited by name) made the parent quadratic. Strings at 256 and past do
    not touch it; one below 256 does, and the runs after it see it."""
    data = bytearray(STRINGS)
    tid = 1
    for k in range(200):  # a new far string, then a run
        data += P.pack_str(1000 + k, f"far-{k}")
        data += b"".join(_created(i, name=f"T{i:05d}") for i in range(tid, tid + N))
        tid += N
    late = (_created(i, coro=5, name=f"T{i:05d}") for i in range(tid, tid + N))
    data += P.pack_str(5, "late") + b"".join(late)
    events = D.Decoder(batched=True).feed(bytes(data))
    runs = [p for e in events for p in e["tasks"]._parts]
    assert len(runs) == 201 and all(type(r).__name__ == "TaskRun" for r in runs)
    assert len({id(r.strings) for r in runs[:200]}) == 1  # one snapshot for 200 runs
    assert runs[200].strings is not runs[0].strings and runs[200].strings[5] == "late"
    assert events[-1]["tasks"][0][3] == "late"
    fast, slow = _both(bytes(data))
    assert _same(fast, slow)
