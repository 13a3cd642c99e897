"""The prose about one task, in one place: what it did at a moment, how it ended, who
cancelled it, why there is no task at all.

The timeline pane's detail line, the headless summary's state column and the await graph
pane's empty view say these things; each takes its words from here, so they never drift
apart. Pure: a model and a task in, text out (the caller cleans and fits it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial

from asyncplay.model import (
    SPAN_AWAITING,
    SPAN_BUSY,
    SPAN_FILE,
    SPAN_LINE,
    SPAN_START,
    RunModel,
    TaskInfo,
)
from asyncplay.views import timeline as tl
from asyncplay.views.seconds import seconds_text as seconds

__all__ = [
    "DETAIL_NAME",
    "NO_NAME",
    "SEP",
    "WRAP_BELOW",
    "Part",
    "cancelled_by",
    "detail_line",
    "detail_parts",
    "ending_text",
    "line_place",
    "no_task_text",
    "why_ended",
]

NO_NAME = "(no name)"  # said for a task named "" (create_task(name=""))
DETAIL_NAME = 24  # a task's name in the detail line, cut in the middle past this

#: A part of the detail line: (text, rank). Rank 0 is never dropped; when the line is too
#: narrow the highest ranks go first (the moment, the step count, the duration, the lines),
#: so what the task awaited next is the last thing standing after its name.
Part = tuple[str, int]
SEP = " · "
WRAP_BELOW = 4  # parts ranked this or more are dropped before the detail takes two lines

#: Where a line is, in words: (file, line) -> ``line 12``, ``p.py:12``, or "" if unknown.
Place = Callable[["str | None", "int | None"], str]


def line_place(file: str | None, line: int | None, target: str | None = None) -> str:
    """``line 22`` in the program ``target`` itself (or a file not told), ``other.py:22``
    elsewhere, "" without a line: the timeline's detail and the await graph's rows say a
    line so."""
    if not line:
        return ""
    if not file or (
        target and (file == target or os.path.abspath(file) == os.path.abspath(target))
    ):
        return f"line {line}"
    return f"{os.path.basename(file)}:{line}"


def chain_text(info: TaskInfo, place: Place) -> str:
    """3.14+: the coroutines inside a waiting task, outermost first, as ``python -m asyncio
    pstree`` lists them: ``main (line 12) > fetch (line 5) > sleep (tasks.py:702)``; ""
    when not known (before 3.14) or the task does not wait now. Not cleaned: the caller does."""
    if not info.chain or info.state != "waiting":
        return ""
    if info.chain_wait != (info.awaiting, info.wait_file, info.wait_line):
        return ""  # captured at an earlier wait: the one now is not captured yet
    parts = []
    for name, file, line in info.chain:
        where = place(file, line)
        parts.append(f"{name} ({where})" if where else name)
    return " > ".join(parts)


def cancelled_by(model: RunModel, info: TaskInfo, place: Place | None = None) -> str:
    """``by main at line 12``, ``timeout at line 9``, ``by cancel() at other.py:3``, or ""
    when nobody knows. ``place`` words the line (default ``line_place`` without a
    program: ``p.py:12``); the words are the program's own, not yet cleaned."""
    src = info.cancel_source if isinstance(info.cancel_source, dict) else None
    if not src:
        return ""
    cause = str(src.get("cause") or "unknown")
    line = src.get("line")
    file = src.get("file")
    line = line if isinstance(line, int) else None
    file = file if isinstance(file, str) else None
    where = place(file, line) if place is not None else line_place(file, line)
    by_id = src.get("by")
    by = model.tasks.get(by_id) if isinstance(by_id, int) else None
    if cause == "cancel":
        text = f"by {by.name or NO_NAME}" if by is not None else "by cancel()"
    elif cause == "unknown" and not where:
        return ""
    else:
        text = cause
    return f"{text} at {where}" if where else text


def no_task_text(model: RunModel) -> str:
    """Why there is no task to show, from the model: none yet, only hidden internal tasks,
    or the run ended without a task. ``asyncio.run`` always makes a task of ``main()``, so a
    run that ended with none never reached it (a SyntaxError, a plain script, an early
    exit)."""
    if model.status != "ended":
        return "no tasks yet"
    if model.tasks:
        return f"only asyncio's internal tasks ({len(model.tasks)}): i shows them"
    end = model.end or {}
    code = model.exit_code
    if end.get("reason", "exited") != "exited":
        message = str(end.get("message") or end.get("reason"))
        return f"no task: the run ended before asyncio.run ({message})"
    if code == 0:
        return "no task: the program ended (exit 0) without reaching asyncio.run"
    return f"no task: the program ended (exit {code}) before asyncio.run: see the Output"


def why_ended(model: RunModel) -> str:
    """Why the run ended with tasks alive, in a word (``timeout``, ``stopped``, ``memory``):
    ``model.end``'s reason; its message, a sentence, is the status bar's."""
    reason = (model.end or {}).get("reason")
    if reason in (None, "exited"):
        return "the program ended"
    return f"the run ended: {reason}"


def ending_text(model: RunModel, info: TaskInfo, when: str = "", target: str | None = None) -> str:
    """``cancelled at 0.20 s by main at line 12``, ``raised ValueError at 1.00 s: boom``,
    ``returned 3 at 2.09 s`` (``when``: `` at 0.20 s``, or "")."""
    if info.state == "cancelled":
        # "by main at line 12", "timeout at line 9"
        why = cancelled_by(model, info, partial(line_place, target=target))
        if why and not why.startswith("by "):
            why = f"({why})"
        return f"cancelled{when}" + (f" {why}" if why else "")
    if info.state == "failed":
        exc = info.exc_type or "an exception"
        return f"raised {exc}{when}" + (f": {info.exc_msg}" if info.exc_msg else "")
    if info.state == "done":
        result = f" {info.result}" if info.result is not None else ""
        return f"returned{result}{when}"
    return f"{info.state}{when}"


def detail_line(
    model: RunModel,
    info: TaskInfo,
    t: float,
    tolerance: float,
    now: float | None = None,
    program: str | None = None,
) -> str:
    """What ``info`` did at ``t``, in one line: the step there, the wait, or its end."""
    parts = detail_parts(model, info, t, tolerance, now, program)
    return SEP.join(text for text, _rank in parts)


def detail_parts(
    model: RunModel,
    info: TaskInfo,
    t: float,
    tolerance: float,
    now: float | None = None,
    program: str | None = None,
) -> list[Part]:
    """What ``info`` did at ``t``, in ranked parts, its name first (the timeline pane fits
    them to its width).

    A step says the lines it ran between, as the await graph does: it resumed at the line
    its previous step stopped at (``from line 5``, what the graph shows as ``▶ running``)
    and stopped at its own (``to 6``, where it then awaited)."""
    name = tl.shorten(info.name or NO_NAME, DETAIL_NAME)
    target = program or model.target
    if info.unfinished and t >= model.now - tolerance:  # at its ╳: the run ended first
        return [(name, 0), (f"cut off at {seconds(model.now)} ({why_ended(model)})", 0)]
    index = tl.span_at(info, t, tolerance)
    if index is not None:
        span = info.spans[index]
        first, last = tl.step_number(info, index)
        steps = f"step {first}" if first == last else f"steps {first}-{last}"
        parts: list[Part] = [(name, 0), (f"{steps}/{info.steps}", 3)]
        before = info.spans[index - 1] if index > 0 else None
        resumed = (
            line_place(before[SPAN_FILE], before[SPAN_LINE], target) if before is not None else ""
        )
        stopped = line_place(span[SPAN_FILE], span[SPAN_LINE], target)
        if index == 0:
            resumed = "its start"
        ended = index == len(info.spans) - 1 and info.finished and not span[SPAN_AWAITING]
        if stopped and resumed == stopped:  # round a loop, back to the same await
            parts.append((f"at {stopped}", 1))
        elif resumed and (stopped or ended):
            if resumed.startswith("line ") and stopped.startswith("line "):
                stopped = stopped[5:]  # from line 5 to 6
            parts.append((f"from {resumed} to {stopped or 'its end'}", 1))
        elif stopped or resumed:
            parts.append((f"to {stopped}" if stopped else f"from {resumed}", 1))
        parts += [(f"ran {seconds(span[SPAN_BUSY])}", 2), (f"at {seconds(span[SPAN_START])}", 4)]
        if span[SPAN_AWAITING]:
            parts.append((f"then {span[SPAN_AWAITING]}", 0))
        elif ended:
            parts.append((f"then {ending_text(model, info, target=target)}", 0))
        return parts
    if t < info.created:
        where = line_place(info.file, info.line, target)
        return [(name, 0), (f"created at {seconds(info.created)}", 0)] + (
            [(f"at {where}", 1)] if where else []
        )
    wait = tl.wait_at(info, t, model.now if now is None else now)
    if wait is not None:
        since, before_index = wait
        if before_index is None:
            return [(name, 0), (f"created at {seconds(info.created)}, not started yet", 0)]
        span = info.spans[before_index]
        where = line_place(span[SPAN_FILE], span[SPAN_LINE], target)
        what_text = (
            f"waiting on {span[SPAN_AWAITING]}"
            if span[SPAN_AWAITING]
            else "ready, waiting for its turn"
        )
        parts = [(name, 0), (what_text, 0), (f"since {seconds(since)}", 2)]
        parts += [(f"at {where}", 1)] if where else []
        if before_index == len(info.spans) - 1:  # its wait now: the chain is where it is
            chain = chain_text(info, partial(line_place, target=target))
            parts += [(f"in {chain}", WRAP_BELOW)] if chain else []
        return parts
    if info.finished:
        ended_at = info.ended
        when = f" at {seconds(ended_at)}" if ended_at is not None else ""
        return [(name, 0), (ending_text(model, info, when, target), 0)]
    return [(name, 0), (info.state, 0)]
