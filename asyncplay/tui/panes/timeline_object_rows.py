"""The timeline pane's lanes that are no task: one per executor worker thread (its jobs,
drawn as a task's steps: the ``executor`` lesson's four jobs side by side in four threads)
and, with ``q``, one per queue (its size as a bar of its maxsize).

A mixin of :class:`~asyncplay.tui.panes.timeline.TimelinePane`: the lanes follow the
tasks' rows, with lane ids of their own (``OBJECT_LANE - k``); what each lane is, its
cells and the words for the detail line come from ``views.timeline_objects`` (the pure
side, shared with the headless ``--timeline`` and ``--queue-sizes``). Enter on a job
chooses the task that awaits it; on a queue's lane, the queue in the Objects view.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.style import Style
from textual.message import Message
from textual.strip import Strip

from asyncplay.tui.panes.timeline_lanes import draw_object_lane
from asyncplay.views import timeline as tl
from asyncplay.views.task_story import Part
from asyncplay.views.timeline_objects import (
    ObjectLane,
    job_at,
    object_cells,
    object_detail,
    object_lanes,
)

if TYPE_CHECKING:
    from asyncplay.model import RunModel

__all__ = ["OBJECT_LANE", "TimelineObjectRows"]

OBJECT_LANE = -2  # the first object lane's id; the k-th is OBJECT_LANE - k


class TimelineObjectRows:
    """The object lanes' rows; the pane calls these from its own row, drawing and key
    code."""

    model: RunModel | None
    start: float
    end: float
    _cursor_t: float
    _order: list[int]
    _longest: int

    class ObjectChosen(Message, namespace="timeline_pane"):
        """Enter on a queue's lane: the app shows that object in the Objects view."""

        def __init__(self, primitive: int) -> None:
            super().__init__()
            self.primitive = primitive

    def _objects_init(self) -> None:
        self.show_queues = False  # ``q``: a lane per queue's size
        self._objects: list[ObjectLane] = []
        self._objects_key: tuple | None = None

    def _catch_up_objects(self) -> bool:
        """The object lanes again when an object changed; True when their count did."""
        m = self.model
        key = None if m is None else (id(m), m.objects_version, self.show_queues)
        if key == self._objects_key:
            return False
        self._objects_key = key
        before = len(self._objects)
        self._objects = object_lanes(m, self.show_queues) if m is not None else []
        for lane in self._objects:
            self._longest = max(self._longest, len(lane.label))
        return len(self._objects) != before

    def object_lane(self, lane_id: int | None) -> ObjectLane | None:
        """The object lane of ``lane_id``, None for a task's or the warnings' lane."""
        if lane_id is None or lane_id > OBJECT_LANE:
            return None
        k = OBJECT_LANE - lane_id
        return self._objects[k] if k < len(self._objects) else None

    def action_toggle_queues(self) -> None:
        """``q``: a lane per queue, its size over time, or not."""
        self.show_queues = not self.show_queues
        self._catch_up_objects()
        self._resize()  # type: ignore[attr-defined]
        self.refresh()  # type: ignore[attr-defined]
        queues = sum(lane.queue is not None for lane in self._objects)
        if self.show_queues and not queues:
            self.notify("This run made no asyncio.Queue: no queue lane to show.")  # type: ignore[attr-defined]

    def _object_strip(
        self,
        lane: ObjectLane,
        cursor: tuple[int | None, bool] | None,
        label_width: int,
        n: int,
        width: int,
        base: Style,
    ) -> Strip:
        assert self.model is not None
        cells, codes = object_cells(self.model, lane, self.start, self.end, n)
        return draw_object_lane(lane.label, cells, codes, cursor, label_width, n, width, base)

    def _object_key(self) -> tuple:
        """What every object lane's drawing depends on besides the window: the objects'
        changes, and the run's time while a job may still be running."""
        m = self.model
        if m is None:
            return ()
        return (m.objects_version, m.now if m.status != "ended" else None, self.show_queues)

    def _object_detail(self, lane: ObjectLane, tolerance: float) -> list[Part]:
        assert self.model is not None
        return object_detail(self.model, lane, self._cursor_t, tolerance)

    def _object_times(self, lane: ObjectLane) -> list[float]:
        """Where ``[``/``]`` stop on an object lane: its jobs' starts, the queue's
        changes of size."""
        if lane.queue is not None:
            return [t for t, _size in lane.queue.sizes]
        return sorted(j.started if j.started is not None else j.submitted for j in lane.jobs)

    def _object_step(self, lane: ObjectLane, direction: int) -> float | None:
        # From the live cursor (at now), ] starts at the lane's first job, as on a task's.
        placed = self.cursor_placed or direction < 0  # type: ignore[attr-defined]
        since = self._cursor_t if placed else -math.inf
        return tl.next_time(self._object_times(lane), since, direction)

    def _object_choose(self, lane: ObjectLane, tolerance: float) -> None:
        """Enter on an object lane: the job's task chosen (in every view), or the queue
        in the Objects view."""
        m = self.model
        if m is None:
            return
        if lane.queue is not None:
            self.post_message(self.ObjectChosen(lane.queue.id))  # type: ignore[attr-defined]
            return
        job = job_at(lane, self._cursor_t, tolerance, m.now)
        if job is None or job.task is None:
            self.app.bell()  # type: ignore[attr-defined]
            return
        step = self.StepChosen(job.task, self._cursor_t, None, None)  # type: ignore[attr-defined]
        self.post_message(step)  # type: ignore[attr-defined]
