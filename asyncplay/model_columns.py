"""A deferred model's tasks read as columns: the figures the summary shows of every task,
worked out from the events the model holds, a column at a time in C, without folding them
into a ``TaskInfo`` each.

The headless command's model (``RunModel(deferred=True)``) holds its task events until
something reads the tasks, and its summary reads a few figures of each task once: for a
group of alike tasks (folded into one row), only their sums. When the held events are of
the kinds a batched decoder makes in figures mode (``tasks_created``, ``figures``,
``tasks_done``, a slow step's count, a ``step_open`` a later figures row closes, the run's
end), each task made once and every row of a task made before it, ``columns`` gives, in
creation order, what the fold would leave in each task: a task's last figures row sets its
counts (``dict(zip(...))``: the last row of an id wins), its end its state and end time,
its last row's waits otherwise. Nothing of the model changes: reading its tasks
afterwards folds the held events as before. Else (steps, a rename, a cancel's source, a
task made twice, a step left open ...) None, and the summary reads the tasks.
``tests/test_model_columns.py`` compares both ways on any such events.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from itertools import chain, compress, repeat
from operator import itemgetter

from asyncplay.figure_rows import FigureRows
from asyncplay.task_runs import C_CORO, C_INTERNAL, D_STATE, TaskRows, TaskRun

TYPE_CHECKING = False
if TYPE_CHECKING:  # (not at run time: the headless path's start-up)
    from collections.abc import Callable, Iterable
    from typing import Any

__all__ = ["CREATED", "DONE", "END", "FIGURES", "SLOW", "STEP_OPEN", "TaskColumns", "columns"]

# What a held event is, by its handler (model.py maps its handlers to these, in order).
CREATED, FIGURES, DONE, SLOW, END, STEP_OPEN = range(6)
_STATE_NAMES = ("done", "cancelled", "failed")
_STATE_CODES = {s: i for i, s in enumerate(_STATE_NAMES)}
_CORO = {None: "?", "": "?"}  # (a task made without a coroutine's name: "?")
_first, _second = itemgetter(0), itemgetter(1)


class TaskColumns:
    """Each task's figures, a list per field in creation order: ``ids``, ``created``,
    ``coros``, ``internal``, ``state``, ``ended``, ``steps``, ``running``, ``longest``,
    ``last_awaited``, ``slow`` (None: none had a slow step); ``ending``: the run's end is
    among them (a task not finished is then unfinished)."""

    __slots__ = (
        "ids", "created", "coros", "internal", "state", "ended", "steps", "running",
        "longest", "last_awaited", "slow", "ending", "_c_parts", "_c_starts", "_d_parts",
        "_d_starts", "_d_index",
    )  # fmt: skip

    def __len__(self) -> int:
        return len(self.ids)

    def task(self, i: int, task_info: Callable, finished: frozenset) -> Any:
        """The ``i``-th task as a ``TaskInfo`` (``task_info``) of its own, for a view that
        reads one task's figures (its ``children`` and spans are not told)."""
        t, tid, name, coro, parent, internal, file, line = self.created_row(i)
        info = task_info(tid, name, coro or "?", parent, internal, file, line, t)
        info.state = state = self.state[i]
        info.steps, info.running, info.longest_step = (
            self.steps[i],
            self.running[i],
            self.longest[i],
        )
        info.last_awaited, info.ended = self.last_awaited[i], self.ended[i]
        if self.slow is not None:
            info.slow_steps = self.slow[i]
        info.unfinished = self.ending and state not in finished
        done = self.done_row(i)
        if done is not None:
            info.result, info.exc_type, info.exc_msg, info.exc_file, info.exc_line = done[3:]
        return info

    def created_row(self, i: int) -> tuple:
        """The ``i``-th task's ``tasks_created`` row."""
        return _row(self._c_parts, self._c_starts, i)

    def done_row(self, i: int) -> tuple | None:
        """The ``i``-th task's last ``tasks_done`` row, None if it did not end."""
        at = self._d_index[i]
        return None if at is None else _row(self._d_parts, self._d_starts, at)


def _row(parts: list, starts: list[int], i: int) -> tuple:
    k = bisect_right(starts, i) - 1
    part = parts[k]
    return part.row(i - starts[k]) if type(part) is TaskRun else part


def _parts(rows: object) -> list:
    """A batch's rows and runs (``TaskRun``), in order."""
    if type(rows) is TaskRows:
        parts = rows.parts()  # type: ignore[attr-defined]
        if parts is not None:
            return parts
    return list(rows)  # type: ignore[call-overload]


def _spans(parts: list) -> Iterable[tuple[bool, object]]:
    """The parts as runs and lists of consecutive rows: ``(is a run, it)``."""
    rows: list = []
    for part in parts:
        if type(part) is TaskRun:
            if rows:
                yield False, rows
                rows = []
            yield True, part
        else:
            rows.append(part)
    if rows:
        yield False, rows


def columns(held: list[tuple[Callable, dict]], kinds: dict) -> TaskColumns | None:
    """The tasks of ``held`` (a deferred model's ``(handler, event)`` pairs, in order) as
    columns, or None when they hold anything but what ``kinds`` (handler -> CREATED ...)
    names, a task made twice, a row of a task not made yet, a task with no figures row,
    or a step open at the end (one that a figures row of its task closed changed nothing
    the summary shows: ``_close_open`` puts back what it counted, the row sets the rest)."""
    c_parts: list = []
    f_events: list[tuple] = []  # (ids, steps, running, longest, awaiting, waited, strings)
    d_parts: list = []
    slow: list = []
    known: set = set()
    opened: set = set()  # tasks a step_open may have left open (no figures row since)
    ending = False
    for handler, ev in held:
        kind = kinds.get(handler)
        if kind is None or ending:  # (nothing may come after the run's end)
            return None
        if kind == END:
            ending = True
        elif kind == SLOW:
            task = ev.get("task")
            if task in known:  # (an unknown task's is not counted, as in the fold)
                slow.append(task)
        elif kind == STEP_OPEN:
            if ev.get("id") in known:
                opened.add(ev.get("id"))
        elif kind == CREATED:
            parts = _parts(ev["tasks"])
            count = len(known)
            for is_run, part in _spans(parts):
                ids = part.ids() if is_run else map(_second, part)  # type: ignore[attr-defined]
                count += part.n if is_run else len(part)  # type: ignore[attr-defined, arg-type]
                known.update(ids)
            if len(known) != count:  # (a task made twice)
                return None
            c_parts += parts
        elif kind == FIGURES:
            f = _figure_columns(ev["tasks"])
            if not known.issuperset(f[0]):
                return None
            if opened:
                opened.difference_update(f[0])
            f_events.append(f)
        else:
            parts = _parts(ev["tasks"])
            for is_run, part in _spans(parts):
                ids = part.ids() if is_run else map(_second, part)  # type: ignore[attr-defined]
                if not known.issuperset(ids):
                    return None
            d_parts += parts
    if opened or not known or not f_events:
        return None
    return _columns(c_parts, f_events, d_parts, slow, ending)


def _figure_columns(rows: object) -> tuple:
    """A figures event's ids, steps, running, longest, awaiting and last awaited (texts,
    or string ids with the strings they are of) columns."""
    if type(rows) is FigureRows:
        made = rows.columns()  # type: ignore[attr-defined]
        if made is not None:
            return made
    rows = list(rows)  # type: ignore[call-overload]
    if not rows:
        return (), (), (), (), (), (), None
    fid, steps, running, longest, _first, _last, awaiting, waited, _file, _line = zip(
        *rows, strict=True
    )
    return fid, steps, running, longest, awaiting, waited, None


def _texts(column: Iterable, strings: dict | None) -> Iterable:
    return column if strings is None else map(strings.__getitem__, column)


def _columns(
    c_parts: list, f_events: list, d_parts: list, slow: list, ending: bool
) -> TaskColumns | None:
    c = TaskColumns()
    c.ending = ending
    ids: list = []
    created: list = []
    coros: list = []
    internal: list = []
    starts = _starts(c_parts)
    for is_run, part in _spans(c_parts):
        if is_run:
            ids += part.ids()  # type: ignore[attr-defined]
            created += part.times.tolist()  # type: ignore[attr-defined]
            names = {sid: text or "?" for sid, text in part.strings.items()}  # type: ignore[attr-defined]
            coros += map(names.__getitem__, part.u32(C_CORO))  # type: ignore[attr-defined]
            internal += part.u8(C_INTERNAL)  # type: ignore[attr-defined]
        else:
            t, tid, _name, coro, _parent, inside, _file, _line = zip(*part, strict=True)  # type: ignore[misc]
            ids += tid
            created += t
            coros += map(_CORO.get, coro, coro)
            internal += inside
    c.ids, c.created, c.coros, c.internal = ids, created, coros, internal
    c._c_parts, c._c_starts = c_parts, starts
    # Each task's last figures row: in the last event, when it holds every task (a run
    # sent once, at its end; a task made after it would not be there); else by id in all.
    fid, steps, running, longest, awaiting, waited, strings = f_events[-1]
    at = dict(zip(fid, range(len(fid)), strict=True))
    index = list(map(at.get, ids))
    if None not in index:
        gather = index.__iter__
        f_all = [(steps, running, longest, awaiting, waited, strings)]
        told_before = any(  # (a wait an earlier row told that the last row did not)
            any(f[5]) if f[6] is None else any(map(f[6].__getitem__, f[5])) for f in f_events[:-1]
        )
    else:
        f_ids = list(chain.from_iterable(f[0] for f in f_events))
        at = dict(zip(f_ids, range(len(f_ids)), strict=True))
        index = list(map(at.get, ids))
        if None in index:  # (a task with no figures row: pending, read as objects)
            return None
        gather = index.__iter__
        f_all = [f[1:] for f in f_events]
        told_before = True

    def gathered(k: int, texts: bool = False) -> list:
        if len(f_all) == 1:
            column = f_all[0][k]
            if texts:
                column = list(_texts(column, f_all[0][5]))
        else:
            column = []
            for f in f_all:
                column += _texts(f[k], f[5]) if texts else f[k]
        return list(map(column.__getitem__, gather()))

    c.steps, c.running, c.longest = gathered(0), gathered(1), gathered(2)
    awaiting = gathered(3, True)
    c.last_awaited = gathered(4, True)
    if told_before and not all(c.last_awaited):
        c.last_awaited = _last_awaited(f_events, ids)
    # Each task's last end, by id: its time and state.
    d_ids: list = []
    d_t: list = []
    d_state: list = []
    for is_run, part in _spans(d_parts):
        if is_run:
            d_ids += part.ids()  # type: ignore[attr-defined]
            d_t += part.times.tolist()  # type: ignore[attr-defined]
            d_state += part.u8(D_STATE)  # type: ignore[attr-defined]
        else:
            t, tid, state, *_rest = zip(*part, strict=True)  # type: ignore[misc]
            d_ids += tid
            d_t += t
            d_state += map(_STATE_CODES.__getitem__, state)
    at = dict(zip(d_ids, range(len(d_ids)), strict=True))
    c._d_index = index = list(map(at.get, ids))
    d_t.append(None)
    d_state.append(None)
    none = len(d_ids)
    index = [none if k is None else k for k in index]
    c.ended = list(map(d_t.__getitem__, index))
    names = _STATE_NAMES
    c.state = [
        ("waiting" if a else "ready") if d is None else names[d]
        for d, a in zip(map(d_state.__getitem__, index), awaiting, strict=True)
    ]
    c._d_parts, c._d_starts = d_parts, _starts(d_parts)
    c.slow = list(map(Counter(slow).get, ids, repeat(0))) if slow else None
    return c


def _starts(parts: list) -> list[int]:
    """Where each part's rows begin among all of them."""
    starts, n = [], 0
    for part in parts:
        starts.append(n)
        n += part.n if type(part) is TaskRun else 1
    return starts


def _last_awaited(f_events: list, ids: list) -> list:
    """Each task's last awaited: that of its last row that has one (the fold keeps it)."""
    told: dict = {}
    for fid, _s, _r, _l, _a, waited, strings in f_events:
        texts = list(_texts(waited, strings))
        told.update(zip(compress(fid, texts), compress(texts, texts), strict=True))
    return list(map(told.get, ids))
