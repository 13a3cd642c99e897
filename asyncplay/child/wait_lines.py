"""The lines of waiters of the queues, events and locks the program creates: where a
blocked wait is timed, with no coroutine of the runtime's in the waiting task's chain.

asyncio appends a future to an object's line when a task is about to block on it, and
takes it out when the wait ends, both inside the waiting task's step: a queue's
``_putters``/``_getters`` (``popleft`` when it wakes the task, ``remove`` when the wait is
cancelled), an event's or a lock's ``_waiters`` (``remove`` in the ``finally`` after its
``await``; the same lines on 3.10-3.15: tests/test_objects_exact.py). ``primitives.py``
puts these subclasses of ``deque`` in place of an object's empty ones; an empty line costs
the object nothing, and ``primitives.strip`` puts plain deques back.
"""

from __future__ import annotations

import sys
import time

# collections' deque, from its C module: collections itself (keyword, operator, reprlib)
# would be loaded into every program, with asyncio or without
from _collections import deque

from asyncplay.child.failures import report_failure
from asyncplay.child.primitive_figures import sample

__all__ = ["HeldLine", "WaitLine", "plain_empty"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from asyncplay.child.primitive_figures import Registry, Stats

_perf = time.perf_counter
# The exception being handled (3.11+: no tuple made for it).
_handled: Any = getattr(sys, "exception", None) or (lambda: sys.exc_info()[1])

_line_append, _line_popleft, _line_remove = deque.append, deque.popleft, deque.remove


class _AsDeque(deque):
    """Copied, pickled and shown as the plain deque it stands in for (review, round 8:
    ``copy.deepcopy`` of a traced Event or Lock, and ``dataclasses.asdict`` of one, rebuilt
    the subclass without its arguments: a TypeError python never raises)."""

    __slots__ = ()

    def __copy__(self) -> deque:
        return deque(self)

    def __reduce__(self) -> tuple:
        return (deque, (list(self),))

    def __repr__(self) -> str:
        return repr(deque(self))


class WaitLine(_AsDeque):
    """A traced queue's ``_putters`` / ``_getters``: asyncio appends a future only when a
    task is about to block on a full / empty queue, and takes it out (``popleft`` when it
    wakes the task, ``remove`` when the wait is cancelled) when the wait ends; an empty
    line costs the queue nothing."""

    __slots__ = ("reg", "st", "why", "items", "entries")

    def __init__(self, reg: Registry, st: Stats, why: str, items: Any) -> None:
        super().__init__()
        self.reg, self.st, self.why, self.items = reg, st, why, items
        self.entries: dict = {}  # future -> waiter entry

    def append(self, fut: Any) -> None:
        _line_append(self, fut)
        try:  # (start_wait, inlined: every blocked put/get runs it)
            st = self.st
            reg = self.reg
            if not st.dirty:
                st.dirty = True
                reg.dirty.append(st)
            now = _perf()
            entry = [reg.tracer.current, now, self.why]
            waiters = st.waiters
            waiters.append(entry)
            if len(waiters) > st.max_waiters:
                st.max_waiters = len(waiters)
            sample(st, reg.tracer.t0, now, len(self.items))  # full or empty: a size to show
            self.entries[fut] = entry
        except Exception as exc:  # the tracer must never break the program
            report_failure(self.reg.tracer, "queue wait", exc)

    def _ended(self, fut: Any) -> None:
        entry = self.entries.pop(fut, None)
        if entry is not None:
            try:  # (end_wait, inlined: every blocked put/get runs it)
                st = self.st
                if not st.dirty:
                    st.dirty = True
                    self.reg.dirty.append(st)
                waited = _perf() - entry[1]
                try:
                    st.waiters.remove(entry)
                except ValueError:
                    pass
                if waited > st.longest_wait:
                    st.longest_wait = waited
                st.total_waited += waited
                if self.why == "put":
                    st.put_wait += waited
                else:
                    st.get_wait += waited
            except Exception as exc:  # the tracer must never break the program
                report_failure(self.reg.tracer, "queue wait", exc)

    def popleft(self) -> Any:
        fut = _line_popleft(self)
        self._ended(fut)
        return fut

    def remove(self, fut: Any) -> None:
        _line_remove(self, fut)
        self._ended(fut)


class HeldLine(_AsDeque):
    """A traced Event's or Lock's ``_waiters``: asyncio appends a future when a task is
    about to block in ``wait()`` / ``acquire()`` and takes it out with ``remove`` in the
    ``finally`` after its ``await`` (the same lines on 3.10-3.15: tests/test_objects_exact.py),
    both inside the waiting task's step: the wait is timed here, with no coroutine of
    ours around asyncio's (no frame of ours in its chain, and a task made of ``ev.wait()``
    is asyncio's coroutine, as under python). A wait that raised (cancelled) is told from
    one that went through by the exception being handled at the ``remove``: its
    traceback's newest frame is the waiting one (``_raised``)."""

    __slots__ = ("reg", "st", "then", "entries", "tracer", "why")

    def __init__(self, reg: Registry, st: Stats, then: Any) -> None:
        super().__init__()
        self.reg, self.st, self.then, self.tracer = reg, st, then, reg.tracer
        self.why = "wait" if then is None else "acquire"
        self.entries: dict = {}  # future -> waiter entry

    def append(self, fut: Any) -> None:
        _line_append(self, fut)
        try:  # (start_wait, inlined: every blocked wait runs it)
            st = self.st
            if not st.dirty:
                st.dirty = True
                self.reg.dirty.append(st)
            self.entries[fut] = entry = [self.tracer.current, _perf(), self.why]
            waiters = st.waiters
            waiters.append(entry)
            if len(waiters) > st.max_waiters:
                st.max_waiters = len(waiters)
        except Exception as exc:  # the tracer must never break the program
            report_failure(self.tracer, "primitive wait", exc)

    def remove(self, fut: Any) -> None:
        _line_remove(self, fut)
        entry = self.entries.pop(fut, None)
        if entry is None:  # (not appended through us)
            return
        try:  # (end_wait, inlined)
            waited = _perf() - entry[1]
            st = self.st
            if not st.dirty:
                st.dirty = True
                self.reg.dirty.append(st)
            try:
                st.waiters.remove(entry)
            except ValueError:
                pass
            if waited > st.longest_wait:
                st.longest_wait = waited
            st.total_waited += waited
            exc = _handled()
            if exc is not None and _raised(exc):
                return  # cancelled: timed, not through
            if self.then is None:  # an event's wait: one more through
                st.acquisitions += 1
            else:
                self.then(self.reg, st)
        except Exception as exc:  # the tracer must never break the program
            report_failure(self.tracer, "primitive wait", exc)


def plain_empty(line: Any) -> bool:
    """An empty deque of asyncio's: a line of waiters ``HeldLine`` may stand in for."""
    return type(line) is deque and not line


def _raised(exc: BaseException) -> bool:
    """Whether ``exc``, the exception being handled at a ``HeldLine.remove``, is the
    waiting frame's own (its ``await`` raised: the ``finally`` runs for it), not one an
    outer ``except`` handles while the wait went through."""
    tb = exc.__traceback__
    return tb is not None and tb.tb_frame is sys._getframe(2)
