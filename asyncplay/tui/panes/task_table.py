"""The task table: one row per task, keyed by task id, redrawn only where cells changed.

A line-API widget like the output pane, not a ``DataTable``: Textual's DataTable measures
every new cell and re-indexes all its rows whenever any cell changes, which at 10,000
tasks cost 25-80 ms per tick, the latency of every keypress. Here adding a task is
appending its id; on each tick of the app, ``sync`` recomputes the text of the rows on
screen only, compares it cell by cell with what was drawn, and refreshes just the lines
that changed. Nothing is cleared and rebuilt except when a new run starts.
"""

from __future__ import annotations

from itertools import islice

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from asyncplay.model import RunModel, TaskInfo
from asyncplay.tui.panes.task_view import NO_NAME_STYLE, TaskView, name_cell, name_width
from asyncplay.tui.panes.virtual_size import set_virtual_size
from asyncplay.views.explain import cancel_label
from asyncplay.views.seconds import duration
from asyncplay.views.task_story import NO_NAME
from asyncplay.views.text_cells import clean, fit

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("name", "name", 10),
    ("coro", "coroutine", 10),
    ("state", "state", 9),
    ("awaits", "awaits", 14),
    ("line", "line", 4),
    ("steps", "steps", 5),
    ("running", "running", 7),
    ("lifetime", "lifetime", 8),
)  # 75 cells with the gaps: the whole row fits an 80-column terminal
KEYS = tuple(key for key, _label, _width in COLUMNS)
#: The name and coroutine columns grow to the run's longest (up to this many cells; in a
#: pane wide enough for the whole row, only into its spare width: steps, running and
#: lifetime stay in sight), so
#: ``kettle-task`` is not ``kettle-ta~``; a longer one is cut in its middle.
GROWN = {"name": 24, "coro": 24}
_BASE = {key: width for key, _label, width in COLUMNS}
_BASE_ROW = sum(width + 1 for width in _BASE.values())
_GROWN_AT = tuple((KEYS.index(key), key, most) for key, most in GROWN.items())

#: What each column means, for the help screen.
COLUMN_HELP: tuple[tuple[str, str], ...] = (
    ("name", "The task's name (asyncio's Task-N unless the program named it)."),
    ("coroutine", "The coroutine function the task runs."),
    (
        "state",
        "pending (not started yet), ready (queued to run), waiting (suspended on an "
        "await), done, cancelled, failed (ended with an exception), or cut off (the run "
        "ended, by a limit, a stop or its own exit, before the task finished).",
    ),
    (
        "awaits",
        "What a waiting task is suspended on (a sleep, another task, a lock); for a "
        "finished task its result (= ...) or its exception type; for a cancelled one who "
        "cancelled it (✕ by main:12, timeout :9, taskgroup, shutdown, ✕ ? if unknown).",
    ),
    ("line", "The line of your program the task is at now (or was created at)."),
    ("steps", "How many times the loop resumed the task."),
    ("running", "Time the task spent actually running (holding the loop)."),
    ("lifetime", "Time from the task's creation to its end (or to now)."),
)

STATE_STYLE = {
    "failed": Style(color="red", bold=True),
    "cancelled": Style(color="yellow"),
    "done": Style(dim=True),
    "waiting": Style(color="cyan"),
    "ready": Style(color="green"),
    "running": Style(color="green", bold=True),  # a step in progress (model: step_open)
    "cut off": Style(color="magenta", bold=True),
}
HEADER_STYLE = Style(bold=True, underline=True)
CURSOR_STYLE = Style(reverse=True)
RIGHT = frozenset({"line", "steps", "running", "lifetime"})


_AWAITS_WIDTH = next(width for key, _label, width in COLUMNS if key == "awaits")


def _open_time(info: TaskInfo, now: float) -> float:
    """A step in progress (``step_open``) runs on between its reports: its time since."""
    if info.open is None:
        return 0.0
    start, counted = info.open[0], info.open[1]
    return max(0.0, now - start - counted)


def row_values(info: TaskInfo, now: float, model: RunModel | None = None) -> tuple[str, ...]:
    """The text of each column for a task (compared tick to tick to find changed cells).

    Names and awaits come from the program: made visible by :func:`text_cells.clean` (a tab
    reads ``\\t``, never breaks the row). ``model`` lets a cancelled row name the task
    that cancelled it."""
    if info.state == "failed":
        awaits = f"{info.exc_type or 'error'}"
    elif info.state == "cancelled":
        awaits = cancel_label(model, info, _AWAITS_WIDTH)
    elif info.state == "done":
        awaits = f"= {info.result}" if info.result is not None else ""
    else:
        awaits = info.awaiting or ""
    line = info.wait_line or info.line
    return (
        clean(info.name),
        clean(info.coro),
        "cut off" if info.unfinished else info.state,  # not "ready": nothing runs any more
        clean(awaits),
        str(line) if line else "",
        str(info.steps),
        duration(info.running + _open_time(info, now)),
        duration(max(0.0, info.lifetime(now))),
    )


class TaskTable(TaskView):
    """Live tasks of the current run; ``i`` shows asyncio's internal tasks too."""

    DEFAULT_CSS = """
    TaskTable { background: $surface; overflow-x: auto; overflow-y: scroll; }
    TaskTable:focus { background-tint: $foreground 5%; }
    """

    BINDINGS = [
        Binding("enter", "choose", "Go to its line"),
        Binding("i", "toggle_internal", "Internal tasks"),
        Binding("e", "app.explain", "Explain", show=False),  # as the timeline's e
    ]

    class TaskChosen(Message):
        """The cursor moved to a task (``enter`` or a second click: ``jump`` is True)."""

        def __init__(self, task: int | None, jump: bool = False) -> None:
            super().__init__()
            self.task = task
            self.jump = jump

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model: RunModel | None = None
        self.show_internal = False
        self._order: list[int] = []  # task ids in row order
        self._row_of: dict[int, int] = {}  # task id -> its row: a selection is O(1)
        self._rows: dict[int, tuple[str, ...]] = {}  # task id -> texts last drawn
        self._seen = 0  # tasks of model.tasks (in creation order) looked at
        self._cache: LRUCache[tuple, Strip] = LRUCache(512)
        self.cursor_row = 0
        self.updates = 0  # cells redrawn because they changed (tests watch it)
        self.widths = dict(_BASE)  # drawn: ``wanted`` fitted to the pane
        self.wanted = dict(_BASE)  # what the names so far would need (within GROWN)
        self._width = 0
        self._header = Strip([])
        self._lay_out()

    def _lay_out(self) -> None:
        """The row's width and the header, for the columns' widths now."""
        self._width = sum(width + 1 for width in self.widths.values())
        self._header = Strip(
            [
                Segment(fit(label, self.widths[key], key in RIGHT) + " ", HEADER_STYLE)
                for key, label, _width in COLUMNS
            ]
        )

    def _fit_names(self, values: tuple[str, ...]) -> bool:
        """Widen the name and coroutine columns to ``values`` (within GROWN and the pane's
        width); True if a column's width changed."""
        self._want_names(values)
        return self._refit()

    def _want_names(self, values: tuple[str, ...]) -> None:
        """What the name and coroutine columns would need for ``values`` (no refit)."""
        for index, key, most in _GROWN_AT:
            self.wanted[key] = name_width(values[index], self.wanted[key], most)

    def _refit(self) -> bool:
        """Share the pane's spare width between the name and coroutine columns, each at
        most what it wants (half each, the rest to the other); True if a width changed.
        A pane too narrow for the row anyway (it scrolls sideways) lets them grow whole."""
        pane = self.size.width
        spare = pane - _BASE_ROW if pane >= _BASE_ROW else sum(self.wanted.values())
        need = {key: self.wanted[key] - _BASE[key] for key in GROWN}
        name = min(need["name"], max(spare // 2, spare - need["coro"]))
        coro = min(need["coro"], spare - name)
        fitted = {"name": _BASE["name"] + name, "coro": _BASE["coro"] + coro}
        if all(self.widths[key] == fitted[key] for key in GROWN):
            return False
        self.widths.update(fitted)
        return True

    def on_resize(self) -> None:
        if self._refit():
            self._lay_out()
            self._cache.clear()
            self._resize()
            self.refresh()

    # ---- fed by the app's tick ---------------------------------------------------------

    def show(self, model: RunModel | None) -> None:
        """A new run: the only time the rows are dropped."""
        self.model = model
        self._order = []
        self._row_of = {}
        self._rows = {}
        self._seen = 0
        self._cache.clear()
        self.cursor_row = 0
        self.widths = dict(_BASE)
        self.wanted = dict(_BASE)
        self._lay_out()
        self._resize()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def task_under_cursor(self) -> int | None:
        return self.selected_task()

    def selected_task(self) -> int | None:
        if 0 <= self.cursor_row < len(self._order):
            return self._order[self.cursor_row]
        return None

    def get_cell(self, task: int | str, column: str) -> str:
        """The text drawn (or to be drawn) in a cell: for tests and copying."""
        tid = int(task)
        values = self._rows.get(tid)
        if values is None and self.model is not None:
            values = row_values(self.model.tasks[tid], self.model.now, self.model)
        return values[KEYS.index(column)] if values else ""

    def sync(self, now: float) -> None:
        """Catch up with the model: append new tasks, redraw the visible cells that changed."""
        m = self.model
        if m is None:
            return
        tasks = m.tasks
        before = len(self._order)
        grown = False
        if self._seen < len(tasks):
            for info in islice(tasks.values(), self._seen, None):
                if self.show_internal or not info.internal:
                    self._row_of[info.id] = len(self._order)
                    self._order.append(info.id)
                    self._want_names((clean(info.name), clean(info.coro)))
            self._seen = len(tasks)
            grown |= self._refit()  # once for every task new this tick
        top = self.scroll_offset.y
        visible = [
            (index, self._order[index], row_values(tasks[self._order[index]], now, m))
            for index in range(top, min(len(self._order), top + self.size.height))
        ]
        for _index, _tid, new in visible:
            grown |= self._fit_names(new)  # a task renamed meanwhile
        if grown:
            self._lay_out()
            self._cache.clear()
            self._resize()
            self.refresh()
        if len(self._order) != before:
            self._resize()
            if before == 0:
                self.post_message(self.TaskChosen(self.selected_task()))
        for index, tid, new in visible:
            old = self._rows.get(tid)
            if new != old:
                self._rows[tid] = new
                if old is None:
                    self.updates += len(new)
                else:
                    self.updates += sum(a != b for a, b in zip(old, new, strict=True))
                self.refresh_line(index - top + 1)

    def _resize(self) -> None:
        set_virtual_size(self, Size(self._width, len(self._order) + 1))

    # ---- drawing -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            return self._header.crop_extend(scroll_x, scroll_x + width, base)
        index = scroll_y + y - 1
        if index >= len(self._order) or self.model is None:
            return Strip.blank(width, base)
        tid = self._order[index]
        values = self._rows.get(tid)
        if values is None:
            values = self._rows[tid] = row_values(self.model.tasks[tid], self.model.now, self.model)
        cursor = index == self.cursor_row
        key = (values, cursor and self.has_focus, cursor)
        strip = self._cache.get(key)
        if strip is None:
            segments = []
            for col, text in zip(KEYS, values, strict=True):
                col_width = self.widths[col]
                if col == "state" and text in STATE_STYLE:
                    style = base + STATE_STYLE[text]
                elif col == "name" and not text:
                    text, style = NO_NAME, base + NO_NAME_STYLE
                else:
                    style = base
                # every cell exactly its width in cells: wide CJK/emoji never push the row
                if col in GROWN:
                    cell = name_cell(text, col_width)
                else:
                    cell = fit(text, col_width, col in RIGHT)
                segments.append(Segment(cell + " ", style))
            strip = Strip(segments, self._width)
            if cursor:
                strip = strip.apply_style(CURSOR_STYLE if self.has_focus else Style(bold=True))
            self._cache[key] = strip
        strip = self.with_step_mark(strip, tid, self.widths["name"])
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # ---- moving and choosing -----------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        if self._place_cursor(row):
            self.post_message(self.TaskChosen(self.selected_task()))

    def select_task(self, task: int) -> None:
        """Put the cursor on ``task``'s row (chosen in another view): no message back."""
        row = self._row_of.get(task)
        if row is not None:
            self._place_cursor(row)

    def _place_cursor(self, row: int) -> bool:
        """Move the cursor and scroll it into view; False when it did not move."""
        if not self._order:
            return False
        row = max(0, min(len(self._order) - 1, row))
        if row == self.cursor_row:
            return False
        old, top = self.cursor_row, self.scroll_offset.y
        self.cursor_row = row
        self._scroll_cursor_into_view()
        if self.scroll_offset.y == top:  # only the two rows the cursor left and reached
            self.refresh_line(old - top + 1)
            self.refresh_line(row - top + 1)
        else:
            self.refresh()
        return True

    def action_move(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * max(1, self._body_rows() - 1))

    def action_edge(self, end: int) -> None:
        self.move_cursor(len(self._order) - 1 if end else 0)

    def action_choose(self) -> None:
        task = self.selected_task()
        if task is not None:
            self.post_message(self.TaskChosen(task, jump=True))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            return
        row = self.scroll_offset.y + event.y - 1
        if row >= len(self._order):
            return
        if row == self.cursor_row:
            self.action_choose()
        else:
            self.move_cursor(row)

    def on_show(self) -> None:
        """Shown again (a tab, F4 back): the row chosen meanwhile elsewhere is in view."""
        self.call_after_refresh(self._scroll_cursor_into_view)

    def _scroll_cursor_into_view(self) -> None:
        top = self.scroll_offset.y
        height = self._body_rows()
        row = self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def _body_rows(self) -> int:
        """Task rows the reader sees: less the header, and the horizontal scrollbar when
        the row is wider than the table (it covers the bottom row)."""
        return max(1, self.scrollable_content_region.height - 1)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def set_internal(self, value: bool) -> None:
        """Rows keep creation order either way; the cursor stays on its task if shown."""
        if value == self.show_internal:
            return
        self.show_internal = value
        m = self.model
        if m is not None:
            chosen = self.selected_task()
            self._order = [
                info.id
                for info in islice(m.tasks.values(), 0, self._seen)
                if self.show_internal or not info.internal
            ]
            self._row_of = {tid: row for row, tid in enumerate(self._order)}
            self.cursor_row = self._row_of.get(chosen, 0) if chosen is not None else 0
            self._resize()
            self.refresh()
