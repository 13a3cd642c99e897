"""The timeline's lanes for what is not a task: executor work and a queue's size.

One lane per worker thread (``executor asyncio_0``; a process pool's jobs in one lane
per pool), drawn with the task lanes' codes (a job running half a column or more is
``RUN``, a shorter one a ``STEP`` mark); and, asked for, one lane per queue whose cells
are its size as a bar (``▁`` to ``█`` of its maxsize, or of its peak when unbounded).
"""

from __future__ import annotations

from asyncplay.model import RunModel
from asyncplay.model_objects import ExecutorJob, Primitive
from asyncplay.views.text_cells import clean
from asyncplay.views.timeline import EMPTY, RUN, STEP, column

__all__ = ["BARS", "BARS_ASCII", "ObjectLanes", "executor_lanes", "queue_lanes", "size_cells"]

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


def executor_lanes(model: RunModel, start: float, end: float, cells: int) -> list[tuple[str, str]]:
    """(label, cell codes) for each worker thread that ran a job, in order of first use."""
    out = []
    width = (end - start) / cells if cells else 0.0
    for label, jobs in _thread_lanes(model).items():
        lane = [EMPTY] * cells
        for job in jobs:
            t0 = job.started if job.started is not None else job.submitted
            t1 = job.ended if job.ended is not None else model.now
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
        out.append((clean(label), "".join(lane)))
    return out


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
