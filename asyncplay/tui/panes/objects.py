"""The objects view: the program's queues, locks, semaphores, conditions, events and
executor jobs, each with who holds it and who waits on it, in order.

An ``OptionList`` of the rows ``views.objects.pane_rows`` gives, rebuilt only when an
object changed (``model.objects_version``) or a task was renamed in sight. Enter on a
holder, a waiter or a job goes to its task (the other views follow); on an object, to
the line that created it. ``select_object`` puts the cursor on an object's row (the app
comes here from a task that waits on it, or from a queue's lane in the timeline).
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from asyncplay.model import RunModel
from asyncplay.views import objects

__all__ = ["NO_OBJECTS", "ObjectsPane"]

NO_RUN = "Run a program (F5) to see its queues, locks and executor jobs."
NO_OBJECTS = (
    "The program made no asyncio Queue, Lock, Semaphore, Condition or Event, and ran "
    "nothing in an executor."
)


class ObjectsPane(OptionList):
    """The rows, and what Enter on one means (``TaskChosen`` or ``LineChosen``)."""

    DEFAULT_CSS = """
    ObjectsPane { height: 1fr; border: none; background: $surface; }
    """

    class TaskChosen(Message):
        def __init__(self, task: int) -> None:
            super().__init__()
            self.task = task

    class LineChosen(Message):
        def __init__(self, file: str | None, line: int) -> None:
            super().__init__()
            self.file = file
            self.line = line

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model: RunModel | None = None
        self._key: tuple | None = None
        self._targets: list[tuple[int | None, str | None, int | None]] = []
        self._object_rows: dict[int, int] = {}  # an object's id -> its row
        self.rebuilds = 0

    def sync(self, model: RunModel | None) -> None:
        """Catch up with ``model`` (None: no run); rebuilt only when something changed."""
        key = (
            (id(model), model.objects_version, len(model.tasks), model.status)
            if model is not None
            else None
        )
        if key == self._key:
            return
        self._key = key
        self.model = model
        if model is None:
            rows: list[tuple[str, int | None, str | None, int | None, int | None]] = [
                (NO_RUN, None, None, None, None)
            ]
        else:
            rows = objects.pane_rows(model) or [(NO_OBJECTS, None, None, None, None)]
        highlighted = self.highlighted
        self.clear_options()
        # Text, not markup: the rows carry the program's own names.
        self.add_options([Option(Text(row[0])) for row in rows])
        self._targets = [(task, file, line) for _text, task, file, line, _pid in rows]
        self._object_rows = {pid: i for i, row in enumerate(rows) if (pid := row[4]) is not None}
        if highlighted is not None and rows:
            self.highlighted = min(highlighted, len(rows) - 1)
        self.rebuilds += 1

    def select_object(self, primitive: int) -> bool:
        """The cursor on the row of object ``primitive`` (False when it has none)."""
        row = self._object_rows.get(primitive)
        if row is None:
            return False
        self.highlighted = row
        self.scroll_to_highlight(top=True)
        return True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if not 0 <= event.option_index < len(self._targets):
            return
        task, file, line = self._targets[event.option_index]
        if task is not None:
            self.post_message(self.TaskChosen(task))
        elif line is not None:
            self.post_message(self.LineChosen(file, line))
