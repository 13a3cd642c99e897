"""Bad bytes never crash a view (issue 12, item 9): Hypothesis fuzzes the event channel.

Random and mutated records (forged times, NaN and infinities, ids past u32, string ids that
were never sent, escapes and bidi overrides in every text, JSON records of every kind with
fields of the wrong type, flipped and cut bytes) drive the decoder, the reducer and every
view: the summary, ``--json``, ``--timeline``, ``--graph`` (and the graph at any moment), the
explanations, the trace export, a recording written and read back, and the TUI's panes
(task table, timeline, graph, output). None may raise, and none may write a raw escape.

Derandomized with no example database, and bounded, so it is the same few seconds on every
machine and in CI.
"""

from __future__ import annotations

import io
import json
import os
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncplay import decoder, protocol
from asyncplay.child.step_figures import pack_record
from asyncplay.cli import printed, replay
from asyncplay.model import RunModel, apply
from asyncplay.views import chrome_trace as trace
from asyncplay.views import explain, graph, recording, summary, timeline

SETTINGS = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

EVIL = [
    "Task-1",
    "main",
    "",
    "\x1b]52;c;aGk=\x07",
    "\x1b]0;title\x07",
    "\x1b[2J\x1b[31m",
    "\u202egnp.exe",
    "\x9b1m",
    "下载器🚀\t\n\r",
    "gather(3)",
    "sleep(1)",
    "/p/x.py",
]
texts = st.one_of(st.sampled_from(EVIL), st.text(max_size=12))
# Mostly times a run has, sometimes any double at all (NaN, infinities, huge, negative).
edge_times = st.sampled_from(
    [0.0, -0.0, 1e-12, 0.5, 3.0, 1e9, protocol.MAX_TIME, protocol.MAX_TIME + 1, 1e300, -1.0]
)
times = st.one_of(st.floats(0, 5), edge_times, st.floats())
u32 = st.one_of(st.integers(0, 6), st.just(2**32 - 1), st.integers(0, 2**32 - 1))
sids = st.integers(0, 9)  # 1..8 are sent first; 0 is null; 9 never exists
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
ids = st.one_of(st.integers(0, 6), st.none(), st.integers(), json_values)
WARNING_KINDS = [
    "never_awaited",
    "exception_never_retrieved",
    "destroyed_pending",
    "cut_off",
    "loop_error",
    "untraceable_loop",
    "channel_lost",
    "tracer_failed",
    "slow_step",
    "deadlock",
    "something_new",
]


def _json_record(kind: str, fields: dict) -> st.SearchStrategy[dict]:
    """A JSON record of ``kind``: each field usually of its type, sometimes anything."""
    return st.fixed_dictionaries(
        {"event": st.just(kind), "t": st.one_of(times, json_values)},
        optional={key: st.one_of(strategy, json_values) for key, strategy in fields.items()},
    )


json_records = st.one_of(
    _json_record(
        "hello",
        {
            "version": st.just(1),
            "python": texts,
            "clock": st.sampled_from(["real", "virtual", "x"]),
            "speed": times,
            "slow_step": times,
            "pid": u32,
        },
    ),
    _json_record(
        "warning",
        {
            "kind": st.sampled_from(WARNING_KINDS),
            "message": texts,
            "task": ids,
            "file": texts,
            "line": u32,
            "duration": times,
            "ongoing": st.booleans(),
            "tasks": st.lists(ids, max_size=4),
            "cycle": st.booleans(),
            "main_ended": st.sampled_from(["returned", "raised", "cancelled", "interrupted"]),
            "main_exc": texts,
        },
    ),
    _json_record("task_renamed", {"id": u32, "name": texts}),
    _json_record(
        "cancel_source",
        {
            "id": u32,
            "cause": st.sampled_from(["cancel", "timeout", "taskgroup", "shutdown", "?"]),
            "by": ids,
            "file": texts,
            "line": u32,
        },
    ),
    _json_record("bye", {}),
    _json_record("step_open", {"id": u32, "start": times}),
    _json_record("stdin", {"waiting": st.booleans(), "task": ids}),
    _json_record(
        "uncaught",
        {
            "kind": texts,
            "exc_type": texts,
            "errno": ids,
            "bare": st.booleans(),
            "rlimits": json_values,
            "vm_size": ids,
            "threads": ids,
        },
    ),
    _json_record(
        "primitive",
        {
            "id": u32,
            "kind": st.sampled_from(["Queue", "Lock", "Event", "Semaphore", "X"]),
            "name": texts,
            "file": texts,
            "line": u32,
            "maxsize": ids,
            "permits": ids,
        },
    ),
    _json_record(
        "primitive_state",
        {
            "id": u32,
            "acquisitions": ids,
            "holders": st.lists(ids, max_size=3),
            "waiters": st.lists(st.lists(ids | texts, max_size=3), max_size=3),
            "max_waiters": ids,
            "longest_wait": times,
            "held": times,
            "size": ids,
            "peak_size": ids,
            "puts": ids,
            "gets": ids,
            "put_wait": times,
            "get_wait": times,
            "sizes": st.lists(st.lists(times | ids, max_size=3), max_size=4),
            "set": json_values,
        },
    ),
    _json_record(
        "executor_job",
        {
            "id": u32,
            "function": texts,
            "task": ids,
            "pool": texts,
            "thread": texts,
            "submitted": times,
            "started": times,
            "ended": times,
        },
    ),
    st.builds(dict, event=texts, t=times),
)

# Records a real child could send (every field in range) ...
good_times = st.one_of(st.floats(0, 5), st.sampled_from([0.0, 1e-12, 1e9, protocol.MAX_TIME / 2]))
tids = st.integers(1, 6)
good_sids = st.integers(0, 8)
lines = st.integers(0, 99)
good_json = st.one_of(
    st.fixed_dictionaries(
        {"event": st.just("hello"), "t": good_times, "version": st.just(1)},
        optional={"python": texts, "clock": st.sampled_from(["real", "virtual"]),
                  "speed": st.floats(0.01, 100), "slow_step": st.floats(0, 1)},
    ),
    st.fixed_dictionaries(
        {"event": st.just("warning"), "t": good_times, "kind": st.sampled_from(WARNING_KINDS),
         "message": texts, "task": st.none() | tids, "file": st.none() | texts,
         "line": st.none() | lines},
        optional={"duration": good_times, "ongoing": st.booleans(),
                  "tasks": st.lists(tids, max_size=4), "cycle": st.booleans(),
                  "main_ended": st.sampled_from(["returned", "raised", "cancelled", "x"]),
                  "main_exc": texts},
    ),
    st.fixed_dictionaries(
        {"event": st.just("task_renamed"), "t": good_times, "id": tids, "name": texts}
    ),
    st.fixed_dictionaries(
        {"event": st.just("cancel_source"), "t": good_times, "id": tids,
         "cause": st.sampled_from(["cancel", "timeout", "taskgroup", "shutdown", "?"]),
         "by": st.none() | tids, "file": st.none() | texts, "line": st.none() | lines},
    ),
    st.fixed_dictionaries({"event": st.just("bye"), "t": good_times}),
    st.fixed_dictionaries(
        {"event": st.just("primitive"), "t": good_times, "id": tids,
         "kind": st.sampled_from(sorted(protocol.PRIMITIVE_KINDS)), "name": st.none() | texts,
         "file": st.none() | texts, "line": st.none() | lines},
        optional={"maxsize": st.integers(0, 9), "permits": st.integers(0, 9)},
    ),
    st.fixed_dictionaries(
        {"event": st.just("primitive_state"), "t": good_times, "id": tids,
         "acquisitions": st.integers(0, 9), "holders": st.lists(st.none() | tids, max_size=3),
         "waiters": st.lists(st.tuples(st.none() | tids, st.sampled_from(
             sorted(protocol.WAIT_KINDS))).map(list), max_size=3),
         "max_waiters": st.integers(0, 9), "longest_wait": good_times, "held": good_times},
        optional={"size": st.integers(0, 9), "peak_size": st.integers(0, 9),
                  "puts": st.integers(0, 9), "gets": st.integers(0, 9),
                  "put_wait": good_times, "get_wait": good_times,
                  "sizes": st.lists(st.tuples(good_times, st.integers(0, 9)).map(list),
                                    max_size=4), "set": st.booleans()},
    ),
    st.fixed_dictionaries(
        {"event": st.just("executor_job"), "t": good_times, "id": tids, "function": texts,
         "task": st.none() | tids, "pool": texts, "thread": st.none() | texts,
         "submitted": good_times, "started": st.none() | good_times, "ended": st.none()},
    ),
    st.fixed_dictionaries({"event": st.just("step_open"), "t": good_times, "id": tids,
                           "start": good_times}),
    st.fixed_dictionaries({"event": st.just("stdin"), "t": good_times,
                           "waiting": st.booleans(), "task": st.none() | tids}),
    st.fixed_dictionaries(
        {"event": st.just("uncaught"), "t": good_times,
         "kind": st.sampled_from(["memory", "process", "file_size", "network", "x"]),
         "exc_type": texts, "errno": st.none() | st.integers(0, 200), "bare": st.booleans(),
         "rlimits": st.none() | st.fixed_dictionaries(
             {"as": st.none() | st.integers(0, 2**63), "nproc": st.none() | lines}),
         "vm_size": st.none() | st.integers(0, 2**48), "threads": st.none() | lines},
    ),
)  # fmt: skip
good_records = st.one_of(
    st.builds(protocol.pack_created, tids, st.integers(0, 6), good_times, good_sids,
              good_sids, lines, st.booleans(), texts),
    st.builds(protocol.pack_step, tids, good_times, st.floats(0, 1), good_sids, good_sids,
              lines),
    st.lists(st.builds(protocol.pack_step, st.integers(1, 4), good_times, st.floats(0, 0.5),
                       good_sids, good_sids, lines), min_size=1, max_size=30).map(b"".join),
    st.builds(protocol.pack_done, tids, good_times, st.integers(0, 2), good_sids, good_sids,
              lines, texts),
    st.builds(protocol.pack_output, st.integers(1, 2), st.integers(0, 6), good_times,
              st.binary(max_size=20) | texts.map(lambda s: s.encode("utf-8", "replace"))),
    st.builds(protocol.pack_json, good_json),
    # figures mode's batches: each task's figures so far (child/step_figures.py)
    st.builds(pack_record, good_times, st.lists(st.tuples(
        tids, st.integers(1, 9), good_times, st.floats(0, 1), good_times, good_times,
        good_sids, good_sids, good_sids, lines), max_size=5)),
)  # fmt: skip


@st.composite
def state_records(draw: st.DrawFn, good: bool) -> bytes:
    """A ``P`` record (an object's ``primitive_state``, protocol 4): in range, or forged
    (any double, any shape, any kind of wait)."""
    when = good_times if good else times
    ids = st.integers(0, 6) if good else u32
    shape = draw(st.integers(0, 3) if good else st.integers(0, 3) | st.integers(0, 255))
    nw = draw(st.integers(0, 3))
    ns = draw(st.integers(0, 3)) if shape == protocol.STATE_QUEUED or not good else 0
    head = (draw(when), draw(tids if good else u32), draw(ids), draw(ids), draw(when),
            draw(when), draw(when), draw(when), shape)  # fmt: skip
    queue = None
    if shape == protocol.STATE_QUEUED:
        queue = (draw(ids), draw(ids), draw(ids), draw(ids), draw(when), draw(when),
                 draw(ids), draw(ids))  # fmt: skip
    return protocol.pack_state(
        head, queue, draw(st.lists(ids, max_size=3)), [draw(ids) for _ in range(nw)],
        [draw(st.integers(0, 3) if good else st.integers(0, 255)) for _ in range(nw)],
        [(draw(when), draw(ids)) for _ in range(ns)],
    )  # fmt: skip


good_records = st.one_of(good_records, state_records(True))
# ... and forged ones: any double, any u32, missing strings, wrong JSON, garbage.
bad_records = st.one_of(
    st.builds(protocol.pack_str, sids, texts),
    st.builds(protocol.pack_created, u32, u32, times, sids, sids, u32, st.booleans(), texts),
    st.builds(protocol.pack_step, u32, times, times, sids, sids, u32),
    st.builds(protocol.pack_done, u32, times, st.integers(0, 3), sids, sids, u32, texts),
    st.builds(protocol.pack_output, st.integers(0, 3), u32, times, st.binary(max_size=20)),
    st.builds(protocol.pack_json, json_records),
    st.builds(pack_record, times, st.lists(st.tuples(
        u32, u32, times, times, times, times, sids, sids, sids, u32), max_size=3)),
    state_records(False),
    st.binary(max_size=12),
)  # fmt: skip


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """A byte stream of records (the string table first), maybe mutated, and where to cut it
    into the reads the parent would get."""
    data = bytearray()
    for sid in range(1, 9):
        data += protocol.pack_str(sid, draw(texts))
    # Good records, then maybe one forged among them: it ends the stream in one
    # protocol_error, so the views see most when it comes late or not at all.
    for tid in range(1, 5):  # tasks for the steps to land on
        data += protocol.pack_created(tid, tid - 1, 0.001 * tid, tid, 1, 3, False, draw(texts))
    chosen = draw(st.lists(good_records, min_size=5, max_size=40))
    if draw(st.booleans()):
        chosen.insert(draw(st.integers(0, len(chosen))), draw(bad_records))
    for record in chosen:
        data += record
    if draw(st.integers(0, 7)) == 0:  # a mutated stream: flipped bytes, cut short
        for pos, byte in draw(st.lists(st.tuples(st.integers(0, len(data)),
                                                 st.integers(0, 255)), max_size=2)):  # fmt: skip
            if pos < len(data):
                data[pos] = byte
        data = data[: draw(st.integers(0, len(data)))]
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=4)))
    return bytes(data), cuts


def decode(data: bytes, cuts: list[int]) -> list[dict]:
    """The events a live run would fold: run_start, the child's, output, run_end."""
    dec = decoder.Decoder()
    child: list[dict] = []
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        child += dec.feed(data[start:end])
    events: list[dict] = [
        {
            "event": "run_start",
            "t": 0.0,
            "target": "/p/x.py",
            "mode": "file",
            "limits": {"timeout": None, "memory": 512},
            "sandbox": {"mode": "auto", "layers": ["rlimit"], "notes": []},
        }
    ]
    for ev in child:
        assert ev["event"] in protocol.EVENT_KINDS
        if ev["event"] == "output_record":  # the session's job: text for the views
            ev = {
                "event": "output",
                "t": ev["t"],
                "stream": ev["stream"],
                "text": ev["data"].decode("utf-8", "replace"),
                "task": ev["task"],
            }
        events.append(ev)
    return events


def _end(t: float) -> dict:
    return {
        "event": "run_end",
        "t": t,
        "exit_code": 0,
        "reason": "exited",
        "by": "program",
        "status": 0,
        "message": "the program exited with status 0 \x1b]0;x\x07",
    }


def _no_raw_escape(text: str, what: str) -> None:
    for raw in ("\x1b", "\x9b", "\u202e", "\x07"):
        assert raw not in text, (what, raw, text)


def fold(events: list[dict]) -> RunModel:
    model = RunModel(max_lines=50)
    for ev in events:
        apply(model, ev)
    return model


def views(model: RunModel, events: list[dict], tmp: str) -> None:
    """Every headless view, as the command line calls them."""
    for all_tasks in (False, True):
        for sort in ("created", "running"):
            ns = SimpleNamespace(
                quiet=False, json=False, all_tasks=all_tasks, sort=sort, filter=None,
                graph=True, timeline=True,
            )  # fmt: skip
            text = printed.end_text(model, ns, "/p", model.end or _end(model.now))
            _no_raw_escape(text, "end_text")
            json.loads(printed.summary_line(model, ns), parse_constant=_no_constant)
        _no_raw_escape(summary.summary(model, all_tasks, "/p", 40, filter="a"), "summary")
        _no_raw_escape(
            timeline.timeline_text(model, 30, all_tasks=all_tasks, ascii_only=True),
            "timeline",
        )
    for ev in events:  # --json and --record write these
        json.loads(printed.json_line(ev), parse_constant=_no_constant)
    # The graph at any moment of the run (the TUI's graph follows the timeline's cursor).
    for t in (0.0, model.now / 2, model.now, model.now + 1):
        moment = graph.moment(model, t)
        graph.render(model, moment.waits, True)
    for w in model.warnings:
        explain.explain(w, model)
        explain.short_name(w.get("kind"))
    for info in list(model.tasks.values())[:20]:
        explain.explain_cancel(model, info)
        explain.cancel_label(model, info)
        for t in (info.created, model.now):
            timeline.span_at(info, t)
            timeline.wait_at(info, t, model.now)
    lay = timeline.layout(model, 50, all_tasks=True)
    timeline.axis(lay)
    start, end = timeline.zoom(lay.start, lay.end, lay.start, 0.5)
    timeline.pan(start, end, 0.25)
    out = io.StringIO()
    trace.write(model, out)
    json.loads(out.getvalue(), parse_constant=_no_constant)
    # A recording written and read back replays to the same summary.
    path = os.path.join(tmp, "r.jsonl")
    rec = recording.Recorder(path, {"target": "/p/x.py", "cwd": "/p"})
    for ev in events:
        rec.write(ev)
    rec.close()
    assert rec.error is None
    back = recording.read(path)
    assert (back.truncated is None) == (events[-1]["event"] == "run_end"), back.truncated
    again = replay.fold(back, path)
    assert summary.summary(again, True, "/p") == summary.summary(model, True, "/p")


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} in JSON output")


@SETTINGS
@given(streams())
def test_fuzzed_channel_never_crashes_the_decoder_the_model_or_a_view(tmp_path_factory, stream):
    data, cuts = stream
    events = decode(data, cuts)
    model = fold(events)
    end = _end(model.now)
    views(model, events, str(tmp_path_factory.getbasetemp()))  # a run still going
    events.append(end)
    apply(model, end)
    views(model, events, str(tmp_path_factory.getbasetemp()))  # the run over


@SETTINGS
@given(streams())
def test_the_headless_commands_path_folds_a_fuzzed_channel_as_the_event_by_event_one(stream):
    """``asyncplay run``'s own path (a batched decoder: task records in batches, F rows
    made when read; a deferred model) against the event-by-event one on the same forged
    or good stream, cut into the same reads: the same protocol error, the same tasks,
    warnings and printed end (found by review: only the event-by-event path was fuzzed)."""
    data, cuts = stream
    dec = decoder.Decoder(batched=True)
    batched: list[dict] = []
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        batched += dec.feed(data[start:end])
    eager = decode(data, cuts)[1:]  # (without its run_start)
    errors = [e["message"] for e in eager if e["event"] == "protocol_error"]
    assert [e["message"] for e in batched if e["event"] == "protocol_error"] == errors
    one = fold(eager)
    other = RunModel(max_lines=50, deferred=True)
    for ev in batched:
        if ev["event"] == "output_record":
            ev = {"event": "output", "t": ev["t"], "stream": ev["stream"],
                  "text": ev["data"].decode("utf-8", "replace"), "task": ev["task"]}  # fmt: skip
        apply(other, ev)
    for model in (one, other):
        apply(model, _end(one.now))
    assert other.now == one.now
    assert summary.summary(other, True, "/p") == summary.summary(one, True, "/p")
    assert other.warnings == one.warnings
    ns = SimpleNamespace(
        quiet=False, json=False, all_tasks=True, sort="running", filter=None, graph=True,
        timeline=True,
    )  # fmt: skip
    assert printed.end_text(other, ns, "/p", other.end) == printed.end_text(one, ns, "/p", one.end)
    assert printed.summary_line(other, ns) == printed.summary_line(one, ns)


def test_the_forged_infinite_step_of_the_issue_is_refused_and_every_view_works(tmp_path):
    """The report's case: a step lasting +inf used to crash the TUI's timeline (F4)."""
    data = protocol.pack_created(1, 0, 0.0, 0, 0, 0, False, "t") + protocol.pack_step(
        1, 0.0, float("inf"), 0, 0, 0
    )
    events = decode(data, [])
    assert [e["event"] for e in events] == ["run_start", "task_created", "protocol_error"]
    events.append(_end(1.0))
    views(fold(events), events, str(tmp_path))


# ---- the TUI's panes ---------------------------------------------------------------------


@pytest.fixture
def panes():
    from textual.app import App, ComposeResult

    from asyncplay.tui.panes.graph import GraphPane
    from asyncplay.tui.panes.output import OutputPane
    from asyncplay.tui.panes.task_table import TaskTable
    from asyncplay.tui.panes.timeline import TimelinePane

    class Host(App):
        def compose(self) -> ComposeResult:
            yield TaskTable()
            yield TimelinePane()
            yield GraphPane()
            yield OutputPane()

    return Host, (TaskTable, TimelinePane, GraphPane, OutputPane)


async def test_fuzzed_channel_never_crashes_a_pane(panes) -> None:
    host, (table_cls, timeline_cls, graph_cls, output_cls) = panes
    app = host()
    async with app.run_test(size=(90, 60)) as pilot:
        await pilot.pause()
        table = app.query_one(table_cls)
        lanes = app.query_one(timeline_cls)
        tree = app.query_one(graph_cls)
        out = app.query_one(output_cls)

        def strips(pane, rows: int) -> str:
            rows = max(rows, pane.size.height)
            text = "".join(pane.render_line(y).text for y in range(rows))
            _no_raw_escape(text, type(pane).__name__)
            return text

        @settings(SETTINGS, max_examples=15)
        @given(streams(), st.booleans())
        def check(stream, ended: bool) -> None:
            events = decode(*stream)
            if ended:
                events.append(_end(0.5))
            model = fold(events)
            for internal in (False, True):
                table.set_internal(internal)
                table.show(model)
                table.sync(model.now)
                strips(table, 12)
                lanes.set_internal(internal)
                lanes.show(model, "/p/x.py")
                lanes.sync(model.now)
                strips(lanes, 12)
                for action in (
                    lambda: lanes.action_fit(),
                    lambda: lanes.action_zoom(0.25),
                    lambda: lanes.action_zoom(8.0),
                    lambda: lanes.action_pan(1),
                    lambda: lanes.action_column(5),
                    lambda: lanes.action_step(1),
                    lambda: lanes.action_move(1),
                    lambda: lanes.action_edge(1),
                ):
                    action()
                    strips(lanes, 12)
                    lanes.detail()  # the drawn detail line is in the strips above
                tree.set_internal(internal)
                tree.show(model, "/p/x.py")
                tree.sync(model.now, lanes.cursor_time, "here")
                strips(tree, 12)
                tree.action_move(1)
                strips(tree, 12)
            out.show(model, "/p/x.py")
            out.sync()
            strips(out, 12)

        check()
