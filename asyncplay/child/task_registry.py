"""A task's registration and its end: the ``task_created`` and ``task_done`` records.

Plain functions taking the tracer as ``self``, bound as ``Tracer`` methods (``METHODS``)
by ``tracer.load_rooms``: a room of the tracer's, loaded with asyncio (a program that never
imports it never pays for it), and the tracer's module keeps to its hot path. Once per
task each; every cache here is per code object or per creating line, never per task
(docs/performance.md).
"""

from __future__ import annotations

import _weakref as weakref  # (weakref.ref itself, without the weakref module's imports)
import time
import types

from asyncplay import protocol
from asyncplay.child import cancels, cut_off
from asyncplay.child.own_frames import OWN as _OWN
from asyncplay.child.private_names import SPAWNERS as _SPAWNERS
from asyncplay.child.safe_repr import safe_message, safe_repr
from asyncplay.child.task_record import TaskRecord as _TaskRecord
from asyncplay.child.task_record import new_record as _new_record

__all__ = [
    "MAX_FAILED",
    "METHODS",
    "attach",
    "done",
    "find",
    "lookup",
    "name_set",
    "register",
    "register_traced",
    "rename_if_needed",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# What ``Tracer`` gets as methods (``tracer.load_rooms`` binds them).
METHODS = (
    "register",
    "register_traced",
    "attach",
    "lookup",
    "find",
    "rename_if_needed",
    "name_set",
    "done",
)
MAX_FAILED = 10_000  # failed tasks remembered for "exception was never retrieved"

_perf = time.perf_counter
_CoroutineType = types.CoroutineType
_NOWHERE = (0, 0)
_NO_WAIT = (0, 0, 0)
# A generator's, coroutine's or async generator's frame: resumed later, maybe by another
# caller (inspect.CO_GENERATOR | CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR)
_RESUMABLE = 0x20 | 0x80 | 0x100 | 0x200
_pack_created_head = protocol.CREATED_RECORD.pack
_K_CREATED = protocol.K_CREATED
_CREATED_SIZE = protocol.CREATED.size
_DONE_NONE = protocol.struct.Struct("<BIIdBIII4s").pack  # a done record whose result is None
_K_DONE = protocol.K_DONE
_DONE_SIZE = protocol.DONE.size


def register(
    self: Any, task: Any, coro: Any, frame: types.FrameType | None, name: Any = None
) -> Any:
    """Record a new task. ``task`` is None when it is registered before it exists (an
    eager task's first step runs inside its constructor); ``attach`` completes it.
    Once per task: every cache here is per code object or per creating line."""
    if type(task) is self.named_tasks and type(coro) is _CoroutineType:
        return register_traced(self, task, coro, frame)
    tid = self.next_tid
    self.next_tid = tid + 1
    if task is not None:
        try:
            name = task.get_name()
        except Exception:  # a task class of the program's whose get_name() fails
            name = None  # named Task-N, as asyncio names an unnamed task
    if not isinstance(name, str):
        name = f"Task-{tid}"
    code = coro.cr_code if type(coro) is _CoroutineType else getattr(coro, "gi_code", None)
    info = self.coro_info.get(id(code))
    if info is None:
        info = _coro_info(self, coro, code)
    # Where it was created: the first frame of the user's code, walking out.
    walk_get = self.walk_kinds.get
    spawned_by_asyncio = False
    while frame is not None:
        c = frame.f_code
        k = walk_get(id(c))
        if k is None:
            k = _walk_kind(self, c)
        if not k:
            break
        if k == 2:
            spawned_by_asyncio = True
        frame = frame.f_back
    if frame is not None:
        # By code, then instruction offset: no key tuple per task (each one a container
        # the collector counts towards its next young collection).
        lines = self.create_lines.get(id(c))
        where = lines.get(frame.f_lasti) if lines is not None else None
        if where is None:
            where = _where(self, c, frame)
    else:
        where = _NOWHERE
    internal = (spawned_by_asyncio or frame is None) and (
        info[1] or type(coro).__name__ == "async_generator_athrow"
    )
    parent = self.current
    if task is None:  # registered before the task exists: an EarlyRecord
        rec = _new_record(None, tid, name, where, parent is None and not internal, internal)
    else:  # task_record.new_record, inlined (once per task): every field set here.
        rec = _TaskRecord(task)
        self.tasks[id(task)] = rec
        rec.tid = tid
        rec.name = name
        # fresh: no step seen yet, its name may still be set after creation; not for a task
        # whose set_name() tells (the traced Task class, cancels.py): no look at its name at
        # its first step. That class's task carries its record (the step hook's one read).
        if type(task) is self.named_tasks:
            rec.fresh = False
            task._asyncplay_record = rec  # (cancels.RECORD_SLOT)
        else:
            rec.fresh = True
        # (file sid, line) of its creation: one tuple per creating line, shared by every task
        # made there (``create_lines``), not one per task
        rec.where = where
        rec.wait = _NO_WAIT  # the last (awaiting, file, line)
        rec.root = parent is None and not internal  # created outside any task: asyncio.run's
        rec.internal = internal  # asyncio's own
        # cancel: who asked first, (cause, by, file, line); chain, chain_at (3.14+): the
        # coroutine chain last sent (call_chains) and ``wait`` when it was captured
        rec.cancel = rec.chain = rec.chain_at = None
        # Figures mode (step_figures.py): its steps so far, waited (the last non-empty
        # awaiting's string id), wfile and wline (where it last waited); set at its first
        # step: running, longest (s), first (its start), last (its end: run seconds),
        # awaits (string id after the last step), queued (in Tracer.held, to be sent).
        rec.steps = rec.waited = rec.wfile = rec.wline = 0
    data = name.encode("utf-8", "replace")
    # One append per record: the flusher thread may append output records between
    # two of them (see output.records_from_thread).
    self.channel.buf += (
        _pack_created_head(
            _K_CREATED,
            _CREATED_SIZE + len(data),
            tid,
            parent.tid if parent is not None else 0,
            _perf() - self.t0,
            info[0],
            where[0],
            where[1],
            internal,
        )
        + data
    )
    return rec


def register_traced(self: Any, task: Any, coro: Any, frame: types.FrameType | None) -> Any:
    """``register`` of the common case, a coroutine's task of the traced class
    (``cancels.traced_task_class``): what ``create_task`` calls for every task it builds
    itself. The same record and ``task_created`` record as ``register``'s, with what it
    asks of any task left out: that class's ``get_name`` gives a str (asyncio's own
    ``Task-N``, or ``str()`` of the name given) and tells a new name itself (``fresh``
    false), its task carries the record, and the coroutine has its ``cr_code``."""
    tid = self.next_tid
    self.next_tid = tid + 1
    name = task.get_name()
    code = coro.cr_code
    last = self.last_coro  # (code, info) of the last task's coroutine: gather's are alike
    if last[0] is code:
        info = last[1]
    else:
        info = self.coro_info.get(id(code))
        if info is None:
            info = _coro_info(self, coro, code)  # (a runtime's wrapper's: never cached)
        else:
            self.last_coro = (code, info)
    parent = self.current
    # Where it was created: the first frame of the user's code, walking out. The frame
    # that called create_task is looked at each time; the walk from its caller on is
    # what the last walk found when that caller is the same frame (``walk_memo``).
    if frame is not None:
        c = frame.f_code
        cid = id(c)  # (an id() is an audit event: one a frame)
        k = self.walk_kinds.get(cid)
        if k is None:
            k = _walk_kind(self, c)
        if not k:  # the program's own code called create_task
            lines = self.create_lines.get(cid)
            where = lines.get(frame.f_lasti) if lines is not None else None
            if where is None:
                where = _where(self, c, frame)
            internal = False
        else:
            up = frame.f_back
            memo = self.walk_memo
            if memo is None or memo[0] is not up:
                memo = _walk_from(self, up, parent)
            where = memo[1]
            if where is _NOWHERE:  # no frame of the program's: asyncio's own if its coroutine is
                internal = info[1]
            else:
                internal = (k == 2 or memo[2]) and info[1]
    else:  # (``lookup``'s: a task made before the install, or past create_task)
        where = _NOWHERE
        internal = info[1]
    rec = _TaskRecord(task)  # every field of new_record's set here (the same values)
    self.tasks[id(task)] = rec
    task._asyncplay_record = rec  # (cancels.RECORD_SLOT)
    rec.tid = tid
    rec.name = name
    rec.fresh = False
    rec.where = where
    rec.wait = _NO_WAIT
    rec.root = parent is None and not internal
    rec.internal = internal
    rec.cancel = rec.chain = rec.chain_at = None
    rec.steps = rec.waited = rec.wfile = rec.wline = 0
    try:
        data = name.encode()
    except UnicodeEncodeError:  # (a lone surrogate in a name given)
        data = name.encode("utf-8", "replace")
    self.channel.buf += (
        _pack_created_head(
            _K_CREATED,
            _CREATED_SIZE + len(data),
            tid,
            parent.tid if parent is not None else 0,
            _perf() - self.t0,
            info[0],
            where[0],
            where[1],
            internal,
        )
        + data
    )
    return rec


def _walk_from(self: Any, frame: types.FrameType | None, parent: Any) -> tuple:
    """(``frame``, where, spawned by asyncio's own code?) of the walk out from ``frame``,
    the caller of the frame that called create_task, to the program's creating line.

    Kept as ``Tracer.walk_memo`` when ``frame`` is a plain function's frame (not a
    generator's or coroutine's) of asyncio or the runtime (``gather``'s, a comprehension's
    of ``wait``): while it runs, every frame out from it waits in a call at one
    instruction, so the next task made under it (``frame`` again, by identity: the memo
    holds it, so it is that frame) finds the same line; ``gather`` walks its frames once,
    not once per task. Only inside a task's step, and the step hook lets it go at the
    step's end (``Tracer.walk_memo``): its frame's locals are not kept past that."""
    start = frame
    walk_get = self.walk_kinds.get
    spawned = False
    while frame is not None:
        c = frame.f_code
        cid = id(c)
        k = walk_get(cid)
        if k is None:
            k = _walk_kind(self, c)
        if not k:
            break
        if k == 2:
            spawned = True
        frame = frame.f_back
    if frame is not None:
        lines = self.create_lines.get(cid)
        where = lines.get(frame.f_lasti) if lines is not None else None
        if where is None:
            where = _where(self, c, frame)
    else:
        where = _NOWHERE
    memo = (start, where, spawned)
    if (
        parent is not None
        and start is not None
        and start is not frame
        and not start.f_code.co_flags & _RESUMABLE
    ):
        self.walk_memo = memo
    return memo


def _walk_kind(self: Any, code: types.CodeType) -> int:
    """What the walk to the creating line does at a frame of ``code``, cached per code
    object (``Tracer.walk_kinds``): 0 stops (the user's code), 1 walks on (asyncplay,
    the interpreter's frozen code, asyncio's task spawners), 2 walks on from asyncio's
    own code that is not a spawner (the task is asyncio's own). One look per frame, not
    a kind and a name."""
    k = self.kind_of(code)  # (keeps ``code`` alive in ``codes``: its id is never reused)
    if k == 1:
        k = 1 if code.co_name in _SPAWNERS else 2
    elif k == 2:
        k = 1
    self.walk_kinds[id(code)] = k
    return k


def _coro_info(self: Any, coro: Any, code: types.CodeType | None) -> tuple[int, bool]:
    """(name sid, asyncio's own?) of a coroutine: cached per code object. A coroutine of
    the runtime's own (``primitives._timed``, the wrapper of a blocked lock's acquire or
    event's wait, made a task by ``gather`` or 3.10-3.11's ``wait_for``) is named as the
    coroutine it wraps, never cached: review, the tasks' table said ``_timed``."""
    if code is None:
        return (self.strings.sid(type(coro).__qualname__), False)
    if code.co_filename.startswith(_OWN) and type(coro) is _CoroutineType:
        inner = _wrapped(coro)
        if inner is not None:
            qual = getattr(inner, "__qualname__", None) or type(inner).__qualname__
            own = getattr(inner, "cr_code", None)
            return (self.strings.sid(qual), own is not None and self.kind_of(own) == 1)
    qual = getattr(coro, "__qualname__", None) or code.co_name
    info = (self.strings.sid(qual), self.kind_of(code) == 1)
    self.coro_info[id(code)] = info
    self.codes.append(code)
    return info


def _wrapped(coro: Any) -> Any:
    """The coroutine a runtime's wrapper coroutine was given (its ``coro`` argument), or
    None. (Not started yet: its frame holds its arguments.)"""
    frame = coro.cr_frame
    if frame is None:
        return None
    try:
        inner = frame.f_locals.get("coro")
    except Exception:  # a frame's locals that cannot be read: named as it is
        return None
    return inner if type(inner) is _CoroutineType else None


def _where(self: Any, code: types.CodeType, frame: types.FrameType) -> tuple:
    """(file sid, line) of a creating line, cached by code and instruction offset:
    ``f_lineno`` scans the code's line table from its start."""
    file = self.file_sids.get(id(code))
    if file is None:
        file = self.file_sids[id(code)] = self.strings.sid(code.co_filename)
        self.codes.append(code)
    lines = self.create_lines.get(id(code))
    if lines is None:
        lines = self.create_lines[id(code)] = {}
        self.codes.append(code)
    where = lines[frame.f_lasti] = (file, frame.f_lineno or 0)
    return where


def attach(self: Any, rec: Any, task: Any) -> None:
    """``rec`` (an ``EarlyRecord``, registered before its task existed) is ``task``'s."""
    rec.tref = weakref.ref(task)
    self.tasks[id(task)] = rec
    if type(task) is self.named_tasks:  # (a task factory that builds the traced class)
        task._asyncplay_record = rec
    rename_if_needed(self, rec, task)


def lookup(self: Any, task: Any) -> Any:
    """The record of ``task``, registered now if it has none (a task made before the
    tracer was installed, or by a class of the program's that bypassed create_task)."""
    rec = self.tasks.get(id(task))
    if rec is None or rec() is not task:
        try:
            coro = task.get_coro()
        except Exception:  # a task class of the program's whose get_coro() fails
            coro = None  # registered without a coroutine name
        rec = register(self, task, coro, None)
    return rec


def find(self: Any, task: Any) -> Any:
    """The record of a task being finalized: its weak reference may already be dead,
    but its id cannot have been reused while the object still exists."""
    key = id(task)
    rec = self.tasks.get(key) or self.failed.get(key)
    if rec is not None and rec() not in (task, None):
        return None
    return rec


def rename_if_needed(self: Any, rec: Any, task: Any) -> None:
    rec.fresh = False
    try:
        name = task.get_name()
    except Exception:  # a task class of the program's whose get_name() fails
        return  # keeps the name it had
    if name != rec.name:
        _renamed(self, rec, name)


def name_set(self: Any, task: Any) -> None:
    """``task.set_name()`` was called (or 3.10-3.12's ``_set_task_name``): its new name is
    told now, even for an eager task already finished (the task ended last)."""
    rec = self.tasks.get(id(task))
    if rec is None and self.recent_id == id(task):
        rec = self.recent_rec
    if rec is not None and rec() is task:
        rename_if_needed(self, rec, task)


def _renamed(self: Any, rec: Any, name: Any) -> None:
    rec.name = name
    self.send_json({"event": "task_renamed", "id": rec.tid, "name": name})


def done(self: Any, rec: Any, task: Any) -> None:
    """The task's end: its ``task_done`` record (and a late name, a cancel's source)."""
    key = id(task)
    self.tasks.pop(key, None)
    self.recent_id, self.recent_rec = key, rec  # no strong reference: _set_task_name
    if type(task) is self.named_tasks:  # its record is let go with its end, as before
        task._asyncplay_record = None  # it was on the task (a finished task never steps)
    # Its set_name() may have come at any point: a traced task's own is told when called,
    # but asyncio's Task.set_name called on it (``asyncio.Task.set_name(t, ...)``) goes
    # past that; asked here for every task (found by review: such a name was lost).
    try:  # (rename_if_needed, inlined)
        name = task.get_name()
    except Exception:  # a task class of the program's whose get_name() fails
        name = rec.name  # keeps the name it had
    if name != rec.name:
        _renamed(self, rec, name)
    if rec.root:
        self.main_end = cut_off.how_ended(rec, task)
    t = _perf() - self.t0
    if task.cancelled():
        state, exc_sid, file, line, text = 1, 0, 0, 0, ""
        if rec.cancel is None:  # not a TracedTask (a task factory's), or never asked
            cancels.send_cancel_source(self, rec, ("unknown", None, None, 0))
    else:
        exc = task._exception
        if exc is not None:
            file, line = self.tb_where(exc)
            exc_sid = self.strings.sid(type(exc).__qualname__)
            state = 2
            text = safe_message(exc)
            if len(self.failed) < MAX_FAILED:
                self.failed[key] = rec  # for "exception was never retrieved"
        else:
            result = task._result
            if result is None:
                self.channel.buf += _DONE_NONE(
                    _K_DONE, _DONE_SIZE + 4, rec.tid, t, 0, 0, 0, 0, b"None"
                )
                return
            state, exc_sid, file, line = 0, 0, 0, 0
            text = safe_repr(result)
    self.channel.buf += protocol.pack_done(rec.tid, t, state, exc_sid, file, line, text)
