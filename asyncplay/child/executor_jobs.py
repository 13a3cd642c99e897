"""Executor jobs: what ``run_in_executor`` (and ``to_thread``, which calls it) hands a pool.

``BaseEventLoop.run_in_executor`` is wrapped (nothing per step). For a thread pool the
function is run inside a small wrapper that notes when it started and ended and in
which thread (the default pool's threads are ``asyncio_0``, ``asyncio_1`` ...); a process
pool's job cannot carry a wrapper across the pickle, so it is timed from its submission
to its end (a done callback) and its start is unknown. Each job goes out as an
``executor_job`` record at the next flush after it started and after it ended, with the
task that awaits it.
"""

from __future__ import annotations

import sys
import time
import weakref

from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import drop_own_frame

__all__ = ["function_name", "install"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_perf = time.perf_counter


class _Job:
    __slots__ = ("id", "function", "task", "pool", "thread", "submitted", "started", "ended")

    def __init__(self, jid: int, function: str, task: int | None, pool: str) -> None:
        self.id = jid
        self.function = function
        self.task = task
        self.pool = pool
        self.thread: str | None = None
        self.submitted = _perf()
        self.started: float | None = None
        self.ended: float | None = None


def function_name(func: Any) -> str:
    """What the program passed: ``to_thread``'s ``partial(Context.run, f, ...)`` and
    plain partials unwrapped; ``time.sleep``, or ``blocking_io`` for the program's own."""
    import functools  # (here and in install: a program without asyncio loads neither)

    for _ in range(8):
        if not isinstance(func, functools.partial):
            break
        inner = func.func
        if (
            getattr(inner, "__name__", None) == "run"
            and type(getattr(inner, "__self__", None)).__name__ == "Context"
        ):
            func = func.args[0] if func.args else inner
        else:
            func = inner
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if not isinstance(name, str):
        name = type(func).__qualname__
    module = getattr(func, "__module__", None)
    if isinstance(module, str) and module not in ("__main__", "builtins"):
        return f"{module}.{name}"
    return name


def install(tracer: Any, loop_cls: type) -> None:
    import threading  # (asyncio has loaded it by now)

    orig = loop_cls.run_in_executor
    changed: list[_Job] = []  # appended from worker threads (atomic), taken at a flush
    # id(executor) -> (a weak reference to it, its label): a pool kept alive here would
    # keep its threads in threading's _dangling (test.support's threading_cleanup).
    pools: dict[int, tuple[Any, str]] = {}
    counter = [0, 0]  # jobs, the program's own pools

    def label(loop: Any, executor: Any) -> str:
        if executor is None or executor is getattr(loop, "_default_executor", None):
            return "default"
        known = pools.get(id(executor))
        if known is not None and known[0]() is executor:
            return known[1]
        counter[1] += 1
        name = f"{type(executor).__name__}-{counter[1]}"
        pools[id(executor)] = (_weak(executor), name)
        return name

    def run_in_executor(self: Any, executor: Any, func: Any, *args: Any) -> Any:
        if not tracer.enabled or (self.get_debug() and _refused_in_debug(self, func)):
            # Debug mode refuses a coroutine (function) or a non-callable with a
            # TypeError: asyncio's own check must see the program's func, not job_run.
            return orig(self, executor, func, *args)
        try:
            counter[0] += 1
            current = tracer.current
            job = _Job(
                counter[0],
                function_name(func),
                current.tid if current is not None else None,
                label(self, executor),
            )
        except Exception as exc:  # the tracer must never break the program
            report_failure(tracer, "executor job", exc)
            return orig(self, executor, func, *args)
        # A process pool only if the program loaded the module that has them: naming
        # ProcessPoolExecutor would import it (multiprocessing, pickle ...), some 10 ms of
        # every asyncio program's start-up that plain python does not pay.
        processes = sys.modules.get("concurrent.futures.process")
        if processes is not None and isinstance(executor, processes.ProcessPoolExecutor):
            try:
                fut = orig(self, executor, func, *args)
            except BaseException as exc:
                drop_own_frame(exc)
                raise

            def ended(_f: Any) -> None:
                job.ended = _perf()
                changed.append(job)

            fut.add_done_callback(ended)
            changed.append(job)
            _wrap_flush(tracer, changed)
            return fut

        def job_run(*a: Any) -> Any:
            job.started = _perf()
            job.thread = threading.current_thread().name
            changed.append(job)
            try:
                return func(*a)
            except BaseException as exc:
                drop_own_frame(exc)
                raise
            finally:
                job.ended = _perf()
                changed.append(job)

        try:
            fut = orig(self, executor, job_run, *args)
        except BaseException as exc:
            drop_own_frame(exc)
            raise
        if job.pool == "default" and executor is None:
            default = self._default_executor
            known = pools.get(id(default))
            if known is None or known[0]() is not default:
                pools[id(default)] = (_weak(default), "default")
        changed.append(job)
        _wrap_flush(tracer, changed)
        return fut

    run_in_executor.__qualname__ = orig.__qualname__
    run_in_executor.__doc__ = orig.__doc__
    tracer.patches.set(loop_cls, "run_in_executor", run_in_executor)


def _refused_in_debug(loop: Any, func: Any) -> bool:
    """Debug mode's ``run_in_executor`` refuses a coroutine (function) or a non-callable
    with a TypeError (``_check_callback``): then asyncio's own call must raise it."""
    try:
        loop._check_callback(func, "run_in_executor")
    except TypeError:
        return True
    return False


def _weak(executor: Any) -> Any:
    """A weak reference to ``executor``; a program's pool class without one (``__slots__``)
    is held strongly, as it was before."""
    try:
        return weakref.ref(executor)
    except TypeError:
        return lambda: executor


def _wrap_flush(tracer: Any, changed: list) -> None:
    """From the first job on, each flush first sends the jobs that changed (an instance
    attribute on the tracer: a program without jobs keeps the tracer's own flush)."""
    if getattr(tracer, "jobs_flush", None) is not None:
        return
    orig = tracer.flush

    def flush() -> None:
        if changed:
            send_jobs(tracer, changed)
        orig()

    tracer.jobs_flush = flush
    tracer.patches.set(tracer, "flush", flush)


def send_jobs(tracer: Any, changed: list) -> None:
    try:
        taken = changed[:]
        del changed[: len(taken)]
        t0 = tracer.t0
        seen: set[int] = set()
        for job in taken:
            if job.id in seen:
                continue
            seen.add(job.id)
            tracer.send_json(
                {
                    "event": "executor_job",
                    "id": job.id,
                    "function": job.function,
                    "task": job.task,
                    "pool": job.pool,
                    "thread": job.thread,
                    "submitted": max(0.0, job.submitted - t0),
                    "started": None if job.started is None else max(0.0, job.started - t0),
                    "ended": None if job.ended is None else max(0.0, job.ended - t0),
                }
            )
    except Exception as exc:  # the tracer must never break the program
        report_failure(tracer, "executor job", exc)
