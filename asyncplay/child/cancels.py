"""Where a cancellation comes from: the ``cancel_source`` of a task.

``create_task`` builds its tasks as ``traced_task_class(asyncio's Task)``, whose ``cancel``
notes who called it: asyncio's own cancelling code (asyncio.run's shutdown, a timeout,
wait_for, a TaskGroup), else the program's line and the task that ran it. A cancel that a
task passes on (to the task or gather it awaits) inherits the source of the outer one.
Nothing here runs per step: only when a cancel is requested, or at a task's end.
"""

from __future__ import annotations

import sys

from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import drop_own_frame
from asyncplay.child.private_names import CANCEL_CAUSES
from asyncplay.child.slow_steps import program_line

__all__ = [
    "RECORD_SLOT",
    "TracedTask",
    "cancel_cause",
    "cancel_requested",
    "install_cancel_causes",
    "send_cancel_source",
    "traced_task_class",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    import types
    from typing import Any

# Sources of the cancels in progress: a cancel passes itself on to the future the task
# awaits (another task, a gather), whose cancel then inherits the outer one's source.
_cancel_sources: list[tuple] = []
# A cancel passed on down a chain of tasks each awaiting the next: asyncio's C tasks pass
# it on in C, but each traced task's ``cancel`` is a Python frame, and a chain of a
# thousand would end in a RecursionError full of the runtime's frames where python has
# none. Past NESTED_CANCELS levels a cancel is noted here and done by the outermost
# traced cancel once the one that passed it on has returned (True, as a pending task's
# cancel always returns), depth first as python does it. A ring of tasks awaiting each
# other passes the cancel on for ever: python's C recursion limit ends it with a
# RecursionError, and so does MAX_CANCEL_CHAIN here.
NESTED_CANCELS = 16
MAX_CANCEL_CHAIN = 100_000
_deferred: list[tuple] = []
# The traced class's one slot: the task's record (what the step hook reads per step).
RECORD_SLOT = "_asyncplay_record"


def install_cancel_causes(tracer: Any) -> None:
    """The asyncio code whose ``cancel()`` calls have a cause of their own. Looked up
    by code object when a cancel is requested (rare), never per step."""
    from asyncio import runners

    causes: dict[Any, str] = {runners._cancel_all_tasks.__code__: "shutdown"}
    for owner, name, cause in CANCEL_CAUSES:
        obj = sys.modules.get(owner)
        if obj is None:  # a class: module.Class
            mod_name, _, cls = owner.rpartition(".")
            obj = getattr(sys.modules.get(mod_name), cls, None)
        code = getattr(getattr(obj, name, None), "__code__", None)
        if code is not None:  # not on this version: that cause is just not told
            causes[code] = cause
    tracer.cancel_codes = causes


def cancel_requested(tracer: Any, task: Any, frame: types.FrameType | None) -> tuple:
    """``task.cancel()`` was called (``frame``: the caller). Returns the source, which
    a cancel this one passes on (to the task or gather it awaits) inherits; sends a
    ``cancel_source`` event the first time a task is asked."""
    rec = tracer.lookup(task)
    src = _cancel_sources[-1] if _cancel_sources else cancel_cause(tracer, frame)
    if rec.cancel is None or _withdrawn(task):
        # A fresh request: the first, or one after an earlier cancel was withdrawn
        # (asyncio.timeout uncancels the task when its block turns the cancel into
        # TimeoutError), so a later stop is not blamed on that old deadline.
        send_cancel_source(tracer, rec, src)
    return src


def send_cancel_source(tracer: Any, rec: Any, src: tuple) -> None:
    rec.cancel = src
    cause, by, file, line = src
    tracer.send_json(
        {
            "event": "cancel_source",
            "id": rec.tid,
            "cause": cause,
            "by": by,
            "file": file,
            "line": line or None,
        }
    )


def cancel_cause(tracer: Any, frame: types.FrameType | None) -> tuple:
    """(cause, by, file, line) from the frames that called ``cancel()``: asyncio's
    own cancelling code first, else the program's line and the running task."""
    codes = tracer.cancel_codes
    step_code = tracer.step_code
    while frame is not None:
        code = frame.f_code
        if code is step_code:
            break  # a plain callback (call_later(1, task.cancel)): nobody's line
        cause = codes.get(code)
        if cause is not None:
            return _asyncio_cause(tracer, cause, frame)
        if tracer.kind_of(code) == 0:
            cur = tracer.current
            by = cur.tid if cur is not None else None
            return ("cancel", by, code.co_filename, frame.f_lineno or 0)
        frame = frame.f_back
    return ("unknown", None, None, 0)


def _asyncio_cause(tracer: Any, cause: str, frame: types.FrameType) -> tuple:
    cur = tracer.current
    if cause == "shutdown":
        return ("shutdown", None, None, 0)
    if cause == "wait_for":  # 3.10-3.11: on its timeout, or passing on a cancel
        outer = frame.f_back
        waiter = outer.f_locals.get("waiter") if outer is not None else None
        if waiter is not None and waiter.cancelled() and cur is not None and cur.cancel:
            return cur.cancel  # wait_for itself was cancelled: the same source
        user = program_line(tracer, outer)
        return ("timeout", None, *(user or (None, 0)))
    if cause == "timeout":  # Timeout._on_timeout, from a timer: the task's own line
        task = frame.f_locals.get("self")
        task = getattr(task, "_task", None)
        rec = tracer.tasks.get(id(task)) if task is not None else None
        if rec is not None and rec.tref() is task:
            _a, f, ln = rec.wait
            return ("timeout", None, tracer.strings.text(f) if ln else None, ln)
        return ("timeout", None, None, 0)
    # taskgroup: a child failed (_on_task_done), or the body raised (__aexit__)
    by, file, line = (cur.tid if cur is not None else None), None, 0
    failed = None
    f: types.FrameType | None = frame
    while f is not None and f.f_code in tracer.cancel_codes:
        if f.f_code.co_name == "_on_task_done":
            failed = f.f_locals.get("task")
            break
        f = f.f_back
    if failed is not None:
        rec = tracer.find(failed)
        by = rec.tid if rec is not None else by
        exc = getattr(failed, "_exception", None)  # exception() would mark it seen
        fs, line = tracer.tb_where(exc)
        file = tracer.strings.text(fs)
    return ("taskgroup", by, file, line)


def _withdrawn(task: Any) -> bool:
    """Is no cancel pending on ``task`` (3.11+: ``cancelling()`` is back to 0)? On 3.10
    there is no count: the first request stays the only one told."""
    cancelling = getattr(task, "cancelling", None)
    try:
        return cancelling is not None and cancelling() == 0
    except Exception:  # a task class of the program's whose cancelling() fails: as 3.10
        return False


class TracedTask:
    """Marker base: the tasks built as ``traced_task_class(asyncio's Task)``."""

    __slots__ = ()


def traced_task_class(base: type, tracer: Any) -> type:
    """asyncio's own Task class (C or Python), with two Python methods on top: ``cancel``
    notes who called it, then calls the original; ``set_name`` tells the new name at once
    (so a task's first step does not ask it its name; its end does, for a name set
    through asyncio's own ``Task.set_name``). A C type's methods
    cannot be patched, and an instance has nowhere to hold one, so the subclass is how a
    cancel request is seen at all; it costs nothing per step (steps never look ``cancel``
    up) and about 2,000-2,700 instructions per task on 3.11 (callgrind: a subclass's
    instance misses the C fast paths of an exact ``Task``; docs/performance.md). Named,
    documented and represented as ``Task``; ``type(t) is asyncio.Task`` is False for these
    tasks (``isinstance`` holds)."""
    base_cancel = base.cancel
    base_set_name = base.set_name

    class Task(base, TracedTask):  # type: ignore[valid-type, misc]
        # The task's record (task_registry.register), read by the step hook at each step
        # as one slot: no lookup by id, no weak reference to call (docs/performance.md).
        __slots__ = (RECORD_SLOT,)

        def set_name(self, value: Any) -> None:  # asyncio's signature, 3.10-3.15
            try:
                base_set_name(self, value)
            except BaseException as exc:
                drop_own_frame(exc)
                raise
            if tracer.enabled:
                try:  # told now: the tracer never asks these tasks their name again
                    tracer.name_set(self)
                except Exception as exc:  # the tracer must never break the program
                    report_failure(tracer, "task name", exc)

        def cancel(self, msg: Any = None) -> bool:  # asyncio's signature, 3.10-3.13
            if not tracer.enabled or self.done():
                return base_cancel(self, msg)
            try:
                src = cancel_requested(tracer, self, sys._getframe(1))
            except Exception as exc:  # the tracer must never break the program
                report_failure(tracer, "cancel source", exc)
                return base_cancel(self, msg)
            if len(_cancel_sources) >= NESTED_CANCELS:
                _deferred.append((self, msg, src))
                return True
            _cancel_sources.append(src)
            try:
                result = base_cancel(self, msg)
                if _deferred and len(_cancel_sources) == 1:  # the outermost: do them now
                    _pass_on_deferred(base_cancel)
            except BaseException as exc:  # a RecursionError from a ring of awaits
                if len(_cancel_sources) == 1:
                    _deferred.clear()
                drop_own_frame(exc)
                raise
            finally:
                _cancel_sources.pop()
            return result

    Task.cancel.__doc__ = base_cancel.__doc__
    Task.set_name.__doc__ = base_set_name.__doc__
    Task.__module__ = base.__module__
    Task.__qualname__ = base.__qualname__
    Task.__doc__ = base.__doc__
    return Task


def _pass_on_deferred(base_cancel: Any) -> None:
    """The outermost traced cancel (its source on top of ``_cancel_sources``): do the
    cancels a deep chain deferred, each with the source it inherited, each one's own
    deferred cancels before the next (depth first)."""
    stack = [iter(_deferred[:])]
    _deferred.clear()
    done = 0
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        done += NESTED_CANCELS
        if done > MAX_CANCEL_CHAIN:  # a ring: python's C recursion limit would end it
            raise RecursionError("maximum recursion depth exceeded")
        task, msg, src = item
        _cancel_sources[-1] = src  # the one a cancel it passes on inherits
        base_cancel(task, msg)
        if _deferred:
            stack.append(iter(_deferred[:]))
            _deferred.clear()
