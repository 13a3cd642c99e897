"""asyncio's queues, locks, semaphores, conditions and events the program creates.

Nothing here runs per task step. ``install`` wraps the ``__init__`` of asyncio's five
base classes (``Queue``, ``Lock``, ``Semaphore``, ``Condition``, ``Event``; their
subclasses ``PriorityQueue``, ``LifoQueue`` and ``BoundedSemaphore`` pass there too). A
primitive created by the program's own code (not asyncio's: a Queue's Event, a
Condition's Lock) gets instance attributes that shadow its public methods (``put_nowait``,
``acquire``, ``release``, ``wait`` ...) for that one object, so other objects, and
programs that create none, run asyncio's code untouched. A call that will not block goes
straight to asyncio's coroutine (no extra frame). One that will block is timed, and the
waiting task kept in the waiter list, by the object's line of waiters where asyncio
appends and removes the future it blocks on (a queue's ``_putters``/``_getters``, an
event's or a lock's ``_waiters``: no coroutine of ours in the task's chain), else (a
semaphore's acquire, a condition's) awaited through a small coroutine that does so.

The figures (``primitive_figures.py``) go out as one ``primitive_state`` record per
changed object when the tracer flushes (the flush is wrapped once the first primitive
exists), so a queue-heavy program pays a few attribute updates per put/get, not a record.
"""

from __future__ import annotations

import sys
import time
import weakref

# collections' deque, from its C module: collections itself (keyword, operator, reprlib)
# would be loaded into every program, with asyncio or without
from _collections import deque

from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import drop_own_frame
from asyncplay.child.primitive_figures import (
    Registry,
    Stats,
    end_wait,
    hold,
    mark,
    released,
    sample,
    wrap_flush,
)
from asyncplay.child.wait_lines import HeldLine, WaitLine, plain_empty

__all__ = ["KINDS", "install", "strip"]

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


def install(tracer: Any, asyncio_mod: Any, attached: bool = False) -> None:
    """Wrap the five base classes' ``__init__`` (their subclasses pass through them).
    ``attached``: objects may exist already, made unseen (no ``plain_methods``)."""
    reg = Registry(tracer)
    tracer.primitives = reg
    from asyncio import locks, queues

    global _EVENT_SET, _EVENT_CLEAR, _LOCK_RELEASE, _LOCK_WAKE
    _EVENT_SET = _known(locks.Event.set, ("_value", "_waiters", "done", "set_result"))
    _EVENT_CLEAR = _known(locks.Event.clear, ("_value",))
    _LOCK_RELEASE = _known(locks.Lock.release, ("_locked", "_wake_up_first", "RuntimeError"))
    _LOCK_WAKE = locks.Lock._wake_up_first
    global _SEMAPHORE_LINED
    names = getattr(getattr(locks.Semaphore.acquire, "__code__", None), "co_names", ())
    _SEMAPHORE_LINED = "append" in names and "remove" in names
    wrapped = (queues.Queue, locks.Lock, locks.Semaphore, locks.Condition, locks.Event)
    for cls in wrapped:
        _wrap_init(reg, cls)
    subclasses = (queues.PriorityQueue, queues.LifoQueue, locks.BoundedSemaphore)
    _OWN_FUNCS.update(
        fn for cls in wrapped + subclasses for fn in vars(cls).values() if type(fn) is _FUNCTION
    )
    for cls in wrapped:
        if "__getstate__" not in vars(cls):  # (a copy of a traced object: _getstate)
            tracer.patches.set(cls, "__getstate__", _getstate)
    if not attached:
        _plain_methods(reg, wrapped + subclasses)
        for cls in wrapped:
            _watch_subclasses(reg, cls)


# ---- the methods' names, without their frames ----------------------------------------------


def _plain_methods(reg: Registry, classes: tuple) -> None:
    """``tracer.plain_methods``: each method of the five classes and asyncio's own
    subclasses of them, by its code's id, to its class, while no instance of a class
    derived from that class has been made (``_derived``, from their ``__init__``). A wait
    in such a method is then named by its class (``Queue.get()``) without a frame of it
    and its ``self`` (``waits._namer``: a frame and its locals are a fifth of a
    ``describe``): ``self`` can only be of that class. Every instance of the five passes
    through their ``__init__`` from the tracer's install on (asyncio's import): an
    attached tracer has no such table."""
    table: dict[int, type] = {}
    for cls in classes:
        for fn in vars(cls).values():
            code = getattr(fn, "__code__", None)
            if code is not None and code.co_varnames[:1] == ("self",):
                table[id(code)] = cls
                reg.codes.append(code)  # (its id never reused while the table holds it)
    reg.tracer.plain_methods = table


def _derived(reg: Registry, cls: type) -> None:
    """An instance of ``cls``, derived from one of the five: the methods of the classes
    it derives from are named by the type of their ``self`` from now on (their names
    cached by ``describe`` dropped)."""
    reg.derived.add(cls)
    _drop_plain(reg.tracer, cls)


def _watch_subclasses(reg: Registry, cls: type) -> None:
    """A class derived from ``cls`` drops ``cls``'s plain names as it is made: an instance
    of it may never pass through ``__init__`` (a subclass whose own ``__init__`` does not
    call ``super().__init__()``, an object made by ``__new__`` or given the class by
    ``__class__ =``), and a wait in it must still be named by its own class (review,
    round 8). Python's ``__init_subclass__`` runs for every class made under ``cls``."""
    tracer = reg.tracer

    def __init_subclass__(sub: type, **kwargs: Any) -> None:
        try:  # object's: python's checks, unchanged
            super(cls, sub).__init_subclass__(**kwargs)
        except BaseException as exc:  # (its traceback without this frame, as python's)
            drop_own_frame(exc)
            raise
        try:
            _drop_plain(tracer, sub)
        except Exception as exc:  # the tracer must never break the program's class
            report_failure(tracer, "primitive subclassed", exc)

    tracer.patches.set(cls, "__init_subclass__", classmethod(__init_subclass__))


def _drop_plain(tracer: Any, cls: type) -> None:
    """The methods of the classes ``cls`` derives from named by their ``self``'s type."""
    table = getattr(tracer, "plain_methods", None)
    if not table:
        return
    bases = set(cls.__mro__[1:])
    for key in [k for k, owner in table.items() if owner in bases]:
        del table[key]
        tracer.wait_names.pop(key, None)  # (named again, by the namer of ``self``'s type)


# asyncio's own ``Event.set``, ``Event.clear`` and ``Lock.release`` (None: their names
# are not the ones the wrappers' copies of them use; the wrappers then call them). The
# same few lines on 3.10-3.15 (tests/test_objects_exact.py checks them on each): a traced
# object whose class keeps them runs the wrapper's copy, one Python call less each.
_EVENT_SET: Any = None
_EVENT_CLEAR: Any = None
_LOCK_RELEASE: Any = None
_LOCK_WAKE: Any = None  # asyncio's Lock._wake_up_first: the copy skips it with no waiter
# Whether a Semaphore's blocked acquire ends with ``_waiters.remove(fut)`` in a
# ``finally`` in asyncio's code (3.10.13-3.15 here), as a Lock's always does: then timed by
# its line (``HeldLine``). (A bool: the objects the runtime keeps before the program runs
# move the collector's order the program sees; 3.10's destroyed_pending prints it.)
_SEMAPHORE_LINED = False


def _known(fn: Any, names: tuple) -> Any:
    code = getattr(fn, "__code__", None)
    return fn if code is not None and code.co_names == names else None


def _wrap_init(reg: Registry, cls: type) -> None:
    orig = cls.__init__
    tracer = reg.tracer

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        orig(self, *args, **kwargs)
        if type(self) is not cls and type(self) not in reg.derived:
            try:
                _derived(reg, type(self))
            except Exception as exc:  # the tracer must never break the program
                report_failure(tracer, "primitive created", exc)
        if tracer.enabled:
            try:
                _created(reg, self, sys._getframe(1))
            except Exception as exc:  # the tracer must never break the program
                report_failure(tracer, "primitive created", exc)

    __init__.__qualname__ = orig.__qualname__
    __init__.__doc__ = orig.__doc__
    __init__.__wrapped__ = orig  # type: ignore[attr-defined]
    tracer.patches.set(cls, "__init__", __init__)


def _kind(reg: Registry, cls: type) -> str:
    kind = reg.kinds.get(cls)
    if kind is None:
        names = {c.__name__ for c in cls.__mro__ if c.__module__.startswith("asyncio")}
        kind = reg.kinds[cls] = next(k for k in KINDS if k in names)
    return kind


def _created(reg: Registry, obj: Any, frame: Any) -> None:
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
    kind = _kind(reg, type(obj))
    # Traced already (created twice through the program's subclass)? Asked of the method
    # our wrapper shadows, never of ``vars(obj)``: that would turn the object's inline
    # attribute values into a dict, and every attribute read in asyncio's own methods of
    # it would get slower (3.11: +40%, 3.12: +100% on a put/get pair).
    probe = getattr(obj, _PROBES[kind], None)
    if getattr(probe, "__module__", None) == __name__:
        return
    st = Stats(reg.next_id, kind)
    reg.next_id += 1
    live = reg.live
    live.append(st)
    if len(live) >= reg.pruned_at:  # many made and let go: keep ``live`` to those alive
        live[:] = [s for s in live if not s.gone]
        reg.pruned_at = max(64, 2 * len(live))
    if kind.endswith("Queue"):
        # Its size, last, for the flush after it went. In a box the callback empties: the
        # garbage collector keeps a weak reference's callback after calling it, and the
        # items must not outlive their queue.
        box = [obj._queue]

        def gone(_ref: Any) -> None:
            if box:
                st.size = len(box.pop())
            st.gone = True
            mark(reg, st)

    else:

        def gone(_ref: Any) -> None:
            st.gone = True

    try:
        st.ref = weakref.ref(obj, gone)
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
        wrap_flush(reg)


def _assigned_name(reg: Registry, code: Any, lasti: int) -> str | None:
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


async def _timed(reg: Registry, st: Stats, why: str, coro: Any, then: Any = None) -> Any:
    """Await asyncio's own coroutine ``coro`` that is about to block, timing the wait (a
    semaphore's or a condition's acquire, a condition's wait, an event's or a lock's whose
    ``_waiters`` is not asyncio's deque: ``start_wait`` and ``end_wait`` inlined, as every
    blocked wait of these runs them; a queue's, an event's and a lock's are their wait
    lines': ``WaitLine``, ``HeldLine``).
    The wait through is counted after the await, one that raised in ``_failed``."""
    if not st.dirty:
        st.dirty = True
        reg.dirty.append(st)
    waiters = st.waiters
    entry = [reg.tracer.current, _perf(), why]
    waiters.append(entry)
    if len(waiters) > st.max_waiters:
        st.max_waiters = len(waiters)
    try:
        result = await coro
    except BaseException as exc:
        _failed(reg, st, entry)
        drop_own_frame(exc)
        raise
    try:
        waited = _perf() - entry[1]
        if not st.dirty:
            st.dirty = True
            reg.dirty.append(st)
        try:
            waiters.remove(entry)
        except ValueError:
            pass
        if waited > st.longest_wait:
            st.longest_wait = waited
        st.total_waited += waited
        if then is not None:
            if then is _COUNT:  # an event's wait: one more through
                st.acquisitions += 1
            else:
                then(reg, st)
    except Exception as exc:  # the tracer must never break the program
        report_failure(reg.tracer, "primitive wait", exc)
    return result


def _failed(reg: Registry, st: Stats, entry: list) -> None:
    """A timed wait that raised (cancelled, mostly): its time, not counted through."""
    try:
        end_wait(reg, st, entry)
    except Exception as exc:  # the tracer must never break the program
        report_failure(reg.tracer, "primitive wait", exc)


_COUNT: Any = object()  # ``_timed``'s ``then`` that counts the wait through, inlined


# ---- the wrappers, per object --------------------------------------------------------------


def _trace_queue(reg: Registry, st: Stats, q: Any) -> None:
    orig_put_nowait, orig_join = q.put_nowait, q.join
    items = q._queue
    dirty = reg.dirty

    # The one wrapper that runs for every item (bench/primitives.py measures it): a put
    # counts, and the size's peak can only be reached by one. Items out are puts minus
    # the size, and the size over time is sampled where it settles: when a task blocks on
    # the queue and at each flush (when the loop is about to wait, or every 50 ms).
    def put_nowait(item: Any) -> None:
        orig_put_nowait(item)
        st.puts += 1
        if len(items) > st.peak:
            st.peak = len(items)
        if not st.dirty:
            st.dirty = True
            dirty.append(st)

    def join(*args: Any, **kwargs: Any) -> Any:
        if not q._unfinished_tasks:
            return orig_join(*args, **kwargs)
        return _joined(reg, st, orig_join(*args, **kwargs))

    if not _asyncios(q, "put_nowait"):  # a program's own: its arguments, forwarded

        def put_nowait(*args: Any, **kwargs: Any) -> None:
            orig_put_nowait(*args, **kwargs)
            st.puts += 1
            if len(items) > st.peak:
                st.peak = len(items)
            if not st.dirty:
                st.dirty = True
                dirty.append(st)

    for fn, orig in ((put_nowait, orig_put_nowait), (join, orig_join)):
        fn.__qualname__ = orig.__qualname__
        fn.__doc__ = orig.__doc__
    q.put_nowait, q.join = put_nowait, join
    q._putters = WaitLine(reg, st, "put", items)
    q._getters = WaitLine(reg, st, "get", items)
    if st.ref is None:
        st.items = items  # no weak reference to the queue: its size read from here
    st.peak = st.size = len(items)
    sample(st, reg.tracer.t0, _perf(), len(items))
    mark(reg, st)  # its first sample goes out


async def _joined(reg: Registry, st: Stats, coro: Any) -> Any:
    st.joiners += 1
    st.max_joiners = max(st.max_joiners, st.joiners)
    mark(reg, st)
    try:
        return await coro
    except BaseException as exc:
        drop_own_frame(exc)
        raise
    finally:
        st.joiners -= 1
        mark(reg, st)


def _trace_lock(reg: Registry, st: Stats, obj: Any) -> None:
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
    dirty = reg.dirty
    one_holder = kind in ("Lock", "Condition")

    def acquired(reg: Registry, st: Stats) -> None:
        st.acquisitions += 1
        if one_holder:  # a hold never released through us (released by the class's
            st.holder, st.since = tracer.current, perf()  # own method, or a Condition's
        else:  # by its lock's) is replaced, not kept
            hold(st, tracer.current, perf())
        if not st.dirty:
            st.dirty = True
            dirty.append(st)

    def taken(reg: Registry, st: Stats, coro: Any) -> Any:
        """The acquire missed the fast test: block, or (a line of waiters all cancelled)
        take it at once as asyncio would."""
        if kind == "Condition":
            lock = obj._lock
            waiters = getattr(lock, "_waiters", None) or ()
            free = not lock.locked() and not any(not w.cancelled() for w in waiters)
        elif kind == "Lock":
            free = not obj._locked and not any(not w.cancelled() for w in obj._waiters or ())
        else:
            free = obj._value > 0 and not any(not w.cancelled() for w in obj._waiters or ())
        if free:
            acquired(reg, st)
            return coro
        if kind != "Condition" and type(obj._waiters) is HeldLine:
            return coro  # timed by its line (``HeldLine``)
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

        def acquire(*args: Any, **kwargs: Any) -> Any:
            if inner is not None and not (inner._locked or inner._waiters):
                st.acquisitions += 1
                st.holder = tracer.current
                st.since = perf()
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)
                return orig_acquire(*args, **kwargs)
            return taken(reg, st, orig_acquire(*args, **kwargs))

    elif kind == "Lock":

        def acquire(*args: Any, **kwargs: Any) -> Any:
            if not (obj._locked or obj._waiters):
                st.acquisitions += 1
                st.holder = tracer.current
                st.since = perf()
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)
                return orig_acquire(*args, **kwargs)
            return taken(reg, st, orig_acquire(*args, **kwargs))

    else:

        def acquire(*args: Any, **kwargs: Any) -> Any:
            if obj._value > 0 and not obj._waiters:
                st.acquisitions += 1
                if st.since is None:
                    st.holder = tracer.current
                    st.since = perf()
                else:
                    more.append((tracer.current, perf()))
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)
                return orig_acquire(*args, **kwargs)
            return taken(reg, st, orig_acquire(*args, **kwargs))

    if (
        kind == "Lock"
        and _LOCK_RELEASE is not None
        and type(obj).release is _LOCK_RELEASE
        and getattr(type(obj), "_wake_up_first", None) is _LOCK_WAKE
    ):

        def release() -> None:  # asyncio's Lock.release, then the figures
            if obj._locked and not obj._waiters:  # (its _wake_up_first: nothing to wake)
                obj._locked = False
            else:  # a waiter to wake, or not held: asyncio's own code, whose frame a
                orig_release()  # traceback from it shows, as without us (review)
            since = st.since
            if since is not None:
                hold = perf() - since
                st.since = None
                st.held += hold
                if hold > st.longest_hold:
                    st.longest_hold = hold
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)

    elif kind in ("Lock", "Condition"):

        def release(*args: Any, **kwargs: Any) -> None:
            orig_release(*args, **kwargs)
            since = st.since
            if since is not None:
                hold = perf() - since
                st.since = None
                st.held += hold
                if hold > st.longest_hold:
                    st.longest_hold = hold
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)

    else:

        def release(*args: Any, **kwargs: Any) -> None:
            orig_release(*args, **kwargs)
            since = st.since
            if since is not None and (not more or st.holder is tracer.current):
                hold = perf() - since
                st.since = None
                st.held += hold
                if hold > st.longest_hold:
                    st.longest_hold = hold
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)
            elif more:
                released(st, tracer.current)
                mark(reg, st)

    lined = kind == "Lock" or (_SEMAPHORE_LINED and kind.endswith("Semaphore"))
    if (
        lined
        and (obj._waiters is None or plain_empty(obj._waiters))
        and _asyncios(obj, "acquire")  # (a program's acquire may keep its line its way)
    ):
        obj._waiters = HeldLine(reg, st, acquired)  # its blocked acquires, timed there
    acquire.__qualname__ = getattr(orig_acquire, "__qualname__", "acquire")
    release.__qualname__ = getattr(orig_release, "__qualname__", "release")
    acquire.__doc__, release.__doc__ = orig_acquire.__doc__, orig_release.__doc__
    obj.acquire, obj.release = acquire, release
    if kind == "Condition":
        orig_wait = obj.wait

        def wait(*args: Any, **kwargs: Any) -> Any:
            return _timed(reg, st, "wait", orig_wait(*args, **kwargs))

        wait.__qualname__, wait.__doc__ = orig_wait.__qualname__, orig_wait.__doc__
        obj.wait = wait


async def _timed_acquire_inside_wait(acquired: Any, reg: Registry, st: Stats, coro: Any) -> Any:
    try:
        result = await coro
    except BaseException as exc:
        drop_own_frame(exc)
        raise
    acquired(reg, st)
    return result


def _trace_event(reg: Registry, st: Stats, ev: Any) -> None:
    orig_wait, orig_set, orig_clear = ev.wait, ev.set, ev.clear

    dirty = reg.dirty
    if plain_empty(ev._waiters) and _asyncios(ev, "wait"):
        ev._waiters = HeldLine(reg, st, None)  # its blocked waits, timed there

        def wait(*args: Any, **kwargs: Any) -> Any:
            if ev._value:
                st.acquisitions += 1
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)
            return orig_wait(*args, **kwargs)

    else:  # (not asyncio's deque: timed by a coroutine of ours around the wait)

        def wait(*args: Any, **kwargs: Any) -> Any:
            if ev._value:
                st.acquisitions += 1
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)
                return orig_wait(*args, **kwargs)
            return _timed(reg, st, "wait", orig_wait(*args, **kwargs), _COUNT)

    if _EVENT_SET is not None and getattr(type(ev), "set", None) is _EVENT_SET:

        def set() -> None:  # asyncio's Event.set, then the figures
            if not ev._value:
                if ev._waiters:  # futures to wake: asyncio's own code, whose frame a
                    orig_set()  # traceback from it shows, as without us (review)
                else:
                    ev._value = True
                st.set_since = _perf()
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)

    else:

        def set(*args: Any, **kwargs: Any) -> None:
            if ev._value:
                orig_set(*args, **kwargs)
            else:
                orig_set(*args, **kwargs)
                st.set_since = _perf()
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)

    if _EVENT_CLEAR is not None and getattr(type(ev), "clear", None) is _EVENT_CLEAR:

        def clear() -> None:  # asyncio's Event.clear, then the figures
            ev._value = False
            if st.set_since is not None:
                st.held += _perf() - st.set_since
                st.set_since = None
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)

    else:

        def clear(*args: Any, **kwargs: Any) -> None:
            orig_clear(*args, **kwargs)
            if st.set_since is not None:
                st.held += _perf() - st.set_since
                st.set_since = None
                if not st.dirty:
                    st.dirty = True
                    dirty.append(st)

    for fn, orig in ((wait, orig_wait), (set, orig_set), (clear, orig_clear)):
        fn.__qualname__, fn.__doc__ = orig.__qualname__, orig.__doc__
    ev.wait, ev.set, ev.clear = wait, set, clear


def _asyncios(obj: Any, name: str) -> bool:
    """Whether ``obj``'s class has asyncio's own method ``name`` (that very function:
    ``functools.wraps`` copies a name and a module, not the function), not a program's
    override, which may keep the line of waiters its own way."""
    fn = getattr(type(obj), name, None)
    return type(fn) is _FUNCTION and fn in _OWN_FUNCS


_FUNCTION = type(_asyncios)
# asyncio's own methods of the five classes and its subclasses of them (``install``).
_OWN_FUNCS: set = set()


def _getstate(self: Any) -> Any:
    """A traced object's state for ``copy``, ``deepcopy`` and ``pickle``, as python's:
    without the per-object wrappers (closures over this very object: a copy would act on
    the original, and they do not pickle), its lines of waiters plain deques. The copy
    is asyncio's own object, untraced (review, round 8)."""
    state = vars(self)
    ours = [n for n in _WRAPPERS if getattr(state.get(n), "__module__", None) == __name__]
    lines = [n for n in _LINE_NAMES if type(state.get(n)) in _LINES]
    if not ours and not lines:  # not traced: python's own state
        return _OBJECT_GETSTATE(self) if _OBJECT_GETSTATE is not None else state
    state = dict(state)
    lock = state.get("_lock")  # a Condition's acquire and release: its lock's, bound
    for name in ours:
        del state[name]
        method = getattr(type(lock), name, None) if lock is not None else None
        if name in ("acquire", "release") and method is not None:
            state[name] = method.__get__(lock)  # (as asyncio's __init__ sets them)
    for name in lines:
        state[name] = deque(state[name])
    return state


_OBJECT_GETSTATE = getattr(object, "__getstate__", None)  # (3.11+; 3.10: the dict)
_LINES = (WaitLine, HeldLine)
_LINE_NAMES = ("_putters", "_getters", "_waiters")


#: What the per-object wrappers set on an object (``strip`` takes them off).
_WRAPPERS = ("put_nowait", "join", "acquire", "release", "wait", "set", "clear")


def strip(reg: Registry) -> None:
    """Take every per-object wrapper off the objects traced so far: each runs asyncio's
    own methods again, its wait lines plain deques (the waiting futures kept, in order).
    For ``asyncplay attach``'s detach, on the loop's thread between two steps (a wait line
    swapped while a put() appends to it would lose the putter): the program is left with
    its objects as asyncio made them."""
    for st in reg.live:
        obj = st.ref() if st.ref is not None else None
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
            for name in ("_putters", "_getters", "_waiters"):
                line = getattr(obj, name, None)
                if type(line) in (WaitLine, HeldLine):
                    setattr(obj, name, deque(line))
        except Exception as exc:  # the tracer must never break the program
            report_failure(reg.tracer, "primitive strip", exc)
    reg.live.clear()
