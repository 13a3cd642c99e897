"""The task table: one row per task, keyed by task id, updated cell by cell.

On each tick of the app, ``sync`` adds the rows of new tasks (a bounded number per tick,
so 10,000 tasks arrive over a few ticks instead of freezing one) and rewrites only the
cells whose text changed: every visible row each tick, the others in turns. Nothing is
cleared and rebuilt except when a new run starts.
"""

from __future__ import annotations

from itertools import islice

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from asyncplay.model import RunModel, TaskInfo

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("name", "name", 12),
    ("coro", "coroutine", 12),
    ("state", "state", 9),
    ("awaits", "awaits", 16),
    ("line", "line", 5),
    ("steps", "steps", 6),
    ("running", "running", 8),
    ("lifetime", "lifetime", 8),
)
KEYS = tuple(key for key, _label, _width in COLUMNS)

#: What each column means, for the help screen.
COLUMN_HELP: tuple[tuple[str, str], ...] = (
    ("name", "The task's name (asyncio's Task-N unless the program named it)."),
    ("coroutine", "The coroutine function the task runs."),
    (
        "state",
        "pending (not started yet), ready (queued to run), waiting (suspended on an "
        "await), done, cancelled, or failed (ended with an exception).",
    ),
    (
        "awaits",
        "What a waiting task is suspended on (a sleep, another task, a lock); for a "
        "finished task its result (= ...) or its exception type.",
    ),
    ("line", "The line of your program the task is at now (or was created at)."),
    ("steps", "How many times the loop resumed the task."),
    ("running", "Time the task spent actually running (holding the loop)."),
    ("lifetime", "Time from the task's creation to its end (or to now)."),
)

ADD_PER_TICK = 300  # new rows per tick
REFRESH_PER_TICK = 300  # off-screen rows re-checked per tick

STATE_STYLE = {
    "failed": "bold red",
    "cancelled": "yellow",
    "done": "dim",
    "waiting": "cyan",
    "ready": "green",
    "pending": "",
}


def _seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f}ms" if value >= 0.0005 else "0ms"
    return f"{value:.1f}s" if value < 100 else f"{value:.0f}s"


def row_values(info: TaskInfo, now: float) -> tuple[str, ...]:
    """The text of each column for a task (compared tick to tick to find changed cells)."""
    if info.state == "failed":
        awaits = f"{info.exc_type or 'error'}"
    elif info.state == "done":
        awaits = f"= {info.result}" if info.result is not None else ""
    else:
        awaits = info.awaiting or ""
    line = info.wait_line or info.line
    return (
        info.name,
        info.coro,
        info.state,
        awaits,
        str(line) if line else "",
        str(info.steps),
        _seconds(info.running),
        _seconds(max(0.0, info.lifetime(now))),
    )


def _cell(key: str, text: str) -> str | Text:
    if key == "state":
        return Text(text, style=STATE_STYLE.get(text, ""))
    if key in ("line", "steps", "running", "lifetime"):
        return Text(text, justify="right")
    return text


class TaskTable(DataTable):
    """Live tasks of the current run; ``i`` shows asyncio's internal tasks too."""

    BINDINGS = [
        Binding("i", "toggle_internal", "Internal tasks"),
    ]

    class TaskChosen(Message):
        """The highlighted row changed (``enter``: ``jump`` is True)."""

        def __init__(self, task: int | None, jump: bool = False) -> None:
            super().__init__()
            self.task = task
            self.jump = jump

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.model: RunModel | None = None
        self.show_internal = False
        self._rows: dict[int, tuple[str, ...]] = {}  # task id -> texts shown
        self._order: list[int] = []  # task ids in row order
        self._seen = 0  # tasks of model.tasks (in creation order) looked at
        self._turn = 0  # where the off-screen refresh continues
        self.updates = 0  # cells rewritten (tests check it stays small)

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, width=width, key=key)

    def show(self, model: RunModel | None) -> None:
        """A new run: the only time the table is cleared."""
        self.model = model
        self.clear()
        self._rows.clear()
        self._order.clear()
        self._seen = 0
        self._turn = 0

    def selected_task(self) -> int | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    def sync(self, now: float) -> None:
        """Catch up with the model: new rows, then the cells that changed."""
        m = self.model
        if m is None:
            return
        tasks = m.tasks
        added = 0
        if self._seen < len(tasks):
            for info in islice(tasks.values(), self._seen, None):
                if added >= ADD_PER_TICK:
                    break
                self._seen += 1
                if info.internal and not self.show_internal:
                    continue
                self._add(info, now)
                added += 1
        order = self._order
        if not order:
            return
        top = max(0, self.scroll_offset.y - 1)
        visible = order[top : top + self.size.height + 1]
        for tid in visible:
            self._update(tasks[tid], now)
        if len(order) > len(visible):
            start = self._turn % len(order)
            batch = order[start : start + REFRESH_PER_TICK]
            self._turn = start + len(batch)
            for tid in batch:
                self._update(tasks[tid], now)

    def _add(self, info: TaskInfo, now: float) -> None:
        values = row_values(info, now)
        self.add_row(*(_cell(k, v) for k, v in zip(KEYS, values, strict=True)), key=str(info.id))
        self._rows[info.id] = values
        self._order.append(info.id)

    def _update(self, info: TaskInfo, now: float) -> None:
        old = self._rows[info.id]
        new = row_values(info, now)
        if new == old:
            return
        row_key = str(info.id)
        for key, a, b in zip(KEYS, old, new, strict=True):
            if a != b:
                self.update_cell(row_key, key, _cell(key, b))
                self.updates += 1
        self._rows[info.id] = new

    def action_toggle_internal(self) -> None:
        self.show_internal = not self.show_internal
        m = self.model
        if m is None:
            return
        if self.show_internal:
            for info in islice(m.tasks.values(), 0, self._seen):
                if info.internal and info.id not in self._rows:
                    self._add(info, m.now)
        else:
            for tid in [t for t in self._order if m.tasks[t].internal]:
                self.remove_row(str(tid))
                del self._rows[tid]
                self._order.remove(tid)
        self.notify(
            "Showing asyncio's internal tasks." if self.show_internal else "Internal tasks hidden."
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.TaskChosen(_task_id(event.row_key.value)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.TaskChosen(_task_id(event.row_key.value), jump=True))


def _task_id(key: str | None) -> int | None:
    try:
        return int(key) if key is not None else None
    except ValueError:
        return None
