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

from textual.widgets import TextArea

from asyncplay.breakpoints import Breakpoints
from asyncplay.runner.spec import RunSpec
from asyncplay.views.gutter_marks import BREAKPOINT, NEXT
from asyncplay.views.line_follow import follow_lines
from asyncplay.views.stepping import Moment, StepChanges, changes, moment, next_line, panel_rows

if TYPE_CHECKING:
    from asyncplay.model import RunModel
    from asyncplay.tui.panes.editor import CodeEditor
    from asyncplay.tui.panes.stepping_panel import SteppingPanel
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
    program: str | None
    editor: CodeEditor
    stepping_panel: SteppingPanel
    _run_task: asyncio.Task[None] | None

    def _stepping_init(self) -> None:
        self.start_paused = False  # the run being started starts paused (F10 from idle)
        self._queued: list[str] = []  # session calls asked for before the session existed
        self._awaiting = False  # a pause is on its way (started paused, or a step sent)
        self._owed = 0  # F10s pressed while a pause was on its way
        self._pauses_seen = 0  # the model's pause count when last looked at
        self.line_breakpoints: dict[str, set[int]] = {}  # run path -> 1-based lines
        self.task_breakpoints: set[str] = set()  # task names
        self._task_marks_of: tuple[tuple, dict[int, str]] = ((), {})
        self.last_step: StepChanges | None = None  # what the last step did (while paused)
        self._moment: Moment | None = None  # the model when the user last stepped
        self._lines_seen: tuple[str, list[str]] | None = None  # (path, text) the marks are on

    # ---- the run's state, as F10 sees it ------------------------------------------------

    def _starting(self) -> bool:
        """A run is being (re)started: the last one ending, the new one not there yet
        (``self.session`` is None, or still the last run's)."""
        task = self._run_task
        return task is not None and not task.done()

    def step_state(self) -> str:
        """``idle``, ``starting`` (no session yet), ``awaiting`` (a pause is on its way),
        ``paused`` or ``running``: what F10 acts on (:data:`STEP_DOES`)."""
        if self._starting():
            return "starting"
        session, model = self.session, self.model
        if session is None or not session.running or model is None or model.status == "ended":
            return "idle"
        if model.pause is not None and not self._awaiting:
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
            self._moment = self.last_step = None
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
            self._moment = self.last_step = None
            self._call("resume")
            self._tick()  # type: ignore[attr-defined]
            return True
        if state == "idle":
            self.start_paused = False  # a start that failed must not make this one paused
        return False

    def _send_step(self) -> None:
        model = self.model
        self._moment = moment(model) if model is not None and model.pause is not None else None
        self._awaiting = True
        self._call("step")

    def _call(self, what: str) -> None:
        session = self.session
        if session is None:
            self._queued.append(what)
            return
        self._send(session, what)

    def _send(self, session: Session, what: str) -> None:
        call = getattr(session, what, None)
        if call is None:  # a replay's or an attach's session: nothing there to step
            self._awaiting, self._owed = False, 0
            self.say("this run cannot be stepped: F10 steps a run the playground started")  # type: ignore[attr-defined]
            return
        call()

    # ---- hooks of the run's life (RunControl calls them) ---------------------------------

    def stepping_spec(self, spec: RunSpec) -> RunSpec:
        """The run's spec with the start paused (F10) and the breakpoints."""
        self._queued.clear()
        self._pauses_seen = 0
        if not self.start_paused:
            self._awaiting, self._owed = False, 0
        self.last_step = self._moment = None
        spec.start_paused = self.start_paused
        spec.breakpoints = self.breakpoints_for(spec.path)
        return spec

    def stepping_started(self, session: Session) -> None:
        """The session exists: what was asked for while it started goes to it, in order."""
        queued, self._queued = self._queued, []
        for what in queued:
            self._send(session, what)
        self.start_paused = False

    def stepping_tick(self) -> None:
        """On the tick: a new pause ends the wait for it (what the step did is measured
        then), pays one owed F10; the panel shows the pause."""
        self._note_pause()
        model = self.model
        paused = model is not None and model.pause is not None and self.marks is not None  # type: ignore[attr-defined]
        rows = panel_rows(model, self.program, self.last_step) if paused else []  # type: ignore[arg-type]
        self.stepping_panel.show(rows)
        marks = dict(self._task_marks())
        if paused and model is not None and model.pause is not None and model.pause.next:
            marks[model.pause.next] = "next"
        for view in (self.tasks, self.timeline, self.graph):  # type: ignore[attr-defined]
            view.set_step_marks(marks)

    def _task_marks(self) -> dict[int, str]:
        """The run's tasks with a breakpoint on their name (kept until a task is added)."""
        model = self.model
        if model is None or not self.task_breakpoints:
            return {}
        key = (id(model), len(model.tasks), frozenset(self.task_breakpoints))
        if self._task_marks_of[0] != key:
            names = self.task_breakpoints
            marks = {t.id: "breakpoint" for t in model.tasks.values() if t.name in names}
            self._task_marks_of = (key, marks)
        return self._task_marks_of[1]

    def _note_pause(self) -> None:
        model = self.model
        if model is None:
            return
        if self._starting():
            return  # what was asked for waits for the new run
        if self.session is None or model.status == "ended":
            self._awaiting, self._owed = False, 0
            return
        if model.pauses == self._pauses_seen:
            return
        self._pauses_seen = model.pauses
        if model.pause is None:
            return  # resumed already (a breakpoint's pause, then F5)
        self._awaiting = False
        before, self._moment = self._moment, None
        self.last_step = changes(before, model) if before is not None else None
        if self._owed:
            self._owed -= 1
            self._send_step()

    def stepping_marks(self) -> dict[int, str]:
        """The editor's stepping marks (0-based line -> kind): the buffer's breakpoints,
        and where the next task resumes while paused (also highlighted)."""
        marks = {line - 1: BREAKPOINT for line in self.line_breakpoints.get(self.run_path(), ())}  # type: ignore[attr-defined]
        line = next_line(self.model, self.program) if self.marks is not None else None  # type: ignore[attr-defined]
        if self.playback.active:  # type: ignore[attr-defined]  # the next recorded step's
            line = self.playback.next_line()  # type: ignore[attr-defined]
        self.editor.set_paused_line(line - 1 if line else None)
        if line:
            marks[line - 1] = NEXT
        return marks

    # ---- breakpoints ----------------------------------------------------------------------

    def breakpoints_for(self, path: str | None) -> Breakpoints:
        """The breakpoints a run of ``path`` gets: its lines, and every task breakpoint."""
        lines = self.line_breakpoints.get(path or "", set())
        return Breakpoints(((path or "", n) for n in lines), self.task_breakpoints)

    def _breakpoints_changed(self) -> None:
        """The run going gets them at once (it pauses at a new one from its next step)."""
        session = self.session
        call = getattr(session, "set_breakpoints", None) if session is not None else None
        if call is not None and session is not None and session.running and self.program:
            call(self.breakpoints_for(self.program))
        self._tick()  # type: ignore[attr-defined]

    def toggle_line_breakpoint(self, path: str, line: int) -> bool:
        """A breakpoint on ``line`` (1-based) of ``path``, or none any more: True if set."""
        lines = self.line_breakpoints.setdefault(path, set())
        self._lines_seen = (path, list(self.editor.document.lines))  # what later edits move
        on = line not in lines
        if on:
            lines.add(line)
        else:
            lines.discard(line)
        self._breakpoints_changed()
        return on

    def toggle_task_breakpoint(self, name: str) -> bool:
        """A breakpoint on the task called ``name`` (in this run and the next): True if set."""
        on = name not in self.task_breakpoints
        if on:
            self.task_breakpoints.add(name)
        else:
            self.task_breakpoints.discard(name)
        self._breakpoints_changed()
        return on

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """An edit: the buffer's line breakpoints follow their lines (or go with them).
        The text is kept only while the buffer has line breakpoints."""
        path = self.run_path()  # type: ignore[attr-defined]
        lines = self.line_breakpoints.get(path)
        if not lines:
            self._lines_seen = None
            return
        text = list(self.editor.document.lines)
        seen = self._lines_seen
        if seen is not None and seen[0] == path:
            moved = {n + 1 for n in follow_lines(seen[1], text, (n - 1 for n in lines))}
            if moved != lines:
                self.line_breakpoints[path] = moved
                self._breakpoints_changed()
        self._lines_seen = (path, text)
