"""The parent's side of the event protocol: the child's byte stream into event dicts.

Only the parent decodes, so this lives apart from ``protocol.py``, which the child imports
too (its records' layouts and packers): the child's start does not pay for the decoder
and its checks. Every byte from the child is untrusted (a program can write on the
channel): anything malformed ends the stream with one ``protocol_error`` event.
"""

from __future__ import annotations

import struct
from operator import itemgetter
from struct import Struct

from asyncplay.figure_rows import figure_rows, lazy_rows
from asyncplay.json_scan import json_object
from asyncplay.protocol import (
    CREATED,
    CREATED_RECORD,
    DONE,
    DONE_RECORD,
    FIGURE,
    FIGURES_HEAD,
    HEADER,
    JSON_KINDS,
    K_CREATED,
    K_DONE,
    K_FIGURES,
    K_JSON,
    K_OUTPUT,
    K_STATE,
    K_STEP,
    K_STR,
    MAX_CHAIN,
    MAX_CHAIN_TEXT,
    MAX_NUMBER,
    MAX_PAYLOAD,
    MAX_TIME,
    MAX_U32,
    MAX_WHY,
    OUTPUT,
    PRIMITIVE_KINDS,
    STATE,
    STATE_QUEUE,
    STATE_QUEUED,
    STATE_SET,
    STATES,
    STEP,
    STEP_RECORD,
    STR,
    STREAMS,
    WAIT_KINDS,
    WAIT_ORDER,
    pause_problem,
    time_ok,
)
from asyncplay.task_runs import MIN_RUN, TaskRows, TaskRun, vouched_run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["Decoder", "chain_problem", "number_problem"]

struct_unpack_from = struct.unpack_from

_STEP_KIND = bytes([K_STEP])
_KINDS = {K_CREATED: bytes([K_CREATED]), K_DONE: bytes([K_DONE])}
# Runs of task records whose text (a name, a result) is at most this many bytes are read
# with one ``iter_unpack`` per run of one size, through a layout made once per size.
_MAX_RUN_TEXT = 255
_LAYOUTS: dict[tuple[int, int], Struct] = {}


def _layout(kind: int, text: int) -> Struct:
    """A whole task record (header, body, ``text`` bytes of text) as one struct."""
    body = CREATED_RECORD if kind == K_CREATED else DONE_RECORD
    layout = _LAYOUTS[(kind, text)] = Struct(f"{body.format}{text}s")
    return layout


def _run_length(buf: bytearray, pos: int, end: int, kind: bytes, rec: int) -> int:
    """How many whole records of ``rec`` bytes from ``pos`` (one at least, the caller's)
    begin with the byte ``kind``: one C call per 16, 32, 64 ... records (a lone record
    between others must not slice the whole buffer); their sizes are the reader's to check."""
    whole = (end - pos) // rec
    if whole < 2 or buf[pos + rec] != kind[0]:
        return 1
    n, probe = 1, 16
    while n < whole:
        upto = min(whole, n + probe)
        kinds = buf[pos + n * rec : pos + upto * rec : rec]
        n += len(kinds) - len(kinds.lstrip(kind))
        if n < upto:
            break
        probe *= 2
    return n


def _run(buf: bytearray, pos: int, end: int, kind: int, text: int, rec: int) -> Iterable:
    """The fields (and text) of the task record of kind ``kind`` at ``pos`` (``rec`` bytes,
    ``text`` of them its text) and of those right after it of the same kind, when their
    text is short enough for one ``iter_unpack`` (a layout made once per size)."""
    body = CREATED_RECORD if kind == K_CREATED else DONE_RECORD
    n = _run_length(buf, pos, end, _KINDS[kind], rec) if text <= _MAX_RUN_TEXT else 1
    if n == 1:
        return ((*body.unpack_from(buf, pos), buf[pos + rec - text : pos + rec]),)
    layout = _LAYOUTS.get((kind, text)) or _layout(kind, text)
    return layout.iter_unpack(buf[pos : pos + n * rec])


_first = itemgetter(0)


def _batch(kind: str, rows: list) -> dict:
    """A batched decoder's event of task records: its ``t`` is their latest. Runs of them
    kept as bytes (``TaskRun``) among the rows: made rows when first read (``TaskRows``)."""
    if type(rows[-1]) is not TaskRun and TaskRun not in map(type, rows):
        return {"event": kind, "t": max(map(_first, rows)), "tasks": rows}
    t = max(r.t_max if type(r) is TaskRun else r[0] for r in rows)
    return {"event": kind, "t": t, "tasks": TaskRows(rows)}


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
# Counts in the primitive records (never negative; u32 like ids).
_COUNT_KEYS = (
    "acquisitions", "max_waiters", "size", "peak_size", "puts", "gets", "join_waiters",
    "max_join_waiters", "maxsize", "permits",
)  # fmt: skip

_OBJECT_EVENTS = frozenset({"primitive", "primitive_state", "executor_job"})


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
        # (The strings below 256 a run of task records may use, and their ids as bytes:
        # made again only after a string record below 256, so a run costs O(its records)
        # however many strings came before it: review, a program naming a new string
        # between runs made the parent quadratic.)
        self._small: tuple[dict, bytes] | None = None

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
        mixed = False  # an output record is among ``ended``
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
                if kind == K_DONE:  # a run of them at once: one per task, among the steps
                    if size < DONE.size:
                        raise ValueError(f"a task_done record of {size} bytes")
                    pos = self._done(buf, start - head, end, size, ended.append)
                    continue
                if kind == K_OUTPUT:
                    ended.append(self._output(buf, start, pos))
                    mixed = True
                    continue
                if kind == K_STR:
                    if size < STR.size:
                        raise ValueError(f"a string record of {size} bytes")
                    (sid,) = STR.unpack_from(buf, start)
                    if sid < 256:  # in the batched runs' snapshot (``_lazy``): renewed
                        self._small = None
                    strings[sid] = buf[start + STR.size : pos].decode("utf-8")
                    continue
                if steps:
                    events.append(self._steps_event(steps))
                    steps = []
                if ended:
                    self._ended(events, ended, mixed)
                    ended, mixed = [], False
                if kind == K_CREATED:  # runs of them at once, one event (batched)
                    append = events.append
                    if batched:
                        rows = []
                        append = rows.append
                    pos = start - head
                    while True:
                        if size < CREATED.size:
                            raise ValueError(f"a task_created record of {size} bytes")
                        pos = self._created(buf, pos, end, size, append)
                        # The next record, here if it is another whole task_created (any
                        # other, or one cut short, is the outer loop's).
                        if end - pos < head or buf[pos] != K_CREATED:
                            break
                        _k, size = HEADER.unpack_from(buf, pos)
                        if size > MAX_PAYLOAD or end - pos - head < size:
                            break
                    if rows:
                        events.append(_batch("tasks_created", rows))
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
                events.append(_batch("tasks_created", rows))
            if steps:
                events.append(self._steps_event(steps))
            self._ended(events, ended, mixed)
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
        self._ended(events, ended, mixed)
        del self._buf[:pos]
        return events

    def _ended(self, events: list[dict], ended: list, mixed: bool) -> None:
        """The task ends and output records read among a batch of steps, after its steps
        event (whose time is its last step's end, however the bytes were fed). Batched,
        the task ends (tuples) between two output records (``mixed``: there are some)
        are one ``tasks_done``."""
        if not ended:
            return
        if not self.batched:
            events += ended
        elif not mixed:
            events.append(_batch("tasks_done", ended))
        else:
            batch: list = []
            for item in ended:
                if type(item) is not dict:  # (a row, or a run of them)
                    batch.append(item)
                    continue
                if batch:
                    events.append(_batch("tasks_done", batch))
                    batch = []
                events.append(item)
            if batch:
                events.append(_batch("tasks_done", batch))
        last = ended[-1]
        kind = type(last)
        self.last_t = last[0] if kind is tuple else last.t_last if kind is TaskRun else last["t"]

    def _created(self, buf: bytearray, pos: int, end: int, size: int, append: Callable) -> int:
        """The ``task_created`` record at ``pos`` (whole, ``size`` bytes of payload) and
        those right after it of the same size (a program's tasks named alike), unpacked
        with one ``iter_unpack``, each checked and appended (a tuple of ``TASKS_CREATED``,
        batched, else its event) in order; where the next record begins."""
        rec = HEADER.size + size
        run = self._lazy(buf, pos, end, K_CREATED, size - CREATED.size, rec)
        if run is not None:
            append(run)
            self.last_t = run.t_last
            return pos + run.n * rec
        records = _run(buf, pos, end, K_CREATED, size - CREATED.size, rec)
        strings = self._strings
        batched = self.batched
        for _k, s, tid, parent, t, coro, file, line, internal, name in records:
            if s != size:  # (a record of another size: the next call's)
                break
            if not 0 <= t <= MAX_TIME:  # NaN fails too
                raise ValueError(f"a record at {t!r} s")
            self.last_t = t
            name = name.decode("utf-8")
            coro, file = strings[coro], strings[file]
            if batched:  # (TASKS_CREATED)
                append((t, tid, name, coro, parent or None, bool(internal), file, line or None))
            else:
                append({"event": "task_created", "t": t, "id": tid, "name": name, "coro": coro,
                        "parent": parent or None, "internal": bool(internal), "file": file,
                        "line": line or None})  # fmt: skip
            pos += rec
        return pos

    def _done(self, buf: bytearray, pos: int, end: int, size: int, append: Callable) -> int:
        """The ``task_done`` record at ``pos`` and those right after it of the same size
        (tasks that returned alike: ``None``), as ``_created`` reads its records; each a
        tuple of ``TASKS_DONE`` (batched) or its event. ``last_t`` is set once the batch is
        out (``_ended``)."""
        rec = HEADER.size + size
        run = self._lazy(buf, pos, end, K_DONE, size - DONE.size, rec)
        if run is not None:  # (last_t: once the batch is out)
            append(run)
            return pos + run.n * rec
        records = _run(buf, pos, end, K_DONE, size - DONE.size, rec)
        strings = self._strings
        batched = self.batched
        for _k, s, tid, t, state, exc, file, line, text in records:
            if s != size:  # (a record of another size: the next call's)
                break
            if not 0 <= t <= MAX_TIME:  # NaN fails too (last_t: once the batch is out)
                raise ValueError(f"a record at {t!r} s")
            text = text.decode("utf-8")
            failed = state == 2  # (the lookups that may fail, in the order they were)
            how, exc = STATES[state], strings[exc] if failed else None
            if batched:  # (TASKS_DONE)
                append((t, tid, how, text if state == 0 else None, exc,
                        text if failed else None, strings[file], line or None))  # fmt: skip
            else:
                append({"event": "task_done", "t": t, "id": tid, "state": how,
                        "result": text if state == 0 else None, "exc_type": exc,
                        "exc_msg": text if failed else None, "file": strings[file],
                        "line": line or None})  # fmt: skip
            pos += rec
        return pos

    def _lazy(
        self, buf: bytearray, pos: int, end: int, kind: int, text: int, rec: int
    ) -> TaskRun | None:
        """Batched, the run of task records of one size at ``pos`` kept as bytes, its rows
        made when read (``task_runs``), when it is long enough and its bytes vouch for
        every check; else None (read record by record)."""
        if not self.batched or text > _MAX_RUN_TEXT or end - pos < MIN_RUN * rec:
            return None
        n = _run_length(buf, pos, end, _KINDS[kind], rec)
        if n < MIN_RUN:
            return None
        chunk = bytes(buf[pos : pos + n * rec])
        # (The run ends at the first record of another size: the kind byte found it too.)
        for j in range(1, HEADER.size):
            column = chunk[j::rec]
            n = min(n, len(column) - len(column.lstrip(column[:1])))
        if n < MIN_RUN:
            return None
        chunk = chunk[: n * rec]
        small = self._small
        if small is None:  # renewed by a string record below 256 only: at most 256 looks
            table = self._strings
            strings = {sid: table[sid] for sid in range(256) if sid in table}
            small = self._small = (strings, bytes(strings))
        if not vouched_run(chunk, n, rec, kind, small[1]):
            return None
        return TaskRun(chunk, kind, rec, small[0])

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
        # (Batched, nothing but the model reads them: made when it first does.)
        rows = lazy_rows(payload, s) if self.batched else None
        if rows is None:
            rows = figure_rows(payload, s)
        if rows is None:  # (a number _figure_rows does not vouch for: each row checked)
            rows = []
            for tid, steps, run, most, first, last, a, w, f, line in FIGURE.iter_unpack(
                payload[8:]
            ):
                if not (steps and 0 <= run <= MAX_TIME and 0 <= most <= MAX_TIME
                        and 0 <= first <= MAX_TIME and 0 <= last <= MAX_TIME):  # fmt: skip
                    raise ValueError(f"task {tid}'s figures ({steps}, {run!r}, {most!r}, {last!r})")
                rows.append((tid, steps, run, most, first, last, s[a], s[w], s[f], line))
        self.last_t = max(self.last_t, t)
        return {"event": "figures", "t": self.last_t, "tasks": rows}

    def _state(self, payload: bytes) -> dict:
        """A ``P`` record: the ``primitive_state`` event the JSON record was, key for key
        and in its order, every field checked as that record's are (a u32 is in range by
        its size; the times, the shape, the waits' kinds and the length here)."""
        if len(payload) < STATE.size:
            raise ValueError(f"a primitive_state record of {len(payload)} bytes")
        t, pid, acq, most, longest, held, waited, longest_hold, shape, nh, nw, ns = (
            STATE.unpack_from(payload)
        )
        queued = shape == STATE_QUEUED
        if shape > STATE_QUEUED:
            raise ValueError(f"a primitive_state record of shape {shape}")
        at = STATE.size + (STATE_QUEUE.size if queued else 0)
        if len(payload) != at + 4 * nh + 5 * nw + 12 * ns or (ns and not queued):
            raise ValueError(f"a primitive_state record of {len(payload)} bytes")
        for value in (t, longest, held, waited, longest_hold):
            if not 0 <= value <= MAX_TIME:  # NaN fails too
                raise ValueError(f"a primitive_state event with a time of {value!r}")
        event = {"event": "primitive_state", "id": pid, "acquisitions": acq}
        if nh or nw or ns:
            lists = struct_unpack_from(f"<{nh + nw}I{nw}B{ns}d{ns}I", payload, at)
            event["holders"] = [h or None for h in lists[:nh]]
            kinds = lists[nh + nw : nh + 2 * nw]
            if any(k >= len(WAIT_ORDER) for k in kinds):
                raise ValueError("bad waiters in a primitive_state event")
            event["waiters"] = [
                [w or None, WAIT_ORDER[k]] for w, k in zip(lists[nh : nh + nw], kinds, strict=True)
            ]
            times = lists[nh + 2 * nw : nh + 2 * nw + ns]
            if not all(0 <= x <= MAX_TIME for x in times):  # NaN fails too
                raise ValueError("bad sizes in a primitive_state event")
            sizes = [[x, n] for x, n in zip(times, lists[nh + 2 * nw + ns :], strict=True)]
        else:
            event["holders"], event["waiters"], sizes = [], [], []
        event.update(max_waiters=most, longest_wait=longest, held=held, waited=waited,
                     longest_hold=longest_hold)  # fmt: skip
        if queued:
            size, peak, puts, gets, put_wait, get_wait, joiners, most_joiners = (
                STATE_QUEUE.unpack_from(payload, STATE.size)
            )
            if not (0 <= put_wait <= MAX_TIME and 0 <= get_wait <= MAX_TIME):  # NaN too
                raise ValueError(f"a primitive_state event waiting {put_wait!r}, {get_wait!r}")
            event.update(size=size, peak_size=peak, puts=puts, gets=gets, put_wait=put_wait,
                         get_wait=get_wait, join_waiters=joiners,
                         max_join_waiters=most_joiners, sizes=sizes)  # fmt: skip
        elif shape:
            event["set"] = shape == STATE_SET
        event["t"] = t
        self.last_t = t
        return event

    def _record(self, kind: int, payload: bytes) -> dict | None:
        if kind == K_FIGURES:
            return self._figures(payload)
        if kind == K_STATE:
            return self._state(payload)
        if kind == K_JSON:
            obj = json_object(payload.decode("utf-8"))
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
