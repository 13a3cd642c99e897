"""Stepping a live run: F10 starts it paused, steps one task step, or pauses; F5 continues.

A mixin of :class:`~asyncplay.tui.app.AsyncplayApp` beside ``RunControl``. The decisions
are here; the session carries them to the child (``pause``, ``step``, ``resume``,
``set_breakpoints``: the control channel of ``docs/protocol.md``), the model says what
the child did (``RunModel.pause``), and the views (``views/stepping.py``) say it.

One F10 is one step, however fast they come: a press while a step is still on its way
(sent, but its pause not back yet) is owed, and sent when the pause arrives; a press
while the run is starting is kept until the session exists (the session keeps it until
the child is there). Breakpoints belong to the app, not to a run: lines by the file the
run compiles under, tasks by name, so they survive a rerun; they go to every run at its
start and to the run going whenever they change.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from asyncplay.runner.spec import RunSpec

if TYPE_CHECKING:
    from asyncplay.model import RunModel
    from asyncplay.tui.run_control import Session

__all__ = ["STEPPING_HELP", "SteppingControl"]

#: The F1 help's section on stepping: (key, what it does).
STEPPING_HELP: tuple[tuple[str, str], ...] = (
    ("F10", "No run: start it paused, before any task has run. Paused: run one task step."),
    ("F10", "While it runs: pause before the next task step."),
    ("F5", "Paused: continue at full speed. F6 stops, as always."),
    ("Ctrl+B", "In the editor: a breakpoint on the cursor's line (any task reaching it)."),
    ("b", "In the task table, timeline or graph: a breakpoint on that task (by name)."),
    ("", "Breakpoints stay for the next run. Paused, the status line says 'paused - next:'"),
    ("", "and which task runs next; that task's line is marked in the editor."),
    ("", "GNOME Terminal opens its menu on F10: turn off 'Enable the menu accelerator key'"),
    ("", "in its Preferences (or use the Step button, or Ctrl+P 'Step')."),
)

#: What F10 does, by the run's state (:meth:`SteppingControl.step_state`).
STEP_DOES = {
    "idle": "start paused",
    "starting": "queued",
    "awaiting": "owed",
    "paused": "step",
    "running": "pause",
}


class SteppingControl:
    """The app's side of stepping: F10, F5 while paused, and the breakpoints."""

    session: Session | None
    model: RunModel | None
    _run_task: asyncio.Task[None] | None

    def _stepping_init(self) -> None:
        self.start_paused = False  # the run being started starts paused (F10 from idle)
        self._queued: list[str] = []  # session calls asked for before the session existed
        self._awaiting = False  # a pause is on its way (started paused, or a step sent)
        self._owed = 0  # F10s pressed while a pause was on its way
        self._pauses_seen = 0  # the model's pause count when last looked at
        self.line_breakpoints: dict[str, set[int]] = {}  # run path -> 1-based lines
        self.task_breakpoints: set[str] = set()  # task names

    # ---- the run's state, as F10 sees it ------------------------------------------------

    def _starting(self) -> bool:
        task = self._run_task
        return self.session is None and task is not None and not task.done()

    def step_state(self) -> str:
        """``idle``, ``starting`` (no session yet), ``awaiting`` (a pause is on its way),
        ``paused`` or ``running``: what F10 acts on (:data:`STEP_DOES`)."""
        if self._starting():
            return "starting"
        session, model = self.session, self.model
        if session is None or not session.running or model is None or model.status == "ended":
            return "idle"
        if getattr(model, "pause", None) is not None and not self._awaiting:
            return "paused"
        return "awaiting" if self._awaiting else "running"

    # ---- the keys -----------------------------------------------------------------------

    def step_run(self) -> None:
        """F10: idle, start the run paused; paused, one task step; running, pause."""
        state = self.step_state()
        if state == "idle":
            self.start_paused = True
            self._awaiting = True
            self._owed = 0
            self.start_run()  # type: ignore[attr-defined]
        elif state == "starting":
            if self.start_paused:
                self._owed += 1  # one step once the start's pause is there
            elif "pause" not in self._queued:
                self._queued.append("pause")
        elif state == "awaiting":
            self._owed += 1
        elif state == "paused":
            self._send_step()
        else:
            self._call("pause")
            self._awaiting = True
        self._tick()  # type: ignore[attr-defined]

    def continue_if_paused(self) -> bool:
        """F5 while paused (or while a paused start is on its way): continue at full
        speed. False when there is no pause to continue from (F5 then runs)."""
        state = self.step_state()
        if state == "starting" and (self.start_paused or "pause" in self._queued):
            self._queued = [c for c in self._queued if c != "pause"] + ["resume"]
            self.start_paused, self._owed = False, 0
            return True
        if state in ("paused", "awaiting"):
            self._owed, self._awaiting = 0, False
            self._call("resume")
            self._tick()  # type: ignore[attr-defined]
            return True
        return False

    def _send_step(self) -> None:
        self._awaiting = True
        self._call("step")

    def _call(self, what: str) -> None:
        session = self.session
        if session is None:
            self._queued.append(what)
            return
        getattr(session, what)()

    # ---- hooks of the run's life (RunControl calls them) ---------------------------------

    def stepping_spec(self, spec: RunSpec) -> RunSpec:
        """The run's spec with the start paused (F10) and the breakpoints."""
        self._queued.clear()
        self._pauses_seen = 0
        if not self.start_paused:
            self._awaiting, self._owed = False, 0
        spec.start_paused = self.start_paused
        return spec

    def stepping_started(self, session: Session) -> None:
        """The session exists: what was asked for while it started goes to it, in order."""
        queued, self._queued = self._queued, []
        for what in queued:
            getattr(session, what)()
        self.start_paused = False

    def stepping_tick(self) -> None:
        """On the tick: a new pause ends the wait for it, and pays one owed F10."""
        model = self.model
        if model is None:
            return
        if model.status == "ended" or self.session is None:
            self._awaiting, self._owed = False, 0
            return
        pauses = getattr(model, "pauses", 0)
        if pauses == self._pauses_seen:
            return
        self._pauses_seen = pauses
        if getattr(model, "pause", None) is None:
            return  # resumed already (a breakpoint's pause, then F5)
        self._awaiting = False
        if self._owed:
            self._owed -= 1
            self._send_step()

    # ---- breakpoints ----------------------------------------------------------------------

    def toggle_line_breakpoint(self, path: str, line: int) -> bool:
        """A breakpoint on ``line`` (1-based) of ``path``, or none any more: True if set."""
        lines = self.line_breakpoints.setdefault(path, set())
        if line in lines:
            lines.discard(line)
            return False
        lines.add(line)
        return True

    def toggle_task_breakpoint(self, name: str) -> bool:
        """A breakpoint on the task called ``name`` (in this run and the next): True if set."""
        if name in self.task_breakpoints:
            self.task_breakpoints.discard(name)
            return False
        self.task_breakpoints.add(name)
        return True
