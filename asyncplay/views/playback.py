"""A recorded run, step by step: the model as it was before any task step, both ways.

Playback moves through a run's events one *task step* at a time. Position ``k`` (0 to
``total``) is the run paused after its ``k``-th task step, before the next one, as live
stepping pauses: the events of step ``k`` are in (what it created and printed, then its
record), and so is what happened after it and before step ``k + 1`` began (a task's end,
a callback's output); what step ``k + 1`` itself did is not. Position ``total`` is the
whole run (its end too): the run's final state. The events stay in their recorded order
(the child writes them as they happen: a step's output and the tasks it creates before
the step's own record); a ``steps`` batch is cut between its steps. What the stream tells
late goes back to its step first (:func:`in_step_order`): a task's end read after its
batch, a step's output released after the records of later steps.

Every model is the one reducer's (``model.apply``) fold of a prefix of the events, so a
position shows exactly what a live run showed at that moment. Going back restores the
nearest snapshot at or before the position (:class:`Snapshot`, taken every
:data:`SNAPSHOT_EVERY` folded events or so on the way forward) and folds on from it: a
step back costs one snapshot's load and at most that many events, whatever the run's
length. The snapshots are bounded in bytes (:data:`SNAPSHOT_BYTES`): past it every other
one goes and they are taken half as often.

Pure: no Textual, no I/O. ``tui/playback_control.py`` drives it off the UI's path.
"""

from __future__ import annotations

import math
import pickle
from array import array
from bisect import bisect_right
from collections.abc import Sequence

from asyncplay.model import CHILD_CLOCK, RunModel, apply
from asyncplay.views.gutter_marks import same_file
from asyncplay.views.stepping import where_words, who_words
from asyncplay.views.text_cells import clean

__all__ = [
    "EventLog",
    "Playback",
    "SNAPSHOT_BYTES",
    "SNAPSHOT_EVERY",
    "Snapshot",
    "cuts",
    "in_step_order",
    "next_line",
    "next_words",
    "status_forms",
    "status_words",
]

SNAPSHOT_EVERY = 2_000  # events (a step counts one) folded between two snapshots
SNAPSHOT_BYTES = 64 * 1024 * 1024  # all snapshots together, at most (then thinned)
LOG_STEPS = 100_000  # a live run's task steps kept for playing it back (EventLog)
LOG_EVENTS = 50_000  # ... and its events (a steps batch is one; ~600 bytes each at most)


def _steps_of(ev: dict) -> list | tuple | None:
    if ev.get("event") != "steps":
        return None
    steps = ev.get("steps")
    return steps if isinstance(steps, (list, tuple)) and steps else None


def _during(ev: dict, task: object, start: float) -> bool:
    """Whether ``ev`` (between two step records) happened during the step of ``task``
    that began at ``start``: its output, or anything stamped by the child's clock at or
    after the step's start (the tasks it created, its warnings, its open-step notes)."""
    kind = ev.get("event")
    if kind == "output":
        return ev.get("task") == task and task is not None
    t = ev.get("t")
    return kind in CHILD_CLOCK and isinstance(t, (int, float)) and t >= start


def in_step_order(events: Sequence[dict]) -> Sequence[dict]:
    """``events`` with what the stream tells late put back with its task step.

    - A ``task_done`` read after a ``steps`` batch goes right after its task's last step
      in it: the decoder keeps a batch whole across task ends, so a task that ended early
      in it would look alive for the rest of it.
    - An ``output`` of a task that comes after the record of the step that printed it (the
      step whose start is the latest at or before the output's time) goes right before
      that record: the session releases output when its bytes come out of the pipe, which
      under load is after the records of later steps.

    A batch is split where something goes between its steps. Only those events move,
    each keeping its order among the others, so the run's final model is the same. The
    list itself when nothing moves."""
    starts: dict[object, list[tuple[float, int, int]]] = {}
    for i, ev in enumerate(events):
        for j, step in enumerate(_steps_of(ev) or ()):
            starts.setdefault(step[0], []).append((step[1], i, j))
    before: dict[tuple[int, int], list[dict]] = {}
    after: dict[tuple[int, int], list[dict]] = {}
    moved: set[int] = set()
    batch, size, last = -1, 0, {}  # the batch just read: its length, its tasks' last steps
    for o, ev in enumerate(events):
        kind = ev.get("event")
        steps = _steps_of(ev)
        if steps is not None:
            batch, size = o, len(steps)
            last = {step[0]: j for j, step in enumerate(steps)}
        elif kind == "task_done" and batch >= 0:
            j = last.get(ev.get("id"), -1)
            if 0 <= j < size - 1:
                after.setdefault((batch, j), []).append(ev)
                moved.add(o)
        elif kind == "output":
            t, task = ev.get("t"), ev.get("task")
            own = starts.get(task) if task is not None else None
            if own and isinstance(t, (int, float)):
                k = bisect_right(own, (t, math.inf)) - 1
                if k >= 0 and own[k][1] < o:
                    before.setdefault((own[k][1], own[k][2]), []).append(ev)
                    moved.add(o)
        else:
            batch = -1  # task ends read after anything else are not the batch's
    if not moved:
        return events
    split = {i for i, _j in before} | {i for i, _j in after}
    out: list[dict] = []
    for i, ev in enumerate(events):
        if i in moved:
            continue
        if i not in split:
            out.append(ev)
            continue
        piece: list = []
        for j, step in enumerate(ev["steps"]):
            if (i, j) in before:
                if piece:
                    out.append(_piece(piece))
                    piece = []
                out.extend(before[i, j])
            piece.append(step)
            if (i, j) in after:
                out.append(_piece(piece))
                piece = []
                out.extend(after[i, j])
        out.append({**ev, "steps": piece})  # the batch's own time: its last step is in
    return out


def _piece(steps: list) -> dict:
    """Part of a batch, stamped when its last step ended."""
    return {"event": "steps", "t": steps[-1][1] + steps[-1][2], "steps": steps}


def cuts(events: Sequence[dict]) -> tuple[array, array, array]:
    """Where each position ends in ``events``: ``(index, offset, end)``, one entry per
    position 0..total. Position ``k`` is ``events[:index[k]]`` folded, plus the first
    ``offset[k]`` steps of ``events[index[k]]`` (a ``steps`` batch cut between steps);
    ``end[k]`` is when step ``k`` ended (run seconds; 0 for position 0), never before an
    earlier position's."""
    index, offset, end = array("q"), array("q"), array("d", [0.0])
    gap = 0  # the first event after the last step record
    last = 0.0
    for i, ev in enumerate(events):
        steps = _steps_of(ev)
        if steps is None:
            continue
        first = steps[0]
        cut = i
        for g in range(gap, i):
            if _during(events[g], first[0], first[1]):
                cut = g
                break
        index.append(cut)
        offset.append(0)
        for j, step in enumerate(steps):
            if j:
                index.append(i)
                offset.append(j)
            finish = step[1] + step[2]
            last = finish if finish > last else last
            end.append(last)
        gap = i + 1
    index.append(len(events))
    offset.append(0)
    return index, offset, end


class Snapshot:
    """A model as it was: pickled, but for the tasks' spans, which are most of a big
    model and cheap to share. The reducer only ever changes a span list at its end (it
    appends, replaces or pops the last span, and a halving makes a new list), so what
    stays of a list is its spans up to the last two: the snapshot keeps the list itself,
    its length and copies of those two, and a load takes that much of it again. A load
    then costs the rest of the model's objects, not its hundred thousand spans."""

    __slots__ = ("data", "spans", "size")

    def __init__(self, model: RunModel) -> None:
        spans: dict[int, tuple[list, int, tuple]] = {}
        for tid, info in model.tasks.items():
            kept = info.spans
            spans[tid] = (kept, len(kept), tuple(kept[-2:]))
            info.spans = []
        try:
            self.data = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            for tid, (kept, _n, _tail) in spans.items():
                model.tasks[tid].spans = kept
        self.spans = spans
        self.size = len(self.data) + 8 * sum(n for _l, n, _t in spans.values())

    def load(self) -> RunModel:
        model: RunModel = pickle.loads(self.data)
        for tid, (kept, n, tail) in self.spans.items():
            model.tasks[tid].spans = [*kept[: n - len(tail)], *tail]
        return model


class Playback:
    """A run's events and the model at one position of them: :meth:`seek` moves it.

    ``model`` is the model at ``position``; a move forward folds into it in place, a
    move back replaces it with a restored one (``restored`` counts those, so a caller
    knows its views must take the new object).
    """

    def __init__(
        self,
        events: Sequence[dict],
        every: int = SNAPSHOT_EVERY,
        budget: int = SNAPSHOT_BYTES,
    ) -> None:
        self.events = events = in_step_order(events)
        self._index, self._offset, self._end = cuts(events)
        self.total = len(self._index) - 1  # task steps in the run
        self.model = RunModel()
        self.position = 0
        self.restored = 0
        self._every = max(1, every)
        self._budget = budget
        self._since = 0  # events folded since the last snapshot
        self._fold(0, 0, self._index[0], self._offset[0])
        self._snaps: dict[int, Snapshot] = {0: self._dump()}
        self._bytes = self._snaps[0].size
        self._since = 0

    # ---- where things are ----------------------------------------------------------------

    def time_at(self, k: int) -> float:
        """Run seconds at position ``k``: when its step ended (0 before any)."""
        return self._end[max(0, min(self.total, k))]

    def position_at(self, t: float) -> int:
        """The last position whose step had ended by run time ``t``."""
        return max(0, bisect_right(self._end, t) - 1)

    def step(self, k: int) -> tuple | None:
        """The ``k``-th task step (1-based) as recorded: ``[task, start, dur, awaiting,
        file, line]``; None outside 1..total."""
        if not 1 <= k <= self.total:
            return None
        i, j = self._index[k - 1], self._offset[k - 1]
        while _steps_of(self.events[i]) is None:
            i += 1  # the events of the step that come before its record
        return tuple(self.events[i]["steps"][j])

    def next_task(self) -> int | None:
        """The task whose step runs next (None at the end)."""
        step = self.step(self.position + 1)
        return step[0] if step is not None else None

    @property
    def snapshots(self) -> int:
        return len(self._snaps)

    @property
    def snapshot_bytes(self) -> int:
        return self._bytes

    # ---- moving ------------------------------------------------------------------------

    def seek(self, k: int, limit: int | None = None) -> bool:
        """Go to position ``k`` (clamped to 0..total). With ``limit``, fold at most about
        that many events going forward and stop at the position reached (call again to
        go on): the caller's loop stays responsive. True once at ``k``."""
        k = max(0, min(self.total, k))
        if k < self.position:
            base = max(p for p in self._snaps if p <= k)
            self.model = self._snaps[base].load()
            self.position = base
            self._since = 0
            self.restored += 1
        folded = 0
        while self.position < k:
            p = self.position
            # to the next snapshot's position at most, in one fold (a position folds
            # one event at least, so that many positions fold at least that many)
            q = min(k, p + max(1, self._every - self._since))
            if limit is not None:
                q = min(q, p + max(1, limit - folded))
            folded += self._fold(self._index[p], self._offset[p], self._index[q], self._offset[q])
            self.position = q
            if self._since >= self._every and q not in self._snaps:
                self._snapshot()
            if limit is not None and folded >= limit:
                break
        return self.position == k

    def _fold(self, i0: int, j0: int, i1: int, j1: int) -> int:
        """Fold events from (i0, j0) up to (i1, j1) (index, steps offset) into the model;
        how many were folded (a step counts one)."""
        m, events = self.model, self.events
        n = 0
        i, j = i0, j0
        while i < i1 or (i == i1 and j < j1):
            ev = events[i]
            steps = _steps_of(ev)
            if steps is None:
                apply(m, ev)
                n += 1
                i, j = i + 1, 0
                continue
            stop = j1 if i == i1 else len(steps)
            if j == 0 and stop == len(steps):
                apply(m, ev)  # the whole batch: as the live fold did
            else:
                piece = steps[j:stop]
                last = piece[-1]
                # the batch's own time once its last step is in (the live model's now)
                t = ev.get("t") if stop == len(steps) else last[1] + last[2]
                apply(m, {"event": "steps", "t": t, "steps": piece})
            n += stop - j
            if stop == len(steps):
                i, j = i + 1, 0
            else:
                j = stop
        self._since += n
        return n

    def _dump(self) -> Snapshot:
        return Snapshot(self.model)

    def _snapshot(self) -> None:
        snap = self._dump()
        self._snaps[self.position] = snap
        self._bytes += snap.size
        self._since = 0
        if self._bytes > self._budget and len(self._snaps) > 2:
            self._thin()

    def _thin(self) -> None:
        """Every other snapshot goes (the first stays), and they come half as often."""
        keep = sorted(self._snaps)
        for p in keep[1::2]:
            self._bytes -= self._snaps.pop(p).size
        self._every *= 2


class EventLog:
    """A live run's events, kept so that the run can be played back when it is over.

    Bounded like the model's output: the first :data:`LOG_STEPS` task steps and
    :data:`LOG_EVENTS` events (steps batches among them) are kept, and ``cut`` says when the rest was not (the
    playback then ends there; the run's final state is the live model's all the same).
    The events themselves are kept, not copies: nothing changes an event once folded.
    """

    def __init__(self, max_steps: int = LOG_STEPS, max_events: int = LOG_EVENTS) -> None:
        self.events: list[dict] = []
        self.steps = 0
        self.cut: float | None = None  # the run time past which nothing was kept
        self.why = ""  # what was kept, when cut: "the first 200,000 task steps"
        self._max_steps = max_steps
        self._max_events = max_events

    def add(self, ev: dict) -> None:
        if self.cut is not None:
            if ev.get("event") == "run_end":  # the end is kept: the playback's last state
                self.events.append(ev)
            return
        steps = _steps_of(ev)
        if steps is not None:
            if self.steps + len(steps) > self._max_steps:
                self._stop(ev, f"the first {self._max_steps:,} task steps")
                return
            self.steps += len(steps)
        elif len(self.events) >= self._max_events:
            self._stop(ev, f"the first {self._max_events:,} events")
            return
        self.events.append(ev)

    def _stop(self, ev: dict, why: str) -> None:
        self.why = why
        t = ev.get("t")
        self.cut = float(t) if isinstance(t, (int, float)) else 0.0


def next_line(model: RunModel, task: int | None, program: str | None) -> int | None:
    """The program's line where the task that runs next waits now (it resumes there);
    None for a task yet to run its first step, or waiting in another file."""
    info = model.tasks.get(task) if task is not None else None
    if info is None or not info.steps or not info.wait_line:
        return None
    if program is not None and not same_file(info.wait_file, program):
        return None
    return info.wait_line


def next_words(model: RunModel, task: int | None, program: str | None) -> str:
    """``toaster-2 (toast) at line 6``: the task that runs next and where it waits now,
    in the live pause line's words (``views/stepping.py``; a task yet to run its first
    step has no line); ``-`` when none does."""
    if task is None:
        return "-"
    info = model.tasks.get(task)
    words = who_words(info, task)
    where = where_words(info.wait_file, info.wait_line, program) if info and info.steps else ""
    return f"{words} at {where}" if where else words


def status_words(
    playback: Playback,
    program: str | None,
    playing: bool = False,
    speed: float = 1.0,
    t: float | None = None,
) -> str:
    """The status line in playback: ``playback - step 12/340 - 0.84 s - next: w2 (work)
    at line 6``; playing, ``playback >> 2x - ...``; at the end, ``... - end of the run``.
    ``t``: the run time shown (playing, the clock runs between steps), else the step's."""
    head = "playback"
    if playing:
        head += f" >> {speed:g}x"
    k = playback.position
    t = playback.time_at(k) if t is None else t
    words = f"{head} - step {k}/{playback.total} - {t:.2f} s"
    if k >= playback.total:
        return f"{words} - end of the run"
    return f"{words} - next: {next_words(playback.model, playback.next_task(), program)}"


def status_forms(
    playback: Playback,
    program: str | None,
    playing: bool = False,
    speed: float = 1.0,
    t: float | None = None,
) -> list[str]:
    """:func:`status_words`, then shorter forms for a narrow status line: the next task
    without its coroutine, without its line, then no next task at all."""
    full = status_words(playback, program, playing, speed, t)
    head, _sep, _next = full.partition(" - next: ")
    task = playback.next_task()
    if not _sep or task is None:
        return [full]
    info = playback.model.tasks.get(task)
    name = (clean(info.name) or "(no name)") if info is not None else f"task {task}"
    line = next_line(playback.model, task, program)
    short = f"{head} - next: {name}"
    return [full, f"{short} at line {line}" if line else short, short, head]
