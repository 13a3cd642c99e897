"""The timeline pane: one lane per task, its steps drawn beside its name, a cursor in time.

A line-API widget like the task table. Line 0 is the time axis, the last line the detail
of what is under the cursor, and every line between is a lane. Only the lanes on screen
are ever computed: each lane's cells come from ``timeline.lane_cells`` over the spans in
the window (``timeline.spans_in``) and are kept until the window, the width or the task
changes, so a tick with 10,000 tasks costs what the few visible lanes cost.

No mark hides another: a step sharing a cell with its task's end keeps the cell and the
end mark moves to the next one (``tl.lane_cells(keep_steps=True)``: ``▌┤``); a warning's
``⚠`` goes beside a step or end mark it would cover, in the nearest free cell at most two
away (``tl.warning_column``: ``▌⚠``, ``███┤⚠``), else the mark stays in warning colours.
Where a warning is drawn is where the cursor finds it.

While the run goes the window grows to hold all of it (``follow``); once the learner
zooms or pans it stays where they put it, until ``0`` or ``f`` fits and follows again.
"""

from __future__ import annotations

import math
import os
import re
from itertools import islice

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from asyncplay.model import RunModel, TaskInfo
from asyncplay.tui.panes.task_table import NO_NAME, NO_NAME_STYLE
from asyncplay.tui.panes.task_view import TaskView
from asyncplay.views import timeline as tl
from asyncplay.views.text_cells import clean, fit

WARNINGS_LANE = -1  # the lane of warnings that belong to no task shown
MAX_LANES_KEPT = 2048  # lanes' cells kept for scrolling back
DETAIL_NAME = 24  # a task's name in the detail line, cut in the middle past this
LEAST_SPAN = 1e-6  # seconds: the narrowest window zooming in reaches

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

#: Every key of the focused pane, for the help screen.
TIMELINE_HELP: tuple[tuple[str, str], ...] = (
    ("up / down", "Move the cursor to the previous / next task's lane."),
    ("pageup / pagedown", "Move the cursor a screen of lanes up / down."),
    ("home / end", "Go to the first / last lane."),
    ("left / right", "Move the cursor one column back / on in time (the view follows)."),
    (
        "[ / ] (shift+left / right)",
        "Go to the previous / next step of the task under the cursor (on the warnings "
        "lane: the previous / next warning).",
    ),
    ("+ / =", "Zoom in around the cursor."),
    ("-", "Zoom out."),
    ("< / >", "Pan half a screen back / on in time."),
    ("0 / f", "Fit the whole run and follow it live while it goes."),
    ("enter", "Show the step under the cursor in the editor (or explain its warning)."),
    ("e", "Explain the warning under the cursor (the yellow ⚠ cells)."),
    ("i", "Show or hide asyncio's internal tasks."),
    ("click", "Put the cursor on a lane at a time; click it again to go to its line."),
)


def _where(file: str | None, line: int | None, target: str | None = None) -> str:
    """``line 22`` in the program itself, ``other.py:22`` elsewhere: the line is short."""
    if not file or not line:
        return ""
    if file == target:
        return f"line {line}"
    return f"{os.path.basename(file)}:{line}"


def cancelled_by(model: RunModel, info: TaskInfo, target: str | None = None) -> str:
    """``by main at line 12``, ``timeout at line 9``, ``by cancel() at other.py:3``, or ""
    when nobody knows: ``report.cancelled_by``'s words with the pane's ``line N``."""
    src = info.cancel_source if isinstance(info.cancel_source, dict) else None
    if not src:
        return ""
    cause = str(src.get("cause") or "unknown")
    line = src.get("line")
    where = _where(src.get("file"), line if isinstance(line, int) else None, target)
    by_id = src.get("by")
    by = model.tasks.get(by_id) if isinstance(by_id, int) else None
    if cause == "cancel":
        text = f"by {by.name or NO_NAME}" if by is not None else "by cancel()"
    elif cause == "unknown" and not where:
        return ""
    else:
        text = cause
    return f"{text} at {where}" if where else text


def _splice(text: str, kinds: str, col: int, new: str, kind: str) -> tuple[str, str]:
    """``new`` drawn over ``text`` from ``col`` (cut at its end), its cells styled ``kind``."""
    new = new[: max(0, len(text) - col)]
    end = col + len(new)
    return text[:col] + new + text[end:], kinds[:col] + kind * len(new) + kinds[end:]


def _cancel_text(lane: _Lane, end_col: int, text: str, kinds: str) -> tuple[str, str]:
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


class _Lane:
    """A lane as last computed: its key says when it must be computed again."""

    __slots__ = ("key", "cells", "labels", "cancel")

    def __init__(self, key: tuple, cells: str, labels: list, cancel: str) -> None:
        self.key = key
        self.cells = cells
        self.labels = labels
        self.cancel = cancel


class TimelinePane(TaskView):
    """The run's tasks against time; ``+``/``-`` zoom, ``[``/``]`` walk a task's steps."""

    DEFAULT_CSS = """
    TimelinePane { background: $surface; overflow-x: hidden; overflow-y: auto; }
    TimelinePane:focus { background-tint: $foreground 5%; }
    """

    BINDINGS = [
        Binding("left", "column(-1)", "Earlier", show=False),
        Binding("right", "column(1)", "Later", show=False),
        Binding("left_square_bracket,shift+left", "step(-1)", "Prev step", show=False),
        Binding("right_square_bracket,shift+right", "step(1)", "Step", key_display="[ ]"),
        Binding("plus,equals_sign", "zoom(0.5)", "Zoom in", key_display="+"),
        Binding("minus", "zoom(2)", "Zoom out", key_display="-"),
        Binding("0,f", "fit", "Fit", key_display="0"),
        Binding("less_than_sign", "pan(-1)", "Pan back", show=False),
        Binding("greater_than_sign", "pan(1)", "Pan on", show=False),
        Binding("enter", "choose", "Go to its line"),
        Binding("e", "explain", "Explain"),
        Binding("i", "toggle_internal", "Internal tasks"),
    ]

    class StepChosen(Message):
        """The cursor is on another task or step (``enter`` or a second click: ``jump``)."""

        def __init__(
            self,
            task: int | None,
            t: float | None,
            file: str | None,
            line: int | None,
            jump: bool = False,
        ) -> None:
            super().__init__()
            self.task = task
            self.t = t
            self.file = file
            self.line = line
            self.jump = jump

    class WarningChosen(Message):
        """``e`` (or ``enter``) on a warning cell: the app explains it."""

        def __init__(self, warning: dict) -> None:
            super().__init__()
            self.warning = warning

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model: RunModel | None = None
        self.program: str | None = None  # the program's own path (show)
        self.show_internal = False
        self.follow = True
        # The user put the cursor at a moment (until a new run or a fit): the await graph
        # shows the cursor's moment instead of now. Until then the cursor stays at now,
        # so the detail line tells what the task under it is doing (or how it ended).
        self.cursor_placed = False
        self.start = 0.0
        self.end = 1e-3
        self.lanes_computed = 0  # lanes whose cells were computed (tests watch it)
        self._width, self._height = 0, 0
        self._now = 0.0  # the run's time (``sync``'s now), see _set_now
        self._base: Style | None = None  # rich_style, until the styles change
        self._reset()

    def _set_now(self, now: float) -> None:
        """The run's time: the app's (program time, running on between events while the
        run goes, so waits grow while every task sleeps), never before the model's."""
        m = self.model
        if m is None:
            return
        live = m.status != "ended" and isinstance(now, (int, float)) and math.isfinite(now)
        self._now = max(m.now, float(now)) if live else m.now

    def _measure(self) -> None:
        """The size, read once per line drawn or tick: ``Widget.size`` is not cheap, and
        a tick asks for the lanes' geometry thousands of times. The width is what the
        vertical scrollbar leaves: cells under it would be hidden, and a fit must show the
        whole run, its last ends and the axis's last label included."""
        size = self.size
        self._width = max(0, size.width - self.scrollbar_size_vertical)
        self._height = size.height

    def _reset(self) -> None:
        self._order: list[int] = []  # task ids in creation order, the shown ones
        self._row_of: dict[int, int] = {}
        self._seen = 0  # tasks of model.tasks looked at
        self._longest = 4  # longest name seen, for the label column
        self._warn_seen = 0
        self._warnings: dict[int, list[dict]] = {}  # lane id -> its warnings
        self._lanes: dict[int, _Lane] = {}  # bounded: cleared past MAX_LANES_KEPT
        self._strips: LRUCache[tuple, Strip] = LRUCache(256)
        self._cursor_task: int | None = None  # lane id (a task or WARNINGS_LANE)
        self._cursor_t = 0.0
        self._posted: tuple | None = None  # what StepChosen last said
        self._detail_two = False  # the detail took two lines when last fitted
        self._drawn_window: tuple = ()

    # ---- the public side ---------------------------------------------------------------

    def show(self, model: RunModel | None, program: str | None = None) -> None:
        """A new run (or none): drop every lane, fit the window and follow. ``program``:
        the file the app runs or replays, so its lines read ``line 12`` whatever path the
        run's ``run_start`` names it by (a replay's is the recorded one)."""
        self.model = model
        self.program = program
        self._measure()
        self._reset()
        self._lanes.clear()
        self.follow = True
        self.cursor_placed = False
        self.start, self.end = 0.0, 1e-3
        self._now = 0.0
        self._set_now(model.now if model is not None else 0.0)
        self._catch_up()
        self._fit_window()
        self._cursor_t = self._live_time()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def sync(self, now: float) -> None:
        """The app's tick: new tasks and warnings, the window while following, and the
        visible lanes that changed since they were drawn."""
        if self.model is None:
            return
        self._set_now(now)
        self._measure()
        rows_before = self._row_count
        warned = self._catch_up()
        if self.follow:
            self._fit_window()
        if not self.cursor_placed and self._cursor_t != self._now:
            before = self._cursor_col()
            self._cursor_t = self._now  # the cursor stays at now until placed
            if self._cursor_col() != before:
                self.refresh_line(0)  # the axis marks the cursor's column
                row = self._cursor_row() - self.scroll_offset.y
                if 0 <= row < self._lane_lines:
                    self.refresh_line(row + 1)
        if self._row_count != rows_before or warned:
            self._resize()
            self.refresh()
            return
        window = self._window_key()
        if window != self._drawn_window:
            self.refresh()
            return
        top = self.scroll_offset.y
        for y in range(1, self._lane_lines + 1):
            lane = self._lane_id(top + y - 1)
            if lane is None:
                break
            if lane != WARNINGS_LANE and self._lane_key(lane) != self._lane_key_drawn(lane):
                self.refresh_line(y)
        if self._height >= 2:
            self.refresh_line(self._height - 1)  # the detail line: "since", "now" move
            if self._spare_line():  # its first line when it needs (or needed) two
                before = self._detail_two
                if len(self._detail_lines(self._width)) == 2 or before:
                    self.refresh_line(self._height - 2)
            if not self._row_count:
                self.refresh_line(1)  # why there is no lane: the run may have ended

    def select_task(self, task_id: int | None) -> None:
        """Put the cursor on ``task_id``'s lane (the app's selection): posts nothing."""
        if task_id is None or task_id not in self._row_of:
            return
        self._cursor_task = task_id
        self._scroll_to_cursor()
        self._posted = self._spot_key()
        self.refresh()

    def set_internal(self, value: bool) -> None:
        """Show or hide asyncio's own tasks (the one toggle the app applies everywhere)."""
        if value == self.show_internal:
            return
        self.show_internal = value
        self._rebuild_order()
        self.refresh()

    @property
    def cursor_task(self) -> int | None:
        lane = self._cursor_lane()
        return None if lane is None or lane == WARNINGS_LANE else lane

    @property
    def cursor_time(self) -> float | None:
        """The cursor's time in run seconds (the await graph can show that moment)."""
        return None if self.model is None else self._cursor_t

    @property
    def lane_count(self) -> int:
        return self._row_count

    def warning_at_cursor(self) -> dict | None:
        lane = self._cursor_lane()
        if lane is None:
            return None
        col = self._cursor_col()
        for drawn, _over, warning in self._warning_marks(lane):
            if drawn == col:
                return warning
        return None

    def _warning_marks(self, lane_id: int) -> list[tuple[int, bool, dict]]:
        """(column, over, warning) of the lane's warnings in the window, where they are
        drawn: beside a step or an end mark rather than over it (``tl.warning_column``)."""
        warnings = self._warnings.get(lane_id)
        if not warnings:
            return []
        cells = "" if lane_id == WARNINGS_LANE else self._lane(lane_id).cells
        cells = cells.replace(CUT, tl.DONE)  # a cut-off mark is an end mark too
        out: list[tuple[int, bool, dict]] = []
        taken: set[int] = set()
        for warning in warnings:
            col = self._col(warning.get("t"))
            if col is None:
                continue
            if cells:
                col, over = tl.warning_column(cells, col, taken)
            else:
                over = False
            taken.add(col)
            out.append((col, over, warning))
        return out

    # ---- lanes and the window ----------------------------------------------------------

    @property
    def _row_count(self) -> int:
        return len(self._order) + (1 if self._warnings.get(WARNINGS_LANE) else 0)

    def _lane_id(self, row: int) -> int | None:
        """The lane at ``row``: WARNINGS_LANE first when there is one, then the tasks."""
        top = 1 if self._warnings.get(WARNINGS_LANE) else 0
        if row < top:
            return WARNINGS_LANE if row >= 0 else None
        index = row - top
        return self._order[index] if 0 <= index < len(self._order) else None

    def _row(self, lane: int) -> int | None:
        top = 1 if self._warnings.get(WARNINGS_LANE) else 0
        if lane == WARNINGS_LANE:
            return 0 if top else None
        index = self._row_of.get(lane)
        return None if index is None else index + top

    def _cursor_lane(self) -> int | None:
        if self._cursor_task is not None and self._row(self._cursor_task) is not None:
            return self._cursor_task
        return self._lane_id(0)

    def _cursor_row(self) -> int:
        lane = self._cursor_lane()
        row = self._row(lane) if lane is not None else None
        return row or 0

    def _catch_up(self) -> bool:
        """Take in new tasks and warnings; True when a warning came (lanes to redraw)."""
        m = self.model
        if m is None:
            return False
        if self._seen < len(m.tasks):
            for info in islice(m.tasks.values(), self._seen, None):
                if self.show_internal or not info.internal:
                    self._row_of[info.id] = len(self._order)
                    self._order.append(info.id)
                self._longest = max(self._longest, len(info.label or NO_NAME))
            self._seen = len(m.tasks)
            self._resize()
        if self._warn_seen < len(m.warnings):
            for warning in islice(m.warnings, self._warn_seen, None):
                self._file_warning(warning)
            self._warn_seen = len(m.warnings)
            self._resize()
            return True
        return False

    def _file_warning(self, warning: dict) -> None:
        task = warning.get("task")
        lane = task if isinstance(task, int) and task in self._row_of else WARNINGS_LANE
        self._warnings.setdefault(lane, []).append(warning)

    def _rebuild_order(self) -> None:
        m = self.model
        if m is None:
            return
        self._order = [
            info.id
            for info in islice(m.tasks.values(), 0, self._seen)
            if self.show_internal or not info.internal
        ]
        self._row_of = {tid: i for i, tid in enumerate(self._order)}
        self._warnings = {}
        for warning in islice(m.warnings, 0, self._warn_seen):
            self._file_warning(warning)
        self._resize()
        self._scroll_to_cursor()

    def _resize(self) -> None:
        # Lanes, plus the axis and the detail line that stay on screen.
        self.virtual_size = Size(self._width, self._row_count + 2)

    @property
    def _lane_lines(self) -> int:
        return max(0, self._height - 2)

    @property
    def _label_width(self) -> int:
        width = self._width
        most = max(8, min(24, width // 5))
        return min(most, max(8, self._longest))

    @property
    def _cells(self) -> int:
        return max(1, self._width - self._label_width - 1)

    def _full_end(self) -> float:
        """The whole run: to ``now`` once it ended, a little past it while it goes."""
        m = self.model
        if m is None:
            return 1e-3
        return max(m.now, 1e-3) if m.status == "ended" else tl.grown_end(self._now)

    def _in_run(self, start: float, end: float) -> tuple[float, float]:
        """The window moved back, if it must, so that it ends at the run's end at most:
        panning on stops there as panning back stops at 0."""
        return tl.clamp(start, end, self._full_end())

    def _fit_window(self) -> None:
        self.start, self.end = 0.0, self._full_end()

    def _window_key(self) -> tuple:
        return (self.start, self.end, self._cells, self._label_width)

    def _col(self, t: object) -> int | None:
        if not isinstance(t, (int, float)):
            return None
        return tl.column(float(t), self.start, self.end, self._cells)

    def _cursor_col(self) -> int | None:
        return self._col(self._cursor_t)

    def _lane_key(self, tid: int) -> tuple:
        """What a lane's cells depend on: the window and the task's progress."""
        info = self.model.tasks[tid]  # type: ignore[union-attr]
        alive_to = None  # a live task's wait reaches the column of now: only that counts
        if info.ended is None:
            now = self._now
            alive_to = self._cells if now > self.end else self._col(now)
        return (
            self._window_key(),
            info.name,
            len(info.spans),
            info.spans[-1] if info.spans else None,
            info.state,
            info.ended,
            alive_to,
            info.last_active,
            info.cancel_source is not None,
            info.unfinished,
        )

    def _lane_key_drawn(self, tid: int) -> tuple | None:
        lane = self._lanes.get(tid)
        return lane.key if lane is not None else None

    def _lane(self, tid: int) -> _Lane:
        key = self._lane_key(tid)
        lane = self._lanes.get(tid)
        if lane is not None and lane.key == key:
            return lane
        m = self.model
        assert m is not None
        info = m.tasks[tid]
        cells = self._compute_cells(info)
        labels = tl.wait_labels(info, cells, self.start, self.end)
        target = self.program or m.target
        cancel = cancelled_by(m, info, target) if info.state == "cancelled" else ""
        if len(self._lanes) >= MAX_LANES_KEPT:
            self._lanes.clear()  # lanes scrolled past long ago: computed again if seen
        lane = self._lanes[tid] = _Lane(key, cells, labels, cancel)
        return lane

    def _compute_cells(self, info: TaskInfo) -> str:
        self.lanes_computed += 1
        m = self.model
        assert m is not None
        spans = tl.spans_in(info, self.start, self.end)
        cells = tl.lane_cells(
            info, self.start, self.end, self._cells, self._now, spans, keep_steps=True
        )
        if info.unfinished:  # alive when the run ended: its lane stops at a ╳ there
            col = tl.column(m.now, self.start, self.end, self._cells)
            if col is not None:
                if cells[col] in tl.RAN and col + 1 < len(cells):
                    col += 1  # the step it was in keeps its cell, as an end mark does
                cells = cells[:col] + CUT + cells[col + 1 :]
        return cells

    # ---- drawing -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        self._measure()
        width, height = self._width, self._height
        base = self._base
        if base is None:  # Widget.rich_style walks the ancestors: once, not per line
            base = self._base = self.rich_style
        if self.model is None:
            if y == 0:
                return self._strip([("no run yet: press F5 to run it", AXIS_STYLE)], width, base)
            return Strip.blank(width, base)
        if y == 0:
            self._drawn_window = self._window_key()
            return self._header(width, base)
        if not self._row_count:  # why there is no lane, once, where the lanes would be
            if y == 1:
                return self._strip([(" " + no_task_text(self.model), DETAIL_STYLE)], width, base)
            return Strip.blank(width, base)
        if y == height - 1 and height >= 2:
            return self._strip([(self._detail_lines(width)[-1], DETAIL_STYLE)], width, base)
        row = self.scroll_offset.y + y - 1
        lane = self._lane_id(row)
        if lane is None or y > self._lane_lines:
            if y == height - 2 and lane is None and y > 1:  # room under the lanes
                detail = self._detail_lines(width)
                if len(detail) == 2:  # a detail too long for one line takes it
                    return self._strip([(detail[0], DETAIL_STYLE)], width, base)
                legend = next((x for x in LEGENDS if len(x) < width), LEGENDS[-1])
                return self._strip([(" " + legend, AXIS_STYLE)], width, base)
            return Strip.blank(width, base)
        return self._lane_strip(lane, row == self._cursor_row(), width, base)

    def _strip(self, parts: list[tuple[str, Style]], width: int, base: Style) -> Strip:
        segments = [Segment(text, base + style) for text, style in parts if text]
        return Strip(segments).crop_extend(0, width, base)

    def _header(self, width: int, base: Style) -> Strip:
        label_width, cells = self._label_width, self._cells
        m = self.model
        word = "virtual" if m is not None and m.clock == "virtual" else "time"
        lay = tl.Layout(self.start, self.end, cells, [], tl.ticks(self.start, self.end, cells), 0)
        _line, labels = tl.axis(lay, last_inside=True)
        text = list(labels.ljust(cells))
        for col, _t in lay.ticks:  # the tick's place, where its label left room
            if text[col] == " ":
                text[col] = "┊"
        parts = [(fit(word, label_width) + " ", Style(bold=True))]
        col = self._cursor_col()
        if col is None:
            parts.append(("".join(text), AXIS_STYLE))
        else:  # the cursor's column, marked on the axis too
            if text[col] == " ":
                text[col] = "▼"
            parts += [
                ("".join(text[:col]), AXIS_STYLE),
                (text[col], CURSOR_STYLE),
                ("".join(text[col + 1 :]), AXIS_STYLE),
            ]
        return self._strip(parts, width, base)

    def _lane_strip(self, lane_id: int, is_cursor: bool, width: int, base: Style) -> Strip:
        """A lane's line, kept while nothing it shows changed (most lanes, most ticks)."""
        m = self.model
        assert m is not None
        lane = None if lane_id == WARNINGS_LANE else self._lane(lane_id)
        info = None if lane is None else m.tasks[lane_id]
        cursor = (self._cursor_col(), self.has_focus) if is_cursor else None
        key = (
            lane_id,
            lane.key if lane is not None else self._window_key(),
            info.name if info is not None else "",
            len(self._warnings.get(lane_id, ())),
            cursor,
            width,
            base,
        )
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._draw_lane(lane_id, lane, info, cursor, width, base)
        return strip

    def _draw_lane(
        self,
        lane_id: int,
        lane: _Lane | None,
        info: TaskInfo | None,
        cursor: tuple[int | None, bool] | None,
        width: int,
        base: Style,
    ) -> Strip:
        label_width, n = self._label_width, self._cells
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
        for col, over, _warning in self._warning_marks(lane_id):
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

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base = None
        self._strips.clear()

    # ---- the detail line ---------------------------------------------------------------

    def detail(self) -> str:
        """What is under the cursor, in words: a step, a wait, an end, a warning."""
        return SEP.join(text for text, _rank in self._detail_parts())

    def _detail_parts(self) -> list[Part]:
        m = self.model
        if m is None:
            return []
        lane = self._cursor_lane()
        if lane is None:
            return [(no_task_text(m), 0)]
        warning = self.warning_at_cursor()
        if warning is not None:
            kind = warning.get("kind", "warning")
            message = str(warning.get("message", ""))
            when = tl.seconds_text(float(warning.get("t") or 0))
            return [(f"⚠ {kind} at {when} (e explains)", 0), (message, 0)]  # the key first
        if lane == WARNINGS_LANE:
            count = len(self._warnings.get(WARNINGS_LANE, ()))
            return [(f"{count} warning(s) of no task shown: move onto a ⚠ and press e", 0)]
        return detail_parts(
            m, m.tasks[lane], self._cursor_t, self._tolerance(), self._now, self.program
        )

    def _spare_line(self) -> bool:
        """The line above the detail holds no lane: the detail may take it (else the
        legend does)."""
        height = self._height
        return height >= 4 and self._lane_id(self.scroll_offset.y + height - 3) is None

    def _detail_lines(self, width: int) -> list[str]:
        """The detail fitted to the pane: one line, or two when the line above is free."""
        lines = 2 if self._spare_line() else 1
        out = [" " + line for line in fit_detail(self._detail_parts(), width - 1, lines)]
        self._detail_two = len(out) == 2
        return out

    def _tolerance(self) -> float:
        return (self.end - self.start) / self._cells / 2

    # ---- the cursor and the window -----------------------------------------------------

    def _spot_key(self) -> tuple:
        """Where the cursor is: its lane and its moment. A move to another one is told
        (StepChosen); zooming or panning around an unmoved cursor is not."""
        return (self._cursor_lane(), self._cursor_t)

    def _where_at_cursor(self) -> tuple[str | None, int | None]:
        task = self.cursor_task
        if task is None or self.model is None:
            return None, None
        info = self.model.tasks[task]
        index = tl.span_at(info, self._cursor_t, self._tolerance())
        if index is None:
            wait = tl.wait_at(info, self._cursor_t, self._now)
            index = wait[1] if wait is not None else None
        if index is not None:
            span = info.spans[index]
            if span[5] and span[6]:
                return span[5], span[6]
        return info.file, info.line

    def _place(self, t: float) -> None:
        """The user put the cursor at ``t``: it stays there, no longer at now."""
        self._cursor_t = t
        self.cursor_placed = True

    def _live_time(self) -> float:
        return self._now

    def _moved(self) -> None:
        """After any cursor move: redraw, and tell the app if it is on another step."""
        self.refresh()
        key = self._spot_key()
        if key != self._posted:
            self._posted = key
            file, line = self._where_at_cursor()
            self.post_message(self.StepChosen(self.cursor_task, self._cursor_t, file, line))

    def _scroll_to_cursor(self) -> None:
        row = self._cursor_row()
        top = self.scroll_offset.y
        lines = max(1, self._lane_lines)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + lines:
            self.scroll_to(y=row - lines + 1, animate=False, immediate=True)

    def _set_row(self, row: int) -> None:
        if not self._row_count:
            return
        row = max(0, min(self._row_count - 1, row))
        self._cursor_task = self._lane_id(row)
        self._scroll_to_cursor()
        self._moved()

    def _show_time(self, t: float) -> None:
        """Move the window (no longer following) so that ``t`` is on screen."""
        span = self.end - self.start
        if self.start <= t <= self.end:
            return
        self.follow = False
        if t < self.start:
            self.start, self.end = tl.pan(self.start, self.end, t - self.start - span * 0.1)
        else:
            self.start, self.end = tl.pan(self.start, self.end, t - self.end + span * 0.1)
        self.start, self.end = self._in_run(self.start, self.end)

    def action_move(self, delta: int) -> None:
        self._set_row(self._cursor_row() + delta)

    def action_page(self, direction: int) -> None:
        self._set_row(self._cursor_row() + direction * max(1, self._lane_lines - 1))

    def action_edge(self, end: int) -> None:
        self._set_row(self._row_count - 1 if end else 0)

    def action_column(self, delta: int) -> None:
        if self.model is None:
            return
        n = self._cells
        col = self._cursor_col()
        if col is None:  # off screen: come back at the edge it left by
            col = 0 if self._cursor_t < self.start else n - 1
        col += delta
        dt = (self.end - self.start) / n
        if col < 0:
            if self.start <= 0:
                col = 0
            else:
                self.follow = False
                self.start, self.end = tl.pan(self.start, self.end, -dt)
                col = 0
        elif col >= n:
            self.follow = False
            self.start, self.end = self._in_run(*tl.pan(self.start, self.end, dt))
            col = n - 1
        self._place(tl.cell_time(col, self.start, self.end, n))
        self._moved()

    def action_step(self, direction: int) -> None:
        """The task's next (previous) step; on the warnings lane, the next warning."""
        lane = self._cursor_lane()
        if lane is None or self.model is None:
            return
        if lane == WARNINGS_LANE:
            times = sorted(
                float(w["t"])
                for w in self._warnings.get(lane, ())
                if isinstance(w.get("t"), (int, float))
            )
            t = tl.next_time(times, self._cursor_t, direction)
        else:
            info = self.model.tasks[lane]
            # From the live cursor (at now), ] starts the walk at the task's first step.
            since = self._cursor_t if self.cursor_placed or direction < 0 else -math.inf
            index = tl.next_span(info, since, direction)
            t = None if index is None else info.spans[index][0]
        if t is None:
            self.app.bell()
            return
        self._place(t)
        self._show_time(t)
        self._moved()

    def action_zoom(self, factor: float) -> None:
        if self.model is None:
            return
        self.follow = False
        centre = self._cursor_t if self.start <= self._cursor_t <= self.end else None
        if centre is None:
            centre = (self.start + self.end) / 2
        least = LEAST_SPAN * self._cells
        self.start, self.end = tl.zoom(self.start, self.end, centre, factor, least)
        full = self._full_end()
        if factor > 1 and self.end - self.start >= full * 2:
            self._fit_window()  # zoomed out past the whole run: just the run
        else:
            self.start, self.end = self._in_run(self.start, self.end)
        self._moved()

    def action_pan(self, direction: int) -> None:
        if self.model is None:
            return
        self.follow = False
        by = direction * (self.end - self.start) / 2
        self.start, self.end = self._in_run(*tl.pan(self.start, self.end, by))
        if not self.start <= self._cursor_t <= self.end:
            self._place((self.start + self.end) / 2)
        self._moved()

    def action_fit(self) -> None:
        self.follow = True
        self._fit_window()
        self.cursor_placed = False
        self._cursor_t = self._live_time()
        self._moved()

    def action_choose(self) -> None:
        warning = self.warning_at_cursor()
        if warning is not None:
            self.post_message(self.WarningChosen(warning))
            return
        task = self.cursor_task
        if task is None:
            return
        file, line = self._where_at_cursor()
        self.post_message(self.StepChosen(task, self._cursor_t, file, line, jump=True))

    def action_explain(self) -> None:
        warning = self.warning_at_cursor()
        if warning is None:
            self.notify("No warning under the cursor: move onto a ⚠ cell.", severity="warning")
            return
        self.post_message(self.WarningChosen(warning))

    def on_click(self, event: events.Click) -> None:
        if self.model is None:
            return
        x = event.x - self._label_width - 1
        col = x if 0 <= x < self._cells else None
        if event.y == 0 and col is not None:  # the axis: that time, the same lane
            self._place(tl.cell_time(col, self.start, self.end, self._cells))
            self._moved()
            return
        if event.y == 0 or event.y >= self._height - 1:
            return
        row = self.scroll_offset.y + event.y - 1
        lane = self._lane_id(row)
        if lane is None:
            return
        if lane == self._cursor_lane() and (col is None or col == self._cursor_col()):
            self.action_choose()
            return
        self._cursor_task = lane
        if col is not None:
            self._place(tl.cell_time(col, self.start, self.end, self._cells))
        self._moved()

    def on_resize(self) -> None:
        self._measure()
        self._resize()

    def on_focus(self) -> None:
        self._base = None
        self.refresh()

    def on_blur(self) -> None:
        self._base = None
        self.refresh()


def no_task_text(model: RunModel) -> str:
    """Why there is no lane, from the model: none yet, only hidden internal tasks, or the
    run ended without a task. ``asyncio.run`` always makes a task of ``main()``, so a run
    that ended with none never reached it (a SyntaxError, a plain script, an early exit)."""
    if model.status != "ended":
        return "no tasks yet"
    if model.tasks:
        return f"only asyncio's internal tasks ({len(model.tasks)}): i shows them"
    end = model.end or {}
    code = model.exit_code
    if end.get("reason", "exited") != "exited":
        message = str(end.get("message") or end.get("reason"))
        return f"no task: the run ended before asyncio.run ({message})"
    if code == 0:
        return "no task: the program ended (exit 0) without reaching asyncio.run"
    return f"no task: the program ended (exit {code}) before asyncio.run: see the Output"


#: A part of the detail line: (text, rank). Rank 0 is never dropped; when the line is too
#: narrow the highest ranks go first (the moment, the step count, the duration, the lines),
#: so what the task awaited next is the last thing standing after its name.
Part = tuple[str, int]
SEP = " · "
WRAP_BELOW = 4  # parts ranked this or more are dropped before the detail takes two lines


def describe_at(
    model: RunModel,
    info: TaskInfo,
    t: float,
    tolerance: float,
    now: float | None = None,
    program: str | None = None,
) -> str:
    """The detail line for ``info`` at ``t``: the step there, the wait, or its end."""
    parts = detail_parts(model, info, t, tolerance, now, program)
    return SEP.join(text for text, _rank in parts)


def detail_parts(
    model: RunModel,
    info: TaskInfo,
    t: float,
    tolerance: float,
    now: float | None = None,
    program: str | None = None,
) -> list[Part]:
    """The detail of ``info`` at ``t`` in parts, its name first (``fit_detail`` fits them).

    A step says the lines it ran between, as the await graph does: it resumed at the line
    its previous step stopped at (``from line 5``, what the graph shows as ``▶ running``)
    and stopped at its own (``to 6``, where it then awaited)."""
    name = tl.shorten(info.name or NO_NAME, DETAIL_NAME)
    target = program or model.target
    if info.unfinished and t >= model.now - tolerance:  # at its ╳: the run ended first
        return [(name, 0), (f"cut off at {tl.seconds_text(model.now)} ({_why_ended(model)})", 0)]
    index = tl.span_at(info, t, tolerance)
    if index is not None:
        span = info.spans[index]
        first, last = tl.step_number(info, index)
        steps = f"step {first}" if first == last else f"steps {first}-{last}"
        parts: list[Part] = [(name, 0), (f"{steps}/{info.steps}", 3)]
        before = info.spans[index - 1] if index > 0 else None
        resumed = _where(before[5], before[6], target) if before is not None else ""
        stopped = _where(span[5], span[6], target)
        if index == 0:
            resumed = "its start"
        ended = index == len(info.spans) - 1 and info.finished and not span[4]
        if stopped and resumed == stopped:  # round a loop, back to the same await
            parts.append((f"at {stopped}", 1))
        elif resumed and (stopped or ended):
            if resumed.startswith("line ") and stopped.startswith("line "):
                stopped = stopped[5:]  # from line 5 to 6
            parts.append((f"from {resumed} to {stopped or 'its end'}", 1))
        elif stopped or resumed:
            parts.append((f"to {stopped}" if stopped else f"from {resumed}", 1))
        parts += [(f"ran {tl.seconds_text(span[2])}", 2), (f"at {tl.seconds_text(span[0])}", 4)]
        if span[4]:
            parts.append((f"then {span[4]}", 0))
        elif ended:
            parts.append((f"then {_ending(model, info, target=target)}", 0))
        return parts
    if t < info.created:
        where = _where(info.file, info.line, target)
        return [(name, 0), (f"created at {tl.seconds_text(info.created)}", 0)] + (
            [(f"at {where}", 1)] if where else []
        )
    wait = tl.wait_at(info, t, model.now if now is None else now)
    if wait is not None:
        since, before_index = wait
        if before_index is None:
            return [(name, 0), (f"created at {tl.seconds_text(info.created)}, not started yet", 0)]
        span = info.spans[before_index]
        what = span[4]
        where = _where(span[5], span[6], target)
        what_text = f"waiting on {what}" if what else "ready, waiting for its turn"
        parts = [(name, 0), (what_text, 0), (f"since {tl.seconds_text(since)}", 2)]
        return parts + ([(f"at {where}", 1)] if where else [])
    if info.finished:
        ended_at = info.ended
        when = f" at {tl.seconds_text(ended_at)}" if ended_at is not None else ""
        return [(name, 0), (_ending(model, info, when, target), 0)]
    return [(name, 0), (info.state, 0)]


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


def _why_ended(model: RunModel) -> str:
    """Why the run ended with tasks alive, in a word (``timeout``, ``stopped``, ``memory``):
    ``model.end``'s reason; its message, a sentence, is the status bar's."""
    reason = (model.end or {}).get("reason")
    if reason in (None, "exited"):
        return "the program ended"
    return f"the run ended: {reason}"


def _ending(model: RunModel, info: TaskInfo, when: str = "", target: str | None = None) -> str:
    """``cancelled at 0.20 s by main at line 12``, ``raised ValueError at 1.00 s: boom``,
    ``returned 3 at 2.09 s``."""
    if info.state == "cancelled":
        why = cancelled_by(model, info, target)  # "by main at line 12", "timeout at line 9"
        if why and not why.startswith("by "):
            why = f"({why})"
        return f"cancelled{when}" + (f" {why}" if why else "")
    if info.state == "failed":
        exc = info.exc_type or "an exception"
        return f"raised {exc}{when}" + (f": {info.exc_msg}" if info.exc_msg else "")
    if info.state == "done":
        result = f" {info.result}" if info.result is not None else ""
        return f"returned{result}{when}"
    return f"{info.state}{when}"
