"""An exercise's checks: the vocabulary a teacher writes under ``Checks:`` in a snippet's
docstring, and the verdict of each on a finished run, with its reason taken from the run.

Pure: ``parse`` reads ``(line, text)`` pairs into :class:`Check` objects (a malformed line
is a :class:`CheckError` naming its line), ``evaluate`` folds a :class:`RunModel` into one
:class:`Verdict` per check. The words are documented, with an example each, in
docs/exercises.md; ``asyncplay check`` prints the verdicts and the playground shows them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from asyncplay.model import (
    SPAN_AWAITING,
    SPAN_EXTENT,
    SPAN_FILE,
    SPAN_LINE,
    SPAN_START,
    RunModel,
    TaskInfo,
)
from asyncplay.views.seconds import seconds_text
from asyncplay.views.task_story import cancelled_by, ending_text

__all__ = [
    "WARNING_WORDS",
    "Check",
    "CheckError",
    "Verdict",
    "at_once",
    "evaluate",
    "parse",
    "program_time",
    "stopped_at_deadlock",
    "stuck_deadlock",
]

#: ``no WORDS``: the warning kinds of the protocol (docs/protocol.md) a check names.
WARNING_WORDS: dict[str, tuple[str, ...]] = {
    "blocking step": ("slow_step",),
    "never-awaited coroutine": ("never_awaited",),
    "lost task": ("destroyed_pending",),
    "cut-off task": ("cut_off",),
    "deadlock": ("deadlock",),
    "unretrieved exception": ("exception_never_retrieved",),
    "warning": (),  # any kind at all
}

_NUM = r"(\d+(?:\.\d+)?)"
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_FORMS: list[tuple[str, re.Pattern[str]]] = [
    ("time_max", re.compile(rf"(?:finishes within|takes at most) {_NUM} ?s(?:econds?)?")),
    ("time_min", re.compile(rf"takes at least {_NUM} ?s(?:econds?)?")),
    ("time_between", re.compile(rf"takes between {_NUM} and {_NUM} ?s(?:econds?)?")),
    ("exit", re.compile(r"exit status (\d{1,3})")),
    ("prints_containing", re.compile(r"prints a line containing (.+)")),
    ("prints_order", re.compile(r"prints in order (.+)")),
    ("prints_exactly", re.compile(r"prints exactly (.+)")),
    ("prints", re.compile(r"prints (.+)")),
    ("no_warning", re.compile(r"no (.+?)s?")),
    ("all_finish", re.compile(r"every task finishes")),
    ("task_state", re.compile(r"task (.+) (is cancelled|finishes|fails)")),
    ("at_least", re.compile(r"at least (\d+) (.+) tasks? at once")),
    ("at_most", re.compile(r"at most (\d+) (.+) tasks? at once")),
]
_EXAMPLES = (
    'finishes within 1.5 s, takes at least 1 s, exit status 0, prints "done", '
    'no blocking step, every task finishes, task "writer" is cancelled, '
    'at most 3 "download" tasks at once (docs/exercises.md)'
)


class CheckError(ValueError):
    """A check that does not follow the vocabulary; the message is one line naming it."""


@dataclass(frozen=True)
class Check:
    """One line of ``Checks:``, read. ``kind`` is one of the forms above."""

    kind: str
    text: str  # the line as the teacher wrote it: the verdict's label
    line: int  # its line in the file
    numbers: tuple[float, ...] = ()
    strings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """A check's outcome; ``reason`` is taken from the run. ``task``, ``file``, ``line``
    and ``t`` (the moment, in run seconds) point at what the reason is about, for the
    views to go there (the task table, the editor, the timeline's cursor)."""

    check: Check
    passed: bool
    reason: str
    task: int | None = None
    file: str | None = None
    line: int | None = None
    t: float | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "check": self.check.text,
            "line": self.check.line,
            "passed": self.passed,
            "reason": self.reason,
            "task": self.task,
            "at": {"file": self.file, "line": self.line} if self.line else None,
            "moment": round(self.t, 6) if self.t is not None and not self.passed else None,
        }


def _strings(text: str, line: int, what: str) -> tuple[str, ...]:
    """``"a", "b"``: quoted strings separated by commas (``\\"`` inside one)."""
    found: list[str] = []
    rest = text.strip()
    while rest:
        m = _QUOTED.match(rest)
        if m is None:
            raise CheckError(
                f'line {line}: {what} takes text in double quotes ("like this"), not {rest!r}'
            )
        found.append(re.sub(r"\\(.)", r"\1", m.group(1)))
        rest = rest[m.end() :].strip()
        if rest.startswith(","):
            rest = rest[1:].strip()
            if not rest:
                raise CheckError(f"line {line}: {what} ends with a comma")
        elif rest:
            raise CheckError(f"line {line}: {what}: expected a comma before {rest!r}")
    return tuple(found)


def _one(text: str, line: int, what: str) -> str:
    got = _strings(text, line, what)
    if len(got) != 1:
        raise CheckError(f'line {line}: {what} names one thing in quotes, like "worker"')
    return got[0]


def parse_line(line: int, text: str) -> Check:
    """One check from its line; :class:`CheckError` when it is not in the vocabulary."""
    words = text.strip()
    if words.startswith("- "):
        words = words[2:].strip()
    low = words.lower()
    for kind, pattern in _FORMS:
        m = pattern.fullmatch(low)
        if m is None:
            continue
        # The strings are read from the original text (case kept), at the same place.
        raw = [words[m.start(i) : m.end(i)] for i in range(1, (m.lastindex or 0) + 1)]
        if kind.startswith("time_"):
            nums = tuple(float(g) for g in m.groups())
            if kind == "time_between" and nums[0] > nums[1]:
                raise CheckError(f"line {line}: takes between {raw[0]} and {raw[1]} s: low > high")
            return Check(kind, words, line, numbers=nums)
        if kind == "exit":
            if int(m.group(1)) > 255:
                raise CheckError(f"line {line}: exit status is 0-255, not {m.group(1)}")
            return Check(kind, words, line, numbers=(int(m.group(1)),))
        if kind.startswith("prints"):
            what = {"prints": "prints"}.get(kind, words.split(" ", 2)[0] + " ...")
            strings = _strings(raw[0], line, what)
            if kind == "prints_containing" and len(strings) != 1:
                raise CheckError(f"line {line}: prints a line containing takes one quoted text")
            return Check(kind, words, line, strings=strings)
        if kind == "no_warning":
            noun = m.group(1).rstrip("s") if m.group(1) not in WARNING_WORDS else m.group(1)
            if noun not in WARNING_WORDS:
                known = ", ".join(f"no {w}" for w in WARNING_WORDS)
                raise CheckError(f"line {line}: unknown warning {m.group(1)!r}; one of: {known}")
            return Check(kind, words, line, strings=(noun,))
        if kind == "all_finish":
            return Check(kind, words, line)
        if kind == "task_state":
            name = _one(raw[0], line, "task")
            return Check(kind, words, line, strings=(name, m.group(2)))
        if kind in ("at_least", "at_most"):
            coro = _one(raw[1], line, kind.replace("_", " "))
            return Check(kind, words, line, numbers=(int(m.group(1)),), strings=(coro,))
    raise CheckError(f"line {line}: not a check: {words!r}; checks read like: {_EXAMPLES}")


def parse(lines: Iterable[tuple[int, str]]) -> list[Check]:
    """The checks of ``(line, text)`` pairs (``Snippet.checks``), in order."""
    return [parse_line(n, text) for n, text in lines]


# ---- facts about the run ---------------------------------------------------------------


def _place(file: str | None, line: int | None) -> str:
    if not line:
        return ""
    return f" at {os.path.basename(file)}:{line}" if file else f" at line {line}"


def program_time(model: RunModel) -> float:
    """The program's time: from ``asyncio.run``'s first task to the last task's end (or
    the run's last moment), in the run's own clock (virtual time under ``--clock
    virtual``). Start-up and interpreter shutdown are not the program's."""
    tasks = model.user_tasks() or [
        t for t in model.tasks.values() if not t.coro.startswith("BaseEventLoop.")
    ]  # asyncio.run(asyncio.sleep(2)): its one task runs asyncio's own coroutine
    if not tasks:
        return model.now
    start = min(t.created for t in tasks)
    end = max((t.ended if t.ended is not None else model.now) for t in tasks)
    return max(0.0, end - start)


def stopped_at_deadlock(model: RunModel) -> dict | None:
    """The deadlock warning the run was ended at (``asyncplay check`` ends a run that can
    never go on: ``stuck``), or None."""
    if (model.end or {}).get("reason") != "stopped":
        return None
    for w in model.warnings:
        if w.get("kind") == "deadlock" and w.get("stuck"):
            return w
    return None


def stuck_deadlock(ev: dict) -> bool:
    """An event that says the run can never go on (every task waits and nothing could
    wake one): ``asyncplay check`` and the playground end an exercise's run there."""
    return ev.get("event") == "warning" and ev.get("kind") == "deadlock" and ev.get("stuck") is True


def _ended(model: RunModel) -> str:
    """Why the run did not finish by itself, or "" when it did."""
    w = stopped_at_deadlock(model)
    if w is not None:
        info = model.tasks.get(w.get("task"))  # type: ignore[arg-type]
        who = f" ({info.label} waits{_place(w.get('file'), w.get('line'))})" if info else ""
        return (
            f"it never finished: a deadlock at {seconds_text(model.now)}{who}, every task "
            "waiting and nothing that could wake one; asyncplay ended the run there"
        )
    end = model.end or {}
    if end.get("reason", "exited") != "exited":
        return f"it never finished: {end.get('message') or end.get('reason')}"
    return ""


def _stopped(model: RunModel, c: Check, reason: str) -> Verdict:
    """A failed verdict on a run that never finished: at a stuck deadlock, it points at
    the deadlock (its task, where it waits, the moment)."""
    w = stopped_at_deadlock(model)
    if w is None:
        return Verdict(c, False, reason)
    task, file, line = w.get("task"), w.get("file"), w.get("line")
    return Verdict(
        c,
        False,
        reason,
        task if isinstance(task, int) else None,
        file if isinstance(file, str) else None,
        line if isinstance(line, int) else None,
        _number(w.get("t")),
    )


def _coro_matches(info: TaskInfo, name: str) -> bool:
    return info.coro == name or info.coro.endswith("." + name)


def _acquiring(awaiting: str | None) -> bool:
    return bool(awaiting) and ".acquire(" in awaiting  # Lock.acquire(), Semaphore.acquire()


def _active(info: TaskInfo, end: float) -> list[tuple[float, float]]:
    """When ``info`` counts as running at once with others: from its first step to its
    end, except while it waits to acquire a lock or semaphore (from the step that asked
    for it until the step that got it)."""
    if info.first_step is None:
        return []
    stop = info.ended if info.ended is not None else end
    out: list[tuple[float, float]] = []
    cursor = info.first_step
    spans = info.spans
    for i, span in enumerate(spans):
        if _acquiring(span[SPAN_AWAITING]):
            if span[SPAN_START] > cursor:
                out.append((cursor, span[SPAN_START]))
            nxt = spans[i + 1][SPAN_START] if i + 1 < len(spans) else stop
            cursor = max(cursor, nxt)
    if stop > cursor:
        out.append((cursor, stop))
    return out


def at_once(model: RunModel, coro: str) -> tuple[int, float, list[int], int]:
    """Most tasks running ``coro`` at the same moment: (count, when, their ids, how many
    tasks ran it in all)."""
    tasks = [t for t in model.user_tasks() if _coro_matches(t, coro)]
    marks: list[tuple[float, int, int]] = []
    for t in tasks:
        for a, b in _active(t, model.now):
            marks.append((a, 1, t.id))
            marks.append((b, -1, t.id))
    marks.sort(key=lambda m: (m[0], m[1]))  # an end before a start at the same moment
    best, when, alive, best_ids = 0, 0.0, set(), []  # type: ignore[var-annotated]
    for moment, step, tid in marks:
        if step > 0:
            alive.add(tid)
            if len(alive) > best:
                best, when, best_ids = len(alive), moment, sorted(alive)
        else:
            alive.discard(tid)
    return best, when, best_ids, len(tasks)


def _names(model: RunModel, ids: list[int], limit: int = 4) -> str:
    names = [model.tasks[i].name for i in ids[:limit] if i in model.tasks]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(names) + more


def _why_slow(model: RunModel) -> tuple[str, int | None, str | None, int | None, float | None]:
    """What made the run take long, in words, and where: blocking steps first, then
    tasks of one coroutine that ran one after another, then a lone main."""
    slow = [w for w in model.warnings if w.get("kind") == "slow_step"]
    if slow:
        held = sum(float(w.get("duration") or 0) for w in slow)
        w = slow[0]
        info = model.tasks.get(w.get("task"))  # type: ignore[arg-type]
        who = info.name if info is not None else "a task"
        return (
            f"the event loop was blocked for {held:.1f} s in all ({len(slow)} blocking "
            f"step{'s' if len(slow) != 1 else ''}, the first in {who}"
            f"{_place(w.get('file'), w.get('line'))}); nothing else could run meanwhile: "
            "await an asyncio call (asyncio.sleep, asyncio.to_thread) instead",
            w.get("task"),
            w.get("file"),
            w.get("line"),
            _number(w.get("t")),
        )
    by_coro: dict[str, list[TaskInfo]] = {}
    for t in model.user_tasks():
        if t.parent is not None:
            by_coro.setdefault(t.coro, []).append(t)
    groups = sorted(by_coro.items(), key=lambda kv: -len(kv[1]))
    for coro, tasks in groups:
        if len(tasks) < 2:
            continue
        most, _when, _ids, total = at_once(model, coro)
        if most == 1:
            first = tasks[0]
            return (
                f"the {total} {coro} tasks ran one after another (never more than 1 at a "
                "time); start them together, e.g. with gather",
                first.id,
                first.file,
                first.line,
                _started(first),
            )
        return (
            f"at most {most} {coro} tasks ran at once",
            tasks[0].id,
            None,
            None,
            _started(tasks[0]),
        )
    return _longest_wait(model)


def _longest_wait(model: RunModel) -> tuple[str, int | None, str | None, int | None, float | None]:
    """The longest single wait of any task, in words; with a lone task whose waits came
    one after another, the advice to start them together."""
    best: tuple[float, TaskInfo, tuple] | None = None
    waits_by_task: dict[int, list[float]] = {}
    for t in model.user_tasks():
        spans = t.spans
        for i, span in enumerate(spans):
            if not span[SPAN_AWAITING]:
                continue
            until = spans[i + 1][SPAN_START] if i + 1 < len(spans) else t.ended
            if until is None:
                until = model.now
            waited = until - (span[SPAN_START] + span[SPAN_EXTENT])
            waits_by_task.setdefault(t.id, []).append(waited)
            if best is None or waited > best[0]:
                best = (waited, t, span)
    if best is None or best[0] <= 0:
        return ("", None, None, None, None)
    waited, t, span = best
    text = (
        f"the longest wait: {t.label} waited {waited:.1f} s on {span[SPAN_AWAITING]}"
        f"{_place(span[SPAN_FILE], span[SPAN_LINE])}"
    )
    total = program_time(model)
    if len(model.user_tasks()) == 1:
        long_waits = [w for w in waits_by_task.get(t.id, []) if w >= 0.1 * total]
        if len(long_waits) >= 2:
            text += (
                f"; its {len(long_waits)} waits came one after another (no other task ran); "
                "start them together, e.g. with gather"
            )
    # the moment: where the wait began (the end of the step that awaited)
    began = span[SPAN_START] + span[SPAN_EXTENT]
    return (text, t.id, span[SPAN_FILE], span[SPAN_LINE] or None, began)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _started(t: TaskInfo) -> float:
    """A task's first step (its creation before it ran)."""
    return t.first_step if t.first_step is not None else t.created


def _end_moment(model: RunModel, t: TaskInfo) -> float:
    """The moment a reason about how a task ended points at: its end (it returned, raised,
    was cancelled or cut off); for one the run's end left waiting, where that wait began
    (the end of its last step)."""
    if t.ended is not None:
        return t.ended
    if t.spans:
        last = t.spans[-1]
        return last[SPAN_START] + last[SPAN_EXTENT]
    return model.now


def _output_lines(model: RunModel) -> list[str]:
    return [o.text.rstrip("\r") for o in model.output if o.stream == "stdout"]


# ---- verdicts --------------------------------------------------------------------------


def _time(model: RunModel, c: Check) -> Verdict:
    ended = _ended(model)
    took = program_time(model)
    if ended:
        return _stopped(model, c, f"{ended} (after {took:.1f} s)")
    if c.kind == "time_max":
        low, high = 0.0, c.numbers[0]
    elif c.kind == "time_min":
        low, high = c.numbers[0], float("inf")
    else:
        low, high = c.numbers
    if low <= took <= high:
        return Verdict(c, True, f"took {took:.2f} s")
    if took > high:
        why, task, file, line, when = _why_slow(model)
        return Verdict(
            c, False, f"took {took:.1f} s" + (f" - {why}" if why else ""), task, file, line, when
        )
    return Verdict(c, False, f"took only {took:.2f} s, less than {low:g} s")


def _exit(model: RunModel, c: Check) -> Verdict:
    want = int(c.numbers[0])
    ended = _ended(model)
    if ended:
        return _stopped(model, c, ended)
    code = model.exit_code
    if code == want:
        return Verdict(c, True, f"it exited with status {code}")
    failed = [t for t in model.user_tasks() if t.state == "failed" and t.parent is None]
    why = ""
    if failed:
        t = failed[0]
        why = f": {t.name} raised {t.exc_type}" + (f": {t.exc_msg}" if t.exc_msg else "")
        why += _place(t.exc_file, t.exc_line)
        return Verdict(
            c,
            False,
            f"it exited with status {code}{why}",
            t.id,
            t.exc_file,
            t.exc_line,
            _end_moment(model, t),
        )
    return Verdict(c, False, f"it exited with status {code}")


def _prints(model: RunModel, c: Check) -> Verdict:
    lines = _output_lines(model)
    want = list(c.strings)
    shown = f"{len(lines)} line{'s' if len(lines) != 1 else ''} printed"
    if c.kind == "prints_containing":
        for i, text in enumerate(lines):
            if want[0] in text:
                return Verdict(c, True, f"line {i + 1} of the output: {text!r}")
        return Verdict(c, False, f"no line of the output contains {want[0]!r} ({shown})")
    if c.kind == "prints_exactly":
        if lines == want:
            return Verdict(c, True, shown)
        for i, (got, exp) in enumerate(zip(lines, want, strict=False)):
            if got != exp:
                return Verdict(c, False, f"line {i + 1} of the output is {got!r}, not {exp!r}")
        if len(lines) > len(want):
            extra_line = lines[len(want)]
            return Verdict(c, False, f"an extra line {len(want) + 1}: {extra_line!r}")
        return Verdict(c, False, f"the output ends after {shown}; missing {want[len(lines)]!r}")
    missing = [w for w in want if w not in lines]
    if missing:
        extra = ", ".join(repr(m) for m in missing[:3])
        return Verdict(c, False, f"never printed {extra} ({shown})")
    if c.kind == "prints_order":
        at = [lines.index(w) for w in want]
        for k in range(1, len(at)):
            if at[k] < at[k - 1]:
                return Verdict(
                    c,
                    False,
                    f"{want[k]!r} came on line {at[k] + 1}, before {want[k - 1]!r} "
                    f"(line {at[k - 1] + 1})",
                )
        # Each line must come after the one before, even when printed more than once.
        pos = 0
        for w in want:
            try:
                pos = lines.index(w, pos) + 1
            except ValueError:
                return Verdict(c, False, f"{w!r} does not come after the lines before it")
    return Verdict(c, True, "all printed" + (" in order" if c.kind == "prints_order" else ""))


def _no_warning(model: RunModel, c: Check) -> Verdict:
    noun = c.strings[0]
    kinds = WARNING_WORDS[noun]
    found = [w for w in model.warnings if not kinds or w.get("kind") in kinds]
    if not found:
        return Verdict(c, True, f"no {noun} warning")
    w = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    message = str(w.get("message") or w.get("kind"))
    return Verdict(
        c,
        False,
        f"{message}{more}",
        w.get("task") if isinstance(w.get("task"), int) else None,
        w.get("file") if isinstance(w.get("file"), str) else None,
        w.get("line") if isinstance(w.get("line"), int) else None,
        w.get("t"),
    )


def _story(model: RunModel, t: TaskInfo) -> str:
    """How a task that did not finish ended, in a clause."""
    cut = next(
        (w for w in model.warnings if w.get("kind") == "cut_off" and w.get("task") == t.id), None
    )
    waits = t.last_awaited or "something"
    if t.unfinished:
        return f"{t.name} was still waiting on {waits}{_place(t.wait_file, t.wait_line)} when the run ended"
    if cut is not None:
        return (
            f"{t.name} was cut off waiting on {waits}{_place(t.wait_file, t.wait_line)}: "
            "main ended first and asyncio.run cancelled it"
        )
    if t.state == "cancelled":
        by = cancelled_by(model, t)
        return f"{t.name} was cancelled" + (f" {by}" if by else "")
    if t.state == "failed":
        msg = f": {t.exc_msg}" if t.exc_msg else ""
        return f"{t.name} raised {t.exc_type}{msg}{_place(t.exc_file, t.exc_line)}"
    return f"{t.name} is {t.state}"


def _all_finish(model: RunModel, c: Check) -> Verdict:
    bad = [t for t in model.user_tasks() if t.state != "done" or t.unfinished]
    if not bad:
        n = len(model.user_tasks())
        return Verdict(c, True, f"all {n} task{'s' if n != 1 else ''} returned")
    first = bad[0]
    stories = "; ".join(_story(model, t) for t in bad[:3])
    more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
    file, line = (
        (first.exc_file, first.exc_line)
        if first.state == "failed"
        else (
            first.wait_file,
            first.wait_line,
        )
    )
    return Verdict(c, False, stories + more, first.id, file, line, _end_moment(model, first))


def _find_task(model: RunModel, name: str) -> list[TaskInfo]:
    named = [t for t in model.user_tasks() if t.name == name]
    return named or [t for t in model.user_tasks() if _coro_matches(t, name)]


def _task_state(model: RunModel, c: Check) -> Verdict:
    name, want = c.strings
    tasks = _find_task(model, name)
    if not tasks:
        return Verdict(c, False, f"no task is named {name!r} or runs {name}()")
    state = {"is cancelled": "cancelled", "finishes": "done", "fails": "failed"}[want]
    bad = [t for t in tasks if t.state != state or (state == "done" and t.unfinished)]
    if not bad:
        t = tasks[0]
        return Verdict(c, True, f"{t.name} {ending_text(model, t)}", t.id)
    t = bad[0]
    file, line = (t.exc_file, t.exc_line) if t.state == "failed" else (t.wait_file, t.wait_line)
    if t.state == "done" and not t.unfinished:
        story = f"{t.name} returned"
    else:
        story = _story(model, t)
    return Verdict(c, False, story, t.id, file, line, _end_moment(model, t))


def _at_once(model: RunModel, c: Check) -> Verdict:
    n = int(c.numbers[0])
    coro = c.strings[0]
    most, when, ids, total = at_once(model, coro)
    first = ids[0] if ids else None
    if total == 0:
        return Verdict(c, False, f"no task ran {coro}() (tasks come from create_task or gather)")
    at = f"at {seconds_text(when)}: {_names(model, ids)}"
    if c.kind == "at_least":
        if most >= n:
            return Verdict(c, True, f"{most} at once {at}", first, t=when)
        how = (
            "one after another (never more than 1 at a time)"
            if most == 1
            else f"at most {most} at a time"
        )
        return Verdict(
            c,
            False,
            f"the {total} {coro} tasks ran {how}{'' if most == 1 else f', not {n}'}; "
            "start them together, e.g. with gather",
            first,
            t=when,
        )
    if most <= n:
        return Verdict(c, True, f"never more than {most} at once", first, t=when)
    return Verdict(
        c,
        False,
        f"{most} {coro} tasks ran at once {at}; bound them, e.g. with asyncio.Semaphore({n})",
        first,
        t=when,
    )


_EVALUATE = {
    "time_max": _time,
    "time_min": _time,
    "time_between": _time,
    "exit": _exit,
    "prints": _prints,
    "prints_order": _prints,
    "prints_exactly": _prints,
    "prints_containing": _prints,
    "no_warning": _no_warning,
    "all_finish": _all_finish,
    "task_state": _task_state,
    "at_least": _at_once,
    "at_most": _at_once,
}


def evaluate(model: RunModel, checks: Iterable[Check]) -> list[Verdict]:
    """One verdict per check, in order, from a run that has ended."""
    return [_EVALUATE[c.kind](model, c) for c in checks]
