"""The run's asyncio objects in the model: queues, locks, semaphores, conditions, events
(``Primitive``) and executor jobs (``ExecutorJob``), and the reducer's handlers for
their records (``model.apply`` dispatches here; nothing here imports the model).

The child sends a primitive's figures whole each time they change (``primitive_state``),
so folding one replaces the last; only a queue's size samples come as the new ones.
"""

from __future__ import annotations

__all__ = ["ExecutorJob", "Primitive", "HANDLERS", "MAX_SIZE_SAMPLES"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Size samples kept per queue: past this, every other one goes and the newest stay, so a
# long busy run keeps its shape at a coarser grain.
MAX_SIZE_SAMPLES = 4_000


class Primitive:
    """One queue, lock, semaphore, condition or event the program created."""

    __slots__ = (
        "id", "kind", "name", "file", "line", "created", "maxsize", "permits", "size",
        "peak_size", "puts", "gets", "put_wait", "get_wait", "join_waiters",
        "max_join_waiters", "sizes", "acquisitions", "holders", "waiters", "max_waiters",
        "longest_wait", "held", "is_set", "updated", "waited", "longest_hold",
    )  # fmt: skip

    def __init__(self, id: int, kind: str, name: str | None, file: str | None, line: int | None):
        self.id = id
        self.kind = kind
        self.name = name  # what the creating line assigned it to (``q``, ``self.jobs``)
        self.file = file
        self.line = line
        self.created = 0.0
        self.maxsize: int | None = None  # a queue's (0: unbounded)
        self.permits: int | None = None  # a semaphore's at creation
        self.size = 0
        self.peak_size = 0
        self.puts = 0
        self.gets = 0
        self.put_wait = 0.0
        self.get_wait = 0.0
        self.join_waiters = 0
        self.max_join_waiters = 0
        self.sizes: list[tuple[float, int]] = []  # a queue's size over time
        self.acquisitions = 0
        self.holders: list[int | None] = []  # task ids (None: code outside any task)
        self.waiters: list[tuple[int | None, str]] = []  # in order: (task, put/get/...)
        self.max_waiters = 0
        self.longest_wait = 0.0
        self.held = 0.0
        self.is_set: bool | None = None  # an Event's
        self.updated = 0.0
        self.waited = 0.0  # seconds of all waits together (its waiters, on average, x time)
        self.longest_hold = 0.0  # the longest one hold

    @property
    def is_queue(self) -> bool:
        return self.kind.endswith("Queue")

    def __repr__(self) -> str:
        return f"<Primitive {self.id} {self.kind} {self.name}>"


class ExecutorJob:
    """One function handed to a pool by ``run_in_executor`` / ``to_thread``."""

    __slots__ = ("id", "function", "task", "pool", "thread", "submitted", "started", "ended")

    def __init__(self, id: int, function: str, task: int | None, pool: str) -> None:
        self.id = id
        self.function = function
        self.task = task  # the task that awaits it (None: no task asked)
        self.pool = pool  # "default", or the program's pool (``ThreadPoolExecutor-1``)
        self.thread: str | None = None  # a process pool's jobs have none
        self.submitted = 0.0
        self.started: float | None = None  # unknown for a process pool's job
        self.ended: float | None = None  # None: still running when the run ended

    @property
    def queued(self) -> float | None:
        """Seconds it waited for a worker."""
        return None if self.started is None else max(0.0, self.started - self.submitted)

    def duration(self, now: float) -> float:
        """Seconds the function ran (a process pool's: from its submission)."""
        start = self.started if self.started is not None else self.submitted
        end = self.ended if self.ended is not None else now
        return max(0.0, end - start)

    def __repr__(self) -> str:
        return f"<ExecutorJob {self.id} {self.function} {self.pool}/{self.thread}>"


def _primitive(m: Any, ev: dict) -> None:
    p = Primitive(ev["id"], ev["kind"], ev.get("name"), ev.get("file"), ev.get("line"))
    p.created = float(ev.get("t") or 0.0)
    p.maxsize = ev.get("maxsize")
    p.permits = ev.get("permits")
    m.primitives[p.id] = p
    m.objects_version += 1


def _primitive_state(m: Any, ev: dict) -> None:
    p = m.primitives.get(ev["id"])
    if p is None:  # a state without its creation (a forged or cut record): ignored
        return
    for key in ("acquisitions", "max_waiters", "longest_wait", "held"):
        setattr(p, key, ev[key])
    p.holders = list(ev["holders"])
    p.waiters = [(w[0], w[1]) for w in ev["waiters"]]
    p.updated = float(ev.get("t") or 0.0)
    if ev.get("set") is not None:
        p.is_set = ev["set"]
    for key in ("waited", "longest_hold"):
        if ev.get(key) is not None:
            setattr(p, key, ev[key])
    if p.is_queue:
        for key in ("size", "peak_size", "puts", "gets", "put_wait", "get_wait"):
            if ev.get(key) is not None:
                setattr(p, key, ev[key])
        p.join_waiters = ev.get("join_waiters") or 0
        p.max_join_waiters = ev.get("max_join_waiters") or 0
        sizes = p.sizes
        for t, n in ev.get("sizes") or ():
            if sizes and t <= sizes[-1][0]:
                sizes[-1] = (sizes[-1][0], n)
            else:
                sizes.append((float(t), n))
        if len(sizes) > MAX_SIZE_SAMPLES:
            del sizes[1 : len(sizes) - 1 : 2]
    m.objects_version += 1


def _executor_job(m: Any, ev: dict) -> None:
    job = m.executor_jobs.get(ev["id"])
    if job is None:
        job = ExecutorJob(ev["id"], ev["function"], ev.get("task"), ev["pool"])
        m.executor_jobs[job.id] = job
    job.thread = ev.get("thread")
    job.submitted = float(ev["submitted"])
    job.started = ev.get("started")
    job.ended = ev.get("ended")
    m.objects_version += 1


HANDLERS = {
    "primitive": _primitive,
    "primitive_state": _primitive_state,
    "executor_job": _executor_job,
}
