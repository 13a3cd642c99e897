"""The await graph pane: who awaits whom, now or at the timeline's cursor, as a tree.

A line-API widget like the task table. The rows (one per task in ``graph.tree``) are
rebuilt only when what they show can have changed (the model's steps, tasks, status or
warnings, the moment shown, the internal toggle), never per event, and as plain tuples:
the styled line is made in ``render_line`` for the rows on screen only, and cached. What
the graph shows at a moment (the waits, which moment it is, who is deadlocked) comes from
the pure ``graph.moment``; this module only lays it out.
"""

from __future__ import annotations

import textwrap
import time
from functools import partial
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from asyncplay.model import RunModel
from asyncplay.tui.panes.task_view import TaskView
from asyncplay.tui.panes.virtual_size import set_virtual_size
from asyncplay.views import graph
from asyncplay.views.task_story import line_place, no_task_text
from asyncplay.views.text_cells import clean

if TYPE_CHECKING:
    from asyncplay.tui.services.view_builds import ViewBuilds

#: The pane's keys, for the help screen.
GRAPH_HELP: tuple[tuple[str, str], ...] = (
    ("up / down", "Move the cursor from task to task (the table and editor follow)."),
    ("pageup / pagedown", "Move the cursor a screenful."),
    ("home / end", "The first / last task of the graph."),
    ("enter", "Go to the line the task waits at, in the editor."),
    ("i", "Show or hide asyncio's internal tasks (every pane at once)."),
    (
        "⟲ cycle",
        "The task is in a deadlock: tasks awaiting each other in a ring, none can finish.",
    ),
    (
        "▶ running",
        "The task was running (holding the loop) at that moment, from the line it resumed at.",
    ),
)

NO_RUN = "Run a program (F5) to see who awaits whom."
NOTHING_WAITING = "No task is waiting at this moment."
ALL_FINISHED = "The run ended and every task finished: nobody waits any more."


def finished_text(model: RunModel, show_internal: bool) -> str:
    """What the pane says once a run has ended with nobody waiting, from the model: no task
    at all (a plain script, a SyntaxError: the timeline's words), tasks some of which failed
    or were cancelled, or every task finished."""
    tasks = [t for t in model.tasks.values() if show_internal or not t.internal]
    if not tasks:
        text = no_task_text(model)
        return f"{text[:1].upper()}{text[1:]}."
    failed = sum(t.state == "failed" for t in tasks)
    cancelled = sum(t.state == "cancelled" for t in tasks)
    if failed or cancelled:
        counts = [f"{n} {word}" for n, word in ((failed, "failed"), (cancelled, "cancelled")) if n]
        return f"The run ended: no task waits any more ({', '.join(counts)})."
    return ALL_FINISHED


# (the messages are wrapped to the pane's width: beside the timeline it has ~45 columns)
RUNNING = "▶ running"
MAX_NAME = 60
SLOW_BUILD = 0.005  # seconds: a rebuild slower than this is spaced out in a live run
SPACING = 10
# A graph of this many tasks is built in the app's worker from the first rebuild on (its
# first rebuild here would cost the keys 50-250 ms on a busy machine).
OFF_THREAD_TASKS = 1_000
# A slow graph (10,000 tasks: 13-55 ms a rebuild) under a cursor held down on the timeline:
# a moment that changes again within this many seconds of the last change waits until the
# cursor rests this long, so the keys stay quick and the graph catches up once they stop.
SETTLE = 0.15
FOLD_AT = 20  # this many alike tasks waiting side by side make one row  # a longer task name is cut (with …) so the wait stays in view

TITLE_STYLE = Style(bold=True)
GUIDE_STYLE = Style(dim=True)
NAME_STYLE = Style(bold=True)
AWAIT_STYLE = Style(color="cyan")
WHERE_STYLE = Style(dim=True)
RUNNING_STYLE = Style(color="green", bold=True)
QUIET_STYLE = Style(dim=True, italic=True)
CYCLE_STYLE = Style(color="red", bold=True)
CURSOR_STYLE = Style(reverse=True)

# A row: (task id, kind, guides, name, what it awaits, where, mark, file, line, folded).
# kind: graph.Node's (task / cycle / seen / deep) or "fold" (alike tasks in one row, their
# ids in ``folded``, the row's task the first of them); mark: "cycle", "stall" or "".
Row = tuple[int, str, str, str, str, str, str, "str | None", "int | None", tuple[int, ...]]


def _cut(text: str, limit: int = MAX_NAME) -> str:
    """The program's text made safe for one row (controls and bidi overrides as ``?``),
    at most ``limit`` cells (a wide CJK character counts two)."""
    text = clean(text, "?")
    if cell_len(text) <= limit:
        return text
    return set_cell_size(text, limit - 1).rstrip(" ") + "…"


def build_rows(
    model: RunModel, shown: graph.Moment, all_tasks: bool, program: str | None = None
) -> list[Row]:
    """The tree of ``shown`` as rows, depth first without recursion (a chain of thousands);
    ``FOLD_AT`` or more alike leaves side by side make one row. ``program``: the file the
    run's events name the program by (its lines say ``line 12``); else the run's target."""
    waits = shown.waits
    tasks = model.tasks
    target = program or model.target
    rows: list[Row] = []
    roots = graph.fold_groups(graph.tree(model, waits, all_tasks), model, waits, FOLD_AT)
    todo: list[tuple[graph.Node | list[graph.Node], str, str]] = [
        (root, "", "") for root in reversed(roots)
    ]
    while todo:
        item, guides, below = todo.pop()
        if isinstance(item, list):
            node, folded = item[0], tuple(n.task for n in item)
        else:
            node, folded = item, ()
        tid = node.task
        info = tasks[tid]
        awaiting, file, line = waits.get(tid, (None, None, None))
        mark = shown.stuck.get(tid, "")
        name = f"{len(folded)} tasks ({_cut(info.coro)})" if folded else _cut(info.name)
        kind = "fold" if folded else node.kind
        if kind in ("cycle", "seen", "deep"):
            what = {
                "cycle": "again: the cycle closes here",
                "seen": "(drawn above)",
                "deep": f"… deeper than {graph.MAX_DEPTH} levels: not drawn",
            }[kind]
            rows.append((tid, kind, guides, name, what, "", mark, file, line, ()))
            continue
        created = awaiting in (graph.RUNNING, graph.NOT_STARTED) and not line
        if created:
            file, line = info.file, info.line  # where it was created
        where = clean(line_place(file, line, target), "?")  # the timeline's words
        if awaiting == graph.RUNNING:
            what = RUNNING
            # The line it resumed from, not the one it will stop at (the timeline's step
            # says that one): said so, or the two views would seem to disagree.
            if where:
                where = f"(created at {where})" if created else f"(from {where})"
        elif awaiting == graph.NOT_STARTED:
            what = "not started yet"
        elif awaiting:
            what = f"awaits {_cut(awaiting)}"
        else:
            what = "ready to run"
        rows.append((tid, kind, guides, name, what, where, mark, file, line, folded))
        if folded or not node.children:
            continue
        kids = graph.fold_groups(node.children, model, waits, FOLD_AT)
        for i in range(len(kids) - 1, -1, -1):
            end = i == len(kids) - 1
            todo.append(
                (kids[i], below + ("└─ " if end else "├─ "), below + ("   " if end else "│  "))
            )
    return rows


def title_text(
    model: RunModel | None, shown: graph.Moment | None, now: float, label: str | None
) -> str:
    """Which moment the graph shows, in words: the moment and the count first, details
    last (beside the timeline the pane has ~45 columns; what does not fit is cut with …)."""
    if model is None or shown is None:
        return "Await graph"
    when = shown.when
    detail = ""
    if label:
        text = label
    elif when == "live":
        text = f"live, {now:.2f} s"
    elif when == "cursor":
        text = f"{shown.t:.2f} s (cursor)"
        if shown.snapshot is not None:
            detail = f" · deadlocked since {shown.snapshot.t:.2f} s"
    elif when == "deadlock":
        text = f"deadlock at {shown.t:.2f} s"
        detail = " · the run has ended"
    else:
        text = f"end of run, {shown.t:.2f} s"
    count = len(shown.waits)
    if count:
        text += f" · {count} task{'s' if count != 1 else ''}"
    return f"Await graph · {text}{detail}"


#: A rebuild's result: the moment shown, its rows, what is said when there are none, each
#: task's first row, and the widest row.
Built = tuple["graph.Moment | None", list[Row], str, dict[int, int], int]


def build(
    model: RunModel | None, moment: float | None, show_internal: bool, program: str | None
) -> Built:
    """The pane's rows at ``moment`` (None: now): pure, so it may run in a worker thread
    while the model stands still (``services.view_builds``)."""
    if model is None:
        return None, [], NO_RUN, {}, 0
    shown = graph.moment(model, moment)
    rows = build_rows(model, shown, show_internal, program)
    if shown.when == "finished":
        message = finished_text(model, show_internal)
    else:
        message = NOTHING_WAITING
    index: dict[int, int] = {}
    width = 0  # the message is wrapped to the pane
    for i, row in enumerate(rows):
        index.setdefault(row[0], i)
        for tid in row[9]:
            index.setdefault(tid, i)
        width = max(width, _row_width(row))
    return shown, rows, message, index, width


class GraphPane(TaskView):
    """Who awaits whom at one moment: live, or the timeline cursor's (``sync``)."""

    DEFAULT_CSS = """
    GraphPane { background: $surface; overflow-x: auto; overflow-y: scroll; }
    GraphPane:focus { background-tint: $foreground 5%; }
    """

    BINDINGS = [
        Binding("enter", "choose", "Go to its line"),
        Binding("i", "toggle_internal", "Internal tasks"),
        Binding("e", "app.explain", "Explain", show=False),  # as the timeline's e
    ]

    class TaskChosen(Message):
        """The cursor moved to a task (``jump``: enter or a second click, go to its line).
        ``file``/``line``: where the row says the task waits (at the moment shown)."""

        def __init__(
            self,
            task: int | None,
            jump: bool = False,
            file: str | None = None,
            line: int | None = None,
        ) -> None:
            super().__init__()
            self.task = task
            self.jump = jump
            self.file = file
            self.line = line

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model: RunModel | None = None
        self.program: str | None = None
        self.show_internal = False
        self.moment: float | None = None  # None: live (or the run's end)
        self.label: str | None = None
        self.now = 0.0
        self.shown: graph.Moment | None = None
        self.rows: list[Row] = []
        self.message = NO_RUN  # said instead of rows when there are none
        self.title = "Await graph"
        self.cursor_row = 0
        self.rebuilds = 0  # how often the rows were rebuilt (tests watch it)
        self._key: tuple | None = None
        self._index: dict[int, int] = {}  # task id -> its first row
        self._selected: int | None = None
        self._width = 0
        self._cache: LRUCache[tuple, Strip] = LRUCache(512)
        self.slow_build = SLOW_BUILD  # tests that need every rebuild at once raise it
        self._moment_since = -1e9  # perf_counter when the moment last changed
        self._moment_before = -1e9  # ... and when it changed before that
        self._cost = 0.0  # seconds the last rebuild took
        self._built_at = 0.0
        # The app's worker for slow rebuilds (None: every rebuild here, at once).
        self.builds: ViewBuilds | None = None
        self._error: BaseException | None = None

    # ---- fed by the app ----------------------------------------------------------------

    def show(self, model: RunModel | None, program: str | None = None) -> None:
        """A new run (or none): the cursor goes back to the top. ``program``: the file the
        app runs or replays (``app.program``), so its lines read ``line 12`` whatever
        path the run's ``run_start`` names it by (a replay's is the recorded one)."""
        self.model = model
        self.program = program
        self.moment = None
        self.label = None
        self.cursor_row = 0
        self._selected = None
        self._key = None
        self._update(force=True)
        self.scroll_to(0, 0, animate=False, immediate=True)

    def sync(self, now: float, moment: float | None = None, label: str | None = None) -> None:
        """On the app's tick: ``moment`` None shows the current state, else that run time."""
        self.now = now
        if moment != self.moment:
            self._moment_before, self._moment_since = self._moment_since, time.perf_counter()
        self.moment = moment
        self.label = label
        if self._error is not None:  # the worker's build failed: the app's guard says so
            error, self._error = self._error, None
            raise error
        self._update()

    def set_internal(self, value: bool) -> None:
        """Show asyncio's internal tasks or not (the app keeps every pane alike)."""
        if value != self.show_internal:
            self.show_internal = value
            self._update()

    def select_task(self, task_id: int | None) -> None:
        """Put the cursor on the task's row if it is drawn; posts nothing."""
        self._selected = task_id
        row = self._index.get(task_id) if task_id is not None else None
        if row is not None and row != self.cursor_row:
            self._put_cursor(row)

    @property
    def task_under_cursor(self) -> int | None:
        return self.selected_task()

    def selected_task(self) -> int | None:
        if 0 <= self.cursor_row < len(self.rows):
            return self.rows[self.cursor_row][0]
        return None

    @property
    def row_count(self) -> int:
        return len(self.rows)

    # ---- rebuilding --------------------------------------------------------------------

    def _update(self, force: bool = False) -> None:
        m = self.model
        key = (
            (id(m), m.steps, len(m.tasks), m.status, len(m.warnings), len(m.snapshots))
            if m is not None
            else None,
            self.moment,
            self.show_internal,
        )
        if force or (key != self._key and not self._too_soon(key)):
            if not force and self.builds is not None and self.builds.busy:
                return  # one build at a time: the key is looked at again next tick
            self._key = key
            if force or not self._build_off_thread(key):
                started = time.perf_counter()
                self._rebuild()
                self._cost = time.perf_counter() - started
                self._built_at = started
        title = title_text(m, self.shown, self.now, self.label)
        if title != self.title:
            self.title = title
            self.refresh_line(0)

    def _too_soon(self, key: tuple) -> bool:
        """A live run of thousands of tasks changes every tick: when a rebuild costs more
        than ``SLOW_BUILD``, the graph follows it at most every ``SPACING`` rebuild times
        (a tenth of the loop's time). A toggle or the run's end is drawn at once; so is a
        new moment, unless the moment keeps changing (a cursor held down): then it waits
        until the cursor has rested ``SETTLE`` seconds."""
        old = self._key
        if old is None or self._cost < self.slow_build or key[2:] != old[2:]:
            return False
        if key[1] != old[1]:
            now = time.perf_counter()
            moving = self._moment_since - self._moment_before < SETTLE
            return moving and now - self._moment_since < SETTLE
        m = self.model
        if m is None or m.status != "running" or old[0] is None or old[0][0] != id(m):
            return False
        return time.perf_counter() - self._built_at < SPACING * self._cost

    def _rebuild(self) -> None:
        self.rebuilds += 1
        self._adopt(build(self.model, self.moment, self.show_internal, self.program))

    def _build_off_thread(self, key: tuple) -> bool:
        """A slow rebuild (the last one was, or the model is big) of a live model in the
        app's worker (``services.view_builds``): True when it was handed over (the rows are
        swapped in when it is done)."""
        builds, m = self.builds, self.model
        if builds is None or m is None:
            return False
        if self._cost < self.slow_build and len(m.tasks) < OFF_THREAD_TASKS:
            return False
        wanted = (m, self.moment, self.show_internal, self.program)

        def done(built: Built | None, error: BaseException | None) -> None:
            # Its wall time, the GIL shared with the keys and the reader included: what
            # it costs the loop, which spaces the next ones out (SPACING).
            self._cost = time.perf_counter() - started
            if error is not None:
                self._error = error  # raised by the next sync: the app's guard tells it
                return
            assert built is not None
            if self.model is m and self.program == wanted[3] and self.show_internal == wanted[2]:
                self.rebuilds += 1
                self._adopt(built)  # a moment since moved on is built again next
            # else another run (shown at once) or the toggle (built next tick) came since

        started = time.perf_counter()
        if not builds.submit(m, partial(build, *wanted), done):
            return False
        self._built_at = started
        return True

    def _adopt(self, built: Built) -> None:
        """The rows of a rebuild drawn (here, or from the worker: the same swap)."""
        self.shown, self.rows, self.message, self._index, width = built
        self._width = width + 1
        if self._selected is not None and self._selected in self._index:
            self.cursor_row = self._index[self._selected]
        else:
            self.cursor_row = max(0, min(self.cursor_row, len(self.rows) - 1))
        self._cache.clear()
        set_virtual_size(self, Size(self._width, max(len(self.rows), 1) + 1))
        self.refresh()

    # ---- drawing -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            title = self.title
            if cell_len(title) > width > 1:  # cut, and seen to be
                title = set_cell_size(title, width - 1).rstrip(" ") + "…"
            strip = Strip([Segment(title, base + TITLE_STYLE)])
            return strip.crop_extend(0, width, base)  # the title does not scroll sideways
        index = scroll_y + y - 1
        if not self.rows:
            said = textwrap.wrap(self.message, max(width - 1, 10))
            if 0 <= y - 1 < len(said):
                return Strip([Segment(said[y - 1], base + QUIET_STYLE)]).crop_extend(0, width, base)
            return Strip.blank(width, base)
        if index >= len(self.rows):
            return Strip.blank(width, base)
        cursor = index == self.cursor_row
        span = max(self._width, width) if cursor else 0  # the cursor bar spans the pane
        key = (index, span, cursor and self.has_focus)
        strip = self._cache.get(key)
        if strip is None:
            strip = _row_strip(self.rows[index], base)
            if cursor:
                strip = strip.extend_cell_length(span, base)
                strip = strip.apply_style(CURSOR_STYLE if self.has_focus else Style(bold=True))
            self._cache[key] = strip
        row = self.rows[index]
        if self.step_marks and isinstance(row[0], int):
            strip = Strip.join([Strip([Segment(" ", base)], 1), strip])  # room for the mark
            strip = self.with_step_mark(strip, row[0], 0)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # ---- moving and choosing -----------------------------------------------------------

    def _put_cursor(self, row: int) -> None:
        """The cursor to ``row``, scrolled into view; only the two rows it left and reached
        are drawn again (unless the pane scrolled: then all of them are)."""
        old, top = self.cursor_row, self.scroll_offset.y
        self.cursor_row = row
        self._scroll_to_cursor()
        if self.scroll_offset.y != top:
            self.refresh()
            return
        self.refresh_line(old - top + 1)
        self.refresh_line(row - top + 1)

    def _scroll_to_cursor(self) -> None:
        row = self.cursor_row
        top = self.scroll_offset.y
        height = max(1, self.size.height - 1)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def move_cursor(self, row: int) -> None:
        if not self.rows:
            return
        row = max(0, min(len(self.rows) - 1, row))
        if row == self.cursor_row:
            return
        self._selected = self.rows[row][0]
        self._put_cursor(row)
        self.post_message(self._chosen(jump=False))

    def _chosen(self, jump: bool) -> GraphPane.TaskChosen:
        row = self.rows[self.cursor_row]
        return self.TaskChosen(row[0], jump=jump, file=row[7], line=row[8])

    def action_move(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * max(1, self.size.height - 2))

    def action_edge(self, end: int) -> None:
        self.move_cursor(len(self.rows) - 1 if end else 0)

    def action_choose(self) -> None:
        if 0 <= self.cursor_row < len(self.rows):
            self.post_message(self._chosen(jump=True))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            return
        row = self.scroll_offset.y + event.y - 1
        if row >= len(self.rows):
            return
        if row == self.cursor_row:
            self.action_choose()
        else:
            self.move_cursor(row)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


def _row_width(row: Row) -> int:
    """Terminal cells, not characters: a CJK name takes two per character."""
    _tid, _kind, guides, name, what, where, mark, _file, _line, _folded = row
    width = len(guides) + cell_len(name) + 2 + cell_len(what)
    width += cell_len(where) + 2 if where else 0
    return width + (cell_len(MARKS[mark]) + 2 if mark in MARKS else 0)


MARKS = {"cycle": "⟲ cycle", "stall": "✖ deadlocked"}


def _row_strip(row: Row, base: Style) -> Strip:
    _tid, kind, guides, name, what, where, mark, _file, _line, _folded = row
    bad = mark in MARKS
    if bad or kind == "cycle":
        style = CYCLE_STYLE
    elif kind not in ("task", "fold") or what in ("not started yet", "ready to run"):
        style = QUIET_STYLE
    else:
        style = RUNNING_STYLE if what == RUNNING else AWAIT_STYLE
    segments = [
        Segment(guides, base + GUIDE_STYLE),
        Segment(name, base + (CYCLE_STYLE if bad else NAME_STYLE)),
        Segment("  " + what, base + style),
    ]
    if where:
        segments.append(Segment("  " + where, base + WHERE_STYLE))
    if bad:
        segments.append(Segment("  " + MARKS[mark], base + CYCLE_STYLE))
    return Strip(segments)
