"""The program's asyncio objects as the views show them: queues, locks (and semaphores,
conditions, events) and executor jobs. Pure: rows of text and JSON lists from the model.

An object is named by what the creating line assigned it to and where that line is
(``q (pipeline.py:24)``); the summary's sections, the ``--json`` lists, the timeline's
lanes and the playground's objects pane all take these words from here.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from asyncplay.model import RunModel
from asyncplay.model_objects import ExecutorJob, Primitive
from asyncplay.views.seconds import duration
from asyncplay.views.text_cells import clean

__all__ = [
    "JOB_COLUMNS",
    "LOCK_COLUMNS",
    "QUEUE_COLUMNS",
    "blocked_on_words",
    "busy_over_time",
    "held",
    "job_rows",
    "json_lists",
    "label",
    "lock_rows",
    "locks",
    "full_share",
    "insights",
    "pane_rows",
    "pool_lines",
    "queue_rows",
    "queues",
    "task_waits_on",
]

#: where(file, line) -> "pipeline.py:24" (the summary's ``_where``: relative to a cwd)
Where = Callable[[str | None, int | None], str]

QUEUE_COLUMNS = ("queue", "kind", "maxsize", "peak", "puts", "gets", "put blocked", "get blocked")
LOCK_COLUMNS = ("object", "kind", "acquired", "peak waiters", "longest wait", "held")
JOB_COLUMNS = ("function", "task", "pool", "thread", "started", "queued", "ran")
JOBS_FOLD_OVER = 20  # more jobs than this: one row per (pool, function)


def _plain_where(file: str | None, line: int | None) -> str:
    if not file or not line:
        return "-"
    return f"{file.rsplit('/', 1)[-1]}:{line}"


def label(p: Primitive, where: Where = _plain_where) -> str:
    """``q (pipeline.py:24)``; ``Queue (pipeline.py:24)`` when the line assigned it to
    nothing; the name cleaned for a terminal."""
    at = where(p.file, p.line)
    name = clean(p.name) if p.name else p.kind
    return name if at == "-" else f"{name} ({at})"


def held(p: Primitive, now: float) -> float:
    """Seconds held (an Event: set) counting the holders still holding it at ``now``."""
    if p.holders:
        return p.held + max(0.0, now - p.updated) * len(p.holders)
    if p.is_set:
        return p.held + max(0.0, now - p.updated)
    return p.held


def queues(model: RunModel) -> list[Primitive]:
    return [p for p in model.primitives.values() if p.is_queue]


def locks(model: RunModel) -> list[Primitive]:
    return [p for p in model.primitives.values() if not p.is_queue]


def queue_rows(model: RunModel, where: Where = _plain_where) -> list[tuple[str, ...]]:
    return [
        (
            label(p, where),
            p.kind,
            str(p.maxsize) if p.maxsize else "unbounded",
            str(p.peak_size),
            str(p.puts),
            str(p.gets),
            duration(p.put_wait),
            duration(p.get_wait),
        )
        for p in queues(model)
    ]


def lock_rows(model: RunModel, where: Where = _plain_where) -> list[tuple[str, ...]]:
    out = []
    for p in locks(model):
        kind = f"{p.kind}({p.permits})" if p.permits is not None else p.kind
        out.append(
            (
                label(p, where),
                kind,
                str(p.acquisitions),
                str(p.max_waiters),
                duration(p.longest_wait),
                duration(held(p, model.now)),
            )
        )
    return out


def _task_name(model: RunModel, tid: int | None) -> str:
    if tid is None:
        return "-"
    t = model.tasks.get(tid)
    return clean(t.label) if t is not None else f"#{tid}"


def job_rows(model: RunModel) -> list[tuple[str, ...]]:
    """One row per job (in submission order), or per (pool, function) past
    ``JOBS_FOLD_OVER`` jobs, as the task table folds many tasks alike."""
    jobs = sorted(model.executor_jobs.values(), key=lambda j: (j.submitted, j.id))
    now = model.now
    if len(jobs) <= JOBS_FOLD_OVER:
        return [
            (
                clean(j.function),
                _task_name(model, j.task),
                clean(j.pool),
                clean(j.thread or "-"),
                duration(j.started if j.started is not None else j.submitted),
                duration(j.queued) if j.queued is not None else "-",
                duration(j.duration(now)) + ("" if j.ended is not None else " (unfinished)"),
            )
            for j in jobs
        ]
    groups: dict[tuple[str, str], list[ExecutorJob]] = {}
    for j in jobs:
        groups.setdefault((j.pool, j.function), []).append(j)
    rows = []
    for (pool, function), group in groups.items():
        threads = {j.thread for j in group if j.thread}
        queued = [j.queued for j in group if j.queued is not None]
        rows.append(
            (
                f"{len(group)} × {clean(function)}",
                f"{len({j.task for j in group})} task(s)",
                clean(pool),
                f"{len(threads)} thread(s)",
                duration(group[0].started or group[0].submitted),
                duration(sum(queued)) if queued else "-",
                duration(sum(j.duration(now) for j in group)),
            )
        )
    return rows


def busy_over_time(
    jobs: list[ExecutorJob], now: float
) -> tuple[list[tuple[float, int, int]], int, int]:
    """A pool's (time, busy workers, backlog) at each change, and the peaks of both."""
    changes: list[tuple[float, int, int]] = []
    for j in jobs:
        changes.append((j.submitted, 0, 1))  # into the backlog
        if j.started is not None:
            changes.append((j.started, 1, -1))  # out of it, onto a worker
            changes.append((j.ended if j.ended is not None else now, -1, 0))
    changes.sort(key=lambda c: (c[0], -c[2]))
    busy = backlog = peak_busy = peak_backlog = 0
    out: list[tuple[float, int, int]] = []
    for t, db, dq in changes:
        busy += db
        backlog += dq
        peak_busy = max(peak_busy, busy)
        peak_backlog = max(peak_backlog, backlog)
        if out and out[-1][0] == t:
            out[-1] = (t, busy, backlog)
        else:
            out.append((t, busy, backlog))
    return out, peak_busy, peak_backlog


def pool_lines(model: RunModel) -> list[str]:
    """One line per pool: its threads, busy workers and backlog at their peak."""
    pools: dict[str, list[ExecutorJob]] = {}
    for j in model.executor_jobs.values():
        pools.setdefault(j.pool, []).append(j)
    lines = []
    for pool, jobs in pools.items():
        threads = sorted({j.thread for j in jobs if j.thread})
        _series, busy, backlog = busy_over_time(jobs, model.now)
        if threads:
            workers = f"{len(threads)} thread(s), at most {busy} busy at once"
            waited = f", at most {backlog} job(s) waiting for a worker" if backlog else ""
        else:  # a process pool: the start of its jobs is not known
            workers, waited = "worker processes", ""
        lines.append(f"pool {clean(pool)}: {len(jobs)} job(s), {workers}{waited}")
    return lines


# model -> (its objects_version, {task id: the object it waits on}): the await graph asks
# for each task it draws, so one pass over the objects per change, not one per task.
_WAITING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def task_waits_on(model: RunModel, tid: int) -> Primitive | None:
    """The object task ``tid`` is now blocked on (first found), or None."""
    known = _WAITING.get(model)
    if known is None or known[0] != model.objects_version:
        index: dict[int | None, Primitive] = {}
        for p in model.primitives.values():
            for w in p.waiters:
                index.setdefault(w[0], p)
        known = (model.objects_version, index)
        _WAITING[model] = known
    return known[1].get(tid)


def _created(p: Primitive) -> dict:
    return {"file": p.file, "line": p.line}


def json_lists(model: RunModel) -> dict:
    """The ``queues``, ``locks`` and ``executor_jobs`` lists of the ``summary`` event
    (docs/protocol.md): seconds, ids of tasks, in creation order."""
    now = model.now
    return {
        "queues": [
            {
                "id": p.id,
                "name": p.name,
                "created": _created(p),
                "kind": p.kind,
                "maxsize": p.maxsize,
                "peak_size": p.peak_size,
                "size": p.size,
                "puts": p.puts,
                "gets": p.gets,
                "put_wait": p.put_wait,
                "get_wait": p.get_wait,
                "max_join_waiters": p.max_join_waiters,
            }
            for p in queues(model)
        ],
        "locks": [
            {
                "id": p.id,
                "kind": p.kind,
                "name": p.name,
                "created": _created(p),
                "permits": p.permits,
                "acquisitions": p.acquisitions,
                "max_waiters": p.max_waiters,
                "longest_wait": p.longest_wait,
                "held": held(p, now),
                "holders": list(p.holders),
                "waiters": [w[0] for w in p.waiters],
            }
            for p in locks(model)
        ],
        "executor_jobs": [
            {
                "id": j.id,
                "function": j.function,
                "task": j.task,
                "pool": j.pool,
                "thread": j.thread,
                "submitted": j.submitted,
                "started": j.started,
                "ended": j.ended,
                "queued": j.queued,
                "duration": j.duration(now),
            }
            for j in sorted(model.executor_jobs.values(), key=lambda j: j.id)
        ],
    }


def _now_words(p: Primitive) -> str:
    if p.is_queue:
        cap = f"/{p.maxsize}" if p.maxsize else ""
        full = " full" if p.maxsize and p.size >= p.maxsize else ""
        return f"{p.size}{cap} items{full}"
    if p.kind == "Event":
        return "set" if p.is_set else "not set"
    if p.holders:
        return f"held ({len(p.holders)})" if len(p.holders) > 1 else "held"
    return "free"


def pane_rows(
    model: RunModel, where: Where = _plain_where
) -> list[tuple[str, int | None, str | None, int | None, int | None]]:
    """The playground's objects view: (text, task id, file, line, object id) per row. An
    object's row (its line: Enter goes there; its id, for the views that go to it) with
    what it is now and its figures, then a row per task holding it and per task waiting on
    it, in order (Enter goes to the task), then the executor jobs (Enter goes to the task
    that awaits the job)."""
    rows: list[tuple[str, int | None, str | None, int | None, int | None]] = [
        (f"! {text}", None, None, None, None) for text in insights(model, where)
    ]
    now = model.now
    for p in model.primitives.values():
        if p.is_queue:
            figures = (
                f"peak {p.peak_size}, {p.puts} in, {p.gets} out, blocked: put "
                f"{duration(p.put_wait)}, get {duration(p.get_wait)}"
            )
        else:
            figures = (
                f"{p.acquisitions} acquired, peak {p.max_waiters} waiting, longest wait "
                f"{duration(p.longest_wait)}, held {duration(held(p, now))}"
            )
        kind = f"{p.kind}({p.permits})" if p.permits is not None else p.kind
        rows.append(
            (f"{kind} {label(p, where)}: {_now_words(p)} · {figures}", None, p.file, p.line, p.id)
        )
        for tid in p.holders:
            rows.append((f"    holder   {_task_name(model, tid)}", tid, None, None, None))
        for n, (tid, why) in enumerate(p.waiters, 1):
            text = f"    waiting {n}. {_task_name(model, tid)} ({why})"
            rows.append((text, tid, None, None, None))
        if p.join_waiters:
            rows.append((f"    {p.join_waiters} task(s) in join()", None, None, None, None))
    jobs = sorted(model.executor_jobs.values(), key=lambda j: (j.submitted, j.id))
    if jobs:
        rows.append(("Executor jobs: " + "; ".join(pool_lines(model)), None, None, None, None))
    for j in jobs[-200:]:
        state = (
            "waiting for a worker"
            if j.started is None and j.ended is None and j.thread is None and j.pool
            else f"ran {duration(j.duration(now))}"
            if j.ended is not None
            else f"running {duration(j.duration(now))}"
        )
        rows.append(
            (
                f"    {clean(j.function)} in {clean(j.pool)}/{clean(j.thread or '-')}: "
                f"{state}, for {_task_name(model, j.task)}",
                j.task,
                None,
                None,
                None,
            )
        )
    return rows


FULL_MOST = 0.5  # a bounded queue full this share of its life: its consumers are too slow
SLOW_HOLD = 0.1  # seconds: a lock held this long at once while others waited
CROWDED = 1.0  # a semaphore with more waiters, on average, than this many times its permits


def active_end(p: Primitive, end: float) -> float:
    """The end of an object's active life: its last change, or ``end`` while it is held,
    waited on or holds items (an object made early and used for a moment is judged by
    that moment, not by the rest of the run)."""
    if p.holders or p.waiters or (p.is_queue and p.size) or p.is_set:
        return end
    last = max(p.updated, p.sizes[-1][0] if p.sizes else 0.0)
    return min(end, last) if last > p.created else end


def full_share(p: Primitive, end: float) -> float:
    """The share of a bounded queue's active life it spent full."""
    end = active_end(p, end)
    if not p.maxsize or end <= p.created:
        return 0.0
    full = 0.0
    sizes = p.sizes
    for i, (t, n) in enumerate(sizes):
        nxt = sizes[i + 1][0] if i + 1 < len(sizes) else end
        if n >= p.maxsize:
            full += max(0.0, min(nxt, end) - max(t, p.created))
    return full / (end - p.created)


def insights(model: RunModel, where: Where = _plain_where) -> list[str]:
    """What the objects' figures say, for someone learning asyncio: a queue that stayed
    full (the consumers are the bottleneck), a lock held across something slow while
    others waited, a semaphore whose waiters outnumbered its permits most of the time."""
    end = model.now
    out = []
    for p in model.primitives.values():
        name = label(p, where)
        life = max(0.0, active_end(p, end) - p.created)
        if p.is_queue and p.maxsize:
            share = full_share(p, end)
            if share >= FULL_MOST and p.put_wait > 0:
                out.append(
                    f"{name} was full for {share:.0%} of its life: its consumers are the "
                    f"bottleneck (producers waited {duration(p.put_wait)} in put()). More "
                    "consumers, or faster ones, would drain it; a bigger maxsize only delays "
                    "the wait."
                )
        elif p.kind in ("Lock", "Condition") and p.longest_hold >= SLOW_HOLD and p.max_waiters:
            out.append(
                f"{name} was held for up to {duration(p.longest_hold)} at once while up to "
                f"{p.max_waiters} task(s) waited for it: its holder awaited something slow "
                "inside `async with`, and every other task waited its turn for all of it. "
                "Right when the await is part of the update (read, await, write); otherwise "
                "keep only the shared-state update under the lock."
            )
        elif p.kind.endswith("Semaphore") and p.permits and life > 0:
            crowd = p.waited / life  # tasks waiting, on average over its life
            if crowd > p.permits * CROWDED:
                out.append(
                    f"{name} had {crowd:.1f} task(s) waiting on average for its {p.permits} "
                    f"permit(s) (up to {p.max_waiters} at once): the work it guards, not the "
                    "loop, set the pace. That is the point of a semaphore; more permits "
                    "would run more at once."
                )
    return out


def blocked_on_words(model: RunModel, tid: int, cwd: str = ".") -> str:
    """``lock (g.py:5) held by main``: the object task ``tid`` is blocked on now and who
    holds it (a queue: how full it is), or "" when it waits on none."""
    p = task_waits_on(model, tid)
    if p is None:
        return ""

    def where(file: str | None, line: int | None) -> str:
        if not file or not line:
            return "-"
        name = (
            file if not file.startswith(cwd.rstrip("/") + "/") else file[len(cwd.rstrip("/")) + 1 :]
        )
        return f"{name.rsplit('/', 1)[-1]}:{line}"

    text = label(p, where)
    if p.is_queue:
        return f"{text} ({_now_words(p)})"
    holders = [_task_name(model, h) for h in p.holders if h != tid]
    return f"{text} held by {', '.join(holders)}" if holders else text
