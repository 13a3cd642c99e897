"""Each event loop that starts running: traced, or told as one asyncplay cannot trace.

``events._set_running_loop`` is called whenever a loop starts or stops running in a
thread. A loop built on asyncio's ``BaseEventLoop`` gets the blocking detector's watchdog
(``slow_steps``) and the wrapper of its waits (``virtual_clock``); any other loop (uvloop)
runs untraced, and the program is told so once per loop class.
"""

from __future__ import annotations

from asyncplay.child import slow_steps, virtual_clock
from asyncplay.child.failures import report_failure

__all__ = ["install_running_loop", "loop_started"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def install_running_loop(
    tracer: Any, events_mod: Any, base_cls: type, mark_gap: Callable[[], None]
) -> None:
    """Hook ``_set_running_loop``; ``mark_gap`` tells the step hook that code outside any
    step ran (its output is nobody's)."""
    orig = events_mod._set_running_loop

    def _set_running_loop(loop: Any) -> None:
        mark_gap()  # a loop starts or stops: what ran outside it is nobody's step
        if loop is not None and tracer.enabled and isinstance(loop, base_cls):
            try:
                loop_started(tracer, loop)
            except Exception as exc:  # the tracer must never break the program
                report_failure(tracer, "loop start", exc)
        if loop is not None and tracer.enabled and not isinstance(loop, base_cls):
            key = type(loop).__module__ + "." + type(loop).__qualname__
            if key not in tracer.warned:
                tracer.warned.add(key)
                tracer.warn(
                    "untraceable_loop",
                    f"this program runs its own event loop ({key}), which asyncplay "
                    "cannot trace: its tasks are not visible.",
                )
        return orig(loop)

    tracer.patches.set(events_mod, "_set_running_loop", _set_running_loop)
    # asyncio re-exports it; code that calls asyncio._set_running_loop must hit the hook.
    import asyncio

    if getattr(asyncio, "_set_running_loop", None) is orig:
        tracer.patches.set(asyncio, "_set_running_loop", _set_running_loop)


def loop_started(tracer: Any, loop: Any) -> None:
    """A traced loop starts running (in this thread)."""
    if tracer.slow_step > 0:
        slow_steps.start_watchdog(tracer)
    virtual_clock.wrap_selector(tracer, loop)
