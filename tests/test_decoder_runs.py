"""The decoder's fast paths (``asyncplay/decoder.py``): runs of task records of one size
read with one ``iter_unpack`` each, and an ``F`` record's rows made a column at a time
when bytes alone vouch for their checks. Each must give exactly what the record-by-record
reading gives: the same events, the same ``protocol_error`` (its message, its time) at the
same record, the same ``last_t``, for good streams and forged ones, however they are fed.
"""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncplay import decoder as D
from asyncplay import protocol as P
from asyncplay.child.step_figures import pack_record
from asyncplay.figure_rows import FigureRows, figure_rows
from asyncplay.json_scan import json_object
from asyncplay.task_runs import TaskRows


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decoder read record by record, row by row: no run longer than one record, no
    F record's columns."""
    monkeypatch.setattr(D, "_MAX_RUN_TEXT", -1)
    monkeypatch.setattr(D, "figure_rows", lambda payload, strings: None)
    monkeypatch.setattr(D, "lazy_rows", lambda payload, strings: None)


def _decode(data: bytes, cuts: list[int], batched: bool) -> tuple[list[dict], float]:
    d = D.Decoder(batched)
    bounds = [0, *cuts, len(data)]
    events = [ev for a, b in zip(bounds[:-1], bounds[1:], strict=True) for ev in d.feed(data[a:b])]
    return _read(events), d.last_t


def _read(events: list[dict]) -> list[dict]:
    """The events, a batched decoder's F rows and runs of task records (made when read)
    read."""
    for ev in events:
        if isinstance(ev.get("tasks"), (FigureRows, TaskRows)):
            ev["tasks"] = ev["tasks"].rows()
    return events


def _same(a: object, b: object) -> bool:
    """Equal, NaN and the sign of a zero included (the events carry floats as read)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)  # type: ignore[attr-defined]
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))  # type: ignore[arg-type]
    return a == b


times = st.one_of(
    st.floats(0, 5),
    st.sampled_from([0.0, -0.0, 1e-300, 2.0**33, 9e9, P.MAX_TIME, P.MAX_TIME * 2, -1.0]),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)
good_times = st.floats(0, 5)
u32 = st.one_of(st.integers(0, 9), st.integers(0, 2**32 - 1), st.just(2**24))
sids = st.integers(0, 10)  # 1-6 are in the string table
good_sids = st.integers(0, 6)


@st.composite
def runs(draw: st.DrawFn, forged: bool) -> bytes:
    """A run of records of one kind, most of one size (names and results alike)."""
    kind = draw(st.sampled_from(["created", "done", "figures", "other"]))
    n = draw(st.integers(1, 40))
    t_ = times if forged else good_times
    s_ = sids if forged else good_sids
    out = bytearray()
    if kind == "created":
        width = draw(st.integers(0, 3))
        for i in range(n):
            name = f"Task-{i:0{width}d}" if draw(st.integers(0, 9)) else draw(st.text(max_size=4))
            out += P.pack_created(
                draw(st.integers(1, 30)), draw(st.integers(0, 5)), draw(t_), draw(s_), draw(s_),
                draw(st.integers(0, 9)), draw(st.booleans()), name,
            )  # fmt: skip
    elif kind == "done":
        for _ in range(n):
            text = "None" if draw(st.integers(0, 4)) else draw(st.text(max_size=5))
            out += P.pack_done(
                draw(st.integers(1, 30)), draw(t_), draw(st.integers(0, 3 if forged else 2)),
                draw(s_), draw(s_), draw(st.integers(0, 9)), text,
            )  # fmt: skip
    elif kind == "figures":
        rows = []
        for _ in range(n):
            steps = draw(u32) if forged else draw(st.integers(1, 2**24 + 5))
            ts = [draw(t_) for _ in range(4)]
            rows.append((draw(st.integers(1, 30)), steps, *ts, draw(s_), draw(s_), draw(s_),
                         draw(st.integers(0, 9))))  # fmt: skip
        out += pack_record(draw(good_times), rows)
    else:
        out += draw(
            st.sampled_from(
                [
                    P.pack_step(1, 0.5, 0.001, 1, 2, 3),
                    P.pack_output(1, 1, 0.5, b"out\n"),
                    P.pack_str(7, "seven"),
                    P.pack_json({"event": "task_renamed", "t": 0.5, "id": 1, "name": "n"}),
                ]
            )
        )
    return bytes(out)


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    data = bytearray(P.pack_json({"event": "hello", "t": 0.0, "version": P.PROTOCOL_VERSION}))
    for sid in range(1, 7):
        data += P.pack_str(sid, f"s{sid}")
    forged = draw(st.booleans())
    for _ in range(draw(st.integers(1, 6))):
        data += draw(runs(forged))
    if draw(st.booleans()):  # a byte changed anywhere: a size, a kind, a time
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(data) - 1)), max_size=6))))
    return bytes(data), cuts


@settings(max_examples=300, deadline=None)
@given(streams())
def test_the_fast_paths_decode_as_record_by_record(stream) -> None:
    data, cuts = stream
    with pytest.MonkeyPatch.context() as mp:
        _slow(mp)
        slow = [_decode(data, cuts, batched) for batched in (False, True)]
    fast = [_decode(data, cuts, batched) for batched in (False, True)]
    assert _same(fast, slow)


def test_long_runs_of_alike_records_are_read_whole_and_each_checked() -> None:
    """20,000 tasks named alike, made, figured and ended: every row as the record-by-record
    reading makes it; a forged time deep inside each run stops the stream right there."""
    strings = P.pack_str(1, "tiny") + P.pack_str(2, "/p.py")
    created = b"".join(
        P.pack_created(i, 0, i / 1e4, 1, 2, 7, False, f"Task-{i}") for i in range(1, 20_001)
    )
    figures = pack_record(3.0, [(i, 4, 1e-4, 5e-5, 2.0, 2.5, 0, 1, 2, 7) for i in range(1, 20_001)])
    done = b"".join(P.pack_done(i, 3.0 + i / 1e5, 0, 0, 2, 9, "None") for i in range(1, 20_001))
    data = strings + created + figures + done
    fast = _read(D.Decoder(batched=True).feed(data))
    with pytest.MonkeyPatch.context() as mp:
        _slow(mp)
        assert _same(D.Decoder(batched=True).feed(data), fast)
    assert [e["event"] for e in fast] == ["tasks_created", "figures", "tasks_done"]
    assert [len(e["tasks"]) for e in fast] == [20_000] * 3
    assert fast[0]["tasks"][12_344] == (1.2345, 12_345, "Task-12345", "tiny", None, False,
                                        "/p.py", 7)  # fmt: skip
    assert fast[1]["tasks"][-1] == (20_000, 4, 1e-4, 5e-5, 2.0, 2.5, None, "tiny", "/p.py", 7)
    assert fast[2]["tasks"][0] == (3.00001, 1, "done", "None", None, None, "/p.py", 9)
    assert fast[2]["t"] == 3.2
    for record, t, told in (
        (P.pack_created(15_001, 0, 1.5001, 1, 2, 7, False, "Task-15001"), 1.5001, 15_000),
        (P.pack_done(17_001, 3.17001, 0, 0, 2, 9, "None"), 3.17001, 20_000 + 17_000),
    ):
        at = data.index(record) + (13 if record[0] == P.K_CREATED else 9)  # its time
        assert struct.unpack_from("<d", data, at)[0] == t
        bad = bytearray(data)
        bad[at : at + 8] = struct.pack("<d", math.nan)
        got = D.Decoder(batched=True).feed(bytes(bad))
        assert got[-1]["event"] == "protocol_error" and "at nan s" in got[-1]["message"]
        rows = [r for e in got if e["event"] in ("tasks_created", "tasks_done") for r in e["tasks"]]
        assert len(rows) == told


@pytest.mark.parametrize(
    ("change", "row_by_row"),
    [
        ({}, False),
        ({"running": -0.0}, True),  # accepted, read row by row: its sign kept
        ({"last": 2.0**33}, True),  # a time bytes do not vouch for, in range
        ({"steps": 2**24}, True),  # four zero bytes in a row, not a zero count
        ({"steps": 0}, True),  # then the row-by-row check says no
        ({"first": math.nan}, True),
        ({"awaiting": 9}, False),  # an unknown string: the same KeyError either way
    ],
)
def test_an_f_record_is_made_of_columns_only_when_its_bytes_vouch_for_it(
    change, row_by_row
) -> None:
    fields = ("tid", "steps", "running", "longest", "first", "last", "awaiting", "waited")
    fields += ("file", "line")
    rows = [dict(zip(fields, (i, 3, 0.2, 0.1, 0.5, 0.9, 1, 1, 2, 4), strict=True)) for i in (1, 2)]
    rows[1].update(change)
    payload = pack_record(1.0, [tuple(r.values()) for r in rows])[P.HEADER.size :]
    strings = {0: None, 1: "sleep", 2: "/p.py"}
    try:
        columns = figure_rows(payload, strings)
    except KeyError as exc:
        assert "awaiting" in change and exc.args == (9,)
        return
    assert (columns is None) == row_by_row
    if columns is not None:
        d = D.Decoder()
        d._strings = strings
        assert _same(columns, d._figures(payload)["tasks"])


def test_a_batched_decoders_f_rows_are_made_when_read_with_the_strings_of_then() -> None:
    """Batched (the headless command's), a vouched-for F record's rows are a FigureRows,
    made when first read: the rows the record-by-record reading makes, with the strings
    as they were when the record came (a string record after it changes nothing), none
    made by a model that is never read; ids past 255 are made at once, the same."""
    rows = [(i, 3, 0.2, 0.1, 0.5, 0.9, 1, 2, 0, i % 5) for i in range(1, 40)]
    head = P.pack_str(1, "sleep(0)") + P.pack_str(2, "Queue.get()")
    after = P.pack_str(1, "forged later")
    for sid, lazy in ((2, True), (300, False)):
        data = head + P.pack_str(sid, "Queue.get()") + pack_record(1.0, [
            (*r[:7], sid, *r[8:]) for r in rows]) + after  # fmt: skip
        got = D.Decoder(batched=True).feed(data)
        each = D.Decoder().feed(data)
        (fig,) = [e for e in got if e["event"] == "figures"]
        (one,) = [e for e in each if e["event"] == "figures"]
        assert isinstance(fig["tasks"], FigureRows) == lazy and type(one["tasks"]) is list
        if lazy:
            assert len(fig["tasks"]) == 39 and fig["tasks"]._made is None
        assert fig == one and list(fig["tasks"]) == one["tasks"]
        assert one["tasks"][0] == (1, 3, 0.2, 0.1, 0.5, 0.9, "sleep(0)", "Queue.get()", None, 1)
    from asyncplay.model import RunModel, apply

    data = head + pack_record(1.0, rows)
    m = RunModel(deferred=True)
    events = D.Decoder(batched=True).feed(data)
    for ev in events:
        apply(m, ev)
    assert events[-1]["tasks"]._made is None  # (nothing read the model)
    m.tasks  # noqa: B018 - a read folds them
    assert events[-1]["tasks"]._made is not None


def test_an_f_record_with_an_unknown_string_is_a_protocol_error_batched_or_not() -> None:
    data = P.pack_str(1, "a") + pack_record(1.0, [(1, 3, 0.2, 0.1, 0.5, 0.9, 1, 7, 0, 2)])
    for batched in (False, True):
        (ev,) = D.Decoder(batched).feed(data)
        assert ev["event"] == "protocol_error" and "(7)" in ev["message"]


def _outcome(read, text: str) -> tuple:
    try:
        return ("ok", repr(read(text)))
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        return (type(exc).__name__, str(exc))


JSON_EDGES = [
    "",
    " ",
    "{}",
    ' {"a": 1} ',
    '{"a": 1} x',
    '{"a": 1}{}',
    "\ufeff{}",
    '{"a": NaN}',
    '{"a": Infinity}',
    '{"a": -Infinity}',
    '{"a": 1e400}',
    '{"a": -1e400}',
    '[1.5, 2, "x"]',
    '{"a": {"b": [null, true, false]}}',
    '{"a": 1',
    '{"a": "\\ud800"}',
    '"\\u00e9"',
    "\t\n\r7\n",
    '{"a": 1}\x0c',
    "[" * 50 + "]" * 50,
    '{"a" 1}',
    "01",
    "1.",
    '{"t": 0.1, "event": "hello"}',
]


@pytest.mark.parametrize("text", JSON_EDGES)
def test_the_decoders_json_reads_each_edge_as_protocol_loads(text: str) -> None:
    assert _outcome(json_object, text) == _outcome(P.loads, text)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
            lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids),
            max_leaves=8,
        ).map(lambda v: __import__("json").dumps(v)),
        st.text(alphabet=' \t\n\r{}[]":,.0123456789eE+-nulltruefalsNaIfy\\\ufeffa', max_size=20),
    ),
    st.sampled_from(["", " ", "\n", " x", "}"]),
)
def test_the_decoders_json_reads_as_protocol_loads(text: str, after: str) -> None:
    """The decoder's JSON records are read by json's own C scanner without importing json
    (``json_scan.json_object``): the same object, or the same error, as ``protocol.loads``."""
    text += after
    assert _outcome(json_object, text) == _outcome(P.loads, text)
