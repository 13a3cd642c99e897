"""Tasks the run's end cut off: still pending when ``main()`` ended.

``asyncio.run`` cancels whatever is left when the main task ends; each such task of the
program's gets a ``cut_off`` warning that says how ``main()`` ended (returned, raised,
was cancelled, or the run was interrupted), since the advice follows from it.
"""

from __future__ import annotations

import sys

from asyncplay.child.cancels import TracedTask, send_cancel_source
from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import drop_own_frame

__all__ = ["cut_off_message", "how_ended", "install_cut_off_check", "warn_cut_off"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def install_cut_off_check(tracer: Any, runners_mod: Any, tasks_mod: Any) -> None:
    """Warn about tasks still pending when ``main()`` returned.

    ``runners._cancel_all_tasks`` starts with ``tasks.all_tasks(loop)``: hooking that
    call (and returning at once) leaves no frame of ours on the stack while asyncio
    cancels them, so tracebacks stay Python's own.
    """
    orig = tracer.all_tasks = tasks_mod.all_tasks
    shutdown_code = runners_mod._cancel_all_tasks.__code__

    def all_tasks(loop: Any = None) -> Any:
        try:
            result = orig(loop)
        except BaseException as exc:  # RuntimeError: no running event loop
            drop_own_frame(exc)
            raise
        try:
            if sys._getframe(1).f_code is shutdown_code and tracer.enabled:
                warn_cut_off(tracer, result)
        except Exception as exc:  # the tracer must never break the program
            report_failure(tracer, "cut-off check", exc)
        return result

    all_tasks.__doc__ = orig.__doc__
    tracer.patches.set(tasks_mod, "all_tasks", all_tasks)
    import asyncio

    if getattr(asyncio, "all_tasks", None) is orig:
        tracer.patches.set(asyncio, "all_tasks", all_tasks)


def warn_cut_off(tracer: Any, pending: Any) -> None:
    recs = []
    ended = tracer.main_end
    stopping = sys.exc_info()[1]  # on its way out of asyncio.run, if anything
    if stopping is not None:  # (raised in the runtime: a ^C while paused at a line)
        drop_own_frame(stopping)
    for task in pending:
        if task.done():
            continue
        rec = tracer.tasks.get(id(task))
        if rec is None or rec.tref() is not task:
            continue
        if rec.root:
            # main() itself did not return: an exception is on its way out. Only
            # Ctrl+C (or a stop) is told: the loop was left between two steps.
            if not isinstance(stopping, KeyboardInterrupt):
                return
            ended = ("interrupted", None)
            continue
        recs.append((rec, task))
    if isinstance(stopping, KeyboardInterrupt):
        ended = ("interrupted", None)
    how, exc = ended or ("returned", None)
    tracer.shutdown_how = how
    for rec, task in recs:
        if rec.cancel is None and not isinstance(task, TracedTask):
            send_cancel_source(tracer, rec, ("shutdown", None, None, 0))
        if rec.internal:
            continue
        _a, f, ln = tracer.describe(rec, task)
        if not ln:
            f, ln = rec.where
        tracer.warn(
            "cut_off",
            cut_off_message(rec.name, how, exc),
            rec,
            tracer.strings.text(f),
            ln or None,
            {"main_ended": how, "main_exc": exc} if exc else {"main_ended": how},
        )


def how_ended(rec: Any, task: Any) -> tuple[str, str | None]:
    """How a finished root task ended: returned, raised (with the exception's type name),
    cancelled, or interrupted (Ctrl+C, or asyncplay's stop: SIGINT)."""
    if task.cancelled():
        # 3.11+: Runner._on_sigint cancels the main task (a "shutdown" cause on a task
        # still running: _cancel_all_tasks never cancels main, it is done by then).
        cause = rec.cancel[0] if rec.cancel else None
        return ("interrupted", None) if cause == "shutdown" else ("cancelled", None)
    exc = task._exception
    if exc is None:
        return ("returned", None)
    if isinstance(exc, KeyboardInterrupt):
        return ("interrupted", None)
    return ("raised", type(exc).__qualname__)


def cut_off_message(name: str, how: str, exc: str | None) -> str:
    """The cut_off warning's sentence, for how main() ended (see ``how_ended``)."""
    if how == "raised":
        return (
            f"{name} was still running when main() raised {exc or 'an exception'}, so "
            "asyncio.run cancelled it on the way out: the exception is what to fix."
        )
    if how == "cancelled":
        return (
            f"{name} was still running when main() was cancelled, so asyncio.run cancelled it too."
        )
    if how == "interrupted":
        return (
            f"{name} was still running when the run was interrupted (Ctrl+C or a stop), "
            "so asyncio.run cancelled it."
        )
    return (
        f"{name} was still running when main() returned, so asyncio.run "
        "cancelled it: await it (or gather it) if it must finish."
    )
