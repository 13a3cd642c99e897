"""The event protocol: the only thing that crosses the child/parent process boundary.

Both sides import this module, so it is standard library only and runs on CPython 3.10-3.15.
On the wire the child writes compact binary records (see ``docs/protocol.md``) because
JSON-encoding per task step is far too slow for the tracing budget; the parent decodes them
into plain JSON-compatible dicts, which are the protocol everyone else sees.
"""

from __future__ import annotations

import marshal
import math
import struct

__all__ = [
    "EVENT_KINDS",
    "JSON_KINDS",
    "MAX_TIME",
    "NumberError",
    "PROTOCOL_VERSION",
    "Decoder",
    "loads",
    "number_problem",
    "slow_step_message",
    "pack_created",
    "pack_done",
    "pack_json",
    "pack_spec",
    "pack_output",
    "pack_step",
    "pack_str",
    "pack_control",
    "control_problem",
    "pause_problem",
    "time_ok",
]

# 2: the control channel (parent -> child), ``paused``/``resumed``. 3: ``F`` records
# (figures instead of steps, when the spec asks). A reader of 3 reads recordings of 1 and
# 2 (nothing changed meaning; ``views/recording.py``).
PROTOCOL_VERSION = 3

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

# Field types the parent insists on in the child's JSON records (a program can forge them).
_NONE = type(None)
_JSON_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "hello": {"version": (int,), "python": (str, _NONE)},
    "warning": {"kind": (str,), "message": (str,), "task": (int, _NONE), "file": (str, _NONE),
                "line": (int, _NONE)},
    "task_renamed": {"id": (int,), "name": (str,)},
    "uncaught": {"kind": (str,), "exc_type": (str,), "errno": (int, _NONE), "bare": (bool,),
                 "rlimits": (dict, _NONE), "vm_size": (int, _NONE), "threads": (int, _NONE),
                 "path": (str, _NONE)},  # (path: kind ``write``'s refused path)
    # (file, line: where the loop is held, once the step is slow)
    "step_open": {"id": (int,), "start": (int, float), "file": (str, _NONE),
                  "line": (int, _NONE)},
    "stdin": {"waiting": (bool,), "task": (int, _NONE)},
    # stepping (docs/protocol.md): pause_problem checks what the table cannot say
    "paused": {"reason": (str,), "next": (int, _NONE), "file": (str, _NONE),
               "line": (int, _NONE), "ready": (list,), "timers": (list,),
               "at_line": (int, _NONE)},
    "resumed": {"how": (str,)},
    # asyncplay attach: a task that existed before the attach, where it waits then
    "task_existing": {"id": (int,), "awaiting": (str, _NONE), "file": (str, _NONE),
                      "line": (int, _NONE)},
    "detached": {"reason": (str,)},  # attach: the hooks are off, nothing more comes
    "refused": {"why": (str,)},  # attach: the program would not have it (the only event)
    "call_chain": {"id": (int,), "chain": (list,)},  # 3.14+; the entries: check_chain
    "cancel_source": {"id": (int,), "cause": (str,), "by": (int, _NONE), "file": (str, _NONE),
                      "line": (int, _NONE)},
    # asyncio's queues, locks, semaphores, conditions and events the program created
    # (docs/protocol.md); _check_object checks what the table cannot say.
    "primitive": {"id": (int,), "kind": (str,), "name": (str, _NONE), "file": (str, _NONE),
                  "line": (int, _NONE), "maxsize": (int, _NONE), "permits": (int, _NONE)},
    "primitive_state": {
        "id": (int,), "acquisitions": (int,), "holders": (list,), "waiters": (list,),
        "max_waiters": (int,), "longest_wait": (int, float), "held": (int, float),
        "size": (int, _NONE), "peak_size": (int, _NONE), "puts": (int, _NONE),
        "gets": (int, _NONE), "put_wait": (int, float, _NONE), "get_wait": (int, float, _NONE),
        "join_waiters": (int, _NONE), "max_join_waiters": (int, _NONE), "sizes": (list, _NONE),
        "set": (bool, _NONE), "waited": (int, float, _NONE), "longest_hold": (int, float, _NONE),
    },
    "executor_job": {"id": (int,), "function": (str,), "task": (int, _NONE), "pool": (str,),
                     "thread": (str, _NONE), "submitted": (int, float),
                     "started": (int, float, _NONE), "ended": (int, float, _NONE)},
}  # fmt: skip
# The kinds of primitive a ``primitive`` record may name.
PRIMITIVE_KINDS = frozenset(
    {"Queue", "PriorityQueue", "LifoQueue", "Lock", "Semaphore", "BoundedSemaphore"}
    | {"Condition", "Event"}
)
# What a waiter of a primitive is doing.
WAIT_KINDS = frozenset({"put", "get", "acquire", "wait"})
# Counts in the primitive records (never negative; u32 like ids).
_COUNT_KEYS = (
    "acquisitions", "max_waiters", "size", "peak_size", "puts", "gets", "join_waiters",
    "max_join_waiters", "maxsize", "permits",
)  # fmt: skip

_OBJECT_EVENTS = frozenset({"primitive", "primitive_state", "executor_job"})
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
CONTROL_CMDS = frozenset({"pause", "step", "continue", "breakpoints"})
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
_STEP_KIND = bytes([K_STEP])
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


def time_ok(value: object) -> bool:
    """Whether ``value`` is a time or duration a record may carry (see ``MAX_TIME``)."""
    return type(value) in (int, float) and 0 <= value <= MAX_TIME  # NaN fails both


def number_problem(value: object) -> str | None:
    """What is wrong with the numbers anywhere in a JSON value (NaN, an infinity, a number
    past ``MAX_NUMBER``), or None. Booleans are not numbers here."""
    kind = type(value)
    if kind is float or kind is int:
        if not (-MAX_NUMBER <= value <= MAX_NUMBER):  # NaN fails too
            return f"a number out of range ({value!r})"
    elif kind is dict:
        for item in value.values():  # type: ignore[attr-defined]
            problem = number_problem(item)
            if problem:
                return problem
    elif kind is list:
        for item in value:  # type: ignore[attr-defined]
            problem = number_problem(item)
            if problem:
                return problem
    return None


def chain_problem(chain: list) -> str | None:
    """What is wrong with a ``call_chain`` record's ``chain``, or None."""
    if len(chain) > MAX_CHAIN:
        return f"a chain of {len(chain)} frames"
    for entry in chain:
        if type(entry) is not list or len(entry) != 3:
            return "a chain entry that is not [name, file, line]"
        name, file, line = entry
        if type(name) is not str or len(name) > MAX_CHAIN_TEXT:
            return "a chain entry's name"
        if not (file is None or (type(file) is str and len(file) <= MAX_CHAIN_TEXT)):
            return "a chain entry's file"
        if type(line) is not int or not 0 <= line <= MAX_U32:
            return "a chain entry's line"
    return None


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


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as inf
        raise NumberError(f"a number out of range ({text[:20]})")
    return value


def loads(data: bytes | str) -> object:
    """``json.loads`` that refuses NaN, Infinity and numbers that overflow a float."""
    import json  # (not at the top: the child never parses JSON)

    return json.loads(data, parse_constant=_reject_constant, parse_float=_finite_float)


# Keys of the child's JSON records that hold ids or line numbers (u32, or null).
_U32_KEYS = ("id", "task", "by", "line", "pid", "version")
# Keys of the child's JSON records that hold times or durations (seconds of the run).
_TIME_KEYS = ("duration", "start")
# The same in the primitive and executor records, where null means "not known (yet)".
_OPTIONAL_TIME_KEYS = ("longest_wait", "held", "put_wait", "get_wait", "submitted", "started")
_OPTIONAL_TIME_KEYS += ("ended", "waited", "longest_hold")


def _id_ok(value: object) -> bool:
    return value is None or (type(value) is int and 0 < value <= MAX_U32)


def _check_object(obj: dict) -> None:
    """What the field table cannot say about the primitive and executor records."""
    kind = obj["event"]
    for key in _COUNT_KEYS:
        value = obj.get(key)
        if value is not None and not 0 <= value <= MAX_U32:
            raise ValueError(f"{key!r} out of range in a {kind} event")
    if kind == "primitive" and obj["kind"] not in PRIMITIVE_KINDS:
        raise ValueError("an unknown kind of primitive")
    if kind == "primitive_state":
        if not all(_id_ok(h) for h in obj["holders"]):
            raise ValueError("bad holders in a primitive_state event")
        for w in obj["waiters"]:
            if type(w) is not list or len(w) != 2 or not _id_ok(w[0]) or w[1] not in WAIT_KINDS:
                raise ValueError("bad waiters in a primitive_state event")
        for sample in obj.get("sizes") or ():
            if (
                type(sample) is not list
                or len(sample) != 2
                or not time_ok(sample[0])
                or type(sample[1]) is not int
                or not 0 <= sample[1] <= MAX_U32
            ):
                raise ValueError("bad sizes in a primitive_state event")
    if kind == "executor_job":
        started, ended = obj.get("started"), obj.get("ended")
        if started is not None and ended is not None and ended < started:
            raise ValueError("an executor job that ended before it started")


class Decoder:
    """Turns the child's byte stream into event dicts.

    Anything malformed becomes one ``protocol_error`` event and the rest of the stream is
    ignored: after garbage there is no way to find the next record boundary, and a program
    that forges records must never crash or steer the parent.

    ``batched``: task records read one after another are one ``tasks_created`` or
    ``tasks_done`` event of tuples, for a consumer that only folds them (docs/protocol.md,
    "Task records in batches"): no dict and no event per task.
    """

    def __init__(self, batched: bool = False) -> None:
        self._buf = bytearray()
        # Id 0 is "none": decoded to None, and line 0 means "unknown".
        self._strings: dict[int, str | None] = {0: None}
        self.broken = False
        self.last_t = 0.0
        self.batched = batched

    def feed(self, data: bytes) -> list[dict]:
        if self.broken:
            return []
        self._buf += data
        events: list[dict] = []
        steps: list[list] = []
        # task_done events wait for the batch of steps around them to end: one steps
        # event, not one per task, where tasks end one after another (each task's own
        # events stay in order: its last step comes before its end).
        ended: list[dict] = []
        buf = self._buf
        pos = 0
        end = len(buf)
        strings = self._strings
        head = HEADER.size
        step_size = STEP_RECORD.size
        batched = self.batched
        rows: list[tuple] | None = None  # (batched) the task_created records being read
        top = 0.0  # ... and their latest time
        try:
            while end - pos >= head:
                kind, size = HEADER.unpack_from(buf, pos)
                if kind == K_STEP:
                    # A run of step records, found with one C call per 16, 32, 64 ...
                    # records (a run of one step between two other records must not
                    # slice the whole buffer), unpacked in one. One step before another
                    # kind of record (a task's last step, then its end) is told by the
                    # next record's first byte, without probing.
                    after = pos + step_size
                    if after < end and buf[after] != K_STEP:
                        n = 1
                    else:
                        whole = (end - pos) // step_size
                        if whole == 0:
                            break  # an incomplete step record: wait for the rest
                        n, probe = 0, 16
                        while n < whole:
                            upto = min(whole, n + probe)
                            kinds = buf[pos + n * step_size : pos + upto * step_size : step_size]
                            run = upto - n - len(kinds.lstrip(_STEP_KIND))
                            n += run
                            if n < upto:
                                break
                            probe *= 2
                    run_end = pos + n * step_size
                    if n == 1:  # (between two task ends: no slice, no call)
                        _k, size, task, t0, dur, awaiting, file, line = STEP_RECORD.unpack_from(
                            buf, pos
                        )
                        if size != STEP.size:
                            raise ValueError("bad step record")
                        if not (0 <= t0 and 0 <= dur and t0 + dur <= MAX_TIME):  # NaN too
                            raise ValueError(f"a step at {t0!r} s lasting {dur!r} s")
                        steps.append([task, t0, dur, strings[awaiting], strings[file], line])
                    else:
                        steps += self._steps(buf, pos, run_end)
                    pos = run_end
                    continue
                if size > MAX_PAYLOAD:
                    raise ValueError(f"record of {size} bytes")
                if end - pos - head < size:
                    break
                start = pos + head
                pos = start + size
                # Neither a task's end, an output record nor a string ends a batch of
                # steps (a program printing at every step would make a steps event of
                # each step): they come right after the steps event, in the order read.
                if kind == K_DONE:  # inline: one per task, read among the steps
                    if size < DONE.size:
                        raise ValueError(f"a task_done record of {size} bytes")
                    _k, _s, tid, t, state, exc, file, line = DONE_RECORD.unpack_from(
                        buf, start - head
                    )
                    if not 0 <= t <= MAX_TIME:  # NaN fails too (last_t: once the batch is out)
                        raise ValueError(f"a record at {t!r} s")
                    text = buf[start + DONE.size : pos].decode("utf-8")
                    failed = state == 2  # (the lookups that may fail, in the order they were)
                    how, exc = STATES[state], strings[exc] if failed else None
                    file, line = strings[file], line or None
                    if batched:  # (TASKS_DONE)
                        ended.append((t, tid, how, text if state == 0 else None, exc,
                                      text if failed else None, file, line))  # fmt: skip
                    else:
                        ended.append({"event": "task_done", "t": t, "id": tid, "state": how,
                                      "result": text if state == 0 else None, "exc_type": exc,
                                      "exc_msg": text if failed else None, "file": file,
                                      "line": line})  # fmt: skip
                    continue
                if kind == K_OUTPUT:
                    ended.append(self._output(buf, start, pos))
                    continue
                if kind == K_STR:
                    if size < STR.size:
                        raise ValueError(f"a string record of {size} bytes")
                    (sid,) = STR.unpack_from(buf, start)
                    strings[sid] = buf[start + STR.size : pos].decode("utf-8")
                    continue
                if steps:
                    events.append(self._steps_event(steps))
                    steps = []
                if ended:
                    self._ended(events, ended)
                    ended = []
                if kind == K_CREATED:  # inline, with the run of them after it: one per task
                    append = events.append
                    if batched:
                        rows, top = [], -1.0
                        append = rows.append
                    while True:
                        if size < CREATED.size:
                            raise ValueError(f"a task_created record of {size} bytes")
                        _k, _s, tid, parent, t, coro, file, line, internal = (
                            CREATED_RECORD.unpack_from(buf, start - head)
                        )
                        if not 0 <= t <= MAX_TIME:  # NaN fails too
                            raise ValueError(f"a record at {t!r} s")
                        self.last_t = t
                        name = buf[start + CREATED.size : pos].decode("utf-8")
                        coro, file = strings[coro], strings[file]
                        if batched:  # (TASKS_CREATED)
                            append((t, tid, name, coro, parent or None, bool(internal), file,
                                    line or None))  # fmt: skip
                            if t > top:
                                top = t
                        else:
                            append({"event": "task_created", "t": t, "id": tid, "name": name,
                                    "coro": coro, "parent": parent or None,
                                    "internal": bool(internal), "file": file,
                                    "line": line or None})  # fmt: skip
                        # The next record, here if it is another whole task_created (any
                        # other, or one cut short, is the outer loop's).
                        if end - pos < head or buf[pos] != K_CREATED:
                            break
                        _k, size = HEADER.unpack_from(buf, pos)
                        if size > MAX_PAYLOAD or end - pos - head < size:
                            break
                        start = pos + head
                        pos = start + size
                    if rows:
                        events.append({"event": "tasks_created", "t": top, "tasks": rows})
                        rows = None
                    continue
                ev = self._record(kind, bytes(buf[start:pos]))
                if ev is not None:
                    events.append(ev)
        except Exception as exc:  # noqa: BLE001 - nothing a program sends may crash us
            why = str(exc)
            if len(why) > MAX_WHY:  # it may quote the forged value: a line, not a megabyte
                why = why[: MAX_WHY - 3] + "..."
            self.broken = True
            del self._buf[:]
            if rows:  # (batched) the task_created records read before the bad one
                events.append({"event": "tasks_created", "t": top, "tasks": rows})
            if steps:
                events.append(self._steps_event(steps))
            self._ended(events, ended)
            events.append(
                {
                    "event": "protocol_error",
                    "t": self.last_t,
                    "message": f"malformed data on the event channel ({why}); "
                    "events after this point are ignored",
                }
            )
            return events
        if steps:
            events.append(self._steps_event(steps))
        self._ended(events, ended)
        del self._buf[:pos]
        return events

    def _ended(self, events: list[dict], ended: list) -> None:
        """The task ends and output records read among a batch of steps, after its steps
        event (whose time is its last step's end, however the bytes were fed). Batched,
        the task ends (tuples) between two output records are one ``tasks_done``."""
        if not self.batched:
            events += ended
        elif ended:
            batch: dict = {}
            for item in ended:
                if type(item) is not tuple:
                    batch = {}
                    events.append(item)
                elif batch:
                    batch["tasks"].append(item)
                    batch["t"] = max(batch["t"], item[0])
                else:
                    batch = {"event": "tasks_done", "t": item[0], "tasks": [item]}
                    events.append(batch)
        if ended:
            last = ended[-1]
            self.last_t = last[0] if type(last) is tuple else last["t"]

    def _time(self, t: float) -> None:
        if not 0 <= t <= MAX_TIME:  # NaN fails too
            raise ValueError(f"a record at {t!r} s")
        self.last_t = t

    def _steps(self, buf: bytearray, start: int, end: int) -> list[list]:
        strings = self._strings
        out = []
        for _k, size, task, t0, dur, awaiting, file, line in STEP_RECORD.iter_unpack(
            bytes(buf[start:end])
        ):
            if size != STEP.size:
                raise ValueError("bad step record")
            if not (0 <= t0 and 0 <= dur and t0 + dur <= MAX_TIME):  # NaN fails too
                raise ValueError(f"a step at {t0!r} s lasting {dur!r} s")
            out.append([task, t0, dur, strings[awaiting], strings[file], line])
        return out

    def _steps_event(self, steps: list[list]) -> dict:
        last = steps[-1]
        self.last_t = max(self.last_t, last[1] + last[2])
        return {"event": "steps", "t": self.last_t, "steps": steps}

    def _output(self, buf: bytearray, start: int, end: int) -> dict:
        """The exact bytes a task's step wrote: the session matches them against the
        pipes and emits the public ``output`` events (with text) itself."""
        if end - start < OUTPUT.size:
            raise ValueError(f"an output record of {end - start} bytes")
        stream, task, t = OUTPUT.unpack_from(buf, start)
        if not 0 <= t <= MAX_TIME:  # NaN fails too (last_t is set once the batch is out)
            raise ValueError(f"a record at {t!r} s")
        return {
            "event": "output_record",
            "t": t,
            "stream": STREAMS[stream],
            "data": bytes(buf[start + OUTPUT.size : end]),
            "task": task or None,
        }

    def _figures(self, payload: bytes) -> dict:
        """An ``F`` record: tasks' figures, strings resolved, every number checked."""
        if len(payload) < FIGURES_HEAD.size or (len(payload) - FIGURES_HEAD.size) % FIGURE.size:
            raise ValueError(f"a figures record of {len(payload)} bytes")
        (t,) = FIGURES_HEAD.unpack_from(payload)
        if not 0 <= t <= MAX_TIME:  # NaN fails too (last_t is set once all is checked)
            raise ValueError(f"a record at {t!r} s")
        s = self._strings
        rows = []
        for tid, steps, run, most, first, last, a, w, f, line in FIGURE.iter_unpack(payload[8:]):
            if not (steps and 0 <= run <= MAX_TIME and 0 <= most <= MAX_TIME
                    and 0 <= first <= MAX_TIME and 0 <= last <= MAX_TIME):  # fmt: skip
                raise ValueError(f"task {tid}'s figures ({steps}, {run!r}, {most!r}, {last!r})")
            rows.append((tid, steps, run, most, first, last, s[a], s[w], s[f], line))
        self.last_t = max(self.last_t, t)
        return {"event": "figures", "t": self.last_t, "tasks": rows}

    def _record(self, kind: int, payload: bytes) -> dict | None:
        if kind == K_FIGURES:
            return self._figures(payload)
        if kind == K_JSON:
            obj = loads(payload.decode("utf-8"))
            if not isinstance(obj, dict) or obj.get("event") not in JSON_KINDS:
                raise ValueError("unknown JSON event")
            t = obj.get("t")
            if not time_ok(t):
                raise ValueError(f"a {obj['event']} event at {t!r} s")
            for key, types_ in _JSON_FIELDS.get(obj["event"], {}).items():
                if type(obj.get(key)) not in types_:
                    raise ValueError(f"bad {key!r} in a {obj['event']} event")
            problem = number_problem(obj)
            if problem:
                raise ValueError(f"{problem} in a {obj['event']} event")
            for key in _U32_KEYS:
                value = obj.get(key)
                if type(value) is int and not 0 <= value <= MAX_U32:
                    raise ValueError(f"{key!r} out of range in a {obj['event']} event")
            for key in _TIME_KEYS:
                if key in obj and not time_ok(obj[key]):
                    raise ValueError(f"a {obj['event']} event with {key} {obj[key]!r}")
            if obj["event"] in _OBJECT_EVENTS:
                for key in _OPTIONAL_TIME_KEYS:
                    if obj.get(key) is not None and not time_ok(obj[key]):
                        raise ValueError(f"a {obj['event']} event with {key} {obj[key]!r}")
                _check_object(obj)
            if obj["event"] == "call_chain":
                problem = chain_problem(obj["chain"])
                if problem:
                    raise ValueError(f"{problem} in a call_chain event")
            elif obj["event"] in ("paused", "resumed"):
                problem = pause_problem(obj)
                if problem:
                    raise ValueError(f"{problem} in a {obj['event']} event")
            self.last_t = float(t)
            return obj
        raise ValueError(f"unknown record kind {kind}")
