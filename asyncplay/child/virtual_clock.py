"""The loop's waits: the virtual clock, ``--speed``, and the deadlock check's trigger.

Every wait of a selector loop passes through its ``_selector.select(timeout)``, wrapped
per loop (``wrap_selector``): there the virtual clock jumps to the next timer, a wait runs
at ``--speed``, and a long or endless wait looks for deadlocks. ``loop.time()`` becomes
real time plus the jumps (``install_loop_time``), so every timer (sleep, call_later,
wait_for, timeout) follows it; ``time.time()``/``time.monotonic()`` are left alone.
``futures.wrap_future`` counts the thread work asyncio waits on: while a thread works,
time runs at the real rate. None of this runs per step.
"""

from __future__ import annotations

import time
import weakref

from asyncplay.child import call_chains
from asyncplay.child.channel import FLUSH_INTERVAL
from asyncplay.child.deadlocks import DEADLOCK_CHECK_AFTER, maybe_check_deadlock, real_pending
from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import drop_own_frame
from asyncplay.child.primitive_figures import before_wait

__all__ = ["install_loop_time", "install_wrap_future", "wait", "wrap_selector"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

REAL_WAIT_SLICE = 0.05  # real seconds a virtual-clock loop waits before it looks again
JUMP_SLACK = 0.001  # seconds a virtual-clock jump goes past the next timer (see wait)


def install_loop_time(tracer: Any, loop_cls: type) -> None:
    """``loop.time()`` is the virtual clock: every timer (sleep, call_later, wait_for,
    timeout) follows it. ``time.time()``/``time.monotonic()`` are left alone."""
    orig = loop_cls.time
    monotonic = time.monotonic

    def loop_time(self: Any) -> float:
        return monotonic() + tracer.offset

    loop_time.__name__ = "time"
    loop_time.__qualname__ = orig.__qualname__
    loop_time.__doc__ = orig.__doc__
    tracer.patches.set(loop_cls, "time", loop_time)


def install_wrap_future(tracer: Any, asyncio_mod: Any) -> None:
    """Count the concurrent futures asyncio waits on (``run_in_executor``,
    ``to_thread`` and ``wrap_future`` all pass here) until their thread is done."""
    import concurrent.futures
    from asyncio import futures

    orig = futures.wrap_future
    pending = tracer.executor_pending
    cf_future = concurrent.futures.Future

    def wrap_future(future: Any, *, loop: Any = None) -> Any:
        # Counted before asyncio chains its own done callback: the thread runs them in
        # order, and asyncio's wakes the loop. Discarded after it, the job could still
        # count as pending when the loop, woken, next waited (the thread had not got the
        # GIL back yet: a busy machine), and a stall then was never told.
        if isinstance(future, cf_future) and not future.done():
            pending.add(future)
            future.add_done_callback(pending.discard)
        try:
            return orig(future, loop=loop)
        except BaseException as exc:
            drop_own_frame(exc)
            raise

    wrap_future.__qualname__ = orig.__qualname__
    wrap_future.__doc__ = orig.__doc__
    tracer.patches.set(futures, "wrap_future", wrap_future)
    if getattr(asyncio_mod, "wrap_future", None) is orig:
        tracer.patches.set(asyncio_mod, "wrap_future", wrap_future)


def wrap_selector(tracer: Any, loop: Any) -> None:
    """Every wait of a selector loop passes through ``loop._selector.select(timeout)``
    (``_run_once`` computes the timeout: 0 when work is ready, None when there is no
    timer): the one place to see the loop about to wait, and to skip or scale it."""
    sel = getattr(loop, "_selector", None)
    if sel is None or "select" in getattr(sel, "__dict__", {"select": None}):
        return  # not a selector loop, or wrapped already
    # Weak references: the wrapper lives in the selector's __dict__, and a cycle
    # through it would leave an unclosed loop to the garbage collector instead of
    # freeing it (and warning about it) when the program drops it, as Python does.
    select_fn = type(sel).select
    sel_ref = weakref.ref(sel)
    loop_ref = weakref.ref(loop)

    def select(timeout: float | None = None) -> Any:
        try:
            orig = select_fn.__get__(sel_ref())
            if timeout == 0 or not tracer.enabled:
                if timeout == 0 and tracer.enabled:
                    due_timer(tracer, loop_ref())
                return orig(timeout)
            lp = loop_ref()
            if lp is None:
                return orig(timeout)
            return wait(tracer, lp, orig, timeout)
        except BaseException as exc:  # EBADF (the program closed the loop's fds), ^C
            drop_own_frame(exc)
            raise

    tracer.patches.set(sel, "select", select)


def due_timer(tracer: Any, loop: Any) -> None:
    """A select of 0 with nothing ready: the loop meant to wait for a timer that was due
    by then (a slow machine, a timer set in the past). For the objects' deferred states
    that is a wait like any other: sent now, or a run that then dies (``os._exit``, a
    limit's kill) would end on their first state (a flaky test under load showed it).
    A busy loop (callbacks ready) pays one look at its ready queue per turn."""
    reg = getattr(tracer, "primitives", None)
    if reg is None or not reg.pending or loop is None or loop._ready:
        return
    if before_wait(reg, None):
        tracer.flush()


def wait(tracer: Any, loop: Any, select: Any, timeout: float | None) -> Any:
    """The loop is about to wait ``timeout`` seconds (None: no timer at all).

    Virtual clock: when only timers are pending (no I/O, thread or subprocess), look
    once without waiting (a thread's wake-up or a ready socket wins), then jump to the
    next timer. ``_run_once`` computes the timeout only when no callback is ready, so
    zero-delay callbacks have all run and a later timer never fires before an earlier
    one. The jump overshoots by ``JUMP_SLACK``, as a real wake-up is late by about
    that much: timers set a few microseconds apart (one step each) then fire in the
    same loop turn, in the same order as under the real clock. Any other wait runs at
    ``speed`` (1: real time).

    Deadlocks are looked for here too, only when the wait is long or endless (never
    per step): a cycle of tasks awaiting each other, or, with no timer at all, every
    task waiting while nothing outside the loop's timers could wake it. And on 3.14+ the
    coroutine chains of the tasks that suspended since the last wait are captured here.
    """
    reg = getattr(tracer, "primitives", None)
    if reg is not None and before_wait(reg, timeout):
        # The objects' states go from the loop's thread only (the flusher thread's flush
        # skips them): one changed by a plain callback (no step after it to flush) would
        # wait out this wait. Sent now when the wait ends past the flush interval.
        ends = time.perf_counter() + (0.0 if timeout is None else timeout / tracer.speed)
        if reg.due or timeout is None or ends - tracer.channel.last_flush > FLUSH_INTERVAL:
            tracer.flush()
    if timeout is None or timeout >= DEADLOCK_CHECK_AFTER:
        try:
            maybe_check_deadlock(tracer, loop, timeout)
        except Exception as exc:  # the tracer must never break the program
            report_failure(tracer, "deadlock check", exc)
    if tracer.chains is not None and tracer.chains.dirty:
        try:
            call_chains.at_loop_wait(tracer)  # 3.14+: where the waiting tasks wait
        except Exception as exc:  # the tracer must never break the program
            report_failure(tracer, "call chain", exc)
    if tracer.clock == "virtual" and timeout is not None:
        if not real_pending(tracer, loop):
            events = select(0)
            if not events:
                tracer.shift(timeout + JUMP_SLACK)
            return events
        # Look again soon: the thread or process may end without waking the loop
        # (a subprocess watcher thread outlives the wake-up it sends by a moment).
        timeout = min(timeout, REAL_WAIT_SLICE * tracer.speed)
    speed = tracer.speed
    if speed == 1.0:
        return select(timeout)
    start = time.perf_counter()
    events = select(None if timeout is None else timeout / speed)
    tracer.shift((speed - 1.0) * (time.perf_counter() - start))
    return events
