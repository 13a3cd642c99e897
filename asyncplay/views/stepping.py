"""What a paused run shows: who runs next, the ready queue, the timers, what the last step did.

Pure functions of the model (``RunModel.pause``, the ``paused`` record folded): the status
line's ``paused - next: toaster-task (toast_bread) at line 15``, the rows of the stepping
panel, the editor's line to highlight. What a step changed is the difference between
two :class:`Moment` s of the model, taken when the user stepped and when the run paused
again: the tasks it created, woke (new in the ready queue) and finished, and the lines
it printed.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from asyncplay.model import RunModel, TaskInfo
from asyncplay.views.seconds import seconds_text
from asyncplay.views.text_cells import clean

__all__ = [
    "Moment",
    "StepChanges",
    "changes",
    "moment",
    "next_line",
    "panel_rows",
    "pause_forms",
    "pause_line",
    "ready_names",
    "timer_rows",
    "where_words",
    "who_words",
]

#: Why the run paused, as the panel's first words say it.
REASONS = {
    "start": "paused at the start: the top level ran up to the loop, no task step yet",
    "step": "paused after one step",
    "request": "paused (F10)",
    "line": "paused at a breakpoint",
    "task": "paused at a task breakpoint",
}
MAX_PRINTED = 3  # printed lines the panel quotes (the Output pane has them all)


def where_words(file: str | None, line: int | None, program: str | None) -> str:
    """``line 15`` in the program, ``other.py:15`` elsewhere, "" when not known."""
    if not line:
        return ""
    if file and program and os.path.abspath(file) != os.path.abspath(program):
        return f"{os.path.basename(file)}:{line}"
    return f"line {line}"


def who_words(info: TaskInfo | None, tid: int | None) -> str:
    """``toaster-task (toast_bread)``: the task's name and its coroutine."""
    if info is None:
        return "a callback" if tid == 0 else f"task {tid}"
    name = clean(info.name) or "(no name)"
    coro = clean(info.coro)
    return f"{name} ({coro})" if coro and coro not in ("?", name) else name


def pause_forms(model: RunModel | None, program: str | None) -> list[str]:
    """The pause line, then shorter forms of it for a narrow status line (without the
    coroutine, then without the line); [] when not paused."""
    full = pause_line(model, program)
    if full is None or model is None or model.pause is None or model.pause.next is None:
        return [full] if full else []
    info = model.tasks.get(model.pause.next)
    name = (clean(info.name) or "(no name)") if info is not None else f"task {model.pause.next}"
    where = where_words(model.pause.file, model.pause.line, program)
    short = f"paused - next: {name}"
    return [full, f"{short} at {where}" if where else short, short]


def pause_line(model: RunModel | None, program: str | None) -> str | None:
    """``paused - next: toaster-task (toast_bread) at line 15``; None when not paused."""
    pause = model.pause if model is not None else None
    if pause is None or model is None:
        return None
    if pause.next is None:
        due = next((d for d, _t, _w in pause.timers), None)
        wait = f" (the loop waits: next timer at {seconds_text(due)})" if due is not None else ""
        return f"paused - no task is ready{wait}"
    where = where_words(pause.file, pause.line, program)
    info = model.tasks.get(pause.next)
    return f"paused - next: {who_words(info, pause.next)}" + (f" at {where}" if where else "")


def next_line(model: RunModel | None, program: str | None) -> int | None:
    """The 1-based line of the program the next task resumes at (the editor marks it)."""
    pause = model.pause if model is not None else None
    if pause is None or not pause.line or not program:
        return None
    if pause.file and os.path.abspath(pause.file) != os.path.abspath(program):
        return None
    return pause.line


def ready_names(model: RunModel) -> list[str]:
    """The ready queue in the loop's order: task names, ``a callback`` for the others."""
    pause = model.pause
    if pause is None:
        return []
    out = []
    for tid in pause.ready:
        info = model.tasks.get(tid) if tid else None
        out.append(clean(info.name) or "(no name)" if info is not None else "a callback")
    return out


def timer_rows(model: RunModel) -> list[str]:
    """The timers by due time: ``sleep(0.5) -> kettle-task at 0.50 s`` (run seconds)."""
    pause = model.pause
    if pause is None:
        return []
    out = []
    for due, tid, what in pause.timers:
        info = model.tasks.get(tid) if tid else None
        wakes = f" -> {clean(info.name) or '(no name)'}" if info is not None else ""
        out.append(f"{clean(what)}{wakes} at {seconds_text(due)}")
    return out


class Moment(NamedTuple):
    """What a step's changes are measured against: the model when the user stepped."""

    tasks: frozenset[int]
    finished: frozenset[int]
    ready: frozenset[int]
    printed: int  # output lines so far (dropped ones counted)
    stepped: int | None  # the task whose step was asked for


class StepChanges(NamedTuple):
    """What one step (or a run up to the next pause) did."""

    stepped: str | None  # who ran: ``toaster-task (toast_bread)``
    created: list[str]
    woke: list[str]
    finished: list[str]
    printed: list[str]  # the lines it printed (the last few)
    printed_count: int

    def __bool__(self) -> bool:
        return bool(self.stepped or self.created or self.woke or self.finished or self.printed)


def moment(model: RunModel) -> Moment:
    """The model as it stands (paused): taken when the user steps or continues."""
    pause = model.pause
    return Moment(
        tasks=frozenset(model.tasks),
        finished=frozenset(t.id for t in model.tasks.values() if t.finished),
        ready=frozenset(pause.ready) if pause is not None else frozenset(),
        printed=model.dropped_lines + len(model.output),
        stepped=pause.next if pause is not None else None,
    )


def changes(before: Moment, model: RunModel) -> StepChanges:
    """What happened between ``before`` and the model now (paused again)."""
    tasks = model.tasks

    def names(ids: list[int]) -> list[str]:
        return [clean(tasks[t].name) or "(no name)" for t in ids if not tasks[t].internal]

    created = [t for t in tasks if t not in before.tasks]
    finished = [t for t, i in tasks.items() if i.finished and t not in before.finished]
    pause = model.pause
    now_ready = pause.ready if pause is not None else ()
    woke = [
        t
        for t in now_ready
        if t and t in tasks and t not in before.ready and t not in created and t != before.stepped
    ]
    total = model.dropped_lines + len(model.output)
    count = max(0, total - before.printed)
    shown = list(model.output)[-min(count, MAX_PRINTED) :] if count else []
    stepped = before.stepped
    return StepChanges(
        stepped=who_words(tasks.get(stepped), stepped) if stepped else None,
        created=names(created),
        woke=names(woke),
        finished=names(finished),
        printed=[clean(line.text) for line in shown],
        printed_count=count,
    )


def _listing(label: str, items: list[str], empty: str = "none") -> str:
    return f"{label}: {', '.join(items) if items else empty}"


def panel_rows(
    model: RunModel, program: str | None, last: StepChanges | None
) -> list[tuple[str, str]]:
    """The stepping panel's rows, ``(kind, text)``: ``why``, ``ready``, ``timers``, then
    ``step`` and ``printed`` for what the last step did (the widget makes those stand out)."""
    pause = model.pause
    if pause is None:
        return []
    why = REASONS.get(pause.reason, f"paused ({pause.reason})")
    if pause.reason == "line" and pause.at:
        why = f"paused at the breakpoint on line {pause.at}"
    elif pause.reason == "task" and pause.next is not None:
        info = model.tasks.get(pause.next)
        why = f"paused at the breakpoint on task {clean(info.name) if info else pause.next}"
    rows = [("why", why + " - F10 steps, F5 continues")]
    order = ready_names(model)
    if pause.next is not None and pause.next not in pause.ready:  # its step is under way
        info = model.tasks.get(pause.next)
        order.insert(0, f"{clean(info.name) if info else pause.next} (next)")
    order = [f"{n}. {name}" for n, name in enumerate(order, 1)]
    rows.append(("ready", _listing("ready", order, "nothing (the loop waits)")))
    rows.append(("timers", _listing("timers", timer_rows(model))))
    if last:
        did = [f"{last.stepped} ran" if last.stepped else "the loop ran"]
        for label, items in (
            ("created", last.created),
            ("woke", last.woke),
            ("finished", last.finished),
        ):
            if items:
                did.append(f"{label} {', '.join(items)}")
        if not last.printed_count:
            did.append("printed nothing")
        rows.append(("step", "last step: " + "; ".join(did)))
        if last.printed_count:
            more = last.printed_count - len(last.printed)
            head = f"printed {last.printed_count} lines, the last: " if more > 0 else "printed: "
            rows.append(("printed", head + " | ".join(last.printed)))
    return rows
