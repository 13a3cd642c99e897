"""The run model and the one reducer that folds protocol events into it.

Every view (the headless summary, JSON, the TUI) renders from a ``RunModel``; none of them
re-derives state from events. ``apply`` does no I/O and depends only on the model and the
event, so a recorded event stream always rebuilds the same model. It updates the model in
place: copying it per step would make a 100,000-step run quadratic.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

MAX_OUTPUT_LINES = 10_000
MAX_SPANS_PER_TASK = 2_000

FINISHED = frozenset({"done", "cancelled", "failed"})


@dataclass
class TaskInfo:
    id: int
    name: str
    coro: str
    parent: int | None = None
    internal: bool = False
    file: str | None = None  # where it was created
    line: int | None = None
    created: float = 0.0
    state: str = "pending"  # pending, waiting, ready, done, cancelled, failed
    awaiting: str | None = None
    wait_file: str | None = None  # where it is suspended (or last was)
    wait_line: int | None = None
    steps: int = 0
    running: float = 0.0
    longest_step: float = 0.0
    first_step: float | None = None
    last_active: float = 0.0
    ended: float | None = None
    result: str | None = None
    exc_type: str | None = None
    exc_msg: str | None = None
    exc_file: str | None = None
    exc_line: int | None = None
    last_awaited: str | None = None  # the last non-empty thing it waited on
    children: list[int] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)  # (start, duration)

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


@dataclass
class OutputLine:
    stream: str
    text: str  # without the trailing newline
    task: int | None
    t: float


@dataclass
class RunModel:
    tasks: dict[int, TaskInfo] = field(default_factory=dict)
    output: deque[OutputLine] = field(default_factory=lambda: deque(maxlen=MAX_OUTPUT_LINES))
    dropped_lines: int = 0
    partial: dict[str, OutputLine] = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    status: str = "idle"  # idle, running, ended
    python: str | None = None
    protocol: int | None = None
    target: str | None = None
    now: float = 0.0
    steps: int = 0
    end: dict | None = None

    @property
    def exit_code(self) -> int | None:
        return self.end["exit_code"] if self.end else None

    def user_tasks(self) -> list[TaskInfo]:
        return [t for t in self.tasks.values() if not t.internal]


def apply(model: RunModel, event: dict) -> RunModel:
    """Fold one protocol event into ``model``; unknown kinds are ignored (newer children)."""
    kind = event.get("event")
    t = event.get("t")
    if isinstance(t, (int, float)) and t > model.now:
        model.now = float(t)
    handler = _HANDLERS.get(kind)  # type: ignore[arg-type]
    if handler is not None:
        handler(model, event)
    return model


def _run_start(m: RunModel, ev: dict) -> None:
    m.status = "running"
    m.target = ev.get("target")


def _hello(m: RunModel, ev: dict) -> None:
    m.python = ev.get("python")
    m.protocol = ev.get("version")


def _task_created(m: RunModel, ev: dict) -> None:
    tid = ev["id"]
    info = TaskInfo(
        id=tid,
        name=ev.get("name") or f"Task-{tid}",
        coro=ev.get("coro") or "?",
        parent=ev.get("parent"),
        internal=bool(ev.get("internal")),
        file=ev.get("file"),
        line=ev.get("line"),
        created=ev.get("t", 0.0),
        last_active=ev.get("t", 0.0),
    )
    m.tasks[tid] = info
    parent = m.tasks.get(info.parent) if info.parent is not None else None
    if parent is not None:
        parent.children.append(tid)


def _task_renamed(m: RunModel, ev: dict) -> None:
    info = m.tasks.get(ev.get("id"))  # type: ignore[arg-type]
    if info is not None and isinstance(ev.get("name"), str):
        info.name = ev["name"]


def _steps(m: RunModel, ev: dict) -> None:
    tasks = m.tasks
    for st in ev["steps"]:
        info = tasks.get(st["task"])
        if info is None:
            continue
        dur = st["dur"]
        start = st["start"]
        info.steps += 1
        info.running += dur
        if dur > info.longest_step:
            info.longest_step = dur
        if info.first_step is None:
            info.first_step = start
        info.last_active = start + dur
        if len(info.spans) < MAX_SPANS_PER_TASK:
            info.spans.append((start, dur))
        if info.state not in FINISHED:
            awaiting = st.get("awaiting")
            info.awaiting = awaiting
            info.state = "waiting" if awaiting and awaiting != "sleep(0)" else "ready"
            if awaiting:
                info.last_awaited = awaiting
            if st.get("line"):
                info.wait_file = st.get("file")
                info.wait_line = st.get("line")
    m.steps += len(ev["steps"])


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


def _output(m: RunModel, ev: dict) -> None:
    stream = ev.get("stream", "stdout")
    task = ev.get("task")
    t = ev.get("t", m.now)
    pieces = ev.get("text", "").split("\n")
    head = m.partial.pop(stream, None)
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        if head is not None:
            head.text += piece
            line, head = head, None
        else:
            if last and not piece:
                break
            line = OutputLine(stream, piece, task, t)
        if last:
            m.partial[stream] = line
        else:
            _append_line(m, line)


def _append_line(m: RunModel, line: OutputLine) -> None:
    if len(m.output) == m.output.maxlen:
        m.dropped_lines += 1
    m.output.append(line)


def _warning(m: RunModel, ev: dict) -> None:
    m.warnings.append(ev)


def _protocol_error(m: RunModel, ev: dict) -> None:
    m.errors.append(ev.get("message", "protocol error"))


def _run_end(m: RunModel, ev: dict) -> None:
    for line in m.partial.values():
        _append_line(m, line)
    m.partial.clear()
    m.status = "ended"
    m.end = ev


_HANDLERS = {
    "run_start": _run_start,
    "hello": _hello,
    "task_created": _task_created,
    "task_renamed": _task_renamed,
    "steps": _steps,
    "task_done": _task_done,
    "output": _output,
    "warning": _warning,
    "protocol_error": _protocol_error,
    "run_end": _run_end,
}


def build(events: list[dict]) -> RunModel:
    """A model from a recorded event stream."""
    model = RunModel()
    for ev in events:
        apply(model, ev)
    return model
