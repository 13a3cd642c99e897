"""3.14+: the chain of coroutines inside each waiting task, from CPython's call graph.

``asyncio.capture_call_graph`` (the data behind ``python -m asyncio pstree``) costs a few
microseconds per task: too much for the step hook. So the hook's ``describe`` (which runs
only when a task suspends on a future) just marks the task when its wait (what, file, line)
differs from the one its chain was last captured at, and the chains are captured later, for
at most ``MAX_PER_FLUSH`` tasks a time: when the loop is about to wait for real (a timeout
other than 0: the moment the views will show for a while), and, in a loop too busy to ever
wait, at the runtime's flush every 50 ms (``INTERVAL``). A suspended task's chain cannot
change until it runs again, so what is captured is exact; a ``call_chain`` record is sent
only when it changed. On 3.10-3.13 nothing of this is installed (``tracer.chains`` stays
None). A task waiting again at the same line, called from elsewhere, keeps its old chain:
the price of never capturing on the step path.
"""

from __future__ import annotations

import sys
import time

from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import OWN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["AVAILABLE", "CallChains", "MAX_FRAMES", "at_loop_wait", "make", "send_changed"]

AVAILABLE = sys.version_info >= (3, 14)
MAX_FRAMES = 32  # the innermost are kept: where the task waits
MAX_PER_FLUSH = 256  # tasks captured per flush (the rest wait for the next one)
INTERVAL = 0.05  # seconds between two captures, at least


class CallChains:
    """The tasks whose chain may have changed since it was last sent (tid -> record)."""

    __slots__ = ("capture", "dirty", "last")

    def __init__(self, capture: Any) -> None:
        self.capture = capture
        self.dirty: dict[int, Any] = {}
        self.last = 0.0


def make() -> CallChains | None:
    """The tracer's ``chains``: None before 3.14 (nothing is marked, nothing sent)."""
    if not AVAILABLE:
        return None
    import asyncio

    capture = getattr(asyncio, "capture_call_graph", None)
    return None if capture is None else CallChains(capture)


def chain_of(capture: Any, task: Any) -> list[list]:
    """``[[qualname, file, line], ...]``, the task's own coroutine first and the innermost
    (where it waits) last, as a traceback reads; the runtime's own frames left out."""
    graph = capture(task)
    if graph is None:
        return []
    out: list[list] = []
    for entry in graph.call_stack[:MAX_FRAMES]:  # innermost first
        code = entry.frame.f_code
        if code.co_filename.startswith(OWN):
            continue
        out.append([code.co_qualname, code.co_filename, entry.frame.f_lineno or 0])
    out.reverse()
    return out


def at_loop_wait(tracer: Any) -> None:
    """The loop is about to wait: the marked tasks' chains, sent now."""
    if send_changed(tracer, force=True):
        tracer.channel.flush()


def send_changed(tracer: Any, force: bool = False) -> bool:
    """Capture and send the chains of the marked tasks that still wait; whether any was."""
    chains = tracer.chains
    now = time.perf_counter()
    if not force and now - chains.last < INTERVAL:
        return False
    chains.last = now
    sent = False
    dirty = chains.dirty
    capture = chains.capture
    for _ in range(min(len(dirty), MAX_PER_FLUSH)):
        tid, rec = dirty.popitem()
        task = rec.tref()
        if task is None or task.done():
            continue
        try:
            chain = chain_of(capture, task)
        except Exception as exc:  # a task class of the program's that breaks the walk
            report_failure(tracer, "call chain", exc)
            continue
        rec.chain_at = rec.wait
        if chain != rec.chain:
            rec.chain = chain
            tracer.send_json({"event": "call_chain", "id": tid, "chain": chain})
            sent = True
    return sent
