"""Which lines of the program the editor's gutter marks for the current run.

Pure bookkeeping over the model (no widgets): where tasks were created, where warnings
and exceptions point, and where the selected task is now (or, if it never suspended in
the program's file, where it was created). Lines are 0-based, as the editor counts.
"""

from __future__ import annotations

import os
from itertools import islice

from asyncplay.model import RunModel, TaskInfo
from asyncplay.tui.traceback_lines import last_error_line

CREATED = "created"
WARNING = "warning"
ERROR = "error"
SELECTED = "selected"


def same_file(file: str | None, program: str | None) -> bool:
    """Whether an event's file is the program (compiled under an absolute path)."""
    return bool(file) and bool(program) and os.path.abspath(file or "") == program


def task_line(info: TaskInfo, program: str | None) -> int | None:
    """The 1-based line of the program a task is at now, else where it was created."""
    if info.wait_line and same_file(info.wait_file, program):
        return info.wait_line
    if info.line and same_file(info.file, program):
        return info.line
    return None


class RunMarks:
    """Computes the marks of one run, incrementally where the model allows it."""

    def __init__(self, model: RunModel, program: str) -> None:
        self.model = model
        self.program = program
        self._state: tuple = ()
        self._seen = 0
        self._created: set[int] = set()

    def update(self, selected: int | None) -> dict[int, set[str]] | None:
        """The marks, or None when nothing they depend on changed since the last call."""
        m, program = self.model, self.program
        state = (len(m.tasks), m.steps, len(m.warnings), selected, m.status)
        if state == self._state:
            return None
        self._state = state
        for info in islice(m.tasks.values(), self._seen, None):
            if not info.internal and info.line and same_file(info.file, program):
                self._created.add(info.line - 1)
        self._seen = len(m.tasks)
        marks: dict[int, set[str]] = {line: {CREATED} for line in self._created}
        for ev in m.warnings:
            if ev.get("line") and same_file(ev.get("file"), program):
                marks.setdefault(ev["line"] - 1, set()).add(WARNING)
        for info in m.tasks.values():
            if info.state == "failed" and info.exc_line and same_file(info.exc_file, program):
                marks.setdefault(info.exc_line - 1, set()).add(ERROR)
        if m.status == "ended" and m.exit_code:  # a SyntaxError, an error outside any task
            line = last_error_line(m.output, program) if program else None
            if line:
                marks.setdefault(line - 1, set()).add(ERROR)
        chosen = m.tasks.get(selected) if selected is not None else None
        line = task_line(chosen, program) if chosen is not None else None
        if line:
            marks.setdefault(line - 1, set()).add(SELECTED)
        return marks
