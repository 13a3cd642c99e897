"""What the three views of a run's tasks share: the task table, the timeline, the graph.

Each is a line-API ``ScrollView`` with a row cursor over tasks (lanes, rows) and the one
toggle for asyncio's internal tasks, which the app applies to all three: ``i`` in any of
them posts ``TaskView.InternalToggled`` (one handler in the app, not one per view); ``b``
posts ``TaskView.BreakpointToggled`` for the task under the cursor (the app keeps the
breakpoints).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from asyncplay.views.text_cells import fit
from asyncplay.views.timeline import shorten

__all__ = ["NO_NAME_STYLE", "TaskView", "name_cell", "name_width"]

#: How every view draws ``task_story.NO_NAME`` (a task named ""): not a name of the program's.
NO_NAME_STYLE = Style(dim=True, italic=True)
#: Stepping's marks on a task's row or lane (``TaskView.set_step_marks``), as the editor's
#: gutter draws them: the task that runs next while paused, a task with a breakpoint.
STEP_MARKS = {
    "next": ("▶", Style(bold=True, color="black", bgcolor="yellow")),
    "breakpoint": ("●", Style(bold=True, color="red")),
}


def name_cell(name: str, width: int) -> str:
    """A task's name (already ``clean``) as exactly ``width`` cells. Cut, it loses its
    middle (the timeline's cut): names alike differ at the end (``cons~er-1``)."""
    return fit(shorten(name, width, "~"), width)


def name_width(name: str, least: int, most: int) -> int:
    """The cells a column needs for ``name``, within ``least``..``most``."""
    cells = len(name) if name.isascii() else cell_len(name)  # (``clean``: no controls)
    return max(least, min(most, cells))


class TaskView(ScrollView, can_focus=True):
    """A subclass defines ``action_move(delta)``, ``action_page(direction)``,
    ``action_edge(end)``, ``set_internal(value)`` and ``task_under_cursor``, and keeps
    ``show_internal`` (tests/test_tui_task_table.py checks that each view does)."""

    # Hidden in the footer; a subclass adds its own shown keys after these.
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First task", show=False),
        Binding("end", "edge(1)", "Last task", show=False),
        Binding("b", "toggle_breakpoint", "Breakpoint", show=False),
    ]

    show_internal = False
    step_marks: dict[int, str] = {}  # noqa: RUF012  (replaced, never changed in place)

    class InternalToggled(Message):
        """``i`` was pressed in a view: the app applies ``show_internal`` to every view."""

        def __init__(self, show_internal: bool) -> None:
            super().__init__()
            self.show_internal = show_internal

    class BreakpointToggled(Message):
        """``b`` was pressed: the app toggles a breakpoint on ``task`` (None: no task
        under the cursor)."""

        def __init__(self, task: int | None) -> None:
            super().__init__()
            self.task = task

    def set_internal(self, value: bool) -> None:
        """Show or hide asyncio's own tasks (each view redraws its own way)."""
        raise NotImplementedError  # each view defines it

    @property
    def task_under_cursor(self) -> int | None:
        """The task ``b`` puts a breakpoint on (None: no task under the cursor)."""
        raise NotImplementedError  # each view defines it

    def set_step_marks(self, marks: dict[int, str]) -> None:
        """Task id -> ``next`` or ``breakpoint`` (:data:`STEP_MARKS`); redrawn if changed."""
        if marks != self.step_marks:
            self.step_marks = marks
            self.refresh()

    def with_step_mark(self, strip: Strip, task: int | None, col: int) -> Strip:
        """``strip`` with the task's stepping mark over its cell ``col`` (a blank one)."""
        kind = self.step_marks.get(task) if task is not None else None
        if kind is None or strip.cell_length <= col:
            return strip
        glyph, style = STEP_MARKS[kind]
        return Strip.join(
            [strip.crop(0, col), Strip([Segment(glyph, style)], 1), strip.crop(col + 1)]
        )

    def action_toggle_breakpoint(self) -> None:
        """A breakpoint on the task under the cursor: the run pauses before its next step."""
        self.post_message(self.BreakpointToggled(self.task_under_cursor))

    def action_toggle_internal(self) -> None:
        """Show or hide asyncio's own tasks, here and (through the app) in every view."""
        self.set_internal(not self.show_internal)
        self.post_message(self.InternalToggled(self.show_internal))
        self.notify(
            "Showing asyncio's internal tasks." if self.show_internal else "Internal tasks hidden."
        )
