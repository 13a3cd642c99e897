"""From a task to the asyncio object it waits on: Enter on a task blocked on a queue, a lock,
a semaphore, a condition or an event (in the task table, the await graph, or the timeline
on its wait still going) shows that object in the Objects view, its row chosen: who holds
it, who else waits, in order. Enter on a queue's lane in the timeline does the same.

A mixin of :class:`~asyncplay.tui.app.AsyncplayApp`. What a task waits on is the model's
now (``views.objects.task_waits_on``: the objects' waiters as last told): a wait the
graph or the timeline shows at a past moment goes to its line, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asyncplay.model import SPAN_EXTENT, SPAN_START
from asyncplay.views import objects
from asyncplay.views.gutter_marks import same_file

if TYPE_CHECKING:
    from asyncplay.model_objects import Primitive

__all__ = ["ObjectLinks"]


class ObjectLinks:
    """Mixin: ``go_to_object`` for the task views' Enter, and the timeline's queue lanes."""

    def object_of_wait(
        self,
        task: int,
        file: str | None = None,
        line: int | None = None,
        t: float | None = None,
    ) -> Primitive | None:
        """The object ``task`` waits on now, if the wait shown (at ``file:line``, at the
        moment ``t``) is that wait, still going; else None."""
        model = self.model  # type: ignore[attr-defined]
        if model is None:
            return None
        info = model.tasks.get(task)
        p = objects.task_waits_on(model, task)
        if p is None or info is None or info.finished:
            return None
        if line is not None and (line != info.wait_line or not same_file(file, info.wait_file)):
            return None  # another wait of the task (the graph at a past moment)
        if t is not None and info.spans:
            last = info.spans[-1]
            if t < last[SPAN_START] + last[SPAN_EXTENT]:
                return None  # the timeline's cursor on an earlier step or wait
        return p

    def go_to_object(
        self,
        task: int,
        file: str | None = None,
        line: int | None = None,
        t: float | None = None,
    ) -> bool:
        """Enter on a task: when it waits on an object, that object in the Objects view
        (True); else False (the caller goes to the line, as for any task)."""
        p = self.object_of_wait(task, file, line, t)
        return p is not None and self.show_object(p.id)

    def show_object(self, primitive: int) -> bool:
        """The Objects view, its cursor on ``primitive``'s row, focused."""
        model = self.model  # type: ignore[attr-defined]
        if model is None or primitive not in model.primitives:
            return False
        self._show_pane("objects")  # type: ignore[attr-defined]
        pane = self.objects  # type: ignore[attr-defined]
        pane.sync(model)  # at once: it may not have been drawn since the object changed
        if not pane.select_object(primitive):
            return False
        self.set_focus(pane)  # type: ignore[attr-defined]
        return True

    def on_timeline_pane_object_chosen(self, message: object) -> None:
        """Enter on a queue's lane in the timeline: that queue in the Objects view."""
        primitive = getattr(message, "primitive", None)
        if isinstance(primitive, int):
            self.show_object(primitive)
