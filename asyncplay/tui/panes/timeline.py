"""The timeline pane: one lane per task, its steps drawn beside its name, a cursor in time.

A line-API widget like the task table. Line 0 is the time axis, the last line the detail
of what is under the cursor, and every line between is a lane. Only the lanes on screen
are ever computed: each lane's cells come from ``timeline.lane_cells`` over the spans in
the window (``timeline.spans_in``) and are kept until the window, the width or the task
changes, so a tick with 10,000 tasks costs what the few visible lanes cost.

How a lane is drawn (glyphs, overlays, the detail's fitting) is ``timeline_lanes``'s; what
the detail line says, ``views.task_story``'s. Where a warning is drawn (``_warning_marks``,
``tl.warning_column``: beside the mark it would cover) is where the cursor finds it.

While the run goes the window grows to hold all of it (``follow``); once the learner
zooms or pans it stays where they put it, until ``0`` or ``f`` fits and follows again.
"""

from __future__ import annotations

import math
from functools import partial
from itertools import islice

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from asyncplay.model import RunModel, TaskInfo
from asyncplay.tui.panes.task_view import TaskView
from asyncplay.tui.panes.timeline_cursor import TIMELINE_HELP, TimelineCursor
from asyncplay.tui.panes.timeline_detail import WARNINGS_LANE, TimelineDetail
from asyncplay.tui.panes.timeline_lanes import (
    AXIS_STYLE,
    DETAIL_STYLE,
    LEGENDS,
    Lane,
    axis_parts,
    draw_lane,
    lane_cells,
    warning_marks,
)
from asyncplay.tui.panes.timeline_object_rows import OBJECT_LANE, TimelineObjectRows
from asyncplay.tui.panes.virtual_size import set_virtual_size
from asyncplay.views import timeline as tl
from asyncplay.views.task_story import (
    NO_NAME,
    cancelled_by,
    line_place,
    no_task_text,
)
from asyncplay.views.text_cells import fit

__all__ = ["TIMELINE_HELP", "TimelinePane"]

MAX_LANES_KEPT = 2048  # lanes' cells kept for scrolling back


class TimelinePane(TimelineCursor, TimelineObjectRows, TimelineDetail, TaskView):
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
        Binding("q", "toggle_queues", "Queue sizes", show=False),
        Binding("p", "app.play_back", "Play back", show=False),
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
        self._objects_init()
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
        self._lanes: dict[int, Lane] = {}  # bounded: cleared past MAX_LANES_KEPT
        self._strips: LRUCache[tuple, Strip] = LRUCache(256)
        self._cursor_task: int | None = None  # lane id (a task or WARNINGS_LANE)
        self._cursor_t = 0.0
        self._posted: tuple | None = None  # what StepChosen last said
        self._detail_two = False  # the detail took two lines when last fitted
        self._drawn_window: tuple = ()
        self._cursor_drawn: tuple[int, int] | None = None  # see TimelineCursor._redraw_cursor
        self._objects_key = None  # the object lanes are taken in again

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
        self._cursor_t = self._now
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
            if lane >= 0 and self._lane_key(lane) != self._lane_key_drawn(lane):
                self.refresh_line(y)
            elif lane <= OBJECT_LANE and self.model.status != "ended":
                self.refresh_line(y)  # a job may be running: drawn again if it moved
        if self._height >= 2:
            self.refresh_line(self._height - 1)  # the detail line: "since", "now" move
            if self._spare_line():  # its first line when it needs (or needed) two
                before = self._detail_two
                if len(self._detail_lines(self._width)) == 2 or before:
                    self.refresh_line(self._height - 2)
            if not self._row_count:
                self.refresh_line(1)  # why there is no lane: the run may have ended

    def set_internal(self, value: bool) -> None:
        """Show or hide asyncio's own tasks (the one toggle the app applies everywhere)."""
        if value == self.show_internal:
            return
        self.show_internal = value
        self._rebuild_order()
        self.refresh()

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
        return warning_marks(cells, [(self._col(w.get("t")), w) for w in warnings])

    # ---- lanes and the window ----------------------------------------------------------

    @property
    def _row_count(self) -> int:
        top = 1 if self._warnings.get(WARNINGS_LANE) else 0
        return top + len(self._order) + len(self._objects)

    def _lane_id(self, row: int) -> int | None:
        """The lane at ``row``: WARNINGS_LANE first when there is one, then the tasks."""
        top = 1 if self._warnings.get(WARNINGS_LANE) else 0
        if row < top:
            return WARNINGS_LANE if row >= 0 else None
        index = row - top
        if index >= len(self._order):  # the object lanes follow the tasks'
            k = index - len(self._order)
            return OBJECT_LANE - k if k < len(self._objects) else None
        return self._order[index] if 0 <= index < len(self._order) else None

    def _row(self, lane: int) -> int | None:
        top = 1 if self._warnings.get(WARNINGS_LANE) else 0
        if lane == WARNINGS_LANE:
            return 0 if top else None
        if lane <= OBJECT_LANE:
            k = OBJECT_LANE - lane
            return top + len(self._order) + k if k < len(self._objects) else None
        index = self._row_of.get(lane)
        return None if index is None else index + top

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
        objects = self._catch_up_objects()  # a thread's first job, a queue: lanes to add
        if objects:
            self._resize()
        if self._warn_seen < len(m.warnings):
            for warning in islice(m.warnings, self._warn_seen, None):
                self._file_warning(warning)
            self._warn_seen = len(m.warnings)
            self._resize()
            return True
        return objects

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
        set_virtual_size(self, Size(self._width, self._row_count + 2))

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

    def _lane(self, tid: int) -> Lane:
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
        place = partial(line_place, target=target)  # ``line 12`` in the program
        cancel = cancelled_by(m, info, place) if info.state == "cancelled" else ""
        if len(self._lanes) >= MAX_LANES_KEPT:
            self._lanes.clear()  # lanes scrolled past long ago: computed again if seen
        lane = self._lanes[tid] = Lane(key, cells, labels, cancel)
        return lane

    def _compute_cells(self, info: TaskInfo) -> str:
        self.lanes_computed += 1
        m = self.model
        assert m is not None
        return lane_cells(info, self.start, self.end, self._cells, self._now, m.now)

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
        is_cursor = row == self._cursor_row()
        if is_cursor:
            self._cursor_drawn = (row, self.scroll_offset.y)
        return self._lane_strip(lane, is_cursor, width, base)

    def _strip(self, parts: list[tuple[str, Style]], width: int, base: Style) -> Strip:
        segments = [Segment(text, base + style) for text, style in parts if text]
        return Strip(segments).crop_extend(0, width, base)

    def _header(self, width: int, base: Style) -> Strip:
        m = self.model
        word = "virtual" if m is not None and m.clock == "virtual" else "time"
        parts = axis_parts(self.start, self.end, self._cells, self._cursor_col())
        return self._strip(
            [(fit(word, self._label_width) + " ", Style(bold=True)), *parts], width, base
        )

    def _lane_strip(self, lane_id: int, is_cursor: bool, width: int, base: Style) -> Strip:
        """A lane's line, kept while nothing it shows changed (most lanes, most ticks)."""
        m = self.model
        assert m is not None
        cursor = (self._cursor_col(), self.has_focus) if is_cursor else None
        obj = self.object_lane(lane_id)
        if obj is not None:  # an executor thread's, a queue's
            key = (lane_id, self._window_key(), self._object_key(), obj, cursor, width, base)
            strip = self._strips.get(key)
            if strip is None:
                n = self._cells
                strip = self._object_strip(obj, cursor, self._label_width, n, width, base)
                self._strips[key] = strip
            return strip
        lane = None if lane_id == WARNINGS_LANE else self._lane(lane_id)
        info = None if lane is None else m.tasks[lane_id]
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
        return self.with_step_mark(strip, lane_id, self._label_width)

    def _draw_lane(
        self,
        lane_id: int,
        lane: Lane | None,
        info: TaskInfo | None,
        cursor: tuple[int | None, bool] | None,
        width: int,
        base: Style,
    ) -> Strip:
        marks = self._warning_marks(lane_id)
        return draw_lane(lane, info, marks, cursor, self._label_width, self._cells, width, base)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base = None
        self._strips.clear()

    def on_resize(self) -> None:
        self._measure()
        self._resize()

    def on_focus(self) -> None:
        self._base = None
        self.refresh()

    def on_blur(self) -> None:
        self._base = None
        self.refresh()
