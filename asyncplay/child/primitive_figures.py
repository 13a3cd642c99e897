"""What is kept and sent of each queue, lock, semaphore, condition and event the program
creates: its figures (``Stats``), the run's registry of them, the helpers the wrappers
(``primitives.py``) update them with, and the ``primitive_state`` records.

The hot paths touch slots only, and mark an object changed once per flush (``mark``,
inlined in the wrappers); a flush sends the changed objects, so its cost is what changed,
not what exists. In figures mode (the headless summary: nothing reads an object's figures
before the run's end) a lock's, semaphore's, condition's or event's state is noted at each
flush and sent every ``SEND_EVERY`` (``Registry.defer``): the same last state, fewer records.
"""

from __future__ import annotations

import _thread
import time

from asyncplay.child.failures import report_failure
from asyncplay.protocol import (
    STATE_CLEAR,
    STATE_LOCK,
    STATE_QUEUED,
    STATE_SET,
    WAIT_ORDER,
    pack_state,
)

__all__ = [
    "Registry", "Stats", "end_wait", "hold", "holds", "mark", "released", "sample",
    "send_states", "start_wait", "wrap_flush",
]  # fmt: skip

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_perf = time.perf_counter
# Figures mode: the deferred states go at most this long after the flush that saw them
# (as the tasks' figures, child/step_figures.py SEND_EVERY), before any real wait of the
# loop (``before_wait``), and at the end.
SEND_EVERY = 0.2


class Stats:
    """One primitive's figures. Times are ``perf_counter`` values until sent.

    The hot paths (put, acquire, release) touch slots only: no tuple, no list entry. A
    hold is the first holder's (``holder``, ``since``); a semaphore's other holders go in
    ``more``, ``[task record or None, since]`` each.
    """

    __slots__ = (
        "id", "kind", "puts", "peak", "samples", "last_ms", "put_wait", "get_wait",
        "joiners", "max_joiners", "acquisitions", "holder", "since", "more", "waiters",
        "max_waiters", "longest_wait", "held", "set_since", "total_waited", "items", "sent",
        "longest_hold", "ref", "size", "dirty", "gone", "seen", "pending",
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
        self.dirty = False  # changed since the last flush (in the registry's ``dirty``)
        self.gone = False  # the program let the object go
        self.seen = 0.0  # deferred (Registry.defer): the flush that saw its last change
        self.pending = False  # deferred, not sent yet (in the registry's ``pending``)


class Registry:
    """The primitives of the run and the ones changed since the last flush."""

    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer
        self.next_id = 1
        self.live: list[Stats] = []  # for ``strip``: the gone ones dropped now and then
        self.pruned_at = 64  # ``live``'s length that prunes it next
        self.dirty: list[Stats] = []  # changed since the last flush (each once)
        self.nonempty: list[Stats] = []  # queues with items at the last flush (a get
        # changes them unseen: get_nowait is not wrapped)
        self.kinds: dict[type, str] = {}
        self.derived: set[type] = set()  # classes derived from the five, seen made
        self.names: dict[int, Any] = {}  # id(code) -> {offset: assigned name or None}
        self.codes: list = []  # keeps the codes of ``names`` alive (ids not reused)
        self.flush_wrapped = False
        # Figures mode: a lock's, semaphore's, condition's or event's changed state is
        # noted at each flush (``seen``) and sent from there every SEND_EVERY, at a long
        # wait and at the end (``due``). Queues are sent at each flush: their size samples
        # are cut into records where the flushes fall, as the parent keeps them.
        self.defer = getattr(tracer, "step_records", "steps") == "figures"
        self.pending: list[Stats] = []
        self.sent_at = 0.0  # when the deferred states last went
        self.due = False  # send the deferred states at the next flush


def mark(reg: Registry, st: Stats) -> None:
    """``st`` changed: the next flush sends it (the hot paths inline this)."""
    if not st.dirty:
        st.dirty = True
        reg.dirty.append(st)


def start_wait(reg: Registry, st: Stats, why: str) -> list:
    mark(reg, st)
    entry = [reg.tracer.current, _perf(), why]
    st.waiters.append(entry)
    if len(st.waiters) > st.max_waiters:
        st.max_waiters = len(st.waiters)
    return entry


def end_wait(reg: Registry, st: Stats, entry: list) -> float:
    mark(reg, st)
    waited = _perf() - entry[1]
    try:
        st.waiters.remove(entry)
    except ValueError:
        pass
    if waited > st.longest_wait:
        st.longest_wait = waited
    st.total_waited += waited
    return waited


def sample(st: Stats, t0: float, now: float, size: int) -> None:
    """A queue's size at ``now``: one sample per millisecond of the run, the last wins."""
    ms = int((now - t0) * 1000)
    if ms == st.last_ms and st.samples:
        st.samples[-1] = (now, size)
    else:
        st.samples.append((now, size))
        st.last_ms = ms


def hold(st: Stats, rec: Any, now: float) -> None:
    if st.since is None:
        st.holder, st.since = rec, now
    else:
        st.more.append((rec, now))


def released(st: Stats, current: Any) -> None:
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


def holds(st: Stats) -> list:
    """``[task record, since]`` of every hold going on, oldest first."""
    holds = list(st.more)
    if st.since is not None:
        holds.append((st.holder, st.since))
        holds.sort(key=lambda h: h[1])
    return holds


# ---- sending ------------------------------------------------------------------------------


def wrap_flush(reg: Registry) -> None:
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
    if reg.defer:
        orig_at_exit = tracer.at_exit

        def at_exit() -> None:
            reg.due = True  # its flush is the run's last
            orig_at_exit()

        tracer.patches.set(tracer, "at_exit", at_exit)


def before_wait(reg: Registry, timeout: float | None) -> bool:
    """Whether the flush before the loop's wait of ``timeout`` s (None: no timer) must
    send the objects' states: changed ones, and deferred ones before any real wait. Only
    a busy loop (selects with timeout 0) defers: a run that waits, however briefly, and
    then dies (``os._exit``, a limit's kill) must not end on an old state (a lock shown
    held for the whole run); a loop that waits has the time, and sent as often as this
    it costs what every flush's records cost before the deferral."""
    if reg.pending and (timeout is None or timeout > 0):
        reg.due = True
        return True
    return bool(reg.dirty or reg.nonempty)


def send_states(reg: Registry) -> None:
    """One ``primitive_state`` record per primitive changed since the last call: those the
    wrappers marked (each once), and the queues that had items (a get, not wrapped, may
    have taken some). A flush costs what changed, not what exists."""
    tracer = reg.tracer
    try:
        t0 = tracer.t0
        now = _perf()
        dirty = reg.dirty
        n = len(dirty)
        batch = dirty[:n] + [st for st in reg.nonempty if not st.dirty]
        del dirty[:n]  # (a weak reference's callback may append meanwhile: kept)
        nonempty = []
        defer, pending = reg.defer, reg.pending
        for st in batch:
            st.dirty = False
            queued = st.kind.endswith("Queue")
            if queued:
                obj = st.ref() if st.ref is not None else None
                if obj is not None:
                    st.size = len(obj._queue)
                elif st.items is not None:
                    st.size = len(st.items)
                if st.size and not st.gone:
                    nonempty.append(st)
            key = (
                st.puts, st.acquisitions, st.held, st.since, len(st.more), len(st.waiters),
                st.joiners, st.set_since, st.max_waiters, len(st.samples), st.size,
            )  # fmt: skip
            if key == st.sent:
                continue
            st.sent = key
            if defer and not queued:
                # Sent later as of now: nothing it is sent from changes without a mark,
                # which a later flush would see (figures as of ``seen``, to the bit).
                st.seen = now
                if not st.pending:
                    st.pending = True
                    pending.append(st)
                continue
            _send_state(tracer, st, t0, now)
        reg.nonempty = nonempty
        if pending and (reg.due or now - reg.sent_at >= SEND_EVERY):
            for st in pending:
                st.pending = False
                _send_state(tracer, st, t0, st.seen)
            pending.clear()
            reg.sent_at = now
        reg.due = False
    except Exception as exc:  # the tracer must never break the program
        report_failure(tracer, "primitive state", exc)


def _send_state(tracer: Any, st: Stats, t0: float, now: float) -> None:
    """``st``'s figures as of ``now``, one ``P`` record (docs/protocol.md,
    ``primitive_state``): packed by struct, no dict, no JSON (#15: the events program
    sends one per changed event per flush)."""
    if not tracer.enabled:
        return
    waiters = st.waiters
    if st.since is None and not st.more and not waiters:  # (an event's, mostly: no
        holders: list = []  # hold or wait going on, the sums below are of nothing)
        held, waited = st.held, st.total_waited
        longest, longest_hold = st.longest_wait, st.longest_hold
        wtids: list = []
        wkinds: list = []
    else:
        going = holds(st)
        holders = [_tid0(h[0]) for h in going]
        wtids = [_tid0(w[0]) for w in waiters]
        wkinds = [_WAIT_INDEX[w[2]] for w in waiters]
        held = st.held + sum(now - h[1] for h in going)
        longest = max([st.longest_wait, *(now - w[1] for w in waiters)])
        waited = st.total_waited + sum(now - w[1] for w in waiters)
        longest_hold = max([st.longest_hold, *(now - h[1] for h in going)])
    if st.set_since is not None:
        held += now - st.set_since
    kind = st.kind
    queue = None
    sizes: list = []
    if kind.endswith("Queue"):
        shape = STATE_QUEUED
        size = st.size
        if not st.samples or st.samples[-1][1] != size or st.sent[-1] != size:
            sample(st, t0, now, size)
        queue = (
            size,
            st.peak,
            st.puts,
            max(0, st.puts - size),
            st.put_wait + sum(now - w[1] for w in waiters if w[2] == "put"),
            st.get_wait + sum(now - w[1] for w in waiters if w[2] == "get"),
            st.joiners,
            st.max_joiners,
        )
        sizes = [(max(0.0, t - t0), n) for t, n in st.samples]
        st.samples = []
    elif kind == "Event":
        shape = STATE_SET if st.set_since is not None else STATE_CLEAR
    else:
        shape = STATE_LOCK
    head = (now - t0, st.id, st.acquisitions, st.max_waiters, longest, held, waited,
            longest_hold, shape)  # fmt: skip
    tracer.channel.buf += pack_state(head, queue, holders, wtids, wkinds, sizes)


_WAIT_INDEX = {why: n for n, why in enumerate(WAIT_ORDER)}


def _tid0(rec: Any) -> int:
    return rec.tid if rec is not None else 0
