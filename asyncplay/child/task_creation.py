"""Task creation: ``loop.create_task`` (and eager first steps), and a task's late name.

Every task asyncio makes is created through ``BaseEventLoop.create_task``, wrapped here:
the tracer registers it (with the program's line that created it), builds it as the
traced ``Task`` subclass of ``cancels.py`` when no task factory is set, and records an
eager task's first step (3.12+ ``eager_task_factory``), which runs inside the call.
"""

from __future__ import annotations

import sys
import time
import types

from asyncplay.child.cancels import traced_task_class
from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import OWN, drop_own_frame

__all__ = ["install_create_task", "install_set_name"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def install_create_task(tracer: Any, loop_cls: type, tasks_mod: Any, traced: bool = True) -> None:
    """Creation (and eager first steps). Without a task factory the task is built as
    ``cancels.traced_task_class``, asyncio's own Task class with a ``cancel`` that notes
    who called it: ``loop.create_task`` builds ``tasks.Task(...)``, so the
    module's name points at it for the time of that one call (not when ``traced`` is
    false: an attach leaves no class of asyncplay's behind in the program)."""
    orig = loop_cls.create_task
    base_task = tasks_mod.Task
    traced_task = traced_task_class(base_task, tracer)
    if traced:  # its set_name() tells the new name: no look at it per task (task_registry)
        tracer.named_tasks = traced_task
    register_traced = type(tracer).register_traced  # (a plain function: tracer passed)
    perf = time.perf_counter
    getframe = sys._getframe
    eager_possible = sys.version_info >= (3, 12)
    coro_t = types.CoroutineType

    def create_task(self: Any, coro: Any, *args: Any, **kwargs: Any) -> Any:
        if not tracer.enabled:
            return orig(self, coro, *args, **kwargs)
        if self._task_factory is None:  # asyncio's own Task: built as the traced class
            if (
                type(coro) is coro_t
                and traced
                and not args
                and not kwargs
                and not self._closed
                and not self._debug
                and tasks_mod.Task is base_task
            ):
                # What the original does then, on 3.10-3.15: tasks.Task(coro, loop=self)
                # (name and context None, no source traceback to trim), built here as the
                # traced class with neither its frame nor the module's name swapped per
                # task. Anything else (a closed loop, debug mode, a coroutine that is
                # not one, arguments) goes through the original, whose errors are python's.
                try:
                    task = traced_task(coro, loop=self)
                except BaseException as exc:
                    drop_own_frame(exc)
                    raise
                if task._source_traceback:  # (a loop whose get_debug() says otherwise)
                    del task._source_traceback[-1]  # this frame, as asyncio cuts its own
                register_traced(tracer, task, coro, getframe(1))
                return task
            try:
                if traced and tasks_mod.Task is base_task:
                    tasks_mod.Task = traced_task
                    try:  # no arguments to pass on: a plain call, not CALL_FUNCTION_EX
                        task = (
                            orig(self, coro, *args, **kwargs)
                            if args or kwargs
                            else orig(self, coro)
                        )
                    finally:
                        tasks_mod.Task = base_task
                else:
                    task = orig(self, coro, *args, **kwargs)
            except BaseException as exc:
                drop_own_frame(exc)
                raise
            if self._debug:  # asyncio cut its own frame from where the task was created
                _drop_own_source_frame(tracer, task)
            tracer.register(task, coro, getframe(1))
            return task
        # A task factory: only it can start tasks eagerly (eager_task_factory, 3.12+).
        eager = eager_possible
        if eager:
            # Its first step may run inside the constructor: register it first, and
            # make it the running task meanwhile (tasks it creates are its children).
            tracer.flush_output(tracer.current)  # what came before belongs to the parent
            rec = tracer.register(None, coro, getframe(1), kwargs.get("name"))
            outer, outer_nested = tracer.current, tracer.nested
            tracer.current, tracer.nested = rec, 0.0
            start = perf()  # only an eager task's first step is timed here
        try:
            task = orig(self, coro, *args, **kwargs)
        except BaseException as exc:
            if eager:
                tracer.current, tracer.nested = outer, outer_nested
                tracer.walk_memo = None
            drop_own_frame(exc)
            raise
        if self._debug:
            _drop_own_source_frame(tracer, task)
        if not eager:
            tracer.register(task, coro, getframe(1))
            return task
        inner = tracer.nested  # eager grandchildren's steps, inside this one
        tracer.current, tracer.nested = outer, outer_nested
        tracer.walk_memo = None  # (its step's: let go, as the step hook does at a step's end)
        tracer.attach(rec, task)
        if type(coro) is coro_t and (coro.cr_suspended or coro.cr_frame is None):
            # The eager first step ran inside create_task: record it (and its output),
            # and take its time out of the step of the task that created it.
            total = perf() - start
            dur = total - inner
            tracer.nested = outer_nested + total
            tracer.flush_output(rec)
            tracer.record_step(rec, task, start, dur)
        return task

    create_task.__wrapped__ = orig  # type: ignore[attr-defined]
    create_task.__qualname__ = orig.__qualname__
    create_task.__doc__ = orig.__doc__
    tracer.patches.set(loop_cls, "create_task", create_task)


def install_set_name(tracer: Any, tasks_mod: Any) -> None:
    """3.10-3.12 name a task after ``loop.create_task`` returns (``create_task(name=)``,
    task factories): report the name then, even for an eager task already finished."""
    orig = getattr(tasks_mod, "_set_task_name", None)
    if orig is None:
        return

    def _set_task_name(task: Any, name: Any) -> None:
        if name is not None:  # (the original does nothing with None: every unnamed task)
            orig(task, name)
            if tracer.enabled:
                tracer.name_set(task)

    tracer.patches.set(tasks_mod, "_set_task_name", _set_task_name)


def _drop_own_source_frame(tracer: Any, task: Any) -> None:
    """Debug mode: ``create_task`` records where the task was created minus its own
    frame; the wrapper's is left in it, and "created at" must name the program's line."""
    try:
        stack = getattr(task, "_source_traceback", None)  # a task factory's kind may lack it
        if isinstance(stack, list) and any(f.filename.startswith(OWN) for f in stack):
            stack[:] = [f for f in stack if not f.filename.startswith(OWN)]
    except Exception as exc:  # the tracer must never break the program
        report_failure(tracer, "debug source traceback", exc)
