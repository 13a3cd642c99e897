"""The event protocol: the only thing that crosses the child/parent process boundary.

Both sides import this module, so it is standard library only and runs on CPython 3.10-3.15.
On the wire the child writes compact binary records (see ``docs/protocol.md``) because
JSON-encoding per task step is far too slow for the tracing budget; the parent decodes them
into plain JSON-compatible dicts, which are the protocol everyone else sees.
"""

from __future__ import annotations

import marshal
import struct

__all__ = [
    "EVENT_KINDS",
    "JSON_KINDS",
    "MAX_TIME",
    "NumberError",
    "PROTOCOL_VERSION",
    "loads",
    "slow_step_message",
    "pack_created",
    "pack_done",
    "pack_json",
    "pack_spec",
    "pack_output",
    "pack_step",
    "pack_str",
    "pack_state",
    "pack_control",
    "control_problem",
    "pause_problem",
    "time_ok",
]

# 2: the control channel (parent -> child), ``paused``/``resumed``. 3: ``F`` records
# (figures instead of steps, when the spec asks). 4: ``P`` records (an object's
# ``primitive_state``, binary). A reader of 4 reads recordings of 1 to 3 (nothing changed
# meaning; ``views/recording.py``).
PROTOCOL_VERSION = 4

# Record header: kind (1 byte), payload length (u32).
HEADER = struct.Struct("<BI")
MAX_PAYLOAD = 64 * 1024 * 1024

K_JSON = ord("J")  # a JSON object: hello, warning, limit, bye, and other rare events
K_STR = ord("T")  # string-table entry: u32 id + utf-8 text
K_CREATED = ord("C")  # task created
K_STEP = ord("S")  # one task step
K_DONE = ord("D")  # task finished
K_OUTPUT = ord("O")  # text written through sys.stdout / sys.stderr
K_FIGURES = ord("F")  # the figures of the tasks that stepped since the last one
K_STATE = ord("P")  # a queue's, lock's, semaphore's, condition's or event's figures

# id, parent, t, coro sid, file sid, line, internal + name (utf-8)
CREATED = struct.Struct("<IIdIIIB")
# task, start, duration, awaiting sid, file sid, line
STEP = struct.Struct("<IddIII")
# id, t, state, exception-type sid, file sid, line + text (result repr or message)
DONE = struct.Struct("<IdBIII")
# stream (1 stdout, 2 stderr), task (0 none), t + text
OUTPUT = struct.Struct("<BId")
STR = struct.Struct("<I")
# F: t (its latest step end), then per task: id, steps, running, longest, first step's
# start, last step's end, awaiting, last non-empty awaiting (sids), file sid, line
FIGURES_HEAD = struct.Struct("<d")
FIGURE = struct.Struct("<IIddddIIII")
# P: t, id, acquisitions, max_waiters, longest_wait, held, waited, longest_hold, shape
# (STATE_SHAPES), holders, waiters, sizes (how many of each); a queue's STATE_QUEUE; then
# the holders (u32 task ids, 0: none), the waiters' task ids (u32) and what each does
# (u8, WAIT_ORDER), a queue's size samples' times (f64) and sizes (u32).
STATE = struct.Struct("<dIIIddddBIII")
# size, peak_size, puts, gets, put_wait, get_wait, join_waiters, max_join_waiters
STATE_QUEUE = struct.Struct("<IIIIddII")
# A P record's shape: a lock, semaphore or condition; an event clear or set; a queue.
STATE_LOCK, STATE_CLEAR, STATE_SET, STATE_QUEUED = range(4)

STATES = ("done", "cancelled", "failed")
# The numbers a record may carry. Times (``t``, a step's start and duration, a warning's
# ``duration``, an open step's ``start``) are seconds since the run started: finite, never negative, and below
# MAX_TIME (about 31,700 years: a virtual clock jumps at most a day per loop turn, so no
# real run gets near it, and every view can still do arithmetic on it). Any other number
# in a JSON record is finite and no bigger than MAX_NUMBER; ids, lines and pids are u32
# on the wire and in JSON alike. Anything else makes the record malformed.
MAX_TIME = 1e12
MAX_NUMBER = 2**64  # a u64 (an rlimit, a size) fits; a float of it too
MAX_U32 = 2**32 - 1
MAX_WHY = 200  # characters of the reason a protocol_error quotes
STREAMS = {1: "stdout", 2: "stderr"}

# The kinds of primitive a ``primitive`` record may name.
PRIMITIVE_KINDS = frozenset(
    {"Queue", "PriorityQueue", "LifoQueue", "Lock", "Semaphore", "BoundedSemaphore"}
    | {"Condition", "Event"}
)
# What a waiter of a primitive is doing (a P record's u8: its index in WAIT_ORDER).
WAIT_ORDER = ("put", "get", "acquire", "wait")
WAIT_KINDS = frozenset(WAIT_ORDER)
# Event kinds the child may send as JSON records.
JSON_KINDS = frozenset(
    {"hello", "warning", "bye", "task_renamed", "cancel_source", "uncaught", "step_open", "stdin"}
    | {"primitive", "primitive_state", "executor_job"}
    | {"task_existing", "detached", "refused"}  # asyncplay attach
    | {"call_chain"}  # 3.14+
    | {"paused", "resumed"}  # stepping
)
# A call_chain's entries: at most MAX_CHAIN of [qualname, file, line] (the child keeps 32).
MAX_CHAIN = 64
MAX_CHAIN_TEXT = 4096  # characters of a qualname or a file name
# Stepping: why a run paused, how it went on, and the bounds of a ``paused`` record.
PAUSE_REASONS = frozenset({"start", "step", "request", "line", "task"})
RESUME_HOWS = frozenset({"step", "continue"})
MAX_PAUSE_LIST = 1000  # entries of ``ready`` and of ``timers``
MAX_PAUSE_TEXT = 200  # characters of a timer's ``what``
MAX_PATH_TEXT = 4096  # characters of a file name
# The control channel (parent -> child): its commands, and the bounds of ``breakpoints``.
CONTROL_CMDS = frozenset({"pause", "step", "continue", "breakpoints", "stop"})
MAX_BREAKPOINTS = 1000
MAX_CONTROL_PAYLOAD = 1024 * 1024
# Every event kind a consumer may see (the parent adds the rest).
EVENT_KINDS = JSON_KINDS | {
    "task_created",
    "steps",
    "figures",
    "task_done",
    "output",
    "output_record",
    "protocol_error",
    "run_start",
    "run_end",
    "summary",  # the command line's own, --json only: derived from the model, never sent
    "tasks_created",  # a batched decoder's only (Decoder): never sent, printed or recorded
    "tasks_done",
}

# Header and body in one struct: the child packs a record with a single call.
STEP_RECORD = struct.Struct("<BIIddIII")
CREATED_RECORD = struct.Struct("<BIIIdIIIB")
DONE_RECORD = struct.Struct("<BIIdBIII")

# A batched decoder's entries (``Decoder(batched=True)``): the fields of the events they
# stand for, in this order. ``tasks_created``'s and ``tasks_done``'s ``t`` is their latest.
TASKS_CREATED = ("t", "id", "name", "coro", "parent", "internal", "file", "line")
TASKS_DONE = ("t", "id", "state", "result", "exc_type", "exc_msg", "file", "line")


def slow_step_message(name: str, held: str) -> str:
    """A ``slow_step`` warning's words (``held``: "held the event loop for 1.00 s"), the
    runtime's and, for a step the run's end cut short, the reducer's."""
    return (
        f"{name} {held} without an await: no other task could run meanwhile. A blocking "
        "call such as time.sleep() or a slow read freezes every task; await its asyncio "
        "version (asyncio.sleep) or run it in a thread with asyncio.to_thread()."
    )


# The child's spec file (runner -> child, docs/protocol.md): these bytes, then marshal
# (format SPEC_MARSHAL_VERSION, read by every CPython 3.10+) of a dict of plain values.
SPEC_MAGIC = b"asyncplay-spec-marshal\n"
SPEC_MARSHAL_VERSION = 4


def pack_spec(spec: dict) -> bytes:
    return SPEC_MAGIC + marshal.dumps(spec, SPEC_MARSHAL_VERSION)


def pack_json(obj: dict) -> bytes:
    data = dumps(obj).encode("utf-8", "replace")
    return HEADER.pack(K_JSON, len(data)) + data


def dumps(obj: object) -> str:
    """``json.dumps(obj, separators=(",", ":"), default=repr)``, the same text, without
    importing ``json`` in the child: ``json`` and the ``re`` it imports were a third of
    the child runtime's start-up (some 8 ms of a hello world). ``_json``'s encoder is
    the one ``json.dumps`` itself runs (its one-shot path, these arguments), in C: a
    ``primitive_state`` record cost 3-7x more through a Python encoder, one listing
    2,000 waiters 5-50x. A cycle, which it would recurse into (no markers here), is
    ``json``'s to tell (a ValueError)."""
    if _c_encode is not None:
        try:
            return "".join(_c_encode(obj, 0))
        except RecursionError:
            pass
    import json

    return json.dumps(obj, separators=(",", ":"), default=repr)


try:  # json.encoder's own C encoder, as json.dumps makes it (tests/test_protocol.py)
    from _json import encode_basestring_ascii, make_encoder

    _c_encode = make_encoder(
        None, repr, encode_basestring_ascii, None, ":", ",", False, False, True
    )
except (ImportError, TypeError):  # (no accelerator, or another signature: json does it)
    _c_encode = None


def pack_str(sid: int, text: str) -> bytes:
    data = text.encode("utf-8", "replace")
    return HEADER.pack(K_STR, STR.size + len(data)) + STR.pack(sid) + data


def pack_created(
    tid: int, parent: int, t: float, coro: int, file: int, line: int, internal: bool, name: str
) -> bytes:
    data = name.encode("utf-8", "replace")
    body = CREATED.pack(tid, parent, t, coro, file, line, internal)
    return HEADER.pack(K_CREATED, len(body) + len(data)) + body + data


def pack_step(task: int, start: float, dur: float, awaiting: int, file: int, line: int) -> bytes:
    return STEP_RECORD.pack(K_STEP, STEP.size, task, start, dur, awaiting, file, line)


def pack_done(tid: int, t: float, state: int, exc: int, file: int, line: int, text: str) -> bytes:
    data = text.encode("utf-8", "replace")
    body = DONE.pack(tid, t, state, exc, file, line)
    return HEADER.pack(K_DONE, len(body) + len(data)) + body + data


def pack_output(stream: int, task: int, t: float, data: bytes) -> bytes:
    return HEADER.pack(K_OUTPUT, OUTPUT.size + len(data)) + OUTPUT.pack(stream, task, t) + data


def pack_state(
    head: tuple, queue: tuple | None, holders: list, wtids: list, wkinds: list, sizes: list
) -> bytes:
    """A ``P`` record: ``head`` is STATE's fields but the three counts, ``queue``
    STATE_QUEUE's (a queue's shape only), ``sizes`` ``(t, n)`` pairs."""
    nh, nw, ns = len(holders), len(wtids), len(sizes)
    if queue is None:
        body = STATE.pack(*head, nh, nw, ns)
    else:
        body = STATE.pack(*head, nh, nw, ns) + STATE_QUEUE.pack(*queue)
    if nh or nw or ns:
        body += struct.pack(
            f"<{nh + nw}I{nw}B{ns}d{ns}I", *holders, *wtids, *wkinds,
            *[s[0] for s in sizes], *[s[1] for s in sizes],
        )  # fmt: skip
    return HEADER.pack(K_STATE, len(body)) + body


def time_ok(value: object) -> bool:
    """Whether ``value`` is a time or duration a record may carry (see ``MAX_TIME``)."""
    return type(value) in (int, float) and 0 <= value <= MAX_TIME  # NaN fails both


def _u32(value: object, none: bool = False) -> bool:
    return (none and value is None) or (type(value) is int and 0 <= value <= MAX_U32)


def _path_ok(value: object) -> bool:
    return value is None or (type(value) is str and len(value) <= MAX_PATH_TEXT)


def pause_problem(obj: dict) -> str | None:
    """What is wrong with a ``paused`` or ``resumed`` record beyond its field types, or
    None (docs/protocol.md, Stepping)."""
    if obj["event"] == "resumed":
        if obj["how"] not in RESUME_HOWS:
            return "an unknown 'how'"
        return None if time_ok(obj.get("paused", 0)) else "a paused time out of range"
    if obj["reason"] not in PAUSE_REASONS:
        return "an unknown reason"
    if not (_u32(obj["next"], True) and _u32(obj["line"], True) and _u32(obj["at_line"], True)):
        return "an id or a line out of range"
    if not _path_ok(obj["file"]):
        return "a file name"
    ready, timers = obj["ready"], obj["timers"]
    if len(ready) > MAX_PAUSE_LIST or len(timers) > MAX_PAUSE_LIST:
        return "a list of more than 1000 entries"
    if not all(_u32(r) for r in ready):
        return "a ready entry that is not a task id"
    for entry in timers:
        if type(entry) is not list or len(entry) != 3:
            return "a timer that is not [due, task, what]"
        due, task, what = entry
        if not (time_ok(due) and _u32(task, True)):
            return "a timer's due time or task"
        if type(what) is not str or len(what) > MAX_PAUSE_TEXT:
            return "a timer's text"
    return None


def pack_control(obj: dict) -> bytes:
    """A control record (parent -> child): the same framing, kind ``J``."""
    return pack_json(obj)


def control_problem(obj: object) -> str | None:
    """What is wrong with a control record's object (the child's check: a program may
    have written on the control pipe), or None."""
    if type(obj) is not dict or obj.get("cmd") not in CONTROL_CMDS:
        return "not a control command"
    if obj["cmd"] != "breakpoints":
        return None
    lines, tasks = obj.get("lines"), obj.get("tasks")
    if type(lines) is not list or type(tasks) is not list:
        return "breakpoints without lists"
    if len(lines) > MAX_BREAKPOINTS or len(tasks) > MAX_BREAKPOINTS:
        return "too many breakpoints"
    for entry in lines:
        if type(entry) is not list or len(entry) != 2:
            return "a line breakpoint that is not [file, line]"
        if type(entry[0]) is not str or len(entry[0]) > MAX_PATH_TEXT or not _u32(entry[1]):
            return "a line breakpoint's file or line"
    if not all(type(t) is str and len(t) <= MAX_PATH_TEXT for t in tasks):
        return "a task breakpoint that is not a name"
    return None


class NumberError(ValueError):
    """A JSON text holds NaN, Infinity or a number that overflows a float."""


def _reject_constant(name: str) -> float:
    raise NumberError(f"a number out of range ({name})")


_INF = float("inf")  # (not ``math.isfinite``: the child imports this module, never math)


def _finite_float(text: str) -> float:
    value = float(text)
    if value == _INF or value == -_INF:  # 1e400 parses as inf (JSON's numbers are never NaN)
        raise NumberError(f"a number out of range ({text[:20]})")
    return value


def loads(data: bytes | str) -> object:
    """``json.loads`` that refuses NaN, Infinity and numbers that overflow a float."""
    import json  # (not at the top: the child never parses JSON)

    return json.loads(data, parse_constant=_reject_constant, parse_float=_finite_float)
