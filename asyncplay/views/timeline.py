"""The timeline: one lane per task, time left to right, steps where they ran.

``layout`` is the pure part (model + width + time window -> lanes of cell codes) that any
view can draw from; ``render`` turns a layout into the text ``--timeline`` prints. Cell codes
are single characters so a lane is one short string, cheap to build for thousands of tasks.
"""

from __future__ import annotations

import bisect
import math

from asyncplay.model import (
    SPAN_AWAITING,
    SPAN_BUSY,
    SPAN_EXTENT,
    SPAN_START,
    SPAN_STEPS,
    RunModel,
    Span,
    TaskInfo,
)
from asyncplay.views.seconds import seconds_text
from asyncplay.views.text_cells import clean

TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing costs every run ~2 ms of start-up)
    from typing import Any

# Cell codes, in rising priority: a later one wins a cell.
EMPTY = " "  # the task did not exist then
WAIT = "w"  # alive, not running (waiting, or ready behind other tasks)
CREATED = "c"  # created in this cell, before its first step
STEP = "s"  # ran for less than half of this cell: a step mark, however short
RUN = "r"  # ran for half of this cell or more
DONE = "d"  # ended in this cell: returned
CANCELLED = "x"  # ended in this cell: cancelled
FAILED = "f"  # ended in this cell: raised

END_CODES = {"done": DONE, "cancelled": CANCELLED, "failed": FAILED}

UNICODE = {EMPTY: " ", WAIT: "─", CREATED: "╶", STEP: "▌", RUN: "█", DONE: "┤",
           CANCELLED: "✕", FAILED: "!"}  # fmt: skip
ASCII = {EMPTY: " ", WAIT: "-", CREATED: ".", STEP: "|", RUN: "#", DONE: "]",
         CANCELLED: "x", FAILED: "!"}  # fmt: skip
# ANSI colours for a terminal that wants them (never with NO_COLOR or into a pipe).
COLOURS = {RUN: "32", STEP: "32", WAIT: "2", CREATED: "2", CANCELLED: "33", FAILED: "31"}
LEGEND = ((RUN, "running"), (STEP, "short step"), (WAIT, "waiting"), (CREATED, "created"),
          (DONE, "done"), (CANCELLED, "cancelled"), (FAILED, "failed"))  # fmt: skip

MIN_CELLS = 20
MAX_LABEL = 20
MAX_LANES = 60


class Lane:
    __slots__ = ("task", "label", "cells")

    def __init__(self, task: int, label: str, cells: str) -> None:
        self.task = task
        self.label = label
        self.cells = cells

    def __repr__(self) -> str:
        return f"<Lane {self.task} {self.label!r} {self.cells!r}>"


class Layout:
    """Lanes over ``cells`` columns from ``start`` to ``end`` (run seconds); ``ticks`` are
    (column, time) pairs for the axis; ``more`` lanes did not fit."""

    __slots__ = ("start", "end", "cells", "lanes", "ticks", "more")

    def __init__(
        self,
        start: float,
        end: float,
        cells: int,
        lanes: list[Lane],
        ticks: list[tuple[int, float]],
        more: int,
    ) -> None:
        self.start, self.end, self.cells = start, end, cells
        self.lanes, self.ticks, self.more = lanes, ticks, more

    @property
    def cell_seconds(self) -> float:
        return (self.end - self.start) / self.cells


def window(model: RunModel, tasks: list[TaskInfo]) -> tuple[float, float]:
    """From the first task's creation to the last one's end (or the run's, if one lives)."""
    if not tasks:
        return 0.0, max(model.now, 1e-3)
    start = min(t.created for t in tasks)
    end = max(
        (t.ended if t.ended is not None else model.now)
        if t.finished
        else max(model.now, t.last_active)
        for t in tasks
    )
    return start, max(end, start + 1e-3)


def lane_cells(
    task: TaskInfo,
    start: float,
    end: float,
    cells: int,
    now: float,
    spans: list[Span] | None = None,
    keep_steps: bool = False,
) -> str:
    """One task's cells: alive as waits, busy time per cell from its spans, then marks.
    ``spans`` (default: all of the task's) lets a zoomed view pass only ``spans_in``.

    The end mark takes its cell. With ``keep_steps`` (the TUI) a step in that cell is not
    lost under it: the end mark goes in the next cell (empty: the task is gone), or, at
    the window's last column, the step goes one cell back unless a step is there already
    (``▌┤`` for a task that ran once and ended within one cell)."""
    dt = (end - start) / cells
    out = [EMPTY] * cells
    born = task.created
    died = task.ended if task.ended is not None else (task.last_active if task.finished else now)
    if died < start or born > end:
        return "".join(out)

    def col(t: float) -> int:
        x = (t - start) / dt + 1e-9
        if not x > 0:  # before the window, or not a number (a forged record)
            return 0
        return cells - 1 if x >= cells else int(x)

    c0, c1 = col(born), col(died)
    for c in range(c0, c1 + 1):
        out[c] = WAIT
    busy = [0.0] * cells
    drawn = task.spans if spans is None else spans
    if task.open is not None and drawn and drawn[-1][0] == task.open[0]:
        # the step in progress (step_open) runs on to now, not only to its last report
        last = drawn[-1]
        grown = max(last[SPAN_EXTENT], now - last[SPAN_START])
        drawn = [
            *drawn[:-1],
            (
                last[SPAN_START],
                grown,
                last[SPAN_BUSY] + grown - last[SPAN_EXTENT],
                *last[SPAN_STEPS:],
            ),
        ]
    for span in drawn:
        s, extent, ran = span[SPAN_START], span[SPAN_EXTENT], span[SPAN_BUSY]
        if s + extent < start or s > end:
            continue
        a, b = col(s), col(s + extent)
        if a == b or extent <= 0:
            busy[a] += ran
            continue
        rate = ran / extent  # a merged span spreads its busy time over its extent
        for c in range(a, b + 1):
            lo = max(s, start + c * dt)
            hi = min(s + extent, start + (c + 1) * dt)
            if hi > lo:
                busy[c] += (hi - lo) * rate
    half = dt / 2
    for c in range(cells):
        if busy[c] > 0:
            out[c] = RUN if busy[c] >= half else STEP
    if born >= start and out[c0] == WAIT:
        out[c0] = CREATED
    end_code = END_CODES.get(task.state)
    if end_code is not None and task.ended is not None and start <= task.ended <= end:
        if keep_steps and out[c1] in RAN:
            if c1 + 1 < cells:
                c1 += 1
            elif c1 > 0 and out[c1 - 1] not in RAN:
                out[c1 - 1] = out[c1]
        out[c1] = end_code
    return "".join(out)


RAN = frozenset((STEP, RUN))
#: What a warning's mark must not hide: a step, an end.
MARKED = frozenset((STEP, RUN, DONE, CANCELLED, FAILED))


def warning_column(
    cells: str, col: int, taken: set[int] | frozenset = frozenset()
) -> tuple[int, bool]:
    """Where a warning of column ``col`` is drawn on a lane of ``cells``: (column, over).
    Its own cell unless that holds a step or an end mark (``MARKED``); then the nearest
    cell, after before before, at most two away (``███┤⚠``), that holds neither and no other
    warning (``taken``); else its own cell with ``over`` True: the mark stays and the
    warning shows as its style."""
    n = len(cells)
    if not 0 <= col < n or (cells[col] not in MARKED and col not in taken):
        return col, False
    for c in (col + 1, col - 1, col + 2, col - 2):
        if 0 <= c < n and cells[c] not in MARKED and c not in taken:
            return c, False
    return col, cells[col] in MARKED


def nice_step(span: float, max_ticks: int) -> float:
    """The smallest 1, 2 or 5 x 10^k that puts at most ``max_ticks`` ticks over ``span``."""
    raw = span / max(1, max_ticks)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def ticks(start: float, end: float, cells: int, spacing: int = 10) -> list[tuple[int, float]]:
    step = nice_step(end - start, max(1, cells // spacing))
    dt = (end - start) / cells
    first = math.ceil(start / step - 1e-9) * step
    out = []
    k = 0
    while True:
        t = first + k * step
        if t > end + 1e-12:
            break
        out.append((min(cells - 1, int(round((t - start) / dt))), t))
        k += 1
    return out


def layout(
    model: RunModel,
    cells: int,
    start: float | None = None,
    end: float | None = None,
    all_tasks: bool = False,
    max_lanes: int = MAX_LANES,
    tasks: list[TaskInfo] | None = None,
) -> Layout:
    """Lanes for the tasks (in creation order, asyncio's own only with ``all_tasks``) over
    ``cells`` columns; past ``max_lanes`` lanes the rest are only counted."""
    cells = max(1, cells)
    if tasks is None:
        tasks = [t for t in model.tasks.values() if all_tasks or not t.internal]
    w0, w1 = window(model, tasks)
    start = w0 if start is None else start
    end = w1 if end is None else max(end, start + 1e-9)
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        start, end = 0.0, max(1e-3, model.now if math.isfinite(model.now) else 1e-3)
    shown = tasks[:max_lanes]
    # The label is the program's text, drawn on a terminal: escapes made visible.
    lanes = [Lane(t.id, clean(t.label), lane_cells(t, start, end, cells, model.now)) for t in shown]
    return Layout(start, end, cells, lanes, ticks(start, end, cells), len(tasks) - len(shown))


def _label_time(t: float, step: float, unit: str) -> str:
    scale = {"s": 1.0, "ms": 1e3, "µs": 1e6}[unit]
    decimals = max(0, -math.floor(math.log10(step * scale) + 1e-9)) if step * scale < 1 else 0
    return f"{t * scale:.{decimals}f}{unit}"


def axis(lay: Layout, ascii_only: bool = False, last_inside: bool = False) -> tuple[str, str]:
    """The axis line and the tick labels under it. With ``last_inside`` a last label too
    long for the columns after its tick ends at the last column instead of being left out
    (the pane's fit shows the run's end time), if it clears the label before it."""
    line = ["-" if ascii_only else "─"] * lay.cells
    label = [" "] * lay.cells
    if not lay.ticks:
        return "".join(line), ""
    span_end = max(abs(lay.start), abs(lay.end))
    unit = "s" if span_end >= 1 else "ms" if span_end >= 1e-3 else "µs"
    step = lay.ticks[1][1] - lay.ticks[0][1] if len(lay.ticks) > 1 else lay.end - lay.start
    free = 0
    for col, t in lay.ticks:
        line[col] = "+" if ascii_only else "┼"
        text = _label_time(t, step, unit)
        if col >= free and col + len(text) <= lay.cells:
            label[col : col + len(text)] = text
            free = col + len(text) + 1
        elif last_inside and (col, t) == lay.ticks[-1] and lay.cells - len(text) >= free:
            label[lay.cells - len(text) :] = text
    return "".join(line), "".join(label).rstrip()


def render(
    lay: Layout,
    width: int,
    ascii_only: bool = False,
    colour: bool = False,
    label_width: int | None = None,
    extra: list[tuple[str, str, bool]] = (),  # type: ignore[assignment]
) -> str:
    """The text of ``--timeline``: a heading, the lanes, the axis and a legend. ``extra``
    lanes (executor threads, queue sizes: ``timeline_objects``) follow the tasks', as
    (label, cells, whether the cells are codes to draw or text drawn already)."""
    glyphs = ASCII if ascii_only else UNICODE
    if label_width is None:
        label_width = label_width_for(lay, width)
    dash = "-" if ascii_only else "─"
    out = [
        f"{dash * 2} timeline {seconds_text(lay.start)} to {seconds_text(lay.end)}, "
        f"one column = {seconds_text(lay.cell_seconds)} {dash * 20}"[:width]
    ]
    for lane in lay.lanes:
        name = shorten(lane.label, label_width, "~" if ascii_only else "…")
        out.append(f"{name.ljust(label_width)} {_draw(lane.cells, glyphs, colour)}".rstrip())
    if lay.more:
        out.append(f"... {lay.more} more task(s) not drawn")
    for text, cells, codes in extra:
        name = shorten(text, label_width, "~" if ascii_only else "…")
        drawn = _draw(cells, glyphs, colour) if codes else cells
        out.append(f"{name.ljust(label_width)} {drawn}".rstrip())
    line, labels = axis(lay, ascii_only)
    pad = " " * (label_width + 1)
    out.append(pad + line)
    if labels:
        out.append(pad + labels)
    used = set().union(*(lane.cells for lane in lay.lanes)) if lay.lanes else set()
    used |= set().union(*(cells for _t, cells, codes in extra if codes))
    line = ""
    for code, words in LEGEND:  # only the marks this picture uses, wrapped to the width
        if code not in used:
            continue
        item = f"{glyphs[code]} {words}"
        if line and len(line) + 2 + len(item) > width:
            out.append(line)
            line = ""
        line = f"{line}  {item}" if line else item
    if line:
        out.append(line)
    return "\n".join(out)


def shorten(label: str, width: int, mark: str = "…") -> str:
    """``label`` in ``width`` columns, cut in the middle: lanes are often named alike
    (worker-1, worker-2) and differ at the end, so the end is kept (``wo…r-3``)."""
    if len(label) <= width:
        return label
    if width <= 1:
        return label[:width]
    head = (width - 1) // 2
    return label[:head] + mark + label[len(label) - (width - 1 - head) :]


def label_width_for(lay: Layout, width: int) -> int:
    return cells_for(width, [lane.label for lane in lay.lanes])[0]


def cells_for(width: int, labels: list[str]) -> tuple[int, int]:
    """(label width, cells) that fit ``width`` columns; never fewer than MIN_CELLS cells."""
    label = max(4, min(max((len(x) for x in labels), default=4), MAX_LABEL, width // 4))
    return label, max(MIN_CELLS, width - label - 1)


def _draw(cells: str, glyphs: dict[str, str], colour: bool) -> str:
    if not colour:
        return "".join(glyphs[c] for c in cells)
    parts = []
    for c in cells:
        code = COLOURS.get(c)
        parts.append(f"\x1b[{code}m{glyphs[c]}\x1b[0m" if code else glyphs[c])
    return "".join(parts)


def timeline_text(
    model: RunModel,
    width: int,
    all_tasks: bool = False,
    tasks: list[TaskInfo] | None = None,
    ascii_only: bool = False,
    colour: bool = False,
    max_lanes: int = MAX_LANES,
    extra: Any = None,
) -> str:
    """``--timeline`` in one call: size the lanes to ``width`` and draw them. ``extra``
    (start, end, cells) -> lanes of ``render``'s ``extra``, with their labels in
    ``extra.labels`` (the executor and queue lanes of ``timeline_objects``)."""
    width = max(width, MIN_CELLS + 5)
    if tasks is None:
        tasks = [t for t in model.tasks.values() if all_tasks or not t.internal]
    if not tasks:
        dash = "-" if ascii_only else "─"
        return f"{dash * 2} timeline: no tasks to draw {dash * 20}"[:width]
    labels = [clean(t.label) for t in tasks[:max_lanes]]
    label, cells = cells_for(width, labels + (list(extra.labels) if extra else []))
    lay = layout(model, cells, tasks=tasks, max_lanes=max_lanes)
    lanes = extra(lay.start, lay.end, lay.cells) if extra else []
    return render(lay, width, ascii_only, colour, label, lanes)


# ---- helpers for an interactive view (the TUI's timeline pane) ---------------------------
# Pure functions of a task, a time and a window: the pane keeps the cursor and the window,
# these say what is where. Spans of one task never overlap and come in time order, so a
# span is found by bisection, not by a scan of up to MAX_SPANS_PER_TASK spans.


def _span_end(span: Span) -> float:
    return span[SPAN_START] + span[SPAN_EXTENT]


def _span_start(span: Span) -> float:
    return span[SPAN_START]


def column(t: float, start: float, end: float, cells: int) -> int | None:
    """The cell of time ``t`` in a window of ``cells`` columns, None outside it (the same
    rounding as ``lane_cells``, so a mark and the cursor agree on their column)."""
    if cells <= 0 or not end > start or not start <= t <= end:
        return None
    x = (t - start) / ((end - start) / cells) + 1e-9
    return min(cells - 1, max(0, int(x)))


def cell_time(col: int, start: float, end: float, cells: int) -> float:
    """The middle of column ``col``: where the cursor stands when it moves by columns."""
    return start + (col + 0.5) * (end - start) / max(1, cells)


def span_at(task: TaskInfo, t: float, tolerance: float = 0.0) -> int | None:
    """The index of the span that ran at ``t``, or of the nearest one within ``tolerance``
    seconds (a cell's worth, so a 50 µs step is found in a 10 ms column); None if none."""
    spans = task.spans
    if not spans:
        return None
    i = bisect.bisect_right(spans, t, key=_span_start)  # spans[:i] start at or before t
    best: int | None = None
    gap = math.inf
    if i > 0:
        before = spans[i - 1]
        gap = max(0.0, t - _span_end(before))
        best = i - 1
    if i < len(spans) and spans[i][SPAN_START] - t < gap:
        gap = spans[i][SPAN_START] - t
        best = i
    return best if gap <= tolerance else None


def wait_at(task: TaskInfo, t: float, now: float) -> tuple[float, int | None] | None:
    """When ``task`` is alive but not running at ``t``: (since, index of the span before
    the wait, whose ``awaiting`` it waits on; None before its first step); else None."""
    died = task.ended if task.ended is not None else now
    if not task.created <= t <= died:
        return None
    spans = task.spans
    i = bisect.bisect_right(spans, t, key=_span_start)
    if i > 0:
        before = spans[i - 1]
        if t < _span_end(before):
            return None  # it ran then
        return _span_end(before), i - 1
    return task.created, None


def step_number(task: TaskInfo, index: int) -> tuple[int, int]:
    """(first, last) step numbers (from 1) a span covers: one step, or a merged run."""
    first = 1 + sum(span[SPAN_STEPS] for span in task.spans[:index])
    return first, first + task.spans[index][SPAN_STEPS] - 1


def next_span(task: TaskInfo, t: float, direction: int) -> int | None:
    """The span starting after ``t`` (``direction`` 1) or the last one starting before it
    (-1): what ``]`` and ``[`` step to."""
    spans = task.spans
    if direction > 0:
        i = bisect.bisect_right(spans, t, key=_span_start)
        return i if i < len(spans) else None
    i = bisect.bisect_left(spans, t, key=_span_start)
    return i - 1 if i > 0 else None


def next_time(times: list[float], t: float, direction: int) -> float | None:
    """The first of the sorted ``times`` after ``t`` (``direction`` 1) or the last before it."""
    if direction > 0:
        i = bisect.bisect_right(times, t)
        return times[i] if i < len(times) else None
    i = bisect.bisect_left(times, t)
    return times[i - 1] if i > 0 else None


def spans_in(task: TaskInfo, start: float, end: float) -> list[Span]:
    """The spans that touch ``start``..``end``: a zoomed-in lane looks at these only."""
    spans = task.spans
    lo = bisect.bisect_left(spans, start, key=_span_end)
    hi = bisect.bisect_right(spans, end, key=_span_start)
    return spans[lo:hi]


def wait_labels(task: TaskInfo, cells: str, start: float, end: float) -> list[tuple[int, str]]:
    """(column, text) of what each wait drawn in ``cells`` was on, for the waits long enough
    to hold it with a cell of line either side (``─sleep(1)──``)."""
    n = len(cells)
    out: list[tuple[int, str]] = []
    c = 0
    while c < n:
        if cells[c] != WAIT:
            c += 1
            continue
        run = c
        while c < n and cells[c] == WAIT:
            c += 1
        length = c - run
        if length < 4:
            continue
        t = cell_time(run, start, end, n)
        i = bisect.bisect_right(task.spans, t, key=_span_start)
        what = task.spans[i - 1][SPAN_AWAITING] if i > 0 else None
        if what and len(what) + 2 <= length:
            out.append((run + 1, what))
    return out


def zoom(
    start: float, end: float, centre: float, factor: float, least: float = 1e-6
) -> tuple[float, float]:
    """The window ``factor`` times as long (below 1: zoomed in), ``centre`` staying at the
    same place on screen; never before 0 and never shorter than ``least`` seconds."""
    span = max(least, (end - start) * factor)
    share = (centre - start) / (end - start) if end > start else 0.5
    share = min(1.0, max(0.0, share))
    new_start = max(0.0, centre - share * span)
    return new_start, new_start + span


def pan(start: float, end: float, by: float) -> tuple[float, float]:
    """The window moved ``by`` seconds (negative: back), never before 0."""
    span = end - start
    new_start = max(0.0, start + by)
    return new_start, new_start + span


def clamp(start: float, end: float, last: float) -> tuple[float, float]:
    """The window kept as long, moved back so that it never goes past ``last`` (the
    run's end at its right edge at most) nor before 0: panning stops at both ends."""
    span = end - start
    new_start = max(0.0, min(start, last - span))
    return new_start, new_start + span


def grown_end(now: float, parts: int = 16) -> float:
    """The end of a window that holds a live run up to ``now`` and grows in steps of about
    1/``parts`` of it: the picture (and every lane's cells) stays put for several ticks
    instead of shifting on each one, with at most ~1/8 of the width still ahead."""
    if not now > 0 or not math.isfinite(now):
        return 1e-3
    step = nice_step(now, parts)
    return max(1e-3, math.ceil(now / step - 1e-9) * step)
