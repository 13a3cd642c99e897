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

Every field is set by ``task_registry.register`` (what each holds is said there): a weak
reference's subclass cannot take the fields through its constructor
(``weakref.ref.__new__`` takes the referent and a callback only).
"""

from __future__ import annotations

from _weakref import ref as _ref

__all__ = ["FIELDS", "EarlyRecord", "TaskRecord", "no_task"]

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


def no_task() -> None:
    """The weak reference of a task registered before its constructor returned."""
