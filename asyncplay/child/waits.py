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
  string id and the line (``f_lineno`` scans the code's line table from its start), under
  the key None, and the answer tuple of each wait named there (one tuple per line and
  name, not one per step). One code waiting at two lines has two offsets; a
  generator-based coroutine's one frame, suspended at another ``yield``, another offset;
- ``self.wait_names``, by asyncio's code: how to name its wait: a constant's
  string id, or (a namer) for a name made of a value (``sleep(DELAY)``, ``Queue.get()`` by the type's
  name, ``wait(N)``, ``to_thread(FUNC)``) the string id of each value met, keyed by the
  value itself (never by an id: it is not kept alive) and only for values whose text only
  their value decides (an int and an equal float are told apart: ``sleep(10**16)``);
  and by the type of the future a task waits on with no asyncio call below the user's
  (a plain future, a gather by its count, a task by its name): ``hasattr`` on a type
  without the name formats an ``AttributeError`` each time, so it is asked once a type.

Every code object keyed by its id is kept alive in ``self.codes`` (its id is never reused
by another code while the cache holds it). The caches stop growing past ``MAX_VALUES``
values per name (a program sleeping for random delays is named call by call).
"""

from __future__ import annotations

import types

from asyncplay.child.private_names import NAMED_PRIVATE, SEE_THROUGH
from asyncplay.child.safe_repr import short_number

__all__ = ["MAX_VALUES", "describe", "describe_frames", "wait_name"]

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

    The walk reads each coroutine's code (``cr_code``), not its frame: a frame object is
    made only for the two levels that need one (the user's, for its offset, and asyncio's
    named one, for a value its name is made of), never for the levels between. It holds
    when the chain ends on what the innermost coroutine awaits (a future): then every
    coroutine of it is suspended, with a frame. A chain that ends on a coroutine awaiting
    nothing (not started, a bare ``yield``, finished) is walked by the frames
    (``describe_frames``, the reference the tests hold this to).
    """
    try:
        c = task.get_coro()
    except Exception:  # a task class of the program's whose get_coro() fails
        return describe_frames(self, rec, task)
    kinds = self.wait_kinds
    user = aio = public = None
    while True:
        tc = type(c)
        if tc is _coro_t:
            code = c.cr_code
            nxt = c.cr_await
        elif tc is _gen_t:
            code = c.gi_code
            nxt = c.gi_yieldfrom
        else:
            break
        try:
            k = kinds[id(code)]
        except KeyError:
            k = _kind(self, code)
        if not k:
            user = c
            ucode = code
            aio = public = None
        elif k & 1:
            if aio is None:
                aio = c
                aio_k = k
                acode = code
            if public is None and k & 2:
                public = c  # the outermost: what the program called (Queue.join)
                pcode = code
        c = nxt
    if c is None:  # the innermost coroutine awaits nothing: by the frames
        return describe_frames(self, rec, task)
    if aio is not None:
        # The asyncio call the program made, not what it uses inside: queue.join()
        # waits in an Event.wait(), as_completed in a Queue.get().
        if public is None or aio_k & 4:
            public = aio
            pcode = acode
        if type(public) is _coro_t:
            try:
                namer = self.wait_names[id(pcode)]
            except KeyError:
                namer = None
            if type(namer) is int:
                what = namer
            elif namer is None:
                what = _name_sid(self, public.cr_frame)
            else:
                try:
                    what = namer(public.cr_frame)
                except Exception:  # a frame whose locals are not what the namer reads
                    what = self.strings.sid(pcode.co_name + "()")
        else:
            what = _name_sid(self, public.gi_frame)
    else:  # named by the future itself, by its type: a string id, or a namer
        w = task._fut_waiter
        try:
            what = self.wait_names[type(w)]
        except KeyError:
            what = _waiter_namer(self, type(w))
        if type(what) is not int:
            what = what(self, w)
    if user is None:
        result = (what, 0, 0)
    else:
        try:
            lines = self.wait_lines[id(ucode)]
        except KeyError:
            lines = self.wait_lines[id(ucode)] = {}
            self.codes.append(ucode)
        frame = user.cr_frame if type(user) is _coro_t else user.gi_frame
        try:
            at = lines[frame.f_lasti]
        except KeyError:
            at = lines[frame.f_lasti] = {
                None: (self.strings.sid(ucode.co_filename), frame.f_lineno or 0)
            }
        try:
            result = at[what]  # one tuple per line and wait, not one per step
        except KeyError:
            where = at[None]
            result = (what, where[0], where[1])
            if len(at) <= MAX_VALUES:
                at[what] = result
    rec.wait = result
    if self.chains is not None and result != rec.chain_at:
        self.chains.dirty[rec.tid] = rec
    return result


def describe_frames(self: Any, rec: TaskRecord, task: Any) -> tuple[int, int, int]:
    """``describe`` by the frames: each level's frame, its code, a stop at a finished
    one. For the chains ``describe``'s walk by the codes leaves (and, in the tests, the
    reference it is held to)."""
    try:
        c = task.get_coro()
    except Exception:  # a task class of the program's whose get_coro() fails
        c = None  # described by the future it waits on, as for a finished coroutine
    user = ucode = None
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
        code = f.f_code
        k = kind_get(id(code))
        if k is None:
            k = _kind(self, code)
        if k == 0:
            user = f
            ucode = code
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
        if aio_k & 4 or public is None:
            public = aio
        namer = self.wait_names.get(id(public.f_code))
        if type(namer) is int:
            what = namer
        elif namer is None:
            what = _name_sid(self, public)
        else:
            try:
                what = namer(public)
            except Exception:  # a frame whose locals are not what the namer reads
                what = self.strings.sid(public.f_code.co_name + "()")
    else:
        w = task._fut_waiter
        if w is None:
            what = 0
        elif type(w) is self.gathering:
            namer = self.wait_names.get("gather")
            if namer is None:
                namer = self.wait_names["gather"] = _by_value(self.strings.sid, _gather_text, int)
            what = namer(len(w._children))
        else:
            what = _future_sid(self, w)
    if user is None:
        result = (what, 0, 0)
    else:
        lines = self.wait_lines.get(id(ucode))
        if lines is None:
            lines = self.wait_lines[id(ucode)] = {}
            self.codes.append(ucode)
        lasti = user.f_lasti
        at = lines.get(lasti)
        if at is None:
            at = lines[lasti] = {None: (self.strings.sid(ucode.co_filename), user.f_lineno or 0)}
        where = at[None]
        result = (what, where[0], where[1])
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
        return namer(frame)
    except Exception:  # a frame whose locals are not what the namer reads (a method
        return self.strings.sid(code.co_name + "()")  # of the program's shadowing asyncio's)


def _waiter_namer(self: Any, tw: type) -> Any:
    """How a future of type ``tw`` is named (``wait_names[tw]``): no future 0, a plain
    one "future" (string ids), a gather by its children, a task by its name (namers)."""
    if tw is type(None):
        namer: Any = 0
    elif tw is self.gathering:
        namer = _gather_namer(self.strings.sid)
    elif hasattr(tw, "get_coro"):
        namer = _task_sid
    else:
        namer = self.strings.sid("future")
    self.wait_names[tw] = namer
    return namer


def _gather_namer(strings_sid: Any) -> Any:
    """``gather(N)``, by the gather's count of children (its future, ``w``)."""
    ids: dict[int, int] = {}

    def gather(_self: Any, w: Any) -> int:
        n = len(w._children)
        sid = ids.get(n)
        if sid is None:
            sid = strings_sid(_gather_text(n))
            if len(ids) < MAX_VALUES:
                ids[n] = sid
        return sid

    gather.ids = ids  # type: ignore[attr-defined]
    return gather


def _task_sid(self: Any, w: Any) -> int:
    wrec = self.tasks.get(id(w))
    return self.strings.sid(wrec.name if wrec is not None else w.get_name())


def _future_sid(self: Any, w: Any) -> int:
    """No asyncio frame below the user's: named by the future ``w`` the task waits on (a
    gather's is named in ``describe``)."""
    if hasattr(type(w), "get_coro"):
        wrec = self.tasks.get(id(w))
        return self.strings.sid(wrec.name if wrec is not None else w.get_name())
    return self.strings.sid("future")


# A namer: the string id of a wait's words, from asyncio's frame; each remembers the id
# of each value it met (one call per describe: the reading of the value is inlined).


def _namer(self: Any, code: types.CodeType) -> Any:
    """How ``code``'s wait is named: the string id of a constant name, or a namer."""
    name = code.co_name
    sid = self.strings.sid
    if name == "sleep":
        return _sleep_namer(sid)
    if name == "__sleep0":
        return sid("sleep(0)")
    if name == "wait_for":
        return sid("wait_for(...)")
    if name == "to_thread":
        by_func = _by_value(sid, _to_thread_text, str)
        return lambda f: by_func(getattr(f.f_locals.get("func"), "__qualname__", "?"))
    if name == "_wait_for_one":
        return sid("as_completed()")
    if name in ("wait", "_wait") and code.co_varnames[:1] == ("fs",):
        by_len = _by_value(sid, _wait_text, int)
        return lambda f: by_len(len(f.f_locals.get("fs") or ()))
    if code.co_varnames[:1] == ("self",):
        owner = getattr(self, "plain_methods", {}).get(id(code))
        if owner is not None:  # ``self`` can only be of that class (primitives.py)
            return sid(f"{owner.__name__}.{name}()")
        return _method_namer(sid, name)
    return sid(name + "()")


def _by_value(strings_sid: Any, text: Any, keyed: type) -> Any:
    """The string id of ``text(value)``, remembered for values of type ``keyed``
    (exactly: ``True`` is no int here)."""
    ids: dict[Any, int] = {}

    def sid_of(value: Any) -> int:
        if type(value) is not keyed:
            return strings_sid(text(value))
        sid = ids.get(value)
        if sid is None:
            sid = strings_sid(text(value))
            if len(ids) < MAX_VALUES:
                ids[value] = sid
        return sid

    sid_of.ids = ids  # type: ignore[attr-defined]
    return sid_of


def _sleep_namer(strings_sid: Any) -> Any:
    """``sleep(DELAY)``: ints and floats apart (``10**16 == 1e16``, their texts differ);
    a NaN is never found, so never kept."""
    ints: dict[int, int] = {}
    floats: dict[float, int] = {}

    def sleep(frame: types.FrameType) -> int:
        delay = frame.f_locals.get("delay")
        td = type(delay)
        if td is float:
            ids: dict = floats
        elif td is int:
            ids = ints
        else:
            return strings_sid(_sleep_text(delay))
        sid = ids.get(delay)
        if sid is None:
            sid = strings_sid(_sleep_text(delay))
            if len(ids) < MAX_VALUES and delay == delay:
                ids[delay] = sid
        return sid

    sleep.ids = (ints, floats)  # type: ignore[attr-defined]
    return sleep


def _method_namer(strings_sid: Any, name: str) -> Any:
    """``Queue.get()``: by the name of the type of the method's ``self``."""
    ids: dict[str, int] = {}
    suffix = f".{name}()"

    def method(frame: types.FrameType) -> int:
        type_name = type(frame.f_locals["self"]).__name__
        sid = ids.get(type_name)
        if sid is None:
            sid = strings_sid(f"{type_name}{suffix}")
            if len(ids) < MAX_VALUES and type(type_name) is str:
                ids[type_name] = sid
        return sid

    method.ids = ids  # type: ignore[attr-defined]
    return method


def _sleep_text(delay: Any) -> str:
    return f"sleep({short_number(delay)})"


def _to_thread_text(name: Any) -> str:
    return f"to_thread({name})"


def _wait_text(n: int) -> str:
    return f"wait({n})"


def _gather_text(n: int) -> str:
    return f"gather({n})"
