"""How the timeline pane draws a lane: glyphs, styles, the overlays (wait labels, who
cancelled, warnings) and the fitting of the detail line, as Rich segments in a Strip.

Pure functions of a lane's cells (``views.timeline.lane_cells``) and what lies over them;
the pane (``tui/panes/timeline.py``) keeps the window, the cursor and the caches, and
calls these for the lanes on screen only.

No mark hides another: a step sharing a cell with its task's end keeps the cell and the
end mark moves to the next one; a warning's ``⚠`` goes beside a step or end mark it would
cover, in the nearest free cell at most two away, else the mark stays in warning colours.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from asyncplay.model import TaskInfo
from asyncplay.tui.panes.task_view import NO_NAME_STYLE
from asyncplay.views import timeline as tl
from asyncplay.views.task_story import NO_NAME, SEP, WRAP_BELOW, Part
from asyncplay.views.text_cells import clean, fit

__all__ = [
    "GLYPHS",
    "LEGENDS",
    "Lane",
    "axis_parts",
    "draw_lane",
    "draw_object_lane",
    "fit_detail",
    "lane_cells",
    "warning_marks",
]

CUT = "u"  # the pane's own cell code: the run ended (a limit, a stop) with the task alive
GLYPHS = {**tl.UNICODE, CUT: "╳"}
CELL_STYLE = {
    tl.RUN: Style(color="green", bold=True),
    tl.STEP: Style(color="green", bold=True),
    tl.WAIT: Style(dim=True),
    tl.CREATED: Style(dim=True),
    tl.DONE: Style(bold=True),
    tl.CANCELLED: Style(color="yellow", bold=True),
    tl.FAILED: Style(color="red", bold=True),
    CUT: Style(color="magenta", bold=True),  # the task table's "cut off"
}
WAIT_LABEL_STYLE = Style(dim=True, italic=True)
CANCEL_STYLE = Style(color="yellow")
WARNING_MARK = "⚠"
WARNING_STYLE = Style(color="black", bgcolor="yellow", bold=True)
# Style codes of what is drawn over the cells (the cell codes are their own).
LABEL, CANCEL_TEXT, WARNING, CURSOR = "L", "C", "W", "*"
KIND_STYLE: dict[str, Style | None] = {
    **CELL_STYLE,
    LABEL: WAIT_LABEL_STYLE,
    CANCEL_TEXT: CANCEL_STYLE,
    WARNING: WARNING_STYLE,
}
GLYPH_TABLE = str.maketrans(GLYPHS)
#: What the marks mean, on the line above the detail when the lanes leave it free.
LEGEND = "█▌ ran  ─ waiting  ╶ created  ┤ done  ✕ cancelled  ! failed  ╳ cut off  ⚠ warning"
#: Shorter legends for a narrower pane, the most obvious marks left out first.
LEGENDS = (
    LEGEND,
    LEGEND.replace("waiting", "waits"),
    LEGEND.replace("waiting", "waits").replace("  ╶ created", ""),
)
RUNS = re.compile(r"(.)\1*", re.DOTALL)
AXIS_STYLE = Style(dim=True)
INTERNAL_STYLE = Style(dim=True, italic=True)
CURSOR_STYLE = Style(reverse=True)
BLUR_CURSOR_STYLE = Style(underline=True, bold=True)
DETAIL_STYLE = Style(bold=True)


def _splice(text: str, kinds: str, col: int, new: str, kind: str) -> tuple[str, str]:
    """``new`` drawn over ``text`` from ``col`` (cut at its end), its cells styled ``kind``."""
    new = new[: max(0, len(text) - col)]
    end = col + len(new)
    return text[:col] + new + text[end:], kinds[:col] + kind * len(new) + kinds[end:]


def _cancel_text(lane: Lane, end_col: int, text: str, kinds: str) -> tuple[str, str]:
    """Who cancelled the task, written after its ``✕`` if there is room, else at the end of
    the wait the cancellation ended (``─sleep(2)──by main ▌✕``): in full, or its first
    words. The wait's own label gives way if both do not fit."""
    n = len(text)
    last = end_col  # the words go before the step that took the cancellation, if one
    if last > 0 and lane.cells[last - 1] in tl.RAN:
        last -= 1
    wait = last
    while wait > 0 and lane.cells[wait - 1] == tl.WAIT:
        wait -= 1
    said = [_narrow(x) for x in (lane.cancel, lane.cancel.split(" at ")[0])]
    for words in said:
        if end_col + 2 + len(words) <= n:
            return _splice(text, kinds, end_col + 1, " " + words, CANCEL_TEXT)
    for keep_label in (True, False):
        for words in said:
            at = last - len(words) - 1  # the words, a space, then the mark
            if at <= wait:
                continue
            if kinds[at - 1] == LABEL or kinds[at] == LABEL:  # it would cover the label
                if keep_label:
                    continue
                text, kinds = _splice(text, kinds, wait, GLYPHS[tl.WAIT] * (at - wait), tl.WAIT)
            return _splice(text, kinds, at, words + " ", CANCEL_TEXT)
    return text, kinds


def _narrow(text: str) -> str:
    """``text`` with one cell per character, so a lane is exactly as wide as its cells:
    control, wide and combining characters become ``?`` (names are mostly ASCII)."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch if ch.isprintable() and cell_len(ch) == 1 else "?" for ch in text)


class Lane:
    """A lane as last computed: its key says when it must be computed again."""

    __slots__ = ("key", "cells", "labels", "cancel")

    def __init__(self, key: tuple, cells: str, labels: list, cancel: str) -> None:
        self.key = key
        self.cells = cells
        self.labels = labels
        self.cancel = cancel


def lane_cells(
    info: TaskInfo, start: float, end: float, cells: int, now: float, ended: float
) -> str:
    """A task's cells in the window (``tl.lane_cells`` over its spans there, a step never
    hidden by its end mark); a task alive when the run ended at ``ended`` stops at a ``╳``."""
    spans = tl.spans_in(info, start, end)
    out = tl.lane_cells(info, start, end, cells, now, spans, keep_steps=True)
    if info.unfinished:
        col = tl.column(ended, start, end, cells)
        if col is not None:
            if out[col] in tl.RAN and col + 1 < len(out):
                col += 1  # the step it was in keeps its cell, as an end mark does
            out = out[:col] + CUT + out[col + 1 :]
    return out


def warning_marks(
    cells: str, warnings: list[tuple[int | None, dict]]
) -> list[tuple[int, bool, dict]]:
    """(column, over, warning) of a lane's ``warnings`` (each at its column, None: outside
    the window), where they are drawn: beside a step or an end mark rather than over it
    (``tl.warning_column``); ``over`` when no free cell is near. ``cells`` "": the
    warnings lane, nothing to avoid."""
    cells = cells.replace(CUT, tl.DONE)  # a cut-off mark is an end mark too
    out: list[tuple[int, bool, dict]] = []
    taken: set[int] = set()
    for col, warning in warnings:
        if col is None:
            continue
        over = False
        if cells:
            col, over = tl.warning_column(cells, col, taken)
        taken.add(col)
        out.append((col, over, warning))
    return out


def axis_parts(start: float, end: float, cells: int, col: int | None) -> list[tuple[str, Style]]:
    """The time axis over ``cells`` columns from ``start`` to ``end``: tick labels, a ``┊``
    where a label left its tick room, the cursor's column ``col`` marked (``▼``)."""
    lay = tl.Layout(start, end, cells, [], tl.ticks(start, end, cells), 0)
    _line, labels = tl.axis(lay, last_inside=True)
    text = list(labels.ljust(cells))
    for tick, _t in lay.ticks:  # the tick's place, where its label left room
        if text[tick] == " ":
            text[tick] = "┊"
    if col is None:
        return [("".join(text), AXIS_STYLE)]
    if text[col] == " ":  # the cursor's column, marked on the axis too
        text[col] = "▼"
    return [
        ("".join(text[:col]), AXIS_STYLE),
        (text[col], CURSOR_STYLE),
        ("".join(text[col + 1 :]), AXIS_STYLE),
    ]


def draw_lane(
    lane: Lane | None,
    info: TaskInfo | None,
    marks: list[tuple[int, bool, dict]],
    cursor: tuple[int | None, bool] | None,
    label_width: int,
    n: int,
    width: int,
    base: Style,
) -> Strip:
    """One lane's line: the task's label, then its ``n`` cells with their overlays and
    the warning ``marks`` (col, over a mark, warning); no task: the warnings lane. The
    cursor, when on this lane: (its column, whether the pane has focus)."""
    if lane is None or info is None:
        name, name_style = "warnings", Style(color="yellow")
        text, kinds = " " * n, tl.EMPTY * n
    else:
        # Task-2 brew_tea: an unnamed task says what it runs; create_task(name="") is
        # said as the table says it.
        name = info.label or NO_NAME
        name_style = INTERNAL_STYLE if info.internal else Style()
        if not info.name:
            name_style = name_style + NO_NAME_STYLE
        # Two strings as long as the lane: what each cell shows, and its style's
        # code; overlays are spliced in and the styles drawn in runs (no per-cell work).
        text, kinds = lane.cells.translate(GLYPH_TABLE), lane.cells
        for col, label in lane.labels:
            text, kinds = _splice(text, kinds, col, _narrow(label), LABEL)
        end_col = lane.cells.rfind(tl.CANCELLED) if lane.cancel else -1
        if end_col >= 0:
            text, kinds = _cancel_text(lane, end_col, text, kinds)
    for col, over, _warning in marks:
        if over:  # no free cell beside: the step or end mark stays, in warning colours
            kinds = kinds[:col] + WARNING + kinds[col + 1 :]
        else:
            text, kinds = _splice(text, kinds, col, WARNING_MARK, WARNING)
    styles = KIND_STYLE
    if cursor is not None:
        col, focused = cursor
        mark = CURSOR_STYLE if focused else BLUR_CURSOR_STYLE
        if col is not None and col < n:
            under = KIND_STYLE.get(kinds[col]) or Style()
            styles = {**KIND_STYLE, CURSOR: under + mark}
            kinds = kinds[:col] + CURSOR + kinds[col + 1 :]
        name_style = name_style + mark
    label_text = clean(name)  # as the task table shows it: \n, \e made visible
    if cell_len(label_text) == len(label_text):  # cut in the middle: worker-…-17
        label_text = tl.shorten(label_text, label_width).ljust(label_width)
    else:  # wide characters: cut by cells
        label_text = fit(label_text, label_width)
    segments = [Segment(label_text, base + name_style), Segment(" ", base)]
    styled: dict[str, Style] = {}
    for run in RUNS.finditer(kinds):
        kind = run.group(1)
        full = styled.get(kind)
        if full is None:
            style = styles.get(kind)
            full = styled[kind] = base + style if style is not None else base
        segments.append(Segment(text[run.start() : run.end()], full))
    if label_width + 1 + n == width:  # as it is almost always: no cropping to do
        return Strip(segments, width)
    return Strip(segments).crop_extend(0, width, base)


OBJECT_LABEL_STYLE = Style(color="cyan")
QUEUE_STYLE = Style(color="cyan")


def draw_object_lane(
    label: str,
    cells: str,
    codes: bool,
    cursor: tuple[int | None, bool] | None,
    label_width: int,
    n: int,
    width: int,
    base: Style,
) -> Strip:
    """An object's lane (``views.timeline_objects``): its label in cyan, then its ``n``
    cells: a thread's jobs as cell codes (drawn as a task's steps), or a queue's size as
    drawn bars. The cursor, when on this lane: (its column, whether the pane has focus)."""
    text = cells.translate(GLYPH_TABLE) if codes else cells
    kinds = cells if codes else "Q" * len(cells)
    styles: dict[str, Style | None] = {**KIND_STYLE, "Q": QUEUE_STYLE}
    name_style = OBJECT_LABEL_STYLE
    if cursor is not None:
        col, focused = cursor
        mark = CURSOR_STYLE if focused else BLUR_CURSOR_STYLE
        if col is not None and col < len(kinds):
            styles[CURSOR] = (styles.get(kinds[col]) or Style()) + mark
            kinds = kinds[:col] + CURSOR + kinds[col + 1 :]
        name_style = name_style + mark
    if cell_len(label) == len(label):  # cut in the middle: executor…cio_0, as a task's
        label = tl.shorten(label, label_width).ljust(label_width)
    segments = [Segment(fit(label, label_width), base + name_style), Segment(" ", base)]
    for run in RUNS.finditer(kinds):
        style = styles.get(run.group(1))
        segments.append(
            Segment(text[run.start() : run.end()], base + style if style is not None else base)
        )
    return Strip(segments).crop_extend(0, width, base)


def fit_detail(parts: list[Part], width: int, lines: int = 1) -> list[str]:
    """``parts`` in at most ``lines`` lines of ``width`` cells: whole on one line if it
    fits, else without the parts ranked ``WRAP_BELOW`` or more (the moment: the axis's
    ``▼`` shows it), else split over two between parts (when given two, taking the
    legend's line), else without its highest-ranked parts, one at a time; what is still
    too long is cut at its end (its rank-0 parts are then all it has: the name, and what
    the task awaited)."""
    parts = [(clean(text), rank) for text, rank in parts if text]
    width = max(1, width)
    while True:
        texts = [text for text, _rank in parts]
        if cell_len(SEP.join(texts)) <= width:
            return [SEP.join(texts)]
        droppable = [i for i, (_text, rank) in enumerate(parts) if rank > 0]
        wrap = lines >= 2 and all(parts[i][1] < WRAP_BELOW for i in droppable)
        split = _split(texts, width) if wrap else None
        if split is not None and cell_len(split[1]) <= width:
            return split
        if not droppable:
            break
        parts.pop(max(droppable, key=lambda i: parts[i][1]))
    split = _split(texts, width) if lines >= 2 else None
    if split is None:
        return [fit(SEP.join(texts), width).rstrip()]
    return [split[0], fit(split[1], width).rstrip()]


def _split(texts: list[str], width: int) -> list[str] | None:
    """The parts over two lines, as many on the first as fit (the name at least)."""
    if len(texts) < 2 or cell_len(texts[0]) > width:
        return None
    head = texts[0]
    for i, text in enumerate(texts[1:], 1):
        longer = head + SEP + text
        if cell_len(longer) > width:
            return [head, SEP.join(texts[i:])]
        head = longer
    return None
