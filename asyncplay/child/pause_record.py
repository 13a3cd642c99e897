"""What a pause shows (the ``paused`` record, docs/protocol.md): the next task and where it
resumes, the loop's ready queue in the order it runs, the timers and the tasks they wake.

Built only when a stepped run pauses, on the loop's thread while nothing of the loop runs.
Read without running any of the program's code: callbacks and their owners are told by
type, never by ``getattr`` on the program's objects (a ``__getattr__`` of theirs would run).
The bounds are the decoder's (``protocol.pause_problem``): it refuses more.
"""

from __future__ import annotations

import time
import types

from asyncplay import protocol
from asyncplay.child.private_names import STEP_NAMES

__all__ = ["paused_record", "resume_point"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_FUNCTIONS = (
    types.FunctionType,
    types.MethodType,
    types.BuiltinFunctionType,
    types.BuiltinMethodType,
)
_MAX_DEPTH = 64  # coroutines followed inward from a task's own


def paused_record(
    tracer: Any,
    reason: str,
    rec: Any,
    task: Any,
    loop: Any,
    at: tuple[str, int] | None = None,
) -> dict:
    """The record of a pause before ``task``'s step (``at``: inside it, at that line)."""
    if at is not None:
        file, line = at
    elif task is not None:
        file, line = resume_point(tracer, task)
    else:
        file = line = None
    if file is not None and len(file) > protocol.MAX_PATH_TEXT:
        file = line = None
    return {
        "event": "paused",
        "reason": reason,
        "next": rec.tid if rec is not None else None,
        "file": file,
        "line": line,
        "ready": ready_queue(tracer, loop) if loop is not None else [],
        "timers": timers(tracer, loop) if loop is not None else [],
        "at_line": at[1] if at is not None else None,
    }


def resume_point(tracer: Any, task: Any) -> tuple[str | None, int | None]:
    """Where ``task`` goes on: the innermost frame of the program's own code in its
    coroutine chain (a fresh coroutine: the first line of its body)."""
    try:
        c = task.get_coro()
    except Exception:  # a task class of the program's whose get_coro() fails
        return None, None
    best: Any = None
    depth = 0
    while c is not None and depth < _MAX_DEPTH:
        depth += 1
        tc = type(c)
        if tc is types.CoroutineType:
            f, nxt = c.cr_frame, c.cr_await
        elif tc is types.GeneratorType:
            f, nxt = c.gi_frame, c.gi_yieldfrom
        else:
            break
        if f is None:
            break
        if tracer.kind_of(f.f_code) == 0:
            best = (c, f)
        c = nxt
    if best is None:
        return None, None
    c, f = best
    code = f.f_code
    if _fresh(c, f):
        body = [ln for _s, _e, ln in code.co_lines() if ln and ln > code.co_firstlineno]
        return code.co_filename, min(body) if body else code.co_firstlineno
    return code.co_filename, f.f_lineno


def _fresh(c: Any, f: Any) -> bool:
    """A coroutine (or generator) that has not started yet."""
    suspended = getattr(c, "cr_suspended", None)  # 3.11+
    if suspended is None:
        suspended = getattr(c, "gi_suspended", None)
    if suspended is None:  # 3.10: a frame that has executed nothing yet
        return f.f_lasti < 0
    running = c.cr_running if type(c) is types.CoroutineType else c.gi_running
    return not suspended and not running


def _task_of(tracer: Any, cb: Any) -> int:
    """The id of the task whose step ``cb`` is, or 0 (a callback that is not a step)."""
    if type(cb).__name__ != "TaskStepMethWrapper":
        if not isinstance(cb, (types.MethodType, types.BuiltinMethodType)):
            return 0
        if cb.__name__ not in STEP_NAMES:
            return 0
    owner = cb.__self__
    rec = tracer.tasks.get(id(owner))
    return rec.tid if rec is not None and rec.tref() is owner else 0


def ready_queue(tracer: Any, loop: Any) -> list[int]:
    """The loop's ready queue in the order it runs: task ids, 0 for other callbacks."""
    out: list[int] = []
    try:
        handles = list(loop._ready)  # (another thread may append meanwhile)
    except RuntimeError:
        return out
    for h in handles:
        if h._cancelled:
            continue
        out.append(_task_of(tracer, h._callback))
        if len(out) >= protocol.MAX_PAUSE_LIST:
            break
    return out


def timers(tracer: Any, loop: Any) -> list[list]:
    """``[due (run seconds), task id or None, what]`` for each live timer, soonest first."""
    try:
        handles = [h for h in list(loop._scheduled) if not h._cancelled]
    except RuntimeError:
        return []
    handles.sort(key=lambda h: h._when)
    del handles[protocol.MAX_PAUSE_LIST :]
    if not handles:
        return []
    waiting: dict[int, Any] = {}  # id(future a task awaits) -> the task's record
    for rec in list(tracer.tasks.values()):
        task = rec.tref()
        waiter = getattr(task, "_fut_waiter", None) if task is not None else None
        if waiter is not None:
            waiting[id(waiter)] = rec
    now_run = time.perf_counter() - tracer.t0
    now_loop = loop.time()
    out = []
    for h in handles:
        due = min(protocol.MAX_TIME, max(0.0, now_run + (h._when - now_loop)))
        tid, what = _woken(tracer, h, waiting)
        out.append([due, tid, what[: protocol.MAX_PAUSE_TEXT]])
    return out


def _woken(tracer: Any, handle: Any, waiting: dict[int, Any]) -> tuple[int | None, str]:
    """The task a timer wakes, where it can be told, and what it is in a person's words."""
    cb, args = handle._callback, handle._args
    if args:
        rec = waiting.get(id(args[0]))  # sleep(), 3.10-3.11's wait_for: the awaited future
        if rec is not None:
            what = tracer.strings.text(rec.wait[0]) if rec.wait else None
            return rec.tid, what or "sleep"
    if type(cb) is types.MethodType and type(cb.__self__).__module__ == "asyncio.timeouts":
        task = cb.__self__._task  # asyncio.timeout(), 3.12+'s wait_for
        rec = tracer.tasks.get(id(task))
        if rec is not None and rec.tref() is task:
            return rec.tid, "timeout"
    name = cb.__qualname__ if isinstance(cb, _FUNCTIONS) else type(cb).__qualname__
    return None, f"call_later({name})"
