"""What a task waits on, in a person's words, and the user's line it waits at.

Worked out after a step only when the task suspends on a future (the step hook's
``describe``), and by the blocking detector, the deadlock finder, the cut-off check and
``attach``. The functions take the tracer as ``self``: ``Tracer`` binds them as methods,
so a call costs what a method's does; this module never imports the tracer.
"""

from __future__ import annotations

import types

from asyncplay.child.private_names import NAMED_PRIVATE, SEE_THROUGH
from asyncplay.child.safe_repr import short_number

__all__ = ["describe", "wait_name"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from asyncplay.child.task_record import TaskRecord


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
    public = None
    kind_get = self.code_kind.get
    kind_of = self.kind_of
    coro_t = types.CoroutineType
    gen_t = types.GeneratorType
    while c is not None:
        tc = type(c)
        if tc is coro_t:
            f = c.cr_frame
            nxt = c.cr_await
        elif tc is gen_t:
            f = c.gi_frame
            nxt = c.gi_yieldfrom
        else:
            break
        if f is None:
            break
        code = f.f_code
        k = kind_get(id(code))
        if k is None:
            k = kind_of(code)
        if k == 0:
            user = f
            aio = public = None
        elif k == 1:
            if aio is None:
                aio = f
            if (
                public is None
                and f.f_code.co_name[0] != "_"
                and f.f_code.co_name not in SEE_THROUGH
            ):
                public = f  # the outermost: what the program called (Queue.join)
        c = nxt
    if aio is not None:
        # The asyncio call the program made, not what it uses inside: queue.join()
        # waits in an Event.wait(), as_completed in a Queue.get().
        what = self.wait_name(aio if aio.f_code.co_name in NAMED_PRIVATE else public or aio)
    else:
        w = task._fut_waiter
        if w is None:
            what = None
        else:
            tw = type(w)
            if tw is self.gathering:
                what = f"gather({len(w._children)})"
            elif hasattr(tw, "get_coro"):
                wrec = self.tasks.get(id(w))
                what = wrec.name if wrec is not None else w.get_name()
            else:
                what = "future"
    sid = self.strings.sid
    if user is None:
        result = (sid(what), 0, 0)
    else:
        result = (sid(what), sid(user.f_code.co_filename), user.f_lineno or 0)
    rec.wait = result
    if self.chains is not None and result != rec.chain_at:
        self.chains.dirty[rec.tid] = rec
    return result


def wait_name(self: Any, frame: types.FrameType) -> str:
    code = frame.f_code
    fn = self.wait_names.get(id(code))
    if fn is None:
        fn = _wait_namer(code)
        self.wait_names[id(code)] = fn
        self.codes.append(code)
    try:
        return fn(frame) if callable(fn) else fn
    except Exception:  # a frame whose locals are not what the namer reads (a method
        return code.co_name + "()"  # of the program's that shadows asyncio's name)


def _wait_namer(code: types.CodeType) -> Any:
    name = code.co_name
    if name == "sleep":
        return lambda f: f"sleep({short_number(f.f_locals.get('delay'))})"
    if name == "__sleep0":
        return "sleep(0)"
    if name == "wait_for":
        return "wait_for(...)"
    if name == "to_thread":
        return lambda f: f"to_thread({getattr(f.f_locals.get('func'), '__qualname__', '?')})"
    if name == "_wait_for_one":
        return "as_completed()"
    if name in ("wait", "_wait") and code.co_varnames[:1] == ("fs",):
        return lambda f: f"wait({len(f.f_locals.get('fs') or ())})"
    if code.co_varnames[:1] == ("self",):
        return lambda f: f"{type(f.f_locals['self']).__name__}.{name}()"
    return name + "()"
