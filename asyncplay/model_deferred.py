"""A model that folds what the events do to its tasks when something first reads them.

The headless command (``asyncplay run``) makes its model deferred: the events that only
change the tasks (``model._DEFERRED``: tasks made, their figures, steps and ends ...) are
kept as they came, with their handlers, and run in order when the tasks, the steps or the
warnings are first read. The same handlers in the same order, before any reader: every
reader sees what an event-by-event fold would show it then. A run nobody reads the tasks
of (``--quiet``, no view) never folds them: 20,000 tasks' ``TaskInfo`` objects and their
figures are not made (``bench/parent_side.py``, docs/performance.md).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # (not at run time: the headless path's start-up)
    from collections.abc import Callable
    from typing import Any  # (the model's TaskInfo: model.py imports this module)

__all__ = ["MAX_HELD", "DeferredFold"]

# Rows (tasks, steps) kept unfolded at most: past them the model folds what it holds, so a
# long run's memory stays bounded (a 3 s yield loop's steps piled up to 145 MiB) while a
# short one's (20,000 tasks: 60,000-120,000 rows) may never be folded.
MAX_HELD = 150_000


class DeferredFold:
    """``RunModel``'s base: its tasks, steps and warnings, read through ``settle``.

    ``_pending`` (None: a model that folds each event as it comes) holds ``(handler,
    event)`` pairs; ``_ending`` says the run's end's part for the tasks is among them (it
    may add a slow step's warning, so the warnings are read through ``settle`` too)."""

    _pending: list[tuple[Callable, dict]] | None
    _ending: bool
    _tasks: dict[int, Any]
    _steps: int
    _warnings: list[dict]
    _warnings_version: int
    _slow_steps: int
    _held = 0  # the rows of the events in ``_pending``

    def hold(self, handler: Callable, ev: dict) -> None:
        """Keep ``ev`` for later, or fold all that is kept once it holds MAX_HELD rows."""
        self._pending.append((handler, ev))  # type: ignore[union-attr]
        rows = ev.get("tasks") or ev.get("steps")
        self._held += 1 + (len(rows) if rows else 0)
        if self._held > MAX_HELD:
            self.settle()

    def settle(self) -> None:
        """Fold what the events kept (``deferred``) did to the tasks, in order."""
        pending = self._pending
        self._held = 0
        if pending:
            self._pending = []  # (the handlers read the tasks: nothing pending for them)
            self._ending = False
            for handler, ev in pending:
                handler(self, ev)

    @property
    def tasks(self) -> dict[int, Any]:
        if self._pending:
            self.settle()
        return self._tasks

    @property
    def steps(self) -> int:
        if self._pending:
            self.settle()
        return self._steps

    @steps.setter
    def steps(self, value: int) -> None:
        if self._pending:
            self.settle()
        self._steps = value

    # The run's end's part for the tasks may add or change a slow step's warning.
    @property
    def warnings(self) -> list[dict]:
        if self._ending:
            self.settle()
        return self._warnings

    @property
    def warnings_version(self) -> int:
        if self._ending:
            self.settle()
        return self._warnings_version

    @warnings_version.setter
    def warnings_version(self, value: int) -> None:
        if self._ending:
            self.settle()
        self._warnings_version = value

    @property
    def slow_steps(self) -> int:
        if self._ending:
            self.settle()
        return self._slow_steps

    @slow_steps.setter
    def slow_steps(self, value: int) -> None:
        if self._ending:
            self.settle()
        self._slow_steps = value
