"""The timeline pane alone in a tiny app, and what its tests read of it (one copy for
``test_tui_timeline_pane.py`` and ``test_tui_timeline_objects.py``)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot

from asyncplay.model import RunModel
from asyncplay.tui.panes.task_view import TaskView
from asyncplay.tui.panes.timeline import TimelinePane
from asyncplay.views import timeline as tl


class TimelineHost(App):
    """The pane, and every message it posts to the app, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield TimelinePane(id="timeline")

    def on_timeline_pane_step_chosen(self, message: TimelinePane.StepChosen) -> None:
        self.messages.append(message)

    def on_timeline_pane_warning_chosen(self, message: TimelinePane.WarningChosen) -> None:
        self.messages.append(message)

    def on_timeline_pane_object_chosen(self, message: TimelinePane.ObjectChosen) -> None:
        self.messages.append(message)

    def on_task_view_internal_toggled(self, message: TaskView.InternalToggled) -> None:
        self.messages.append(message)


async def shown(app: TimelineHost, pilot: Pilot, model: RunModel | None) -> TimelinePane:
    """The pane showing ``model`` at its now, focused; the messages that caused cleared."""
    pane = app.query_one(TimelinePane)
    pane.show(model)
    if model is not None:
        pane.sync(model.now)
    pane.focus()
    await pilot.pause()
    app.messages.clear()
    return pane


def lines(pane: TimelinePane) -> list[str]:
    """The pane's text as drawn, a line per row."""
    return [pane.render_line(y).text for y in range(pane.size.height)]


def lane_line(pane: TimelinePane, label: str) -> str:
    """The drawn line of the lane whose label starts with ``label``."""
    found = [line for line in lines(pane)[1:-1] if line.startswith(label)]
    assert found, (label, lines(pane))
    return found[0]


def cells_of(pane: TimelinePane, line: str) -> str:
    """A lane line's cells, after its label (the pane has no public view of its width)."""
    return line[pane._label_width + 1 :]


def lane_cells(pane: TimelinePane, label: str) -> str:
    """The cells of the lane whose label starts with ``label``."""
    return cells_of(pane, lane_line(pane, label))


def column(pane: TimelinePane, t: float) -> int:
    """The cell the pane draws time ``t`` in (it must be in the window)."""
    col = tl.column(t, pane.start, pane.end, pane._cells)
    assert col is not None, (t, pane.start, pane.end)
    return col
