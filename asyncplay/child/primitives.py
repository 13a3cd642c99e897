"""asyncio's queues, locks, semaphores, conditions and events the program creates.

Nothing here runs per task step. ``install`` wraps the ``__init__`` of asyncio's five
base classes (``Queue``, ``Lock``, ``Semaphore``, ``Condition``, ``Event``; their
subclasses ``PriorityQueue``, ``LifoQueue`` and ``BoundedSemaphore`` pass there too). A
primitive created by the program's own code (not asyncio's: a Queue's Event, a
Condition's Lock) gets instance attributes that shadow its public methods (``put_nowait``,
``acquire``, ``release``, ``wait`` ...) for that one object, so other objects, and
programs that create none, run asyncio's code untouched. A call that will not block goes
straight to asyncio's coroutine (no extra frame); one that will block is awaited through
a small coroutine that times the wait and keeps the waiting task in the waiter list.

The figures live here and go out as one ``primitive_state`` record per changed object
when the tracer flushes (the flush is wrapped once the first primitive exists), so a
queue-heavy program pays a few attribute updates per put/get, not a record.
"""

from __future__ import annotations

import _thread
import sys
import time
import weakref

# collections' deque, from its C module: collections itself (keyword, operator, reprlib)
# would be loaded into every program, with asyncio or without
from _collections import deque

from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import drop_own_frame

__all__ = ["KINDS", "install", "send_states", "strip"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Kinds as the protocol names them, most derived first (a subclass of the program's is
# named by the asyncio class it derives from).
KINDS = (
    "PriorityQueue",
    "LifoQueue",
    "Queue",
    "BoundedSemaphore",
    "Semaphore",
    "Condition",
    "Lock",
    "Event",
)
# The method each kind's wrappers always shadow (a Condition's acquire and release are its
# lock's, maybe traced themselves: its wait is its own).
_PROBES = {k: "put_nowait" if k.endswith("Queue") else "release" for k in KINDS}
_PROBES["Condition"] = _PROBES["Event"] = "wait"
_STORES = ("STORE_NAME", "STORE_FAST", "STORE_GLOBAL", "STORE_DEREF")
_perf = time.perf_counter


class _Stats:
    """One primitive's figures. Times are ``perf_counter`` values until sent.

    The hot paths (put, acquire, release) touch slots only: no tuple, no list entry. A
    hold is the first holder's (``holder``, ``since``); a semaphore's other holders go in
    ``more``, ``[task record or None, since]`` each.
    """

    __slots__ = (
        "id", "kind", "puts", "peak", "samples", "last_ms", "put_wait", "get_wait",
        "joiners", "max_joiners", "acquisitions", "holder", "since", "more", "waiters",
        "max_waiters", "longest_wait", "held", "set_since", "total_waited", "items", "sent",
        "longest_hold", "ref", "size",
    )  # fmt: skip

    def __init__(self, sid: int, kind: str) -> None:
        self.id = sid
        self.kind = kind
        self.puts = self.peak = self.size = 0
        self.samples: list[tuple[float, int]] = []  # a queue's sizes not sent yet
        self.last_ms = -1  # the millisecond of the run of the last sample
        self.put_wait = self.get_wait = 0.0
        self.joiners = self.max_joiners = 0
        self.acquisitions = 0
        self.holder: Any = None  # the first holder's task record (None: no task)
        self.since: float | None = None  # its hold's start (None: no first holder)
        self.more: list[tuple[Any, float]] = []  # a semaphore's other holders
        self.waiters: list[list] = []  # [task record or None, since, "put"/"get"/...]
        self.max_waiters = 0
        self.longest_wait = 0.0
        self.total_waited = 0.0
        self.held = 0.0  # holds ended
        self.set_since: float | None = None  # an Event: set since then
        self.items: Any = None  # a queue's container, kept only if it has no weakref
        self.sent: tuple = ()  # the figures last sent (see send_states)
        self.longest_hold = 0.0  # the longest one hold, released
        self.ref: Any = None  # a weak reference to the object


class _Registry:
    """The primitives of the run and the ones changed since the last flush."""

    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer
        self.next_id = 1
        self.live: list[_Stats] = []
        self.names: dict[int, Any] = {}  # id(code) -> {offset: assigned name or None}
        self.codes: list = []  # keeps the codes of ``names`` alive (ids not reused)
        self.flush_wrapped = False


def install(tracer: Any, asyncio_mod: Any) -> None:
    """Wrap the five base classes' ``__init__`` (their subclasses pass through them)."""
    reg = _Registry(tracer)
    tracer.primitives = reg
    from asyncio import locks, queues

    for cls in (queues.Queue, locks.Lock, locks.Semaphore, locks.Condition, locks.Event):
        _wrap_init(reg, cls)


def _wrap_init(reg: _Registry, cls: type) -> None:
    orig = cls.__init__
    tracer = reg.tracer

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        orig(self, *args, **kwargs)
        if tracer.enabled:
            try:
                _created(reg, self, sys._getframe(1))
            except Exception as exc:  # the tracer must never break the program
                report_failure(tracer, "primitive created", exc)

    __init__.__qualname__ = orig.__qualname__
    __init__.__doc__ = orig.__doc__
    __init__.__wrapped__ = orig  # type: ignore[attr-defined]
    tracer.patches.set(cls, "__init__", __init__)


def _kind(obj: Any) -> str:
    names = {c.__name__ for c in type(obj).__mro__ if c.__module__.startswith("asyncio")}
    return next(k for k in KINDS if k in names)


def _created(reg: _Registry, obj: Any, frame: Any) -> None:
    """Trace ``obj`` when the program's own code made it, named by where (and, when that
    line assigns it, by what)."""
    tracer = reg.tracer
    # Out of the __init__ chain of this very object (a subclass's super().__init__,
    # BoundedSemaphore's), to the line that called the class.
    while frame is not None and frame.f_code.co_name == "__init__":
        if frame.f_locals.get("self") is not obj:
            break
        frame = frame.f_back
    if frame is None or tracer.kind_of(frame.f_code) != 0:
        return  # asyncio's own (a Queue's Event, a Condition's Lock) or asyncplay's
    kind = _kind(obj)
    # Traced already (created twice through the program's subclass)? Asked of the method
    # our wrapper shadows, never of ``vars(obj)``: that would turn the object's inline
    # attribute values into a dict, and every attribute read in asyncio's own methods of
    # it would get slower (3.11: +40%, 3.12: +100% on a put/get pair).
    probe = getattr(obj, _PROBES[kind], None)
    if getattr(probe, "__module__", None) == __name__:
        return
    st = _Stats(reg.next_id, kind)
    reg.next_id += 1
    reg.live.append(st)
    try:
        st.ref = weakref.ref(obj)
    except TypeError:  # a program's subclass with __slots__ and no __weakref__
        st.ref = None
    code = frame.f_code
    event: dict = {
        "event": "primitive",
        "id": st.id,
        "kind": kind,
        "name": _assigned_name(reg, code, frame.f_lasti),
        "file": code.co_filename,
        "line": frame.f_lineno or None,
    }
    if kind.endswith("Queue"):
        event["maxsize"] = obj.maxsize if type(obj.maxsize) is int else 0
        _trace_queue(reg, st, obj)
    elif kind.endswith("Semaphore"):
        value = getattr(obj, "_value", None)
        event["permits"] = value if type(value) is int else None
        _trace_lock(reg, st, obj)
    elif kind == "Event":
        _trace_event(reg, st, obj)
    else:
        _trace_lock(reg, st, obj)
    tracer.send_json(event)
    if not reg.flush_wrapped:
        _wrap_flush(reg)


def _assigned_name(reg: _Registry, code: Any, lasti: int) -> str | None:
    """``q`` for ``q = asyncio.Queue()``, ``self.jobs`` for ``self.jobs = ...``: the
    store right after the call at ``lasti`` in the creating line's bytecode."""
    table = reg.names.get(id(code))
    if table is None:
        table = {}
        reg.names[id(code)] = table
        reg.codes.append(code)
    if lasti in table:
        return table[lasti]
    name = None
    try:
        import dis  # only once the program made a primitive: it costs start-up time

        ins = [i for i in dis.get_instructions(code) if i.opname not in ("CACHE", "NOP")]
        at = next((n for n, i in enumerate(ins) if i.offset == lasti), None)
        if at is not None and at + 1 < len(ins):
            nxt = ins[at + 1]
            if nxt.opname in _STORES:
                name = nxt.argval
            elif nxt.opname.startswith("STORE_FAST_"):  # STORE_FAST_LOAD_FAST (3.13+)
                val = nxt.argval
                name = val[0] if isinstance(val, tuple) else val
            elif (
                nxt.opname.startswith("LOAD_")
                and at + 2 < len(ins)
                and ins[at + 2].opname == "STORE_ATTR"
                and isinstance(nxt.argval, str)
            ):
                name = f"{nxt.argval}.{ins[at + 2].argval}"
    except Exception as exc:  # an unnamed primitive is still traced
        report_failure(reg.tracer, "primitive name", exc)
    if name is not None and not isinstance(name, str):
        name = None
    table[lasti] = name
    return name


# ---- figures ----------------------------------------------------------------------------


def _start_wait(reg: _Registry, st: _Stats, why: str) -> list:
    entry = [reg.tracer.current, _perf(), why]
    st.waiters.append(entry)
    if len(st.waiters) > st.max_waiters:
        st.max_waiters = len(st.waiters)
    return entry


def _end_wait(reg: _Registry, st: _Stats, entry: list) -> float:
    waited = _perf() - entry[1]
    try:
        st.waiters.remove(entry)
    except ValueError:
        pass
    if waited > st.longest_wait:
        st.longest_wait = waited
    st.total_waited += waited
    return waited


def _sample(st: _Stats, t0: float, now: float, size: int) -> None:
    """A queue's size at ``now``: one sample per millisecond of the run, the last wins."""
    ms = int((now - t0) * 1000)
    if ms == st.last_ms and st.samples:
        st.samples[-1] = (now, size)
    else:
        st.samples.append((now, size))
        st.last_ms = ms


def _hold(st: _Stats, rec: Any, now: float) -> None:
    if st.since is None:
        st.holder, st.since = rec, now
    else:
        st.more.append((rec, now))


def _released(st: _Stats, current: Any) -> None:
    """A semaphore's release the fast path could not place: the releasing task's own hold
    ends (its oldest), else the oldest hold of all."""
    at, since, mine = None, 0.0, False
    if st.since is not None:
        at, since, mine = -1, st.since, st.holder is current
    for n, (rec, t) in enumerate(st.more):
        is_mine = rec is current
        if at is None or (is_mine and not mine) or (is_mine == mine and t < since):
            at, since, mine = n, t, is_mine
    if at is None:
        return  # released more than acquired (a plain Semaphore allows it)
    if at == -1:
        st.holder = st.since = None
    else:
        del st.more[at]
    hold = _perf() - since
    st.held += hold
    if hold > st.longest_hold:
        st.longest_hold = hold


def _holds(st: _Stats) -> list:
    """``[task record, since]`` of every hold going on, oldest first."""
    holds = list(st.more)
    if st.since is not None:
        holds.append((st.holder, st.since))
        holds.sort(key=lambda h: h[1])
    return holds


async def _timed(reg: _Registry, st: _Stats, why: str, coro: Any, then: Any = None) -> Any:
    """Await asyncio's own coroutine ``coro`` that is about to block, timing the wait."""
    entry = _start_wait(reg, st, why)
    done = False
    try:
        result = await coro
        done = True
        return result
    except BaseException as exc:
        drop_own_frame(exc)
        raise
    finally:
        try:
            waited = _end_wait(reg, st, entry)
            if why == "put":
                st.put_wait += waited
            elif why == "get":
                st.get_wait += waited
            if done and then is not None:
                then(reg, st)
        except Exception as exc:  # the tracer must never break the program
            report_failure(reg.tracer, "primitive wait", exc)


# ---- the wrappers, per object --------------------------------------------------------------


class _WaitLine(deque):
    """A traced queue's ``_putters`` / ``_getters``: asyncio appends a future only when a
    task is about to block on a full / empty queue, and takes it out (``popleft`` when it
    wakes the task, ``remove`` when the wait is cancelled) when the wait ends; an empty
    line costs the queue nothing."""

    def __init__(self, reg: _Registry, st: _Stats, why: str, items: Any) -> None:
        super().__init__()
        self.reg, self.st, self.why, self.items = reg, st, why, items
        self.entries: dict = {}  # future -> waiter entry

    def append(self, fut: Any) -> None:
        super().append(fut)
        try:
            st = self.st
            entry = _start_wait(self.reg, st, self.why)
            # full or empty: a size to show
            _sample(st, self.reg.tracer.t0, entry[1], len(self.items))
            self.entries[fut] = entry
        except Exception as exc:  # the tracer must never break the program
            report_failure(self.reg.tracer, "queue wait", exc)

    def _ended(self, fut: Any) -> None:
        entry = self.entries.pop(fut, None)
        if entry is not None:
            try:
                waited = _end_wait(self.reg, self.st, entry)
                if self.why == "put":
                    self.st.put_wait += waited
                else:
                    self.st.get_wait += waited
            except Exception as exc:  # the tracer must never break the program
                report_failure(self.reg.tracer, "queue wait", exc)

    def popleft(self) -> Any:
        fut = super().popleft()
        self._ended(fut)
        return fut

    def remove(self, fut: Any) -> None:
        super().remove(fut)
        self._ended(fut)


def _trace_queue(reg: _Registry, st: _Stats, q: Any) -> None:
    orig_put_nowait, orig_join = q.put_nowait, q.join
    items = q._queue

    # The one wrapper that runs for every item (bench/primitives.py measures it): a put
    # counts, and the size's peak can only be reached by one. Items out are puts minus
    # the size, and the size over time is sampled where it settles: when a task blocks on
    # the queue and at each flush (when the loop is about to wait, or every 50 ms).
    def put_nowait(item: Any) -> None:
        orig_put_nowait(item)
        st.puts += 1
        if len(items) > st.peak:
            st.peak = len(items)

    def join() -> Any:
        if not q._unfinished_tasks:
            return orig_join()
        return _joined(reg, st, orig_join())

    for fn, orig in ((put_nowait, orig_put_nowait), (join, orig_join)):
        fn.__qualname__ = orig.__qualname__
        fn.__doc__ = orig.__doc__
    q.put_nowait, q.join = put_nowait, join
    q._putters = _WaitLine(reg, st, "put", items)
    q._getters = _WaitLine(reg, st, "get", items)
    if st.ref is None:
        st.items = items  # no weak reference to the queue: its size read from here
    st.peak = st.size = len(items)
    _sample(st, reg.tracer.t0, _perf(), len(items))


async def _joined(reg: _Registry, st: _Stats, coro: Any) -> Any:
    st.joiners += 1
    st.max_joiners = max(st.max_joiners, st.joiners)
    try:
        return await coro
    except BaseException as exc:
        drop_own_frame(exc)
        raise
    finally:
        st.joiners -= 1


def _trace_lock(reg: _Registry, st: _Stats, obj: Any) -> None:
    """Lock, Semaphore, BoundedSemaphore and Condition (its acquire/release are its
    lock's; wait() releases and re-acquires through the instance's names, so here).

    An acquire asyncio takes at once (its own test, below, read before its coroutine
    runs) counts and starts a hold; one that will block is timed by ``_timed``, its hold
    started when it is through. Two clock reads per hold: held and the longest hold are
    exact."""
    orig_acquire, orig_release = obj.acquire, obj.release
    kind = st.kind
    tracer = reg.tracer
    perf = _perf
    more = st.more

    def acquired(reg: _Registry, st: _Stats) -> None:
        st.acquisitions += 1
        _hold(st, tracer.current, perf())

    def taken(reg: _Registry, st: _Stats, coro: Any) -> Any:
        """The acquire missed the fast test: block, or (a line of waiters all cancelled)
        take it at once as asyncio would."""
        if kind == "Condition":
            lock = obj._lock
            free = not lock.locked() and not any(not w.cancelled() for w in lock._waiters or ())
        elif kind == "Lock":
            free = not obj._locked and not any(not w.cancelled() for w in obj._waiters or ())
        else:
            free = obj._value > 0 and not any(not w.cancelled() for w in obj._waiters or ())
        if free:
            acquired(reg, st)
            return coro
        current = tracer.current
        if kind == "Condition" and current is not None:
            for w in st.waiters:
                if w[0] is current:
                    # Condition.wait() re-acquiring: the task counts as waiting already.
                    return _timed_acquire_inside_wait(acquired, reg, st, coro)
        return _timed(reg, st, "acquire", coro, acquired)

    # asyncio's own fast test, inlined per kind: it runs for every acquire
    # (bench/primitives.py); what it misses (waiters all cancelled) ``taken`` settles.
    if kind == "Condition":
        inner = obj._lock  # the program's own Lock, or the one asyncio made for it
        if not (hasattr(inner, "_locked") and hasattr(inner, "_waiters")):
            inner = None  # a lock of another kind: asked through locked()

        def acquire() -> Any:
            if inner is not None and not (inner._locked or inner._waiters):
                st.acquisitions += 1
                st.holder = tracer.current
                st.since = perf()
                return orig_acquire()
            return taken(reg, st, orig_acquire())

    elif kind == "Lock":

        def acquire() -> Any:
            if not (obj._locked or obj._waiters):
                st.acquisitions += 1
                st.holder = tracer.current
                st.since = perf()
                return orig_acquire()
            return taken(reg, st, orig_acquire())

    else:

        def acquire() -> Any:
            if obj._value > 0 and not obj._waiters:
                st.acquisitions += 1
                if st.since is None:
                    st.holder = tracer.current
                    st.since = perf()
                else:
                    more.append((tracer.current, perf()))
                return orig_acquire()
            return taken(reg, st, orig_acquire())

    if kind in ("Lock", "Condition"):

        def release() -> None:
            orig_release()
            since = st.since
            if since is not None:
                hold = perf() - since
                st.since = None
                st.held += hold
                if hold > st.longest_hold:
                    st.longest_hold = hold

    else:

        def release() -> None:
            orig_release()
            since = st.since
            if since is not None and (not more or st.holder is tracer.current):
                hold = perf() - since
                st.since = None
                st.held += hold
                if hold > st.longest_hold:
                    st.longest_hold = hold
            elif more:
                _released(st, tracer.current)

    acquire.__qualname__ = getattr(orig_acquire, "__qualname__", "acquire")
    release.__qualname__ = getattr(orig_release, "__qualname__", "release")
    acquire.__doc__, release.__doc__ = orig_acquire.__doc__, orig_release.__doc__
    obj.acquire, obj.release = acquire, release
    if kind == "Condition":
        orig_wait = obj.wait

        def wait() -> Any:
            return _timed(reg, st, "wait", orig_wait())

        wait.__qualname__, wait.__doc__ = orig_wait.__qualname__, orig_wait.__doc__
        obj.wait = wait


async def _timed_acquire_inside_wait(acquired: Any, reg: _Registry, st: _Stats, coro: Any) -> Any:
    try:
        result = await coro
    except BaseException as exc:
        drop_own_frame(exc)
        raise
    acquired(reg, st)
    return result


def _trace_event(reg: _Registry, st: _Stats, ev: Any) -> None:
    orig_wait, orig_set, orig_clear = ev.wait, ev.set, ev.clear

    def waited(reg: _Registry, st: _Stats) -> None:
        st.acquisitions += 1

    def wait() -> Any:
        if ev._value:
            st.acquisitions += 1
            return orig_wait()
        return _timed(reg, st, "wait", orig_wait(), waited)

    def set() -> None:
        if ev._value:
            orig_set()
        else:
            orig_set()
            st.set_since = _perf()

    def clear() -> None:
        orig_clear()
        if st.set_since is not None:
            st.held += _perf() - st.set_since
            st.set_since = None

    for fn, orig in ((wait, orig_wait), (set, orig_set), (clear, orig_clear)):
        fn.__qualname__, fn.__doc__ = orig.__qualname__, orig.__doc__
    ev.wait, ev.set, ev.clear = wait, set, clear


# ---- sending ------------------------------------------------------------------------------


def _wrap_flush(reg: _Registry) -> None:
    """From the first primitive on, each flush first sends what changed (an instance
    attribute: a program without primitives keeps the tracer's own flush)."""
    tracer = reg.tracer
    orig = tracer.flush
    reg.flush_wrapped = True
    loop_thread = _thread.get_ident()  # the figures change there: sent from there only
    get_ident = _thread.get_ident

    def flush() -> None:
        if get_ident() == loop_thread:
            send_states(reg)
        orig()

    tracer.patches.set(tracer, "flush", flush)


def send_states(reg: _Registry) -> None:
    """One ``primitive_state`` record per primitive changed since the last call. The hot
    paths (put, get, acquire, release) only count; what changed is found here, by the
    figures, once per flush (a few objects), not marked on every call. An object the
    program let go is sent a last time if it changed, then no longer looked at."""
    tracer = reg.tracer
    try:
        t0 = tracer.t0
        now = _perf()
        gone = False
        for st in reg.live:
            obj = st.ref() if st.ref is not None else None
            if obj is None and st.ref is not None:
                gone = True
                st.ref = False  # dropped from ``live`` below
            if st.kind.endswith("Queue"):
                items = obj._queue if obj is not None else st.items
                if items is not None:
                    st.size = len(items)
            key = (
                st.puts, st.acquisitions, st.held, st.since, len(st.more), len(st.waiters),
                st.joiners, st.set_since, st.max_waiters, len(st.samples), st.size,
            )  # fmt: skip
            if key == st.sent:
                continue
            st.sent = key
            _send_state(tracer, st, t0, now)
        if gone:
            reg.live[:] = [st for st in reg.live if st.ref is not False]
    except Exception as exc:  # the tracer must never break the program
        report_failure(tracer, "primitive state", exc)


def _send_state(tracer: Any, st: _Stats, t0: float, now: float) -> None:
    holds = _holds(st)
    held = st.held + sum(now - h[1] for h in holds)
    if st.set_since is not None:
        held += now - st.set_since
    longest = max([st.longest_wait, *(now - w[1] for w in st.waiters)])
    event: dict = {
        "event": "primitive_state",
        "id": st.id,
        "acquisitions": st.acquisitions,
        "holders": [_tid(h[0]) for h in holds],
        "waiters": [[_tid(w[0]), w[2]] for w in st.waiters],
        "max_waiters": st.max_waiters,
        "longest_wait": longest,
        "held": held,
        "waited": st.total_waited + sum(now - w[1] for w in st.waiters),
        "longest_hold": max([st.longest_hold, *(now - h[1] for h in holds)]),
    }
    if st.kind.endswith("Queue"):
        size = st.size
        if not st.samples or st.samples[-1][1] != size or st.sent[-1] != size:
            _sample(st, t0, now, size)
        event.update(
            size=size,
            peak_size=st.peak,
            puts=st.puts,
            gets=max(0, st.puts - size),
            put_wait=st.put_wait + sum(now - w[1] for w in st.waiters if w[2] == "put"),
            get_wait=st.get_wait + sum(now - w[1] for w in st.waiters if w[2] == "get"),
            join_waiters=st.joiners,
            max_join_waiters=st.max_joiners,
            sizes=[[max(0.0, t - t0), n] for t, n in st.samples],
        )
        st.samples = []
    elif st.kind == "Event":
        event["set"] = st.set_since is not None
    tracer.send_json(event)


def _tid(rec: Any) -> int | None:
    return rec.tid if rec is not None else None


#: What the per-object wrappers set on an object (``strip`` takes them off).
_WRAPPERS = ("put_nowait", "join", "acquire", "release", "wait", "set", "clear")


def strip(reg: _Registry) -> None:
    """Take every per-object wrapper off the objects traced so far: each runs asyncio's
    own methods again, its wait lines plain deques (the waiting futures kept, in order).
    For ``asyncplay attach``'s detach, on the loop's thread between two steps (a wait line
    swapped while a put() appends to it would lose the putter): the program is left with
    its objects as asyncio made them."""
    for st in reg.live:
        obj = st.ref() if st.ref else None
        if obj is None:
            continue
        try:
            for name in _WRAPPERS:
                fn = getattr(obj, name, None)
                if getattr(fn, "__module__", None) != __name__ or hasattr(fn, "__self__"):
                    continue  # asyncio's own method, or the program's
                if st.kind == "Condition" and name in ("acquire", "release"):
                    setattr(obj, name, getattr(obj._lock, name))  # its lock's, as asyncio does
                else:
                    delattr(obj, name)  # asyncio's method, from the class, again
            for name in ("_putters", "_getters"):
                line = getattr(obj, name, None)
                if type(line) is _WaitLine:
                    setattr(obj, name, deque(line))
        except Exception as exc:  # the tracer must never break the program
            report_failure(reg.tracer, "primitive strip", exc)
    reg.live.clear()
