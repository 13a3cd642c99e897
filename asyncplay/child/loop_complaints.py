"""What the event loop's exception handler is given, told as warnings.

``BaseEventLoop.call_exception_handler`` is wrapped: asyncio's own complaints (a task's
exception never retrieved, a task destroyed while pending, anything else a loop reports)
become ``exception_never_retrieved``, ``destroyed_pending`` and ``loop_error`` warnings,
and the original handler still runs, so Python prints exactly what it would.
"""

from __future__ import annotations

from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import drop_own_frame

__all__ = ["callback_failed", "install_exception_handler", "on_loop_complaint"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def install_exception_handler(tracer: Any, loop_cls: type) -> None:
    orig = loop_cls.call_exception_handler

    def call_exception_handler(self: Any, context: dict) -> Any:
        try:
            on_loop_complaint(tracer, context)
        except Exception as exc:  # the tracer must never break the program
            report_failure(tracer, "loop complaint", exc)
        try:
            return orig(self, context)
        except BaseException as exc:
            drop_own_frame(exc)
            raise

    call_exception_handler.__qualname__ = orig.__qualname__
    call_exception_handler.__doc__ = orig.__doc__
    tracer.patches.set(loop_cls, "call_exception_handler", call_exception_handler)


def on_loop_complaint(tracer: Any, context: dict) -> None:
    message = str(context.get("message", ""))
    fut = context.get("task") or context.get("future")
    rec = tracer.find(fut) if fut is not None else None
    try:
        name = rec.name if rec is not None else fut.get_name()  # type: ignore[union-attr]
    except Exception:  # a plain future has no name; a program's may fail: no name then
        name = "a task"
    if "exception was never retrieved" in message:
        exc = context.get("exception")
        f, ln = tracer.tb_where(exc)
        if fut is not None:
            tracer.failed.pop(id(fut), None)
        tracer.warn(
            "exception_never_retrieved",
            f"{name} failed with {type(exc).__name__}: {exc}, and nothing ever awaited it "
            "or asked for its result, so the error went unnoticed until the task was "
            "garbage-collected.",
            rec,
            tracer.strings.text(f),
            ln or None,
        )
        return
    if "destroyed but it is pending" in message:
        interrupted = "interrupted" in (tracer.shutdown_how, (tracer.main_end or ("",))[0])
        if interrupted:
            # Left over by an interrupted shutdown (Ctrl+C, a stop): not a task the
            # program lost; the cut_off warnings have told what the interrupt cut.
            return
        file = line = None
        if rec is not None:
            _a, f, ln = rec.wait
            if not ln:
                f, ln = rec.where
            file, line = tracer.strings.text(f), ln or None
        if rec is not None and rec.cancel is not None and rec.cancel[0] == "shutdown":
            # asyncio.run cancelled it at the end and it never finished: whatever
            # kept it, the program did not lose it.
            what = (
                f"{name} was still waiting when the program ended: asyncio.run cancelled "
                "it, but the cancel never got through (tasks awaiting each other, or "
                "one that swallows its cancel), so it was discarded unfinished."
            )
            extra: dict | None = {"cancelled_at_exit": True}
        else:
            extra = None
            what = (
                f"{name} was garbage-collected while still waiting: nothing kept a "
                "reference to it, so it never finished (keep tasks you create, e.g. in "
                "a set or a TaskGroup)."
            )
        tracer.warn("destroyed_pending", what, rec, file, line, extra)
        return
    exc = context.get("exception")
    file = line = None
    if exc is not None:
        f, ln = tracer.tb_where(exc)
        file, line = tracer.strings.text(f), ln or None
    tracer.warn("loop_error", f"the event loop reported: {message}", rec, file, line)


def callback_failed(handle: Any, exc: BaseException) -> None:
    """What ``Handle._run`` does with an exception from a callback (all of 3.10-3.15);
    the step hook (``tracer.py``) calls it exactly as asyncio's own code does."""
    from asyncio import format_helpers

    try:
        cb = format_helpers._format_callback_source(
            handle._callback, handle._args, debug=handle._loop.get_debug()
        )
    except TypeError:
        cb = format_helpers._format_callback_source(handle._callback, handle._args)
    context = {"message": f"Exception in callback {cb}", "exception": exc, "handle": handle}
    if handle._source_traceback:
        context["source_traceback"] = handle._source_traceback
    handle._loop.call_exception_handler(context)
