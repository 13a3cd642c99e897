"""The timeline pane's cursor: where it is (a lane, a moment), the keys and clicks that move
it, the window following it, and what a move tells the app.

A mixin of :class:`~asyncplay.tui.panes.timeline.TimelinePane` (the pane keeps the model,
the lanes, their rows and the drawing). A move costs what the lanes on screen cost: the
cursor's lane is found by its row (a dict), never by a walk over the tasks, and only the
lines a move changed are drawn again (:meth:`TimelineCursor._moved`): the two lanes the
cursor left and reached, the axis's mark and the detail; all of them when the window moved.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from textual import events

from asyncplay.model import SPAN_FILE, SPAN_LINE, SPAN_START
from asyncplay.tui.panes.timeline_detail import WARNINGS_LANE
from asyncplay.views import timeline as tl

if TYPE_CHECKING:
    from asyncplay.model import RunModel
    from asyncplay.views.timeline_objects import ObjectLane

__all__ = ["LEAST_SPAN", "TIMELINE_HELP", "TimelineCursor"]

LEAST_SPAN = 1e-6  # seconds: the narrowest window zooming in reaches


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
    ("q", "Show or hide a lane per asyncio.Queue: its size over time (executor lanes always)."),
    ("p", "Play the finished run back, step by step (F10, shift+F10; F5 plays; Esc)."),
    ("click", "Put the cursor on a lane at a time; click it again to go to its line."),
)


class TimelineCursor:
    """The cursor's state is the pane's (``_cursor_task``, ``_cursor_t``, ``cursor_placed``,
    the window ``start``/``end``/``follow``); these read and move it."""

    model: RunModel | None
    start: float
    end: float
    follow: bool
    cursor_placed: bool
    _cursor_task: int | None
    _cursor_t: float
    _posted: tuple | None
    _now: float
    _height: int
    _row_of: dict[int, int]
    _warnings: dict[int, list[dict]]
    _drawn_window: tuple  # the window the axis was last drawn for
    _cursor_drawn: tuple[int, int] | None  # (row, scroll top) the cursor was last drawn at

    # What the pane provides (rows, geometry, the window), typed for the mixin.
    if TYPE_CHECKING:

        @property
        def _row_count(self) -> int: ...

        @property
        def _lane_lines(self) -> int: ...

        @property
        def _cells(self) -> int: ...

        @property
        def _label_width(self) -> int: ...

        def _lane_id(self, row: int) -> int | None: ...

        def _row(self, lane: int) -> int | None: ...

        def _col(self, t: object) -> int | None: ...

        def _catch_up(self) -> bool: ...

        def _window_key(self) -> tuple: ...

        def _in_run(self, start: float, end: float) -> tuple[float, float]: ...

        def _full_end(self) -> float: ...

        def _fit_window(self) -> None: ...

        def _tolerance(self) -> float: ...

        def warning_at_cursor(self) -> dict | None: ...

        def object_lane(self, lane_id: int | None) -> ObjectLane | None: ...

        def _object_step(self, lane: ObjectLane, direction: int) -> float | None: ...

        def _object_choose(self, lane: ObjectLane, tolerance: float) -> None: ...

    def select_task(self, task_id: int | None) -> None:
        """Put the cursor on ``task_id``'s lane (the app's selection): posts nothing."""
        if task_id is None or task_id not in self._row_of:
            return
        self._cursor_task = task_id
        self._scroll_to_cursor()
        self._posted = self._spot_key()
        self._redraw_cursor()

    def show_moment(self, task_id: int | None, t: float) -> None:
        """The cursor on ``task_id``'s lane (if shown) at ``t``, placed there as if moved
        to, the window panned to show it (a verdict's moment, from the app): posts nothing."""
        if self.model is None or not math.isfinite(t):
            return
        self._catch_up()  # hidden (another tab), it has not taken in the last tasks yet
        if task_id is not None and task_id in self._row_of:
            self._cursor_task = task_id
            self._scroll_to_cursor()
        self._place(t)
        self._show_time(t)
        self._posted = self._spot_key()
        self.refresh()

    @property
    def cursor_task(self) -> int | None:
        lane = self._cursor_lane()
        return None if lane is None or lane < 0 else lane  # the warnings', an object's

    task_under_cursor = cursor_task  # ``b``: a breakpoint on the lane's task

    @property
    def cursor_time(self) -> float | None:
        """The cursor's time in run seconds (the await graph can show that moment)."""
        return None if self.model is None else self._cursor_t

    def _cursor_lane(self) -> int | None:
        if self._cursor_task is not None and self._row(self._cursor_task) is not None:
            return self._cursor_task
        return self._lane_id(0)

    def _cursor_row(self) -> int:
        lane = self._cursor_lane()
        row = self._row(lane) if lane is not None else None
        return row or 0

    def _cursor_col(self) -> int | None:
        return self._col(self._cursor_t)

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
            if span[SPAN_FILE] and span[SPAN_LINE]:
                return span[SPAN_FILE], span[SPAN_LINE]
        return info.file, info.line

    def _place(self, t: float) -> None:
        """The user put the cursor at ``t``: it stays there, no longer at now."""
        self._cursor_t = t
        self.cursor_placed = True

    def _moved(self) -> None:
        """After any cursor move: redraw, and tell the app if it is on another step."""
        self._redraw_cursor()
        key = self._spot_key()
        if key != self._posted:
            self._posted = key
            file, line = self._where_at_cursor()
            self.post_message(self.StepChosen(self.cursor_task, self._cursor_t, file, line))

    def _redraw_cursor(self) -> None:
        """The lines a move changed: the lanes the cursor left and reached, the axis (its
        ``▼``) and the detail; every line when the window moved or the pane scrolled (a
        scroll draws them all anyway)."""
        drawn, top = self._cursor_drawn, self.scroll_offset.y
        if drawn is None or self._window_key() != self._drawn_window or top != drawn[1]:
            self.refresh()
            return
        self.refresh_line(0)
        lines = self._lane_lines
        for row in {drawn[0], self._cursor_row()}:
            if 0 <= row - top < lines:
                self.refresh_line(row - top + 1)
        if self._height >= 2:
            self.refresh_line(self._height - 1)
            self.refresh_line(self._height - 2)  # the detail's first line, or the legend

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
        elif (obj := self.object_lane(lane)) is not None:
            t = self._object_step(obj, direction)
        else:
            info = self.model.tasks[lane]
            # From the live cursor (at now), ] starts the walk at the task's first step.
            since = self._cursor_t if self.cursor_placed or direction < 0 else -math.inf
            index = tl.next_span(info, since, direction)
            t = None if index is None else info.spans[index][SPAN_START]
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
        self._cursor_t = self._now
        self._moved()

    def action_choose(self) -> None:
        warning = self.warning_at_cursor()
        if warning is not None:
            self.post_message(self.WarningChosen(warning))
            return
        obj = self.object_lane(self._cursor_lane())
        if obj is not None:
            self._object_choose(obj, self._tolerance())
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
