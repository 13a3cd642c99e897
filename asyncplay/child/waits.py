"""What a task waits on, in a person's words, and the user's line it waits at.

Worked out after a step only when the task suspends on a future (the step hook's
``describe``), and by the blocking detector, the deadlock finder, the cut-off check and
``attach``. The functions take the tracer as ``self``: ``Tracer`` binds them as methods,
so a call costs what a method's does; this module never imports the tracer.

A program that waits on queues, locks and sleeps pays ``describe`` at nearly every step,
so what it works out is cached per tracer, each cache keyed by what decides its answer:

- ``self.wait_kinds``, by the code object's id: what each frame of the walk is (the user's,
  asyncio's public or private functions, or the runtime's own);
- ``self.wait_lines``, by the user's code and the frame's instruction offset: the file's
  string id and the line (``f_lineno`` scans the code's line table from its start). One
  code waiting at two lines has two offsets; a generator-based coroutine's one frame,
  suspended at another ``yield``, another offset;
- ``self.wait_names``, by asyncio's code: how to name its wait (``_Namer``), a constant's
  string id, or for a name made of a value (``sleep(DELAY)``, ``Queue.get()`` by the type's
  name, ``wait(N)``, ``to_thread(FUNC)``) the string id of each value met, keyed by the
  value itself (never by an id: it is not kept alive) and only for values whose text only
  their value decides (an int and an equal float are told apart: ``sleep(10**16)``).

Every code object keyed by its id is kept alive in ``self.codes`` (its id is never reused
by another code while the cache holds it). The caches stop growing past ``MAX_VALUES``
values per name (a program sleeping for random delays is named call by call).
"""

from __future__ import annotations

import types

from asyncplay.child.private_names import NAMED_PRIVATE, SEE_THROUGH
from asyncplay.child.safe_repr import short_number

__all__ = ["MAX_VALUES", "describe", "wait_name"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from asyncplay.child.task_record import TaskRecord

MAX_VALUES = 512  # values remembered per name (sleep delays, type names, ...)

# What a frame of the walk is (``self.wait_kinds``): the user's (0), the runtime's own or
# the interpreter's frozen code (skipped), asyncio's: a bit set, plus whether it names a
# wait the program made (public, not seen through) or is a private one that does.
_USER = 0
_OWN = 8
_AIO = 1
_PUBLIC = 2
_NAMED = 4

_coro_t = types.CoroutineType
_gen_t = types.GeneratorType


def describe(self: Any, rec: TaskRecord, task: Any) -> tuple[int, int, int]:
    """What the task now waits on (a person's words) and the user's line it waits at.

    The name comes from the innermost public asyncio function below the user's last
    frame (``async with lock`` waits in ``Lock.acquire``, not ``__aenter__``), else the
    outermost asyncio one, else the future itself (a task, a gather, a plain future).
    """
    try:
        c = task.get_coro()
    except Exception:  # a task class of the program's whose get_coro() fails
        c = None  # described by the future it waits on, as for a finished coroutine
    user = None
    aio = None
    aio_k = 0
    public = None
    kind_get = self.wait_kinds.get
    while c is not None:
        tc = type(c)
        if tc is _coro_t:
            f = c.cr_frame
            c = c.cr_await
        elif tc is _gen_t:
            f = c.gi_frame
            c = c.gi_yieldfrom
        else:
            break
        if f is None:
            break
        k = kind_get(id(f.f_code))
        if k is None:
            k = _kind(self, f.f_code)
        if k == 0:
            user = f
            aio = public = None
        elif k & 1:
            if aio is None:
                aio = f
                aio_k = k
            if k & 2 and public is None:
                public = f  # the outermost: what the program called (Queue.join)
    if aio is not None:
        # The asyncio call the program made, not what it uses inside: queue.join()
        # waits in an Event.wait(), as_completed in a Queue.get().
        what = _name_sid(self, aio if aio_k & 4 else public or aio)
    else:
        what = _future_sid(self, task)
    if user is None:
        result = (what, 0, 0)
    else:
        code = user.f_code
        lines = self.wait_lines.get(id(code))
        if lines is None:
            lines = self.wait_lines[id(code)] = {}
            self.codes.append(code)
        lasti = user.f_lasti
        where = lines.get(lasti)
        if where is None:
            where = lines[lasti] = (self.strings.sid(code.co_filename), user.f_lineno or 0)
        result = (what, *where)
    rec.wait = result
    if self.chains is not None and result != rec.chain_at:
        self.chains.dirty[rec.tid] = rec
    return result


def wait_name(self: Any, frame: types.FrameType) -> str:
    """The words for the wait asyncio's ``frame`` stands for (``sleep(0.5)``)."""
    return self.strings.text(_name_sid(self, frame))


def _kind(self: Any, code: types.CodeType) -> int:
    k = self.kind_of(code)
    if k == 1:
        name = code.co_name
        k = _AIO
        if name[:1] != "_" and name not in SEE_THROUGH:
            k |= _PUBLIC
        if name in NAMED_PRIVATE:
            k |= _NAMED
    elif k != 0:
        k = _OWN
    self.wait_kinds[id(code)] = k
    self.codes.append(code)
    return k


def _name_sid(self: Any, frame: types.FrameType) -> int:
    code = frame.f_code
    namer = self.wait_names.get(id(code))
    if namer is None:
        namer = _namer(self, code)
        self.wait_names[id(code)] = namer
        self.codes.append(code)
    if type(namer) is int:
        return namer
    try:
        return namer.sid(frame)
    except Exception:  # a frame whose locals are not what the namer reads (a method
        return self.strings.sid(code.co_name + "()")  # of the program's shadowing asyncio's)


def _future_sid(self: Any, task: Any) -> int:
    """No asyncio frame below the user's: named by the future the task waits on."""
    w = task._fut_waiter
    if w is None:
        return 0
    tw = type(w)
    if tw is self.gathering:
        namer = self.wait_names.get("gather")
        if namer is None:
            namer = self.wait_names["gather"] = _Namer(self.strings.sid, _gather_text, int)
        return namer.sid_of(len(w._children))
    if hasattr(tw, "get_coro"):
        wrec = self.tasks.get(id(w))
        return self.strings.sid(wrec.name if wrec is not None else w.get_name())
    return self.strings.sid("future")


class _Namer:
    """One asyncio function's name for a wait, made of a value it reads from the frame
    (``read``) by ``text``; the string id of each value's text is remembered, keyed by
    the value where its type is ``keyed`` exactly (None: never)."""

    __slots__ = ("ids", "keyed", "read", "strings_sid", "text")

    def __init__(self, strings_sid: Any, text: Any, keyed: type | None, read: Any = None):
        self.strings_sid = strings_sid
        self.text = text
        self.keyed = keyed
        self.read = read
        self.ids: dict[Any, int] = {}

    def sid(self, frame: types.FrameType) -> int:
        return self.sid_of(self.read(frame))

    def sid_of(self, value: Any) -> int:
        if type(value) is not self.keyed:
            return self.strings_sid(self.text(value))
        ids = self.ids
        sid = ids.get(value)
        if sid is None:
            sid = self.strings_sid(self.text(value))
            if len(ids) < MAX_VALUES:
                ids[value] = sid
        return sid


class _Sleep(_Namer):
    """``sleep(DELAY)``: ints and floats apart (``10**16 == 1e16``, their texts differ)."""

    __slots__ = ("floats",)

    def __init__(self, strings_sid: Any) -> None:
        super().__init__(strings_sid, _sleep_text, int, _delay)
        self.floats: dict[float, int] = {}

    def sid_of(self, value: Any) -> int:
        if type(value) is float:  # (NaN is never found: named afresh, never kept twice)
            ids = self.floats
            sid = ids.get(value)
            if sid is None:
                sid = self.strings_sid(_sleep_text(value))
                if len(ids) < MAX_VALUES and value == value:
                    ids[value] = sid
            return sid
        return _Namer.sid_of(self, value)


def _namer(self: Any, code: types.CodeType) -> Any:
    """How ``code``'s wait is named: the string id of a constant name, or a ``_Namer``."""
    name = code.co_name
    sid = self.strings.sid
    if name == "sleep":
        return _Sleep(sid)
    if name == "__sleep0":
        return sid("sleep(0)")
    if name == "wait_for":
        return sid("wait_for(...)")
    if name == "to_thread":
        return _Namer(sid, _to_thread_text, str, _func_name)
    if name == "_wait_for_one":
        return sid("as_completed()")
    if name in ("wait", "_wait") and code.co_varnames[:1] == ("fs",):
        return _Namer(sid, _wait_text, int, _fs_len)
    if code.co_varnames[:1] == ("self",):
        return _Namer(sid, _method_text(name), str, _self_type_name)
    return sid(name + "()")


def _delay(frame: types.FrameType) -> Any:
    return frame.f_locals.get("delay")


def _func_name(frame: types.FrameType) -> Any:
    return getattr(frame.f_locals.get("func"), "__qualname__", "?")


def _fs_len(frame: types.FrameType) -> int:
    return len(frame.f_locals.get("fs") or ())


def _self_type_name(frame: types.FrameType) -> str:
    return type(frame.f_locals["self"]).__name__


def _method_text(name: str) -> Any:
    def text(type_name: Any) -> str:
        return f"{type_name}.{name}()"

    return text


def _sleep_text(delay: Any) -> str:
    return f"sleep({short_number(delay)})"


def _to_thread_text(name: Any) -> str:
    return f"to_thread({name})"


def _wait_text(n: int) -> str:
    return f"wait({n})"


def _gather_text(n: int) -> str:
    return f"gather({n})"
