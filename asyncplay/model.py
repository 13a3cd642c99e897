"""The run model and the one reducer that folds protocol events into it.

Every view (the headless summary, JSON, the TUI) renders from a ``RunModel``; none of them
re-derives state from events. ``apply`` does no I/O and depends only on the model and the
event, so a recorded event stream always rebuilds the same model. It updates the model in
place: copying it per step would make a 100,000-step run quadratic.
"""

from __future__ import annotations

import math
from collections import deque

from asyncplay import model_columns
from asyncplay.model_deferred import DeferredFold
from asyncplay.model_objects import HANDLERS as _OBJECT_HANDLERS
from asyncplay.model_objects import ExecutorJob, Primitive
from asyncplay.model_output import OutputLine, OutputLog
from asyncplay.model_steps import MAX_SPANS_PER_TASK as MAX_SPANS_PER_TASK
from asyncplay.model_steps import StepFigures, fold_figures, fold_steps
from asyncplay.protocol import slow_step_message

TYPE_CHECKING = False
if TYPE_CHECKING:  # (not at run time: the headless path's start-up)
    from collections.abc import Callable

MAX_OUTPUT_LINES = 10_000
MAX_SNAPSHOTS = 8  # await-graph snapshots taken at deadlock warnings

FINISHED = frozenset({"done", "cancelled", "failed"})
# Events stamped by the child's loop clock. asyncplay stamps the others (run_end, summary,
# output read straight from a pipe) with the wall clock, which under ``--speed`` or the
# virtual clock is another time base: they must not move the run's time (a 3 s program
# at speed 0.25 would stretch to 12 s in every view).
CHILD_CLOCK = frozenset(
    {
        "hello",
        "task_created",
        "tasks_created",
        "task_renamed",
        "steps",
        "figures",
        "task_done",
        "tasks_done",
        "warning",
        "cancel_source",
        "step_open",
        "stdin",
        "primitive",
        "primitive_state",
        "executor_job",
        "call_chain",
        "paused",
        "resumed",
    }
)


def default_name(name: str) -> bool:
    r"""asyncio's own name for a task nobody named (``Task-<decimal digits>``, as
    ``re.fullmatch(r"Task-\d+")``; no ``re`` on the headless run's path): the lane then
    says what it runs."""
    return name.startswith("Task-") and name[5:].isdecimal()


class TaskInfo:
    """One task as the views see it. Plain ``__slots__`` classes, not dataclasses: the
    headless ``run`` path imports this module and dataclasses cost start-up time."""

    __slots__ = (
        "id", "name", "coro", "parent", "internal", "file", "line", "created", "state",
        "awaiting", "wait_file", "wait_line", "steps", "running", "longest_step",
        "first_step", "last_active", "ended", "result", "exc_type", "exc_msg", "exc_file",
        "exc_line", "last_awaited", "children", "cancel_source", "slow_steps", "unfinished",
        "open", "existing", "chain", "chain_wait", "_f",
    )  # fmt: skip

    def __init__(
        self,
        id: int,
        name: str,
        coro: str,
        parent: int | None = None,
        internal: bool = False,
        file: str | None = None,
        line: int | None = None,
        created: float = 0.0,
        figures: StepFigures | None = None,
    ) -> None:
        # Its spans are made from its steps when asked (``spans``), in its model's
        # StepFigures, shared by the model's tasks.
        self._f = StepFigures() if figures is None else figures
        self.id = id
        self.name = name
        self.coro = coro
        self.parent = parent
        self.internal = internal
        self.file = file  # where it was created
        self.line = line
        self.created = created
        self.state = "pending"  # pending, waiting, ready, done, cancelled, failed
        # The run ended before the task did (a limit stopped it, or the program exited):
        # ``state`` keeps how it last was, which would read as if it still ran.
        self.unfinished = False
        self.awaiting: str | None = None
        self.wait_file: str | None = None  # where it is suspended (or last was)
        self.wait_line: int | None = None
        self.steps = 0
        self.running = 0.0
        self.longest_step = 0.0
        self.first_step: float | None = None
        self.last_active = created
        self.ended: float | None = None
        self.result: str | None = None
        self.exc_type: str | None = None
        self.exc_msg: str | None = None
        self.exc_file: str | None = None
        self.exc_line: int | None = None
        self.last_awaited: str | None = None  # the last non-empty thing it waited on
        self.children: list[int] = []
        # Who cancelled it: {"cause", "by", "file", "line", "t"} from ``cancel_source``.
        self.cancel_source: dict | None = None
        self.slow_steps = 0  # its steps the blocking detector reported (``slow_step``)
        # The step in progress (``step_open``): (start, running counted for it so far,
        # longest step before it, state before it, running before it). It is counted as a
        # step, its time as running, and it is the last span, until its own step record
        # replaces it.
        self.open: tuple[float, float, float, str, float] | None = None
        self.existing = False  # asyncplay attach: it was there before the attach
        # 3.14+ (``call_chain``): the coroutines inside it where it last waited, outermost
        # first, each (qualname, file, line); None when not known (3.10-3.13).
        self.chain: list[tuple[str, str | None, int]] | None = None
        self.chain_wait: tuple | None = None  # (awaiting, wait_file, wait_line) it is for

    def __repr__(self) -> str:
        return f"<TaskInfo {self.id} {self.name} {self.coro} {self.state}>"

    @property
    def spans(self) -> list[Span]:
        """One Span per step, or per run of steps once merged (see ``Span``): made from
        the steps kept since something last asked (``StepFigures.flush``)."""
        f = self._f
        if f.pending:
            f.flush()
        spans = f.spans.get(self.id)
        if spans is None:
            spans = f.spans[self.id] = []
        return spans

    @spans.setter
    def spans(self, value: list[Span]) -> None:
        f = self._f
        if f.pending:
            f.flush()
        f.spans[self.id] = value

    @property
    def span_steps(self) -> int:
        """Steps per new span: doubles each time the spans are halved."""
        f = self._f
        if f.pending:
            f.flush()
        return f.span_steps.get(self.id, 1)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def lifetime(self, now: float) -> float:
        return (self.ended if self.ended is not None else now) - self.created

    @property
    def waiting(self) -> float:
        """Time alive but not running (waiting, or ready and queued behind others)."""
        end = self.ended if self.ended is not None else self.last_active
        return max(0.0, end - self.created - self.running)

    @property
    def label(self) -> str:
        """The name, and what it runs when the name is asyncio's default (``Task-2
        brew_tea``): a lane or a row of unnamed tasks then says something."""
        name = self.name
        # Not asyncio's own tasks: BaseEventLoop.shutdown_default_executor says nothing
        # and would widen every lane's label.
        if not self.internal and default_name(name) and self.coro not in ("", "?"):
            return f"{name} {self.coro}"
        return name

    def waited(self, now: float) -> float:
        """``waiting`` with a task still alive counted up to ``now`` (the end of the run)."""
        return max(0.0, self.lifetime(now) - self.running)


#: A task's step, or a run of its steps merged: ``(start, extent, busy, steps, awaiting,
#: file, line)``, read by the field names below (``span[SPAN_FILE]``). One step is
#: ``(start, dur, dur, 1, ...)``; a merged span covers ``steps`` steps from ``start`` over
#: ``extent`` seconds, of which it ran ``busy``; ``awaiting``, ``file`` and ``line`` (0: none)
#: are its last step's, where it then suspended. A plain tuple, not a NamedTuple: the
#: collector stops tracking a tuple of numbers and strings, never a tuple subclass, and
#: 300,000 tracked spans made the fold 2.5x slower (``bench/views.py``: 0.29 s -> 0.89 s).
Span = tuple[float, float, float, int, "str | None", "str | None", int]
SPAN_START, SPAN_EXTENT, SPAN_BUSY, SPAN_STEPS, SPAN_AWAITING, SPAN_FILE, SPAN_LINE = range(7)


class WaitSnapshot:
    """What every unfinished task waited on at one moment (a deadlock warning), so the
    await graph can show that moment even after the run went on or was killed."""

    __slots__ = ("t", "warning", "waits")

    def __init__(self, t: float, warning: dict, waits: dict[int, tuple]) -> None:
        self.t = t
        self.warning = warning
        self.waits = waits  # task id -> (awaiting, wait_file, wait_line)

    def __repr__(self) -> str:
        return f"<WaitSnapshot t={self.t:.3f} {len(self.waits)} waiting>"


class Pause:
    """Where a stepped run stands while paused (a ``paused`` record): immutable, like a
    frozen dataclass (a ``__slots__`` class for the headless path's start-up).

    ``reason``: start, step, request, line or task; ``next``: the id of the task whose
    step runs when the user steps (None: no task is ready); ``file``/``line``: where it
    resumes (a fresh task: its coroutine's first line); ``ready``: the loop's ready queue
    in the order it runs (task ids, 0 for a callback that is not a task step); ``timers``:
    ``(due, task or None, what)`` sorted by due (run seconds); ``at``: for reason
    ``line``, the line reached."""

    __slots__ = ("reason", "next", "file", "line", "ready", "timers", "at")

    reason: str
    next: int | None
    file: str | None
    line: int | None
    ready: tuple[int, ...]
    timers: tuple[tuple[float, int | None, str], ...]
    at: int | None

    def __init__(
        self,
        reason: str,
        next: int | None = None,
        file: str | None = None,
        line: int | None = None,
        ready: tuple[int, ...] = (),
        timers: tuple[tuple[float, int | None, str], ...] = (),
        at: int | None = None,
    ) -> None:
        for name, value in zip(
            self.__slots__, (reason, next, file, line, ready, timers, at), strict=True
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Pause is immutable (cannot set {name!r})")

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return self._key() == other._key() if isinstance(other, Pause) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"Pause({fields})"


class RunModel(DeferredFold):
    """Everything known about one run, as the reducer has folded it."""

    def __init__(self, max_lines: int = MAX_OUTPUT_LINES, deferred: bool = False) -> None:
        self._tasks: dict[int, TaskInfo] = {}
        # ``deferred`` (the headless command's): what the events do to the tasks is done
        # when they are first read (model_deferred.py); None: each event as it comes.
        self._pending: list[tuple[Callable, dict]] | None = [] if deferred else None
        self._ending = False  # the run's end's part for the tasks is among ``_pending``
        self._columns_of: tuple | None = None  # (task_columns: of which held events, what)
        self.figures = StepFigures()  # the tasks' steps kept for their spans (model_steps)
        # The program's output (model_output.py): its lines are built when read.
        self.output_log = OutputLog(max_lines)
        self._warnings: list[dict] = []
        self.errors: list[str] = []
        self.status = "idle"  # idle, running, ended
        self.python: str | None = None
        self.protocol: int | None = None
        self.target: str | None = None
        self.now = 0.0
        self._steps = 0
        self.end: dict | None = None
        # The child sent its end (run_end's ``bye``; None: not known, an older recording):
        # killed before it did, its figures are as of its last (views/summary.stale_figures).
        self.said_bye: bool | None = None
        self._slow_steps = 0
        self.snapshots: list[WaitSnapshot] = []  # one per deadlock warning (bounded)
        self.limits: dict = {}  # run_start's limits: timeout, memory, cpu, output_limit, procs
        self.sandbox: dict | None = None  # run_start's sandbox: mode, layers, notes
        self.clock = "real"  # hello's clock: "virtual" when time is simulated
        self.speed = 1.0  # hello's speed: virtual seconds per real second
        # The program is blocked reading its stdin (``stdin`` events): input() is waiting.
        self.waiting_for_input = False
        self.input_task: int | None = None  # the task whose step reads (None: no task)
        # Bumped whenever ``warnings`` changes, also in place (a slow step's update).
        self._warnings_version = 0
        self._slow_index: dict[tuple, int] = {}  # (task, step start) -> index in warnings
        # task -> (step start, file, line): an open step past the slow-step threshold
        self._held_at: dict[int, tuple[float, str, int]] = {}
        # The queues, locks ... the program created, and its executor jobs (model_objects).
        self.primitives: dict[int, Primitive] = {}
        self.executor_jobs: dict[int, ExecutorJob] = {}
        self.objects_version = 0  # bumped whenever one of them changes
        # Stepping: where the run stands while paused (None: running, or not stepped),
        # how many times it paused, and the seconds it spent paused (not on its clock).
        self.pause: Pause | None = None
        self.pauses = 0
        self.paused_total = 0.0

    def waits(self) -> dict[int, tuple]:
        """What each unfinished task waits on now: task id -> (awaiting, file, line)."""
        return {
            t.id: (t.awaiting, t.wait_file, t.wait_line)
            for t in self.tasks.values()
            if t.state not in FINISHED
        }

    @property
    def output(self) -> deque[OutputLine]:
        """The newest output lines (at most ``max_lines``), in the order printed."""
        log = self.output_log
        if log.pending:
            log.settle()
        return log.lines

    @property
    def partial(self) -> dict[str, OutputLine]:
        """Stream -> its line still without a newline (in ``output`` already)."""
        log = self.output_log
        if log.pending:
            log.settle()
        return log.partial

    @property
    def dropped_lines(self) -> int:
        """Output lines pushed out of ``output`` by newer ones."""
        log = self.output_log
        if log.pending:
            log.settle()
        return log.dropped

    @property
    def exit_code(self) -> int | None:
        return self.end["exit_code"] if self.end else None

    def user_tasks(self) -> list[TaskInfo]:
        return [t for t in self.tasks.values() if not t.internal]

    def task_columns(self) -> model_columns.TaskColumns | None:
        """The held events' tasks as columns, not folded (``model_columns``), or None."""
        held = self._pending
        if not held or self._tasks:
            return None
        key = (id(held), len(held))
        if self._columns_of is None or self._columns_of[0] != key:
            self._columns_of = (key, model_columns.columns(held, _COLUMN_KINDS))
            self._ending = self._ending and self._columns_of[1] is None  # (no step open)
        return self._columns_of[1]

    def column_task(self, i: int) -> TaskInfo:
        return self._columns_of[1].task(i, TaskInfo, FINISHED)  # type: ignore[index]


def apply(model: RunModel, event: dict) -> RunModel:
    """Fold one protocol event into ``model``; unknown kinds are ignored (newer children)."""
    kind = event.get("event")
    t = event.get("t")
    if (
        isinstance(t, (int, float))
        and t > model.now
        and (kind in CHILD_CLOCK or (model.clock == "real" and model.speed == 1.0))
    ):
        model.now = float(t)
    handler = _HANDLERS.get(kind)  # type: ignore[arg-type]
    if handler is not None:
        if model._pending is not None and kind in _DEFERRED:
            model.hold(handler, event)
        else:
            handler(model, event)
    return model


def _run_start(m: RunModel, ev: dict) -> None:
    m.status = "running"
    m.target = ev.get("target")
    m.sandbox = ev.get("sandbox")
    m.limits = ev.get("limits") or {}


def _hello(m: RunModel, ev: dict) -> None:
    m.python = ev.get("python")
    m.protocol = ev.get("version")
    if ev.get("clock") in ("real", "virtual"):
        m.clock = ev["clock"]
    speed = ev.get("speed")
    if isinstance(speed, (int, float)) and speed > 0:
        m.speed = float(speed)


def _task_created(m: RunModel, ev: dict) -> None:
    """(One per task: positional arguments, one lookup each; 20,000 tasks, 20,000 calls.)"""
    tasks = m.tasks
    tid = ev["id"]
    if tid in tasks:
        m.figures.forget(tid)  # (its spans are the old task's)
    get = ev.get
    name = get("name")
    parent = get("parent")
    info = TaskInfo(
        tid,
        # A task named "" keeps it (the views say "(no name)"): only a missing name is made up.
        name if isinstance(name, str) else f"Task-{tid}",
        get("coro") or "?",
        parent,
        bool(get("internal")),
        get("file"),
        get("line"),
        get("t", 0.0),
        m.figures,
    )
    tasks[tid] = info
    if parent is not None:
        up = tasks.get(parent)
        if up is not None:
            up.children.append(tid)


def _tasks_created(m: RunModel, ev: dict) -> None:
    """``task_created`` events in one (a batched decoder's, ``protocol.TASKS_CREATED``):
    each folded as ``_task_created`` folds its event (the decoder's name is a str)."""
    tasks = m.tasks
    figures = m.figures
    get = tasks.get
    for t, tid, name, coro, parent, internal, file, line in ev["tasks"]:
        if tid in tasks:
            figures.forget(tid)  # (its spans are the old task's)
        tasks[tid] = TaskInfo(tid, name, coro or "?", parent, internal, file, line, t, figures)
        if parent is not None:
            up = get(parent)
            if up is not None:
                up.children.append(tid)


def _task_existing(m: RunModel, ev: dict) -> None:
    """asyncplay attach lists the tasks it found: created before the attach (its
    ``task_created`` just before says when it was found, not made), waiting where said."""
    info = m.tasks.get(ev.get("id"))  # type: ignore[arg-type]
    if info is None:
        return
    info.existing = True
    awaiting = ev.get("awaiting")
    info.awaiting = awaiting if isinstance(awaiting, str) else None
    info.state = "waiting" if info.awaiting else "ready"
    if info.awaiting:
        info.last_awaited = info.awaiting
    if isinstance(ev.get("line"), int) and isinstance(ev.get("file"), str):
        info.wait_file, info.wait_line = ev["file"], ev["line"]


def _task_renamed(m: RunModel, ev: dict) -> None:
    info = m.tasks.get(ev.get("id"))  # type: ignore[arg-type]
    if info is not None and isinstance(ev.get("name"), str):
        info.name = ev["name"]


def _call_chain(m: RunModel, ev: dict) -> None:
    info = m.tasks.get(ev.get("id"))  # type: ignore[arg-type]
    chain = ev.get("chain")
    if info is not None and isinstance(chain, list):
        info.chain = [
            tuple(entry) for entry in chain if isinstance(entry, list) and len(entry) == 3
        ]
        # The child captures it after the steps sent before it: it is where the task waits
        # now; once the task waits elsewhere, it is no longer shown.
        info.chain_wait = (info.awaiting, info.wait_file, info.wait_line)


def _steps(m: RunModel, ev: dict) -> None:
    """Steps come batched, each ``[task, start, dur, awaiting, file, line]``: folded by
    ``model_steps``, which keeps the batch for the spans (a list nobody changes: a
    tuple of it)."""
    steps = ev["steps"]
    fold_steps(m, steps if type(steps) is tuple else tuple(steps), _close_open)


def _figures(m: RunModel, ev: dict) -> None:
    """Each task's figures so far, from a child that keeps them instead of sending its
    steps (``child/step_figures.py``): set, not added, by ``model_steps``."""
    fold_figures(m, ev["tasks"], _close_open)


def _close_open(m: RunModel, info: TaskInfo) -> None:
    """Take back what ``step_open`` counted: the step's own record has the exact figures.
    The running time is put back as it was, not counted back (a float sum and difference
    need not give it back: the child's own sum of the durations would differ)."""
    _start, _counted, longest, _state, running = info.open  # type: ignore[misc]
    info.open = None
    if info.spans:
        info.spans.pop()
    info.running = running
    info.steps -= 1
    m.steps -= 1
    info.longest_step = longest


def _step_open(m: RunModel, ev: dict) -> None:
    """A step still running (the child tells it every 0.25 s from 0.1 s on): the task is
    running, that step counts and its time so far is running time, drawn as a span."""
    info = m.tasks.get(ev.get("id"))  # type: ignore[arg-type]
    start, t = ev.get("start"), ev.get("t")
    if (
        info is None
        or info.state in FINISHED
        or not isinstance(start, (int, float))
        or not isinstance(t, (int, float))
        or not (math.isfinite(start) and math.isfinite(t))
        or start < info.last_active  # a step that has ended already (its record came first)
    ):
        return
    ran = max(0.0, t - start)
    file, line = ev.get("file"), ev.get("line")
    if isinstance(file, str) and isinstance(line, int) and line > 0:
        m._held_at[info.id] = (start, file, line)
    if info.open is not None and info.open[0] != start:
        _close_open(m, info)  # never closed (a lost record): the newer one counts
    if info.open is None:
        info.open = (start, 0.0, info.longest_step, info.state, info.running)
        info.steps += 1
        m.steps += 1
        if info.first_step is None:
            info.first_step = start
        info.spans.append((start, ran, ran, 1, None, None, 0))
    else:
        info.spans[-1] = (start, ran, ran, 1, None, None, 0)
    o_start, _counted, longest, state, running = info.open
    info.running = running + ran
    info.open = (o_start, ran, longest, state, running)
    info.longest_step = max(longest, ran)
    info.state = "running"
    info.awaiting = None


def _task_done(m: RunModel, ev: dict) -> None:
    info = m.tasks.get(ev["id"])
    if info is None:
        return
    info.state = ev.get("state", "done")
    info.ended = ev.get("t")
    info.awaiting = None
    info.result = ev.get("result")
    info.exc_type = ev.get("exc_type")
    info.exc_msg = ev.get("exc_msg")
    info.exc_file = ev.get("file")
    info.exc_line = ev.get("line")


def _tasks_done(m: RunModel, ev: dict) -> None:
    """``task_done`` events in one (a batched decoder's, ``protocol.TASKS_DONE``), each
    folded as ``_task_done`` folds its event."""
    get = m.tasks.get
    for t, tid, state, result, exc_type, exc_msg, file, line in ev["tasks"]:
        info = get(tid)
        if info is None:
            continue
        info.state = state
        info.ended = t
        info.awaiting = None
        info.result = result
        info.exc_type = exc_type
        info.exc_msg = exc_msg
        info.exc_file = file
        info.exc_line = line


def _output(m: RunModel, ev: dict) -> None:
    """Kept as it came; its lines are built when read (model_output.py)."""
    text = ev.get("text", "")
    if not isinstance(text, str):
        raise TypeError(f"output text is {type(text).__name__}, not str")
    if text:
        m.output_log.add(ev.get("stream", "stdout"), text, ev.get("task"), ev.get("t", m.now))


def _warning(m: RunModel, ev: dict) -> None:
    # (After the run's end, reading ``warnings_version`` first folds the end's part for
    # the tasks, which may add a warning: it comes before this one, as it did.)
    kind = ev.get("kind")
    m.warnings_version += 1
    if kind == "slow_step":
        key = (ev.get("task"), ev.get("step"))
        at = m._slow_index.get(key)
        if ev.get("update") and at is not None:  # the same slow step, now it has ended
            m.warnings[at] = ev
            return
        if ev.get("ongoing") and len(m._slow_index) < 10_000:
            m._slow_index[key] = len(m.warnings)
    m.warnings.append(ev)
    if kind == "slow_step":
        m.slow_steps += 1
        if m._pending:
            m._pending.append((_count_slow_step, ev))
        else:
            _count_slow_step(m, ev)
    elif kind == "deadlock" and len(m.snapshots) < MAX_SNAPSHOTS:
        m.snapshots.append(WaitSnapshot(m.now, ev, m.waits()))


def _count_slow_step(m: RunModel, ev: dict) -> None:
    info = m.tasks.get(ev.get("task"))  # type: ignore[arg-type]
    if info is not None:
        info.slow_steps += 1


def _cancel_source(m: RunModel, ev: dict) -> None:
    """The child tells a task's first cancel request, and a new one only after the last
    was withdrawn (an ``asyncio.timeout`` block that ended): the latest is the cause."""
    info = m.tasks.get(ev.get("id"))  # type: ignore[arg-type]
    if info is not None:
        info.cancel_source = {
            "cause": ev.get("cause") or "unknown",
            "by": ev.get("by"),
            "file": ev.get("file"),
            "line": ev.get("line"),
            "t": ev.get("t"),
        }


def _protocol_error(m: RunModel, ev: dict) -> None:
    m.errors.append(ev.get("message", "protocol error"))


def _stdin(m: RunModel, ev: dict) -> None:
    m.waiting_for_input = ev.get("waiting") is True
    task = ev.get("task")
    m.input_task = task if m.waiting_for_input and isinstance(task, int) else None


def _input(m: RunModel, ev: dict) -> None:
    """What the playground's user typed to the program's stdin (``input``, from the
    playground, never the child): a terminal echoes it where the program's output stands,
    and Enter ends the line a prompt left open. Kept as ``stdin`` lines of the output."""
    text = ev.get("text")
    if not isinstance(text, str):
        return
    log = m.output_log
    log.end_lines()  # the prompt's line is over: what the program prints next is below
    task = m.input_task
    for line in text.removesuffix("\n").split("\n"):
        log.append(OutputLine("stdin", line, task, ev.get("t", m.now)))


_SO_FAR = r"has held the event loop for [0-9.]+ s so far"  # (compiled when used: rare)


def _paused(m: RunModel, ev: dict) -> None:
    timers = tuple((float(due), task, what) for due, task, what in (ev.get("timers") or ()))
    m.pause = Pause(
        ev.get("reason", "request"),
        ev.get("next"),
        ev.get("file"),
        ev.get("line"),
        tuple(ev.get("ready") or ()),
        timers,
        ev.get("at_line"),
    )
    m.pauses += 1


def _resumed(m: RunModel, ev: dict) -> None:
    m.pause = None
    paused = ev.get("paused")
    if isinstance(paused, (int, float)) and paused > 0:
        m.paused_total += float(paused)


def _run_end(m: RunModel, ev: dict) -> None:
    m.pause = None
    m.output_log.end_lines()  # unfinished lines are in ``output`` already
    m.waiting_for_input = False
    m.input_task = None
    if m._pending:  # (deferred: with the events before it, when the tasks are read)
        m._pending.append((_end_tasks, {"now": m.now}))
        m._ending = True
    else:
        _end_tasks(m, {"now": m.now})
    m.status = "ended"
    m.end = ev
    m.said_bye = ev.get("bye")


def _end_tasks(m: RunModel, ev: dict) -> None:
    """The run's end for its tasks, at ``now``: those not finished are unfinished, a step
    going on ends then."""
    now = ev["now"]
    for info in m.tasks.values():
        if info.state not in FINISHED:
            info.unfinished = True
        if info.open is not None:  # the run ended in the middle of this step
            start, counted, longest, _state, running = info.open
            ran = max(counted, now - start)
            info.spans[-1] = (start, ran, ran, 1, None, None, 0)
            info.running = running + ran
            info.longest_step = max(longest, ran)
            info.last_active = start + ran
            info.open = None
            _held_until_end(m, info, start, ran, now)


def _held_until_end(m: RunModel, info: TaskInfo, start: float, ran: float, now: float) -> None:
    """A slow step told while it ran never ended: its warning says how long it held the
    loop, to the run's end, not the 2 s it had when it was told. One not told yet (the run
    was cut short before its step ended, under the 2 s of an ongoing report) gets its
    warning here, at the line the runtime said it was held at (``step_open``)."""
    at = m._slow_index.get((info.id, start))
    if at is None:
        held = m._held_at.get(info.id)
        if held is not None and held[0] == start:
            _warning(
                m,
                {
                    "event": "warning",
                    "t": now,
                    "kind": "slow_step",
                    "message": slow_step_message(
                        info.name, f"held the event loop for {ran:.2f} s, until the run ended,"
                    ),
                    "task": info.id,
                    "file": held[1],
                    "line": held[2],
                    "duration": ran,
                    "step": start,
                    "until_end": True,
                },
            )
        return
    w = dict(m.warnings[at])
    w["duration"] = ran
    w["until_end"] = True
    import re

    w["message"] = re.sub(
        _SO_FAR, f"held the event loop for {ran:.2f} s, until the run ended,", w.get("message", "")
    )
    m.warnings[at] = w
    m.warnings_version += 1


# What ``task_columns`` reads as columns, by handler, as model_columns numbers them.
_COLUMN_KINDS = {h: kind for kind, h in enumerate((_tasks_created, _figures, _tasks_done,
                                                    _count_slow_step, _end_tasks, _step_open))}  # fmt: skip
# What a deferred model keeps for later (``RunModel.settle``): the events that only change
# its tasks (and the steps, and what the run's end reads of them).
_DEFERRED = frozenset(
    {"task_existing", "task_created", "task_renamed", "steps", "figures", "task_done"}
    | {"tasks_created", "tasks_done", "cancel_source", "step_open", "call_chain"}
)
_HANDLERS = {
    "run_start": _run_start,
    "hello": _hello,
    "task_existing": _task_existing,
    "task_created": _task_created,
    "task_renamed": _task_renamed,
    "steps": _steps,
    "figures": _figures,
    "task_done": _task_done,
    "tasks_created": _tasks_created,
    "tasks_done": _tasks_done,
    "output": _output,
    "warning": _warning,
    "cancel_source": _cancel_source,
    "step_open": _step_open,
    "stdin": _stdin,
    "call_chain": _call_chain,
    "input": _input,
    "paused": _paused,
    "resumed": _resumed,
    "protocol_error": _protocol_error,
    "run_end": _run_end,
    **_OBJECT_HANDLERS,
}


def build(events: list[dict]) -> RunModel:
    """A model from a recorded event stream."""
    model = RunModel()
    for ev in events:
        apply(model, ev)
    return model
