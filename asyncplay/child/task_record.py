"""The record the tracer keeps per task (``Tracer.tasks``), one concept of its own so the
tracer's module keeps to its hot path.

A task's record *is* its weak reference: a subclass of ``weakref.ref`` with slots, so each
task costs the collector one object of the runtime's, not a record and a weak reference
(the 20,000-task program: docs/performance.md). ``rec()`` gives the task, None once it is
gone; ``rec.tref()`` the same (the cheaper ``rec()`` where it is called per step). A task
registered before it exists (3.12+: an eager task's first step runs inside its
constructor) gets an ``EarlyRecord``, the same fields with a weak reference set when the
task is there (``Tracer.attach``): the same object throughout, as locks and waits made in
that first step hold it.

Every field is set by ``new_record`` (and by ``task_registry.register``, which inlines it
for asyncio's own tasks, once per task: tests/test_task_records.py checks the two set the
same fields): a weak reference's subclass cannot take the fields through its constructor
(``weakref.ref.__new__`` takes the referent and a callback only).
"""

from __future__ import annotations

from _weakref import ref as _ref

__all__ = ["FIELDS", "EarlyRecord", "TaskRecord", "new_record"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELDS = (
    "tid", "name", "fresh", "where", "wait", "root", "internal", "cancel", "chain", "chain_at",
    # figures mode (step_figures.py): set at the first step, except ``steps``
    "steps", "running", "longest", "first", "last", "awaits", "waited", "wfile", "wline",
    "queued",
)  # fmt: skip


class TaskRecord(_ref):
    """What the tracer keeps per task. No reference to the coroutine: ``describe`` asks
    the (still pending) task for it, and a pending task's ``get_coro()`` is safe (the
    3.12.1 segfault is for eagerly *completed* tasks)."""

    __slots__ = FIELDS
    tref = _ref.__call__  # rec.tref() is rec(): the task, or None once it is gone


class EarlyRecord:
    """A task's record made before the task exists (its eager first step), its weak
    reference (``tref``) set once it does (``Tracer.attach``)."""

    __slots__ = (*FIELDS, "tref")

    def __call__(self) -> Any:
        return self.tref()


def _no_task() -> None:
    """The weak reference of a task registered before its constructor returned."""


def new_record(
    task: Any,
    tid: int,
    name: str,
    where: tuple[int, int] = (0, 0),
    root: bool = False,
    internal: bool = False,
) -> Any:
    """The record of ``task`` (None: not made yet, an ``EarlyRecord``)."""
    if task is not None:
        rec: Any = TaskRecord(task)
    else:
        rec = EarlyRecord()
        rec.tref = _no_task
    rec.tid = tid
    rec.name = name
    rec.fresh = True  # no step seen yet: its name may still be set after creation
    # (file sid, line) of its creation: one tuple per creating line, shared by every task
    # made there (``Tracer.create_lines``), not one per task
    rec.where = where
    rec.wait = (0, 0, 0)  # the last (awaiting, file, line)
    rec.root = root  # created outside any task (asyncio.run's main task)
    rec.internal = internal  # asyncio's own
    rec.cancel = None  # who asked first: (cause, by, file, line)
    rec.chain = None  # 3.14+: the coroutine chain last sent (call_chains)
    rec.chain_at = None  # 3.14+: ``wait`` when it was captured
    # Figures mode (step_figures.py): its steps so far, waited (the last non-empty
    # awaiting's string id), wfile and wline (where it last waited); set at its first
    # step: running, longest (s), first (its start), last (its end: run seconds),
    # awaits (string id after the last step), queued (in Tracer.held, to be sent).
    rec.steps = rec.waited = rec.wfile = rec.wline = 0
    return rec
