"""3.14+: the chain of coroutines inside each waiting task, as CPython's call graph has it.

3.14's ``asyncio.capture_call_graph`` (the data behind ``python -m asyncio pstree``) walks a
task's coroutines (``cr_await``, innermost first) and then, recursively, every future that
awaits it: a cycle of tasks awaiting each other (a deadlock, which asyncplay is there to
show) takes it to a RecursionError, and the awaiters cost microseconds asyncplay does not
need (it knows who awaits whom). So the chain is walked here the way that function walks
it, coroutines and generator-based coroutines only (checked by type, never ``hasattr``:
no program code runs), and only on 3.14+, where the views show it beside pstree's words.

Never in the step hook: ``describe`` (run only when a task suspends on a future) marks the
task when its wait (what, file, line) differs from the one its chain was last captured at,
and the chains are captured later, at most ``MAX_PER_FLUSH`` a time: when the loop is about
to wait for real (a timeout other than 0: the moment the views will show for a while), and,
in a loop too busy to ever wait, at the runtime's flush every 50 ms (``INTERVAL``). A
suspended task's chain cannot change until it runs again, so what is captured is exact; a
``call_chain`` record is sent only when it changed. On 3.10-3.13 nothing of this is
installed (``tracer.chains`` stays None). A task waiting again at the same line, called
from elsewhere, keeps its old chain: the price of never capturing on the step path.
"""

from __future__ import annotations

import sys
import time
import types

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

    __slots__ = ("dirty", "last")

    def __init__(self) -> None:
        self.dirty: dict[int, Any] = {}
        self.last = 0.0


def make() -> CallChains | None:
    """The tracer's ``chains``: None before 3.14 (nothing is marked, nothing sent)."""
    return CallChains() if AVAILABLE else None


def chain_of(task: Any) -> list[list]:
    """``[[qualname, file, line], ...]``, the task's own coroutine first and the innermost
    (where it waits) last, as a traceback reads; the runtime's own frames left out, the
    innermost ``MAX_FRAMES`` kept."""
    out: list[list] = []
    c = task.get_coro()
    coro_t, gen_t = types.CoroutineType, types.GeneratorType
    for _ in range(1000):  # a chain is finite; this bounds a pathological one
        tc = type(c)
        if tc is coro_t:
            frame, c = c.cr_frame, c.cr_await
        elif tc is gen_t:
            frame, c = c.gi_frame, c.gi_yieldfrom
        else:
            break
        if frame is None:
            break
        code = frame.f_code
        if not code.co_filename.startswith(OWN):
            out.append([code.co_qualname, code.co_filename, frame.f_lineno or 0])
    return out[-MAX_FRAMES:]


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
    for _ in range(min(len(dirty), MAX_PER_FLUSH)):
        tid, rec = dirty.popitem()
        task = rec.tref()
        if task is None or task.done():
            continue
        try:
            chain = chain_of(task)
        except Exception as exc:  # a task class of the program's that breaks the walk
            report_failure(tracer, "call chain", exc)
            continue
        rec.chain_at = rec.wait
        if chain != rec.chain:
            rec.chain = chain
            tracer.send_json({"event": "call_chain", "id": tid, "chain": chain})
            sent = True
    return sent
