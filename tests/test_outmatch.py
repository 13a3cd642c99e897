"""Merging raw pipe output with attribution records (bytes in, text out)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncplay.runner.output_merge import HOLD_SECONDS, MAX_HELD, MAX_SPLITS, OutputMerger


def test_raw_then_chunk_is_attributed() -> None:
    m = OutputMerger()
    assert m.feed_raw("stdout", b"hello\n", 0.0) == []  # held: its record may be coming
    assert m.feed_chunk("stdout", 3, b"hello\n", 0.1, 0.01) == [("stdout", "hello\n", 3, 0.1)]


def test_chunk_before_raw_and_split_raw() -> None:
    m = OutputMerger()
    assert m.feed_chunk("stdout", 1, b"abcdef", 0.1, 0.0) == []
    assert m.feed_raw("stdout", b"abc", 0.0) == [("stdout", "abc", 1, 0.1)]
    assert m.feed_raw("stdout", b"def", 0.0) == [("stdout", "def", 1, 0.1)]


def test_bypassing_bytes_before_attributed_bytes_are_unattributed() -> None:
    m = OutputMerger()
    m.feed_raw("stdout", b"RAW\nmine\n", 0.0)
    out = m.feed_chunk("stdout", 2, b"mine\n", 0.2, 0.01)
    assert out == [("stdout", "RAW\n", None, 0.01), ("stdout", "mine\n", 2, 0.2)]


def test_unmatched_raw_is_released_after_the_hold() -> None:
    m = OutputMerger()
    m.feed_raw("stderr", b"from os.write\n", 0.0)
    assert m.tick(HOLD_SECONDS / 2) == []
    assert m.tick(HOLD_SECONDS + 0.01) == [("stderr", "from os.write\n", None, HOLD_SECONDS + 0.01)]
    # Its late record then matches nothing and is dropped rather than duplicated.
    assert m.feed_chunk("stderr", 1, b"from os.write\n", 0.0, 1.0) == []
    m.feed_raw("stderr", b"next\n", 1.0)
    assert m.finish(1.1) == [("stderr", "next\n", None, 1.1)]


def test_utf8_split_across_reads_and_chunks() -> None:
    m = OutputMerger()
    data = "é€\n".encode()
    m.feed_chunk("stdout", 1, data[:2], 0.0, 0.0)
    m.feed_chunk("stdout", 2, data[2:], 0.0, 0.0)
    out = []
    for i in range(len(data)):
        out += m.feed_raw("stdout", data[i : i + 1], 0.0)
    assert "".join(t for _s, t, _task, _t in out) == "é€\n"
    assert {task for _s, _t, task, _tt in out} <= {1, 2}


def test_binary_bytes_pass_as_replacement_text() -> None:
    m = OutputMerger()
    m.feed_chunk("stdout", 1, b"\xff\xfe\n", 0.0, 0.0)
    assert m.feed_raw("stdout", b"\xff\xfe\n", 0.0) == [("stdout", "\ufffd\ufffd\n", 1, 0.0)]


def test_a_flood_is_never_held_beyond_the_cap() -> None:
    m = OutputMerger()
    out = m.feed_raw("stdout", b"x" * (MAX_HELD + 1), 0.0)
    held = len(m.streams["stdout"].raw)
    assert 0 < held <= MAX_HELD // 4  # the newest bytes only
    assert sum(len(t) for _s, t, _task, _t in out) == MAX_HELD + 1 - held
    for _k in range(10):  # however long it goes on
        out += m.feed_raw("stdout", b"y" * (MAX_HELD // 3), 0.0)
        assert len(m.streams["stdout"].raw) <= MAX_HELD
    out += m.finish(1.0)
    assert sum(len(t) for _s, t, _task, _t in out) == MAX_HELD + 1 + 10 * (MAX_HELD // 3)


def test_the_lines_right_after_a_flood_keep_their_records(monkeypatch) -> None:
    """A step prints past the cap before its record can be sent, the next step a few lines:
    they are in the pipe right behind the flood. The cap lets the oldest bytes go and keeps
    the newest quarter, so those lines meet their records (the whole pipe went, and a
    20,000-line step behind a 2 MB print was nobody's)."""
    monkeypatch.setattr("asyncplay.runner.output_merge.MAX_HELD", 4096)
    flood = b"F" * 10_000 + b"\n"
    lines = b"".join(b"next %d\n" % i for i in range(40))
    m = OutputMerger()
    pipe = flood + lines
    out = m.feed_raw("stdout", pipe, 0.0)  # one read: the flood's end and the lines
    out += m.feed_chunk("stdout", 1, flood, 0.1, 0.1)
    out += m.feed_chunk("stdout", 2, lines, 0.2, 0.1)
    out += m.finish(1.0)
    assert "".join(text for _s, text, _task, _t in out).encode() == pipe
    assert "".join(text for _s, text, task, _t in out if task == 2).encode() == lines


def test_records_are_released_in_write_order_across_streams() -> None:
    m = OutputMerger()
    # The program wrote stdout then stderr; the parent happens to read stderr's pipe first.
    assert m.feed_chunk("stdout", 1, b"out\n", 0.1, 0.0) == []
    assert m.feed_chunk("stderr", 1, b"err\n", 0.2, 0.0) == []
    assert m.feed_raw("stderr", b"err\n", 0.0) == []  # waits for the stdout line
    assert m.feed_raw("stdout", b"out\n", 0.0) == [
        ("stdout", "out\n", 1, 0.1),
        ("stderr", "err\n", 1, 0.2),
    ]


def test_a_record_whose_bytes_never_come_does_not_hold_up_the_other_stream() -> None:
    m = OutputMerger()
    m.feed_chunk("stdout", 1, b"to /dev/null\n", 0.0, 0.0)  # fd 1 was redirected away
    m.feed_chunk("stderr", 1, b"err\n", 0.0, 0.0)
    assert m.feed_raw("stderr", b"err\n", 0.0) == []
    assert m.tick(HOLD_SECONDS + 0.01) == [("stderr", "err\n", 1, 0.0)]


def test_nothing_is_given_up_while_what_it_waits_for_may_be_unread() -> None:
    """A busy parent decodes a large batch of records for longer than the hold: the bytes
    read before that batch must still meet their records in it (a chatty program's last
    stdout lines came after its stderr under load). Only a tick gives up, and only on what
    no unread pipe may still hold."""
    m = OutputMerger()
    assert m.feed_chunk("stdout", 1, b"out\n", 0.0, 0.0) == []  # its bytes: not read yet
    assert m.feed_raw("stderr", b"err\n", 0.0) == []  # its record: not read yet
    late = HOLD_SECONDS * 4
    assert m.tick(late, {"channel", "stdout"}) == []
    assert m.feed_chunk("stderr", 1, b"err\n", 0.1, late) == []  # after the stdout line
    assert m.feed_raw("stdout", b"out\n", late) == [
        ("stdout", "out\n", 1, 0.0),
        ("stderr", "err\n", 1, 0.1),
    ]
    # Once nothing is unread, a tick gives up on bytes no record claims, as before.
    m.feed_raw("stderr", b"os.write\n", late)
    assert m.tick(late + HOLD_SECONDS, {"channel"}) == []
    assert m.tick(late + HOLD_SECONDS) == [("stderr", "os.write\n", None, late + HOLD_SECONDS)]


def test_records_one_a_step_from_two_tasks_and_streams_keep_task_and_order() -> None:
    """A record a step (the pipe read ahead of the records, or behind them): every line
    is its task's, in the order written across both streams, whole characters only."""
    writes = []
    for i in range(300):
        stream = "stderr" if i % 3 == 2 else "stdout"
        writes.append((stream, 1 + i % 2, f"{i} é{'x' * (i % 7)}\n".encode()))
    for ahead in (True, False):
        m = OutputMerger()
        out = []
        pipes = {"stdout": b"", "stderr": b""}
        for stream, _task, data in writes:
            pipes[stream] += data
        if ahead:  # the pipes first (a busy parent read them before the channel)
            out += m.feed_raw("stdout", pipes["stdout"], 0.0)
            out += m.feed_raw("stderr", pipes["stderr"], 0.0)
        for i, (stream, task, data) in enumerate(writes):
            out += m.feed_chunk(stream, task, data, i / 10, 0.0)
        if not ahead:  # the records first, then the pipes in reads of 1000 bytes
            for stream, data in pipes.items():
                for k in range(0, len(data), 1000):
                    out += m.feed_raw(stream, data[k : k + 1000], 0.0)
        out += m.finish(0.0)
        got: dict[tuple[str, int], str] = {}
        for stream, text, task, _t in out:
            assert task is not None
            got[stream, task] = got.get((stream, task), "") + text
        want: dict[tuple[str, int], str] = {}
        for stream, task, data in writes:
            want[stream, task] = want.get((stream, task), "") + data.decode()
        assert got == want
        if ahead:  # released as written: one segment a record, in record order
            assert [(s, task, text.encode()) for s, text, task, _t in out] == writes


def test_a_joined_record_with_bytes_of_another_way_between_its_writes() -> None:
    """A flood's record joins several writes (python -u); an os.write between two of them
    is told apart: the writes stay the task's, the os.write's bytes are nobody's."""
    m = OutputMerger()
    out = m.feed_raw("stdout", b"text 1\nfrom os.write\nprinted\nafter it\nmore\n", 0.0)
    out += m.feed_chunk("stdout", 4, b"text 1\nprinted\nafter it\nmore\n", 0.5, 0.0)
    out += m.finish(1.0)
    assert [(text, task) for _s, text, task, _t in out] == [
        ("text 1\n", 4),
        ("from os.write\n", None),
        ("printed\nafter it\nmore\n", 4),
    ]


def _lines(first: int, last: int) -> bytes:
    return b"".join(b"line %d\n" % i for i in range(first, last))


def test_a_record_whose_head_went_out_before_it_came_keeps_its_rest(monkeypatch) -> None:
    """One long step prints more than the cap before its record is sent: the pipe's head
    goes out unattributed, and the record (the whole step's writes) then meets the pipe in
    its middle. Its rest is the task's, in a few segments: the old merge matched it eleven
    bytes at a time against look-alike lines ("36002\\nli" inside "136002\\nli"), one segment
    and one copy of the record per line (28 s for 2 MB)."""
    monkeypatch.setattr("asyncplay.runner.output_merge.MAX_HELD", 4096)
    data = _lines(0, 4000) + _lines(100_000, 104_000)
    m = OutputMerger()
    out = []
    for k in range(0, 20_000, 1000):  # the pipe first: past the cap, released blind
        out += m.feed_raw("stdout", data[k : k + 1000], 0.0)
    assert out and all(task is None for _s, _text, task, _t in out)
    released = sum(len(text) for _s, text, _task, _t in out)
    out += m.feed_chunk("stdout", 7, data, 0.5, 0.1)
    out += m.feed_raw("stdout", data[20_000:], 0.1)
    out += m.finish(1.0)
    assert "".join(text for _s, text, _task, _t in out).encode() == data
    mine = "".join(text for _s, text, task, _t in out if task == 7).encode()
    assert mine == data[released:]
    assert len(out) <= 8


def test_a_record_matched_piecewise_too_often_is_given_up() -> None:
    """Bytes of another way between every write of a joined record: matched a piece at a
    time up to MAX_SPLITS, then the record is dropped and the rest goes out unattributed;
    nothing is lost or doubled."""
    writes = [b"write number %d\n" % i for i in range(MAX_SPLITS * 3)]
    record = b"".join(writes)
    pipe = b"".join(b"os.write %d\n" % i + w for i, w in enumerate(writes))
    m = OutputMerger()
    out = m.feed_raw("stdout", pipe, 0.0)
    out += m.feed_chunk("stdout", 2, record, 0.0, 0.0)
    out += m.finish(1.0)
    assert "".join(text for _s, text, _task, _t in out).encode() == pipe
    mine = "".join(text for _s, text, task, _t in out if task == 2).encode()
    assert record.startswith(mine) and 0 < len(mine) < len(record)
    assert len(out) <= 4 * MAX_SPLITS


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    writes=st.lists(
        st.tuples(
            st.sampled_from(["stdout", "stderr"]),
            st.sampled_from([None, 1, 2]),  # None: a write of another way (os.write)
            st.binary(min_size=1, max_size=300) | st.sampled_from([b"line 1\n", b"ine 11\n"]),
        ),
        max_size=60,
    ),
    cap=st.sampled_from([64, 512, 1 << 20]),
    read=st.integers(1, 700),
    order=st.sampled_from(["pipes first", "records first", "interleaved"]),
)
def test_any_arrival_loses_nothing_and_stays_linear(writes, cap, read, order) -> None:
    """Whatever the writes, the pipe reads' sizes, the cap and which side comes first:
    each stream's text is its pipe's bytes exactly once, in order, and the segments are
    bounded by what came in (no piece-by-piece blow-up)."""
    import asyncplay.runner.output_merge as om

    old_cap, om.MAX_HELD = om.MAX_HELD, cap
    try:
        m = OutputMerger()
        pipes = {"stdout": b"", "stderr": b""}
        records = []
        for stream, task, data in writes:
            pipes[stream] += data
            if task is not None:
                records.append((stream, task, data))
        reads = [
            (stream, data[k : k + read])
            for stream, data in pipes.items()
            for k in range(0, len(data), read)
        ]
        out = []
        now = 0.0
        if order == "pipes first":
            steps = [("raw", r) for r in reads] + [("rec", r) for r in records]
        elif order == "records first":
            steps = [("rec", r) for r in records] + [("raw", r) for r in reads]
        else:
            steps = []
            for i in range(max(len(reads), len(records))):
                steps += [("raw", reads[i])] if i < len(reads) else []
                steps += [("rec", records[i])] if i < len(records) else []
        for kind, item in steps:
            now += 0.01
            if kind == "raw":
                out += m.feed_raw(item[0], item[1], now)
            else:
                out += m.feed_chunk(item[0], item[1], item[2], now, now)
            out += m.tick(now)
        out += m.finish(now + 1)
    finally:
        om.MAX_HELD = old_cap
    for stream, data in pipes.items():
        text = "".join(t for s, t, _task, _t in out if s == stream)
        assert text == data.decode("utf-8", "replace")
    assert len(out) <= (2 * MAX_SPLITS + 2) * len(records) + 2 * len(reads) + 2 * len(steps) + 4


def test_a_record_whose_bytes_come_after_another_ways_waits_for_them() -> None:
    """Bytes of another way (os.write) longer than the next records are in the pipe while
    those records' bytes are still to come (python -u: a print's text and its "\\n" are two
    records): the os.write's bytes go out as nobody's and the records wait for their own.
    They were dropped as if their bytes had gone already, and the "\\n" record after them
    took the os.write's newline (and a later record the next look-alike line)."""
    m = OutputMerger()
    out = m.feed_raw("stdout", b"from os.write, longer than the records\n", 0.0)
    out += m.feed_chunk("stdout", 2, b"T0 line", 0.1, 0.0)
    out += m.feed_chunk("stdout", 2, b"\n", 0.1, 0.0)
    out += m.feed_chunk("stdout", 3, b"T1 line", 0.2, 0.0)
    out += m.feed_chunk("stdout", 3, b"\n", 0.2, 0.0)
    out += m.feed_raw("stdout", b"T0 li", 0.0)
    out += m.feed_raw("stdout", b"ne\nT1 line\n", 0.0)
    out += m.finish(1.0)
    got: list[tuple[str, int | None]] = []
    for _s, text, task, _t in out:  # (one task's segments in a row, joined)
        if got and got[-1][1] == task:
            text = got.pop()[0] + text
        got.append((text, task))
    assert got == [
        ("from os.write, longer than the records\n", None),
        ("T0 line\n", 2),
        ("T1 line\n", 3),
    ]


def test_a_record_shares_only_whole_lines_with_a_pipe_it_went_blind_on(monkeypatch) -> None:
    """Once bytes went out unattributed past the cap, a record whose own bytes went with
    them shares a byte or two with the next line by chance ("T" of "T2:17" against
    "T0:18"): those bytes are not its own. A piece of a record is taken only up to the end
    of a line it has in common with the pipe."""
    monkeypatch.setattr("asyncplay.runner.output_merge.MAX_HELD", 64)
    m = OutputMerger()
    out = m.feed_raw("stdout", b"a" * 100, 0.0)  # past the cap: out as nobody's, blind
    out += m.feed_raw("stdout", b"T2:17:1\n", 0.0)
    out += m.feed_chunk("stdout", 2, b"T0:18:" + b"x" * 20 + b"\n", 0.1, 0.0)  # gone blind
    out += m.feed_chunk("stdout", 4, b"T2:17:1\n", 0.2, 0.0)
    out += m.finish(1.0)
    assert "".join(text for _s, text, _task, _t in out) == "a" * 100 + "T2:17:1\n"
    assert [task for _s, text, task, _t in out if "T" in text] in ([4], [None])
    assert all(task != 2 for _s, _text, task, _t in out)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    writes=st.lists(
        st.tuples(
            st.sampled_from(["stdout", "stderr"]),
            st.sampled_from([1, 2, 3]),
            st.sampled_from([b"\n", b"T1:", b"T2:17:1\n", b"line 1\n", b"ine 11\n", b"x" * 70])
            | st.text("abT12:\n", min_size=1, max_size=90).map(str.encode),
        )
        # A write of another way (os.write): bytes no task writes, so that which is whose
        # is known (the same bytes next to each other are anyone's).
        | st.tuples(
            st.sampled_from(["stdout", "stderr"]),
            st.none(),
            st.text("RAW!", min_size=1, max_size=90).map(str.encode),
        ),
        max_size=60,
    ),
    read=st.integers(1, 200),
    order=st.sampled_from(["pipes first", "records first", "interleaved"]),
)
def test_while_nothing_went_out_blind_every_attributed_byte_is_its_writers(
    writes, read, order
) -> None:
    """With every record coming (each pipe says it has more, so nothing is given up)
    and no cap reached, a byte given a task is a byte that task wrote, however the tasks'
    writes look alike ("\\n", a common prefix) and whatever came first. (Past the cap or the hold,
    look-alikes may still be taken for each other: that is the price of never holding
    more.)"""
    m = OutputMerger()
    pipes = {"stdout": b"", "stderr": b""}
    owners: dict[str, list] = {"stdout": [], "stderr": []}
    records = []
    for stream, task, data in writes:
        pipes[stream] += data
        owners[stream] += [task] * len(data)
        if task is not None:
            records.append((stream, task, data))
    reads = [
        (stream, data[k : k + read])
        for stream, data in pipes.items()
        for k in range(0, len(data), read)
    ]
    if order == "pipes first":
        steps = [("raw", r) for r in reads] + [("rec", r) for r in records]
    elif order == "records first":
        steps = [("rec", r) for r in records] + [("raw", r) for r in reads]
    else:
        steps = []
        for i in range(max(len(reads), len(records))):
            steps += [("raw", reads[i])] if i < len(reads) else []
            steps += [("rec", records[i])] if i < len(records) else []
    out = []
    now = 0.0
    for kind, item in steps:
        now += 0.05
        if kind == "raw":
            out += m.feed_raw(item[0], item[1], now)
        else:
            out += m.feed_chunk(item[0], item[1], item[2], now, now)
        out += m.tick(now, {"channel", "stdout", "stderr"})
    out += m.finish(now + 1)
    at = {"stdout": 0, "stderr": 0}
    for stream, text, task, _t in out:
        raw = text.encode()  # (ASCII: one byte a character)
        if task is not None:
            assert set(owners[stream][at[stream] : at[stream] + len(raw)]) == {task}, (
                stream,
                text,
                task,
            )
        at[stream] += len(raw)


def test_a_record_cut_at_its_head_gives_no_piece_without_a_whole_line() -> None:
    """A record already matched in part (its view cut at the head) meets bytes of another
    way that share a few bytes with its rest but no whole line: none of them is its."""
    m = OutputMerger()
    out = m.feed_chunk("stdout", 1, b"abc\nXYZ-rest-of-it\n", 0.1, 0.0)
    out += m.feed_raw("stdout", b"abc\n", 0.0)
    out += m.feed_raw("stdout", b"XYZ-other\n", 0.0)
    out += m.finish(1.0)
    assert "".join(text for _s, text, _task, _t in out) == "abc\nXYZ-other\n"
    assert [(text, task) for _s, text, task, _t in out if task is not None] == [("abc\n", 1)]


def _attributed(out: list) -> list[tuple[str, int | None]]:
    return [(text, task) for _s, text, task, _t in out]


def test_two_threads_records_made_in_the_other_order_keep_their_tasks() -> None:
    """A thread's bytes reach the pipe first, its record comes second (a to_thread worker
    printing while a task does): both keep their tasks, and nothing waits behind them."""
    m = OutputMerger()
    out = m.feed_chunk("stdout", 2, b"thread line 1\n", 0.1, 0.0)
    out += m.feed_chunk("stdout", 1, b"task line 1\n", 0.2, 0.0)
    out += m.feed_raw("stdout", b"task line 1\nthread line 1\n", 0.0)
    out += m.feed_raw("stdout", b"task line 2\n", 0.0)
    out += m.feed_chunk("stdout", 1, b"task line 2\n", 0.3, 0.0)
    assert _attributed(out) == [
        ("task line 1\n", 1),
        ("thread line 1\n", 2),
        ("task line 2\n", 1),
    ]


def test_a_record_whose_bytes_went_out_before_it_came_holds_nothing_up() -> None:
    """The other order's record comes only after its bytes went out as nobody's: it is
    let go at once, and the lines after it keep their tasks (they went out as nobody's,
    a whole run's stdout behind one six-byte record, and stderr held behind them)."""
    m = OutputMerger()
    out = m.feed_raw("stdout", b"|0:0>\nthread line\n", 0.0)
    out += m.feed_chunk("stdout", 2, b"thread line\n", 0.1, 0.0)
    out += m.feed_chunk("stdout", 1, b"|0:0>\n", 0.2, 0.0)
    out += m.feed_chunk("stderr", 1, b"err line\n", 0.25, 0.0)
    out += m.feed_raw("stderr", b"err line\n", 0.0)
    out += m.feed_chunk("stdout", 1, b"<0:1|0:1>\n", 0.3, 0.0)
    out += m.feed_raw("stdout", b"<0:1|0:1>\n", 0.0)
    assert _attributed(out) == [
        ("|0:0>\n", None),
        ("thread line\n", 2),
        ("err line\n", 1),
        ("<0:1|0:1>\n", 1),
    ]


def test_a_flood_of_one_byte_past_the_cap_keeps_the_lines_after_it(monkeypatch) -> None:
    """print("A" * n) past the cap: its text and its "\\n" are two records, the text's
    head went out blind and its probe is found at its own start; its tail is still its
    own and the lines printed after it keep their tasks."""
    monkeypatch.setattr("asyncplay.runner.output_merge.MAX_HELD", 4096)
    pipe = b"A" * 6000 + b"\n" + b"after 1\n" + b"after 2\n"
    m = OutputMerger()
    out = []
    for k in range(0, len(pipe), 1000):
        out += m.feed_raw("stdout", pipe[k : k + 1000], 0.0)
    out += m.feed_chunk("stdout", 5, b"A" * 6000, 0.1, 0.0)
    out += m.feed_chunk("stdout", 5, b"\n", 0.1, 0.0)
    out += m.feed_chunk("stdout", 6, b"after 1\n", 0.2, 0.0)
    out += m.feed_chunk("stdout", 7, b"after 2\n", 0.3, 0.0)
    out += m.finish(1.0)
    assert "".join(text for _s, text, _task, _t in out).encode() == pipe
    assert _attributed(out)[-2:] == [("after 1\n", 6), ("after 2\n", 7)]
    assert any(task == 5 for _s, _text, task, _t in out)
