"""The model's steps: a batch of steps folded into its tasks' figures, and the timeline's
spans made from the steps only when something asks for them.

The fold counts (steps, running time, longest step, where each task waits) and keeps
the batch as it came; the spans (``TaskInfo.spans``: the timeline, the trace, the graph,
the stories, playback) are made from the kept steps when a view first asks, and from the
steps that came since each time after. The headless summary never asks, so a run
without a view of the spans never makes them (20,000 tasks: 80,000 spans). Past
``PENDING_STEPS`` kept steps they are made anyway: memory stays bounded on a long run.

(Measured with callgrind on 3.11: C-level passes over a batch, ``dict.update(zip(map(
itemgetter(0), rows), rows))`` and the like, cost more instructions per step than this
one lean loop, and steps that carried each task's figures so far, to be set rather
than added up, made the decoder and the child dearer than the fold got cheaper.)
"""

from __future__ import annotations

__all__ = ["MAX_SPANS_PER_TASK", "PENDING_STEPS", "StepFigures", "fold_figures", "fold_steps"]

# Steps kept per task for the timeline and the trace. Past this, adjacent spans are merged
# pairwise and each later span takes twice as many steps, so a task keeps between half
# and all of this many spans over its whole life, evenly spread; the totals (steps,
# running, longest step) stay exact because they are counted apart from the spans.
MAX_SPANS_PER_TASK = 2_000
# Steps kept as columns, not yet made spans: past this they are made spans at once.
PENDING_STEPS = 250_000
_FINISHED = frozenset({"done", "cancelled", "failed"})


class StepFigures:
    """The steps of a model's tasks not made spans yet, and the spans made (one per
    model, shared by its tasks: ``TaskInfo.spans`` reads here)."""

    __slots__ = ("spans", "span_steps", "pending", "pending_steps")

    def __init__(self) -> None:
        self.spans: dict[int, list] = {}
        self.span_steps: dict[int, int] = {}  # steps per new span (absent: 1)
        self.pending: list[list] = []  # batches of step rows not made spans yet
        self.pending_steps = 0

    def forget(self, tid: int) -> None:
        """A task id created again (a new task): nothing of the old one is its."""
        self.flush()
        self.spans.pop(tid, None)
        self.span_steps.pop(tid, None)

    def flush(self) -> None:
        """Make spans of the steps kept (the reducer's per-step loop of old, run when a
        view asks, not per batch)."""
        pending, self.pending, self.pending_steps = self.pending, [], 0
        spans_of = self.spans
        per = self.span_steps
        most = MAX_SPANS_PER_TASK
        for rows in pending:
            for tid, start, dur, awaiting, file, line in rows:
                spans = spans_of.get(tid)
                if spans is None:
                    spans = spans_of[tid] = []
                k = per.get(tid, 1)
                if k != 1:
                    last = spans[-1]
                    if last[3] < k:
                        s0 = last[0]
                        spans[-1] = (
                            s0, start + dur - s0, last[2] + dur, last[3] + 1, awaiting, file,
                            line,
                        )  # fmt: skip
                        continue
                spans.append((start, dur, dur, 1, awaiting, file, line))
                if len(spans) >= most:
                    spans_of[tid] = halve(spans)
                    per[tid] = k * 2


def halve(spans: list) -> list:
    """Adjacent spans merged pairwise: bounded memory, the same picture at half the detail."""
    merged: list = []
    for i in range(0, len(spans) - 1, 2):
        a, b = spans[i], spans[i + 1]
        merged.append((a[0], b[0] + b[1] - a[0], a[2] + b[2], a[3] + b[3], b[4], b[5], b[6]))
    if len(spans) % 2:
        merged.append(spans[-1])
    return merged


def fold_steps(m: object, rows: list, close_open: object) -> None:
    """Fold one batch of steps (``[task, start, dur, awaiting, file, line]`` each) into
    ``m`` (a ``RunModel``): the hottest loop of the parent, so it only counts; the
    batch is kept for the spans, made when asked. ``close_open(m, info)`` takes back
    what a ``step_open`` counted for a task whose step's record came. Steps of unknown
    tasks are ignored; a finished task's steps count, but do not change what it waits
    on."""
    tasks = m.tasks  # type: ignore[attr-defined]
    f: StepFigures = m.figures  # type: ignore[attr-defined]
    get = tasks.get
    finished = _FINISHED
    unknown = False
    for tid, start, dur, awaiting, file, line in rows:
        info = get(tid)
        if info is None:
            unknown = True
            continue
        if info.open is not None:
            close_open(m, info)  # type: ignore[operator]
        info.steps += 1
        info.running += dur
        if dur > info.longest_step:
            info.longest_step = dur
        if info.first_step is None:
            info.first_step = start
        info.last_active = start + dur
        if info.state not in finished:
            info.awaiting = awaiting
            if awaiting:
                info.state = "waiting"
                info.last_awaited = awaiting
            else:
                info.state = "ready"
            if line:
                info.wait_file = file
                info.wait_line = line
    if unknown:
        rows = [row for row in rows if row[0] in tasks]
    m.steps += len(rows)  # type: ignore[attr-defined]
    if rows:
        f.pending.append(rows)
        f.pending_steps += len(rows)
        if f.pending_steps > PENDING_STEPS:
            f.flush()


def fold_figures(m: object, rows: list, close_open: object) -> None:
    """Fold one ``figures`` event into ``m``: each row ``(task, steps, running, longest,
    first, last, awaiting, last awaited, file, line)`` holds a task's figures so far, as
    the child added them up (the same durations in the same order as ``fold_steps``, so
    the same floats): set, not added. A task's end may come before the figures of its
    last steps: what it waits on then stays as its end left it, as ``fold_steps`` leaves
    it for steps after an end; where it last waited is from steps before its end. No
    spans: a run whose child sends figures has no view that draws steps."""
    get = m.tasks.get  # type: ignore[attr-defined]
    finished = _FINISHED
    total = 0
    for tid, steps, running, longest, first, last, awaiting, waited, file, line in rows:
        info = get(tid)
        if info is None:
            continue
        if info.open is not None:
            close_open(m, info)  # type: ignore[operator]
        total += steps - info.steps
        info.steps = steps
        info.running = running
        info.longest_step = longest
        info.first_step = first
        info.last_active = last
        if info.state not in finished:
            info.awaiting = awaiting
            info.state = "waiting" if awaiting else "ready"
        if waited:
            info.last_awaited = waited
        if line:
            info.wait_file = file
            info.wait_line = line
    m.steps += total  # type: ignore[attr-defined]
