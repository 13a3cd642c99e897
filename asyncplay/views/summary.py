"""Text rendering of a RunModel for the headless command line (the summary on stderr).

Every piece of program-made text (names, coroutines, file names, waits, exception types,
warning messages) goes through ``text_cells.clean`` before it is laid out: the summary goes
to a terminal, where an escape sequence in a task name would drive it.

Also the ``summary`` event ``--json`` prints before ``run_end``: the same per-task figures
as the table, for tools, so they need not fold the steps themselves.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from itertools import compress, repeat
from operator import not_

from asyncplay.model import FINISHED, RunModel, TaskInfo
from asyncplay.views.seconds import duration, seconds_text
from asyncplay.views.sorting import figures, sort_index
from asyncplay.views.text_cells import clean

# (``objects``, ``task_story`` and ``timeline`` load where they are needed: a run without
# queues, locks or executor jobs, a cancelled task or a table too wide never needs them,
# and every run that prints its summary, a hello world's too, imported them: 2.8 M + 4.4 M
# instructions of its parent, docs/performance.md.)

FOLD_OVER = 10
COLUMNS = (
    "name",
    "coroutine",
    "created at",
    "state",
    "steps",
    "running",
    "waiting",
    "longest",
    "last awaited",
)


def _bundled_dirs() -> tuple[str, ...]:
    """Where the bundled snippets live: installed (``asyncplay/snippets_data``) or in a
    source checkout (``snippets/``), without importing ``asyncplay.snippets``."""
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = (os.path.join(pkg, "snippets_data"), os.path.join(os.path.dirname(pkg), "snippets"))
    return tuple({os.path.join(d, "") for d in (*dirs, *map(os.path.realpath, dirs))})


BUNDLED_DIRS = _bundled_dirs()


def short_file(file: str, cwd: str) -> str:
    """A file name as the summary shows it: relative to ``cwd``, just the name outside it
    or for a bundled snippet (``gather.py``, not ``.venv/lib/.../snippets_data/gather.py``)."""
    if file.startswith(BUNDLED_DIRS):
        return os.path.basename(file)
    try:
        rel = os.path.relpath(file, cwd)
    except ValueError:
        rel = file
    if rel.startswith(".." + os.sep):  # outside the current directory: the name says enough
        rel = os.path.basename(file)
    return rel


def _where(file: str | None, line: int | None, cwd: str) -> str:
    if not file or not line:
        return "-"
    return f"{clean(short_file(file, cwd))}:{line}"


def cancelled_by(model: RunModel, t: TaskInfo, cwd: str = ".") -> str:
    """``by main at p.py:12``, ``timeout at p.py:9``, or "" when nobody knows: the
    timeline's words (``task_story.cancelled_by``), the file named relative to ``cwd``."""

    def place(file: str | None, line: int | None) -> str:
        where = _where(file, line, cwd)
        return "" if where == "-" else where

    from asyncplay.views import task_story

    return clean(task_story.cancelled_by(model, t, place))


def _state(model: RunModel, t: TaskInfo, cwd: str) -> str:
    if t.state == "failed":
        return f"failed: {clean(str(t.exc_type))}"
    if t.state == "cancelled":
        why = cancelled_by(model, t, cwd)
        return f"cancelled ({why})" if why else "cancelled"
    if t.unfinished:  # not "ready" or "waiting": nothing runs any more
        return f"unfinished ({t.state})"
    return t.state


def _longest(longest: float, slow: int) -> str:
    return f"{duration(longest)} ({slow} slow)" if slow else duration(longest)


def _group_figures(
    group: list[TaskInfo], now: float
) -> tuple[dict[str, int], set[str], float, float, int, float, int]:
    """A folded row's figures, in one pass over its tasks (a run of 20,000 alike is one
    row): how many in each state, what they last awaited, and the sums of the task rows'
    figures. The times are added by ``sum`` as the rows' figures would be (3.12's ``sum``
    of floats is compensated: a loop's ``+=`` could differ in the last digit), each
    task's waiting as ``TaskInfo.waited``."""
    states: dict[str, int] = {}
    awaited: set[str] = set()
    runs: list[float] = []
    waits: list[float] = []
    longs: list[float] = []
    steps = slow = 0
    for g in group:
        state = "unfinished" if g.unfinished else g.state
        states[state] = states.get(state, 0) + 1
        if g.last_awaited:
            awaited.add(g.last_awaited)
        ran = g.running
        runs.append(ran)
        ended = g.ended
        left = ((now if ended is None else ended) - g.created) - ran  # TaskInfo.waited
        waits.append(left if left > 0.0 else 0.0)  # max(0.0, left), NaN too
        longs.append(g.longest_step)
        steps += g.steps
        slow += g.slow_steps
    return states, awaited, sum(runs), sum(waits), steps, max(longs), slow


def select(model: RunModel, all_tasks: bool = False, filter: str | None = None) -> list[TaskInfo]:
    """The tasks a view shows, in creation order: the program's own (asyncio's too with
    ``all_tasks``) whose name or coroutine contains ``filter`` (any case)."""
    tasks = [t for t in model.tasks.values() if all_tasks or not t.internal]
    if filter:
        needle = filter.casefold()
        tasks = [t for t in tasks if needle in t.name.casefold() or needle in t.coro.casefold()]
    return tasks


def rows(
    model: RunModel,
    all_tasks: bool = False,
    cwd: str = ".",
    sort: str | None = None,
    filter: str | None = None,
) -> list[tuple[str, ...]]:
    keyed = None if filter else _column_rows(model, all_tasks, cwd)
    if keyed is None:
        keyed = _task_rows(model, select(model, all_tasks, filter), cwd)
    index = sort_index(sort)
    if index is not None:
        keyed.sort(key=lambda kr: -kr[0][index])  # stable: ties keep creation order
    return [row for _key, row in keyed]


def _task_rows(model: RunModel, tasks: list[TaskInfo], cwd: str) -> list[tuple[tuple, tuple]]:
    """The table's rows in creation order, each with what ``--sort`` sorts it by."""
    groups: dict[str, list[TaskInfo]] = defaultdict(list)
    for t in tasks:
        groups[t.coro].append(t)
    keyed: list[tuple[tuple[float, float, float, int], tuple[str, ...]]] = []
    folded: set[str] = set()
    now = model.now
    for order, t in enumerate(tasks):
        group = groups[t.coro]
        if len(group) > FOLD_OVER:
            if t.coro in folded:
                continue
            folded.add(t.coro)
            states, awaited, running, waiting, steps, longest, slow = _group_figures(group, now)
            row = _folded_row(len(group), t.coro, t.file, t.line, cwd, states, awaited,
                              running, waiting, steps, longest, slow)  # fmt: skip
        else:
            running, waiting, steps = figures(t, now)
            row = _task_row(model, t, waiting, cwd)
        keyed.append(((running, waiting, steps, order), row))
    return keyed


def _folded_row(
    n: int,
    coro: str,
    file: str | None,
    line: int | None,
    cwd: str,
    states: dict[str, int],
    awaited: set[str],
    running: float,
    waiting: float,
    steps: int,
    longest: float,
    slow: int,
) -> tuple[str, ...]:
    """The row of a group of more than FOLD_OVER tasks of one coroutine."""
    return (
        f"{n} tasks",
        clean(coro),
        _where(file, line, cwd),
        ", ".join(f"{k} {s}" for s, k in sorted(states.items())),
        str(steps),
        duration(running),
        duration(waiting),
        _longest(longest, slow),
        clean(next(iter(awaited))) if len(awaited) == 1 else f"{len(awaited)} kinds",
    )


def _task_row(model: RunModel, t: TaskInfo, waiting: float, cwd: str) -> tuple[str, ...]:
    return (
        clean(t.name),
        clean(t.coro),
        _where(t.file, t.line, cwd),
        _state(model, t, cwd),
        str(t.steps),
        duration(t.running),
        duration(waiting),
        _longest(t.longest_step, t.slow_steps),
        clean(t.last_awaited or "-"),
    )


def _column_rows(model: RunModel, all_tasks: bool, cwd: str) -> list[tuple[tuple, tuple]] | None:
    """``_task_rows`` read from the model's columns (``RunModel.task_columns``: a
    headless run's 20,000 tasks are not folded into objects), the same rows to the bit: a
    folded group's figures are its tasks' columns compressed, in creation order, added
    by the same ``sum`` and ``max`` as ``_group_figures`` adds them; each task of a
    smaller group is made an object of its own (``RunModel.column_task``). None without
    columns, without a group to fold, or with executor jobs (then nothing would be saved)."""
    if model.executor_jobs:  # (their rows name their tasks: the objects are made anyway)
        return None
    c = model.task_columns()
    if c is None:
        return None
    n = len(c)
    keep = None if all_tasks else list(map(not_, c.internal))
    shown = range(n) if keep is None else list(compress(range(n), keep))
    coros = c.coros if keep is None else list(compress(c.coros, keep))
    big = {coro for coro, k in Counter(coros).items() if k > FOLD_OVER}
    if not big:
        return None
    slows = c.slow if c.slow is not None else repeat(0, n)
    keyed: list[tuple[int, tuple, tuple]] = []
    now = model.now
    for coro in big:
        i = shown[coros.index(coro)]  # the group's first task: its row's place
        if keep is None:
            mask = [x == coro for x in c.coros]
        else:
            mask = [k and x == coro for x, k in zip(c.coros, keep, strict=True)]
        states: dict[str, int] = {}
        for state, k in Counter(compress(c.state, mask)).items():
            if c.ending and state not in FINISHED:  # (the run's end cut it off)
                state = "unfinished"
            states[state] = states.get(state, 0) + k
        awaited = {a for a in set(compress(c.last_awaited, mask)) if a}
        runs = list(compress(c.running, mask))
        waits = [  # TaskInfo.waited
            w if (w := ((now if e is None else e) - t) - r) > 0.0 else 0.0
            for e, t, r in zip(
                compress(c.ended, mask), compress(c.created, mask), runs, strict=True
            )
        ]
        running, waiting, steps = sum(runs), sum(waits), sum(compress(c.steps, mask))
        first = c.created_row(i)
        row = _folded_row(sum(mask), coro, first[6], first[7], cwd, states, awaited, running,
                          waiting, steps, max(compress(c.longest, mask)),
                          sum(compress(slows, mask)))  # fmt: skip
        keyed.append((i, (running, waiting, steps, i), row))
    for i in compress(shown, map(not_, map(big.__contains__, coros))):
        t = model.column_task(i)
        running, waiting, steps = figures(t, now)
        keyed.append((i, (running, waiting, steps, i), _task_row(model, t, waiting, cwd)))
    keyed.sort(key=_first)
    return [(key, row) for _i, key, row in keyed]


def _first(item: tuple) -> int:
    return item[0]


def table(
    header: tuple[str, ...],
    body: list[tuple[str, ...]],
    width: int = 0,
    shrink: tuple[int, ...] = (),
    least: int = 10,
) -> list[str]:
    """Columns sized to their cells; lines cut at ``width`` (0: no limit). Too wide, the
    ``shrink`` columns (names) give way first, widest first, down to ``least``, their
    cells cut in the middle (``phil~r-one``: names alike differ at their end), so the
    figures after them stay in sight; then only the last columns go."""
    widths = [len(h) for h in header]
    for row in body:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    full = list(widths)
    excess = sum(widths) + 2 * (len(widths) - 1) - width if width else 0
    while excess > 0:
        widest = max(shrink, key=lambda i: widths[i], default=None)
        if widest is None or widths[widest] <= max(least, len(header[widest])):
            break
        widths[widest] -= 1
        excess -= 1
    lines = []
    if widths != full:  # (the timeline's cut in the middle, only when one is cut)
        from asyncplay.views.timeline import shorten
    for row in (header, *body):
        cells = [
            shorten(c, w, "~") if w < full[i] else c
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        line = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        lines.append(line[:width].rstrip() if width else line)
    return lines


def warning_text(w: dict, cwd: str = ".", width: int = 0, count: int = 1) -> list[str]:
    """One warning as the summary words it (``demo.py:12: Task-1 held ...``), wrapped to
    ``width`` columns (0: one line), the lines after the first indented."""
    where = _where(w.get("file"), w.get("line"), cwd)
    prefix = f"{where}: " if where != "-" else ""
    more = f" ({count} times)" if count > 1 else ""
    text = f"{prefix}{clean(str(w.get('message', '')))}{more}"
    if not width or len(text) <= width:
        return [text]
    import textwrap

    return textwrap.wrap(text, max(20, width), subsequent_indent="  ", break_on_hyphens=False) or [
        text
    ]


def warning_lines(model: RunModel, cwd: str = ".", width: int = 0) -> list[str]:
    """One line per warning (wrapped to ``width``); repeats of one kind at one line fold
    into a count (a busy loop can hold the loop a thousand times at the same
    ``time.sleep``)."""
    counts: dict[tuple, list] = {}
    for w in model.warnings:
        kind = w.get("kind")
        key = (kind, w.get("file"), w.get("line"))
        if kind != "slow_step":
            key += (w.get("message"),)
        if key in counts:
            counts[key][1] += 1
        else:
            counts[key] = [w, 1]
    out = []
    for w, n in counts.values():
        out += warning_text(w, cwd, width, n)
    return out


def stale_figures(model: RunModel) -> tuple[float, str] | None:
    """(the time, one line) for a run whose child never sent its end (``run_end``'s
    ``bye``: a kill, an ``os._exit``), so never its last figures: the tasks' and objects'
    figures shown are as of the last ones received (up to 0.2 s before: 0.8 s with 20,000
    tasks). Their time is the latest step end they hold (an ``F`` record's ``t``; the
    same float from the steps). None for a run that sent its end, or not known not to
    (an older recording)."""
    if model.said_bye is not False or not (model.tasks or model.primitives):
        return None
    t = max((i.last_active for i in model.tasks.values() if i.first_step is not None), default=0.0)
    why = "the program was killed, or left by os._exit, before it sent its last"
    return t, f"figures as of t={seconds_text(t)} ({why})"


def summary(
    model: RunModel,
    all_tasks: bool = False,
    cwd: str = ".",
    width: int = 0,
    sort: str | None = None,
    filter: str | None = None,
) -> str:
    body = rows(model, all_tasks, cwd, sort, filter)
    columns = model.task_columns()  # (None: the tasks are read as objects)
    if columns is None:
        hidden = sum(1 for t in model.tasks.values() if t.internal) if not all_tasks else 0
        made = len(model.tasks)
    else:
        hidden = sum(map(bool, columns.internal)) if not all_tasks else 0
        made = len(columns)
    shown = made - hidden
    parts: list[str] = []
    if filter and shown:
        matched = len(select(model, all_tasks, filter))
        parts.append(f"── tasks ({matched} of {shown} match {filter!r}) " + "─" * 20)
        if body:
            parts += table(COLUMNS, body, width, shrink=(0, 1))
    elif body:
        parts.append(f"── tasks ({shown}) " + "─" * 20)
        parts += table(COLUMNS, body, width, shrink=(0, 1))
        if hidden:
            parts.append(f"({hidden} asyncio-internal task(s) hidden; --all-tasks shows them)")
    elif made or hidden:
        parts.append(f"no tasks of the program's own ({hidden} asyncio-internal; --all-tasks)")
    stale = stale_figures(model)
    if stale is not None:
        parts.append(stale[1])
    parts += object_sections(model, cwd, width)
    if model.warnings:
        parts.append(f"── warnings ({len(model.warnings)}) " + "─" * 20)
        parts += warning_lines(model, cwd, width)
    for err in model.errors:
        parts.append(f"protocol: {clean(str(err))}")
    return "\n".join(parts)


def object_sections(model: RunModel, cwd: str = ".", width: int = 0) -> list[str]:
    """A section for each kind of asyncio object the program used (queues; locks,
    semaphores, conditions, events; executor jobs), laid out as the task table is."""

    if not (model.primitives or model.executor_jobs):  # (each section is of those)
        return []
    from asyncplay.views import objects

    def where(file: str | None, line: int | None) -> str:
        return _where(file, line, cwd)

    def heading(text: str) -> str:
        line = f"── {text} " + "─" * 20
        return line[:width] if width else line

    parts: list[str] = []
    rows = objects.queue_rows(model, where)
    if rows:
        parts.append(heading(f"queues ({len(rows)})"))
        parts += table(objects.QUEUE_COLUMNS, rows, width, shrink=(0,))
    rows = objects.lock_rows(model, where)
    if rows:
        parts.append(heading(f"locks, semaphores, conditions, events ({len(rows)})"))
        parts += table(objects.LOCK_COLUMNS, rows, width, shrink=(0,))
    rows = objects.job_rows(model)
    if rows:
        parts.append(heading(f"executor jobs ({len(model.executor_jobs)})"))
        parts += table(objects.JOB_COLUMNS, rows, width, shrink=(0, 1))
        lines = objects.pool_lines(model)
        parts += [line[:width] if width else line for line in lines]
    for text in objects.insights(model, where):
        parts += warning_text({"message": text}, cwd, width)
    return parts


def summary_event(
    model: RunModel,
    all_tasks: bool = False,
    sort: str | None = None,
    filter: str | None = None,
) -> dict:
    """The ``summary`` event of ``--json``: per-task timing, seconds, one object per task
    (never folded), in the table's order."""
    from asyncplay.views import objects

    now = model.now
    tasks = select(model, all_tasks, filter)
    index = sort_index(sort)
    if index is not None:
        tasks.sort(key=lambda t: -figures(t, now)[index])
    stale = stale_figures(model)
    return {
        "event": "summary",
        "t": now,
        # (null: the figures are the run's last; else the time of the last received)
        "figures_as_of": stale[0] if stale else None,
        "figures_note": stale[1] if stale else None,
        "steps": model.steps,
        "slow_steps": model.slow_steps,
        "tasks": [
            {
                "id": t.id,
                "name": t.name,
                "coro": t.coro,
                "internal": t.internal,
                "state": t.state,
                "unfinished": t.unfinished,
                "created": t.created,
                "ended": t.ended,
                "steps": t.steps,
                "running": t.running,
                "waiting": t.waited(now),
                "longest_step": t.longest_step,
                "slow_steps": t.slow_steps,
                "cancel_source": t.cancel_source,
            }
            for t in tasks
        ],
        **objects.json_lists(model),
    }
