"""The record the tracer keeps per task (``Tracer.tasks``), one concept of its own so the
tracer's module keeps to its hot path."""

from __future__ import annotations

__all__ = ["TaskRecord"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class TaskRecord:
    """What the tracer keeps per task. No reference to the coroutine: ``describe`` asks
    the (still pending) task for it, and a pending task's ``get_coro()`` is safe (the
    3.12.1 segfault is for eagerly *completed* tasks)."""

    __slots__ = (
        "tid", "tref", "name", "fresh", "where", "wait", "root", "internal", "cancel", "chain",
        "chain_at",
        # figures mode (step_figures.py): set at the first step, except ``steps``
        "steps", "running", "longest", "first", "last", "awaits", "waited", "wfile", "wline",
        "queued",
    )  # fmt: skip

    def __init__(
        self,
        tid: int,
        tref: Any,
        name: str,
        where: tuple[int, int] = (0, 0),
        root: bool = False,
        internal: bool = False,
    ) -> None:
        self.tid = tid
        self.tref = tref
        self.name = name
        self.fresh = True  # no step seen yet: its name may still be set after creation
        # (file sid, line) of its creation: one tuple per creating line, shared by every
        # task made there (``Tracer.create_lines``), not one per task
        self.where = where
        self.wait: tuple[int, int, int] = (0, 0, 0)  # the last (awaiting, file, line)
        self.root = root  # created outside any task (asyncio.run's main task)
        self.internal = internal  # asyncio's own
        self.cancel: tuple | None = None  # who asked first: (cause, by, file, line)
        self.chain: list | None = None  # 3.14+: the coroutine chain last sent (call_chains)
        self.chain_at: tuple | None = None  # 3.14+: ``wait`` when it was captured
        # Figures mode (step_figures.py): its steps so far, waited (the last non-empty
        # awaiting's string id), wfile and wline (where it last waited); set at its first
        # step: running, longest (s), first (its start), last (its end: run seconds),
        # awaits (string id after the last step), queued (in Tracer.held, to be sent).
        self.steps = self.waited = self.wfile = self.wline = 0
