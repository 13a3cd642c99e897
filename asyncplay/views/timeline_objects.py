"""The timeline's lanes for what is not a task: executor work and a queue's size.

One lane per worker thread (``executor asyncio_0``; a process pool's jobs in one lane
per pool), drawn with the task lanes' codes (a job running half a column or more is
``RUN``, a shorter one a ``STEP`` mark); and, asked for, one lane per queue whose cells
are its size as a bar (``▁`` to ``█`` of its maxsize, or of its peak when unbounded).
The headless ``--timeline`` draws them through :class:`ObjectLanes`; the playground's
timeline pane through :func:`object_lanes` (what each lane is), :func:`object_cells`
and :func:`object_detail` (what is at the cursor: the job, the queue's size).
"""

from __future__ import annotations

from typing import NamedTuple

from asyncplay.model import RunModel
from asyncplay.model_objects import ExecutorJob, Primitive
from asyncplay.views.seconds import seconds_text
from asyncplay.views.text_cells import clean
from asyncplay.views.timeline import EMPTY, RUN, STEP, column

__all__ = [
    "BARS",
    "BARS_ASCII",
    "ObjectLane",
    "ObjectLanes",
    "executor_lanes",
    "job_at",
    "object_cells",
    "object_detail",
    "object_lanes",
    "queue_lanes",
    "size_at",
    "size_cells",
]

BARS = " ▁▂▃▄▅▆▇█"
BARS_ASCII = " .:-=+*#@"


def _thread_lanes(model: RunModel) -> dict[str, list[ExecutorJob]]:
    lanes: dict[str, list[ExecutorJob]] = {}
    for job in sorted(model.executor_jobs.values(), key=lambda j: j.id):
        if job.thread:
            key = f"executor {job.thread}"
        else:  # a process pool: where each job ran is not known
            key = f"executor {job.pool}"
        lanes.setdefault(key, []).append(job)
    return lanes


def _span(job: ExecutorJob, now: float) -> tuple[float, float]:
    """When the job ran in its thread (a process pool's: from its submission)."""
    t0 = job.started if job.started is not None else job.submitted
    return t0, job.ended if job.ended is not None else now


def job_cells(jobs: list[ExecutorJob], now: float, start: float, end: float, cells: int) -> str:
    """One thread's jobs as cell codes over the window."""
    lane = [EMPTY] * cells
    width = (end - start) / cells if cells else 0.0
    for job in jobs:
        t0, t1 = _span(job, now)
        if t1 < start or t0 > end:
            continue
        c0 = column(max(t0, start), start, end, cells)
        c1 = column(min(t1, end), start, end, cells)
        if c0 is None or c1 is None:
            continue
        for c in range(c0, c1 + 1):
            cell_start = start + c * width
            overlap = min(t1, cell_start + width) - max(t0, cell_start)
            if overlap >= width / 2:
                lane[c] = RUN
            elif lane[c] == EMPTY:
                lane[c] = STEP
    return "".join(lane)


def executor_lanes(model: RunModel, start: float, end: float, cells: int) -> list[tuple[str, str]]:
    """(label, cell codes) for each worker thread that ran a job, in order of first use."""
    return [
        (clean(label), job_cells(jobs, model.now, start, end, cells))
        for label, jobs in _thread_lanes(model).items()
    ]


def size_cells(p: Primitive, start: float, end: float, cells: int, ascii_only: bool) -> str:
    """The queue's size in each column (the most it held there) as a bar of its maxsize
    (or of its peak, unbounded); blank before it existed."""
    bars = BARS_ASCII if ascii_only else BARS
    top = p.maxsize or p.peak_size or 1
    width = (end - start) / cells if cells else 0.0
    sizes = p.sizes
    out = []
    i = 0
    current: int | None = None
    for c in range(cells):
        c0 = start + c * width
        c1 = c0 + width
        most = current
        while i < len(sizes) and sizes[i][0] < c1:
            current = sizes[i][1]
            most = current if most is None else max(most, current)
            i += 1
        if most is None or c1 < p.created:
            out.append(" ")
            continue
        level = 0 if most <= 0 else max(1, min(8, round(most / top * 8)))
        out.append(bars[level])
    return "".join(out)


def queue_lanes(
    model: RunModel, start: float, end: float, cells: int, ascii_only: bool = False
) -> list[tuple[str, str]]:
    """(label, drawn cells) for each queue: ``q size/2`` (its maxsize) or ``q size``."""
    out = []
    for p in model.primitives.values():
        if not p.is_queue:
            continue
        name = clean(p.name) if p.name else p.kind
        label = f"{name} size/{p.maxsize}" if p.maxsize else f"{name} size"
        out.append((label, size_cells(p, start, end, cells, ascii_only)))
    return out


class ObjectLanes:
    """``timeline.timeline_text``'s ``extra``: the executor lanes (whenever the program
    ran jobs) and, with ``queue_sizes``, a lane per queue; ``labels`` for the width."""

    def __init__(self, model: RunModel, queue_sizes: bool = False, ascii_only: bool = False):
        self.model = model
        self.queue_sizes = queue_sizes
        self.ascii_only = ascii_only
        self.labels = list(_thread_lanes(model))
        if queue_sizes:
            self.labels += [label for label, _cells in queue_lanes(model, 0.0, 1.0, 1)]

    def __call__(self, start: float, end: float, cells: int) -> list[tuple[str, str, bool]]:
        lanes = [
            (label, codes, True) for label, codes in executor_lanes(self.model, start, end, cells)
        ]
        if self.queue_sizes:
            lanes += [
                (label, drawn, False)
                for label, drawn in queue_lanes(self.model, start, end, cells, self.ascii_only)
            ]
        return lanes


class ObjectLane(NamedTuple):
    """A lane of the playground's timeline that is no task: a worker thread's jobs
    (``jobs``) or a queue's size (``queue``)."""

    label: str
    jobs: tuple[ExecutorJob, ...] = ()
    queue: Primitive | None = None


def object_lanes(model: RunModel, queue_sizes: bool = False) -> list[ObjectLane]:
    """The executor threads' lanes (whenever the program ran jobs), then, asked for, a
    lane per queue: the rows the timeline pane draws after the tasks'."""
    out = [ObjectLane(clean(label), tuple(jobs)) for label, jobs in _thread_lanes(model).items()]
    if queue_sizes:
        for p in model.primitives.values():
            if p.is_queue:
                name = clean(p.name) if p.name else p.kind
                label = f"{name} size/{p.maxsize}" if p.maxsize else f"{name} size"
                out.append(ObjectLane(label, queue=p))
    return out


def object_cells(
    model: RunModel, lane: ObjectLane, start: float, end: float, cells: int
) -> tuple[str, bool]:
    """The lane's cells over the window, and whether they are cell codes (a thread's
    jobs, drawn as a task's steps) rather than drawn bars (a queue's size)."""
    if lane.queue is not None:
        return size_cells(lane.queue, start, end, cells, False), False
    codes = list(job_cells(list(lane.jobs), model.now, start, end, cells))
    for job in lane.jobs:  # each job's first column a step's mark: back-to-back jobs apart
        col = column(_span(job, model.now)[0], start, end, cells)
        if col is not None and codes[col] == RUN:
            codes[col] = STEP
    return "".join(codes), True


def job_at(lane: ObjectLane, t: float, tolerance: float, now: float) -> ExecutorJob | None:
    """The job the thread ran at ``t`` (within ``tolerance``: half a column), or None."""
    best: tuple[float, ExecutorJob] | None = None
    for job in lane.jobs:
        t0, t1 = _span(job, now)
        off = 0.0 if t0 <= t <= t1 else min(abs(t - t0), abs(t - t1))
        if off <= tolerance and (best is None or off < best[0]):
            best = (off, job)
    return best[1] if best is not None else None


def size_at(p: Primitive, t: float) -> int | None:
    """The queue's size at ``t`` (its last sample then), None before it existed."""
    size: int | None = None
    for when, n in p.sizes:
        if when > t:
            break
        size = n
    if size is None and t >= p.created:
        return 0
    return size


def object_detail(
    model: RunModel, lane: ObjectLane, t: float, tolerance: float
) -> list[tuple[str, int]]:
    """What the lane shows at ``t``, in ranked parts (``views.task_story.Part``: rank 0
    kept, the highest dropped first): the job, its function, the task awaiting it, when
    it ran; or the queue's size then."""
    at = (f"at {seconds_text(t)}", 5)
    p = lane.queue
    if p is not None:
        size = size_at(p, t)
        if size is None:
            return [(lane.label, 0), ("not created yet", 0), at]
        items = f"{size} item{'s' if size != 1 else ''}"
        full = " (full)" if p.maxsize and size >= p.maxsize else ""
        return [
            (lane.label, 0),
            (items + full, 0),
            (f"peak {p.peak_size}", 2),
            (f"{p.puts} put, {p.gets} got", 3),
            at,
        ]
    job = job_at(lane, t, tolerance, model.now)
    if job is None:
        busy = sum(_span(j, model.now)[1] - _span(j, model.now)[0] for j in lane.jobs)
        n = len(lane.jobs)
        return [
            (lane.label, 0),
            ("idle", 0),
            (f"{n} job{'s' if n != 1 else ''}, busy {seconds_text(busy)} in all", 2),
            at,
        ]
    info = model.tasks.get(job.task) if job.task is not None else None
    t0, t1 = _span(job, model.now)
    ran = f"ran {seconds_text(t1 - t0)} from {seconds_text(t0)}"
    if job.ended is None:
        ran = f"running since {seconds_text(t0)}"
    queued = job.queued
    return [
        (lane.label, 0),
        (clean(job.function), 0),
        (f"for {clean(info.label)}" if info is not None else "no task awaits it", 1),
        (ran, 2),
        (f"queued {seconds_text(queued)}" if queued else "", 4),
        at,
    ]
