"""The timeline pane's last line: what is under the cursor, in words, fitted to the pane.

A mixin of :class:`~asyncplay.tui.panes.timeline.TimelinePane` (the pane keeps the model,
the window, the cursor and the lanes; this reads them): a step, a wait or an end of the
task under the cursor (``views.task_story``), a warning, and on an object's lane (an
executor thread, a queue's size: ``views.timeline_objects``) the job or the size there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asyncplay.tui.panes.timeline_lanes import fit_detail
from asyncplay.views.seconds import seconds_text
from asyncplay.views.task_story import SEP, Part, detail_parts, no_task_text

if TYPE_CHECKING:
    from asyncplay.model import RunModel

__all__ = ["WARNINGS_LANE", "TimelineDetail"]

WARNINGS_LANE = -1  # the lane of warnings that belong to no task shown


class TimelineDetail:
    """The detail line's words; the pane's state is read, never changed (but the note of
    whether the detail took two lines)."""

    model: RunModel | None
    program: str | None
    start: float
    end: float
    _cursor_t: float
    _now: float
    _height: int
    _detail_two: bool
    _warnings: dict[int, list[dict]]

    def detail(self) -> str:
        """What is under the cursor, in words: a step, a wait, an end, a warning."""
        return SEP.join(text for text, _rank in self._detail_parts())

    def _detail_parts(self) -> list[Part]:
        m = self.model
        if m is None:
            return []
        lane = self._cursor_lane()  # type: ignore[attr-defined]
        if lane is None:
            return [(no_task_text(m), 0)]
        warning = self.warning_at_cursor()  # type: ignore[attr-defined]
        if warning is not None:
            kind = warning.get("kind", "warning")
            message = str(warning.get("message", ""))
            when = seconds_text(float(warning.get("t") or 0))
            return [(f"⚠ {kind} at {when} (e explains)", 0), (message, 0)]  # the key first
        if lane == WARNINGS_LANE:
            count = len(self._warnings.get(WARNINGS_LANE, ()))
            return [(f"{count} warning(s) of no task shown: move onto a ⚠ and press e", 0)]
        obj = self.object_lane(lane)  # type: ignore[attr-defined]
        if obj is not None:  # an executor thread's lane, a queue's
            return self._object_detail(obj, self._tolerance())  # type: ignore[attr-defined]
        return detail_parts(
            m, m.tasks[lane], self._cursor_t, self._tolerance(), self._now, self.program
        )

    def _spare_line(self) -> bool:
        """The line above the detail holds no lane: the detail may take it (else the
        legend does)."""
        height = self._height
        row = self.scroll_offset.y + height - 3  # type: ignore[attr-defined]
        return height >= 4 and self._lane_id(row) is None  # type: ignore[attr-defined]

    def _detail_lines(self, width: int) -> list[str]:
        """The detail fitted to the pane: one line, or two when the line above is free."""
        lines = 2 if self._spare_line() else 1
        out = [" " + line for line in fit_detail(self._detail_parts(), width - 1, lines)]
        self._detail_two = len(out) == 2
        return out

    def _tolerance(self) -> float:
        return (self.end - self.start) / self._cells / 2  # type: ignore[attr-defined]
