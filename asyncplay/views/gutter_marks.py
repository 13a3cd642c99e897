"""Which lines of the program the editor's gutter marks for the current run.

Pure bookkeeping over the model (no widgets): where tasks were created, where warnings
and exceptions point, and where the selected task is now (or, if it never suspended in
the program's file, where it was created). ``RunMarks`` gives 0-based lines, as the
editor counts; ``warning_lines`` and ``warnings_at`` speak 1-based lines, as people and
the protocol do.

Where a warning is marked: at its own ``line``; a ``deadlock`` also at the line where each
of its ``tasks`` waited at that moment (the model's snapshot of the warning, else where
the task waits now); a warning tied to a task (``cut_off``, ``destroyed_pending``,
``exception_never_retrieved``) that names no line of the program, at the task's line.
"""

from __future__ import annotations

import os
from itertools import islice

from asyncplay.model import RunModel, TaskInfo
from asyncplay.views.traceback_lines import last_error_line

CREATED = "created"
WARNING = "warning"
ERROR = "error"
SELECTED = "selected"
BREAKPOINT = "breakpoint"
NEXT = "next"

#: The gutter's marks, weakest first (a line with several shows the last that applies):
#: (kind, glyph, Rich style, meaning). The editor draws from it; the help's legend too.
GUTTER: tuple[tuple[str, str, str, str], ...] = (
    (CREATED, "+", "green", "a task was created here"),
    (WARNING, "!", "bold black on yellow", "a warning (Shift+F1 or a click explains it)"),
    (ERROR, "x", "bold red", "an exception was raised here"),
    (SELECTED, ">", "bold cyan", "the selected task is here"),
    (BREAKPOINT, "●", "bold red", "a breakpoint (Ctrl+B): a run pauses when a task gets here"),
    (NEXT, "▶", "bold black on yellow", "paused: the next task resumes at this line"),
)
# Warnings about one task that are marked at the task's line when they name none.
_TASK_KINDS = frozenset({"cut_off", "destroyed_pending", "exception_never_retrieved"})


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


def _line(value: object) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return value if ok else None  # type: ignore[return-value]


def _info(model: RunModel, tid: object) -> TaskInfo | None:
    if isinstance(tid, int) and not isinstance(tid, bool):
        return model.tasks.get(tid)
    return None


def warning_lines(model: RunModel, warning: dict, program: str | None) -> list[int]:
    """The 1-based lines of the program where ``warning`` is marked (see the docstring)."""
    lines: list[int] = []
    line = _line(warning.get("line"))
    if line and same_file(warning.get("file"), program):
        lines.append(line)
    kind = warning.get("kind")
    if kind == "deadlock" and isinstance(warning.get("tasks"), list):
        waits: dict = {}
        for snap in model.snapshots:
            if snap.warning is warning:
                waits = snap.waits
                break
        for tid in warning["tasks"]:
            info = _info(model, tid)
            if info is None:
                continue
            wait = waits.get(info.id)
            if wait is not None and _line(wait[2]) and same_file(wait[1], program):
                at = wait[2]
            else:
                at = task_line(info, program)
            if at and at not in lines:
                lines.append(at)
    elif kind in _TASK_KINDS and not lines:
        info = _info(model, warning.get("task"))
        at = task_line(info, program) if info is not None else None
        if at:
            lines.append(at)
    return lines


def warnings_at(model: RunModel | None, program: str | None, line: int) -> list[dict]:
    """The run's warnings marked at ``line`` (1-based) of ``program``, in the run's order:
    what the app explains for "the warning at the editor's cursor"."""
    if model is None or not program:
        return []
    program = os.path.abspath(program)
    return [w for w in model.warnings if line in warning_lines(model, w, program)]


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
            for line in warning_lines(m, ev, program):
                marks.setdefault(line - 1, set()).add(WARNING)
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
