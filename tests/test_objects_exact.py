"""The figures of queues, locks, semaphores, conditions and events, exact where the program
makes them known (counts, peaks, waiters, who holds what at the end) and within generous
bounds where they are times, on every CPython 3.10-3.13 installed: one run of one program
per Python, checked from its ``--json`` summary and records.

What it guards: the per-object wrappers' fast paths (an acquire asyncio takes at once
counts and starts a hold; one it will block on is timed), a semaphore's holders when
another task releases, a line of cancelled waiters, the size samples' grain, objects the
program lets go (not kept alive by the runtime), and that tracing an object leaves its
attributes inline (a ``vars(obj)`` would make every attribute read of asyncio's own
methods on it slower: 3.11+).
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
import time

import pytest
from helpers import asyncplay
from pythons import find_pythons

from asyncplay.child import primitives
from asyncplay.child.patches import Patches

VERSIONS = ("3.10", "3.11", "3.12", "3.13")

PROGRAM = """
import asyncio, gc, os, sys, traceback, weakref

N = 2000
freed = []

class Item:
    pass

async def tight(lock):
    for _ in range(N):
        async with lock:
            pass

async def hold_long(lock, started):
    async with lock:
        started.set()
        await asyncio.sleep(0.2)

async def hold_short(lock):
    async with lock:
        await asyncio.sleep(0.05)

async def worker(sem):
    async with sem:
        await asyncio.sleep(0.1)

async def take(prim):
    await prim.acquire()

async def wait_for(cond):
    async with cond:
        await cond.wait()

async def wait_on(ev):
    await ev.wait()

async def wait_in_except(ev):
    try:
        raise ValueError
    except ValueError:
        await ev.wait()

async def producer(q, n):
    for i in range(n):
        await q.put(i)

async def consumer(q, n, pause):
    for _ in range(n):
        await q.get()
        if pause:
            await asyncio.sleep(pause)

def inline(obj):
    # gc sees an object's attribute values one by one while they are inline (3.11+),
    # the dict once something made one of them
    return sys.version_info < (3, 11) or dict not in map(type, gc.get_referents(obj))

async def main():
    tight_lock = asyncio.Lock()
    await tight(tight_lock)

    slow_lock = asyncio.Lock()
    started = asyncio.Event()
    first = asyncio.create_task(hold_long(slow_lock, started))
    await started.wait()
    await asyncio.gather(first, *(hold_short(slow_lock) for _ in range(3)))

    sem = asyncio.Semaphore(2)
    await asyncio.gather(*(worker(sem) for _ in range(5)))
    await tight(sem)

    # a line of waiters all cancelled: the next acquire takes it at once, no wait
    cancelled_line = asyncio.Lock()
    await cancelled_line.acquire()
    blocked = asyncio.create_task(take(cancelled_line))
    await asyncio.sleep(0)
    blocked.cancel()
    cancelled_line.release()
    await cancelled_line.acquire()
    cancelled_line.release()
    await asyncio.gather(blocked, return_exceptions=True)

    # a release through the class's own method (not the object's): the next hold
    # replaces the one never seen to end
    bypassed = asyncio.Lock()
    await bypassed.acquire()
    blocked = asyncio.create_task(take(bypassed))
    await asyncio.sleep(0)
    asyncio.Lock.release(bypassed)
    await blocked
    bypassed.release()

    # holders of a semaphore released by someone else: main's own hold goes first,
    # then the oldest (first's)
    shared = asyncio.Semaphore(3)
    a = asyncio.create_task(take(shared), name="holder-a")
    await a
    b = asyncio.create_task(take(shared), name="holder-b")
    await b
    await shared.acquire()
    shared.release()
    shared.release()

    cond = asyncio.Condition()
    waiting = [asyncio.create_task(wait_for(cond)) for _ in range(3)]
    await asyncio.sleep(0.05)
    async with cond:
        cond.notify_all()
    await asyncio.gather(*waiting)

    gate = asyncio.Event()  # three waits that block, then one that does not
    waiting = [asyncio.create_task(wait_on(gate)) for _ in range(3)]
    while len(gate._waiters) < 3:  # all three waiting: then each waits the whole sleep
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(*waiting, wait_on(gate))

    ev = asyncio.Event()
    for _ in range(N):
        ev.set()
        await ev.wait()
        ev.clear()

    bounded = asyncio.Queue(maxsize=3)
    await asyncio.gather(producer(bounded, 10), consumer(bounded, 10, 0.02))
    pingpong = asyncio.Queue(maxsize=1)
    await asyncio.gather(producer(pingpong, 3000), consumer(pingpong, 3000, 0))
    lifo = asyncio.LifoQueue()
    prio = asyncio.PriorityQueue()
    for q in (lifo, prio):
        for i in range(5):
            q.put_nowait(i)
        q.get_nowait()
        q.get_nowait()

    for i in range(50):
        let_go = asyncio.Queue()
        item = Item()
        weakref.finalize(item, freed.append, 1)
        let_go.put_nowait(item)
        if i % 2:
            let_go.get_nowait()
        del item, let_go
        if i % 10 == 0:
            await asyncio.sleep(0)  # a flush now and then
    # an Event wait cancelled: timed, not counted through
    dropped = asyncio.Event()
    waiter = asyncio.create_task(wait_on(dropped))
    while not dropped._waiters:  # waiting: then it waits the whole sleep
        await asyncio.sleep(0)
    await asyncio.sleep(0.03)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)

    # woken, then cancelled before it ran: its wait raised, not counted through
    raced = asyncio.Event()
    waiter = asyncio.create_task(wait_on(raced))
    while not raced._waiters:
        await asyncio.sleep(0)
    raced.set()
    waiter.cancel()
    print("raced", type((await asyncio.gather(waiter, return_exceptions=True))[0]).__name__)
    # a wait that goes through inside an except block: counted
    inside = asyncio.Event()
    waiter = asyncio.create_task(wait_in_except(inside))
    while not inside._waiters:
        await asyncio.sleep(0)
    inside.set()
    await waiter
    # a lock handed to a waiter cancelled before it ran: not taken by it
    handed = asyncio.Lock()
    await handed.acquire()
    blocked = asyncio.create_task(take(handed))
    while not handed._waiters:
        await asyncio.sleep(0)
    handed.release()
    blocked.cancel()
    await asyncio.gather(blocked, return_exceptions=True)
    print("handed", handed.locked())
    handed_sem = asyncio.Semaphore(0)  # the same, a semaphore's permit: given back
    blocked = asyncio.create_task(take(handed_sem))
    while not handed_sem._waiters:
        await asyncio.sleep(0)
    handed_sem.release()
    blocked.cancel()
    await asyncio.gather(blocked, return_exceptions=True)
    print("handed_sem", handed_sem._value)

    # a class's own set, clear and release run, not the wrappers' copies of asyncio's
    calls = []

    class LoudEvent(asyncio.Event):
        def set(self):
            calls.append("set")
            super().set()

        def clear(self):
            calls.append("clear")
            super().clear()

    class LoudLock(asyncio.Lock):
        def release(self):
            calls.append("release")
            super().release()

    loud = LoudEvent()
    loud_lock = LoudLock()
    loud.set()
    await loud.wait()
    loud.clear()
    async with loud_lock:
        pass
    print("calls", calls)
    unheld = asyncio.Lock()
    try:
        unheld.release()
    except RuntimeError as exc:  # raised by asyncio's own code, as without asyncplay
        where = traceback.extract_tb(exc.__traceback__)[-1]
        print("release:", exc, os.path.basename(where.filename), where.name)
    prims = sys.modules.get("asyncplay.child.primitives")
    copies = ("_EVENT_SET", "_EVENT_CLEAR", "_LOCK_RELEASE")
    print("copies", all(getattr(prims, name, None) is not None for name in copies))

    gc.collect()
    print("freed", len(freed))
    print("inline", all(map(inline, (tight_lock, sem, cond, ev, bounded, lifo, prio))))

asyncio.run(main())
"""


@pytest.fixture(scope="module", params=VERSIONS)
def run(request, tmp_path_factory):
    python = find_pythons().get(request.param)
    if python is None:
        pytest.skip(f"no CPython {request.param} installed")
    folder = tmp_path_factory.mktemp("exact")
    (folder / "exact.py").write_text(PROGRAM)
    r = asyncplay("run", "--json", "--python", python, "exact.py", cwd=folder, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    summary = r.kinds("summary")[0]
    by_name = {o["name"]: o for o in summary["queues"] + summary["locks"]}
    return r, by_name


def test_a_lock_in_a_tight_loop_counts_every_acquisition(run) -> None:
    _r, objs = run
    lock = objs["tight_lock"]
    assert lock["acquisitions"] == 2000 and lock["max_waiters"] == 0
    assert lock["longest_wait"] == 0 and lock["holders"] == [] and lock["waiters"] == []
    assert 0 < lock["held"] < 1.0, lock


def test_a_lock_held_while_three_tasks_queue(run) -> None:
    _r, objs = run
    lock = objs["slow_lock"]
    assert lock["acquisitions"] == 4 and lock["max_waiters"] == 3
    # the last in line waits for the long hold and two short ones
    assert 0.28 <= lock["longest_wait"] <= 2.0, lock
    assert 0.34 <= lock["held"] <= 2.5, lock  # 0.2 + 3 x 0.05


def test_a_semaphore_with_more_workers_than_permits(run) -> None:
    _r, objs = run
    sem = objs["sem"]
    assert sem["permits"] == 2
    assert sem["acquisitions"] == 5 + 2000 and sem["max_waiters"] == 3
    assert 0.18 <= sem["longest_wait"] <= 2.0, sem  # the fifth waits two rounds
    assert 0.49 <= sem["held"] <= 3.0, sem  # 5 holds of 0.1 s (+ the tight loop's)
    assert sem["holders"] == [] and sem["waiters"] == []


def test_an_acquire_behind_cancelled_waiters_does_not_wait(run) -> None:
    _r, objs = run
    lock = objs["cancelled_line"]
    assert lock["acquisitions"] == 2 and lock["max_waiters"] == 1, lock
    assert lock["holders"] == [] and lock["waiters"] == []


def test_a_lock_released_behind_the_wrappers_back(run) -> None:
    _r, objs = run
    lock = objs["bypassed"]
    assert lock["acquisitions"] == 2 and lock["max_waiters"] == 1, lock
    assert lock["holders"] == [] and lock["waiters"] == [], lock


def test_a_semaphore_released_by_another_task(run) -> None:
    r, objs = run
    ids = {e["name"]: e["id"] for e in r.events if e["event"] in ("task_created", "task_renamed")}
    shared = objs["shared"]
    assert shared["acquisitions"] == 3
    assert shared["holders"] == [ids["holder-b"]], (shared, ids)


def test_a_condition_counts_its_re_acquires(run) -> None:
    _r, objs = run
    cond = objs["cond"]
    # three waiters take it and wait, main takes it to notify, the three take it back
    assert cond["acquisitions"] == 7 and cond["max_waiters"] == 3, cond
    assert cond["holders"] == [] and cond["waiters"] == []


def test_an_event_set_and_waited_in_a_loop(run) -> None:
    _r, objs = run
    ev = objs["ev"]
    assert ev["acquisitions"] == 2000 and ev["max_waiters"] == 0
    assert ev["held"] < 1.0


def test_an_event_s_blocked_waits_count_as_its_quick_one(run) -> None:
    """A wait that blocked counts when it is through (the timed path), as one that did
    not block counts at once (the wrapper's fast path)."""
    _r, objs = run
    gate = objs["gate"]
    assert gate["acquisitions"] == 4 and gate["max_waiters"] == 3, gate
    assert 0.04 <= gate["longest_wait"] <= 2.0, gate
    assert gate["waiters"] == [], gate


def test_a_cancelled_event_wait_is_timed_and_not_counted(run) -> None:
    _r, objs = run
    dropped = objs["dropped"]
    assert dropped["acquisitions"] == 0 and dropped["max_waiters"] == 1, dropped
    assert dropped["waiters"] == [] and 0.02 <= dropped["longest_wait"] <= 2.0, dropped


def test_a_wait_is_counted_through_as_it_went(run) -> None:
    """A blocked wait's line of waiters (``wait_lines.HeldLine``) tells a wait that
    raised from one that went through by the exception being handled at its end: woken,
    then cancelled before it ran (it raised: not counted, as python's CancelledError
    says), one that goes through inside an ``except`` block (counted), a lock handed to a
    waiter cancelled before it ran (not taken: main's one acquisition, no holder)."""
    r, objs = run
    assert "raced CancelledError" in r.program_stdout, r.program_stdout[-2000:]
    assert "handed False" in r.program_stdout, r.program_stdout[-2000:]
    raced, inside, handed = objs["raced"], objs["inside"], objs["handed"]
    assert (raced["acquisitions"], raced["max_waiters"], raced["waiters"]) == (0, 1, []), raced
    assert (inside["acquisitions"], inside["max_waiters"], inside["waiters"]) == (1, 1, [])
    assert (handed["acquisitions"], handed["max_waiters"]) == (1, 1), handed
    assert handed["holders"] == [] and handed["waiters"] == [], handed
    assert "handed_sem 1" in r.program_stdout, r.program_stdout[-2000:]
    sem = objs["handed_sem"]
    assert (sem["acquisitions"], sem["max_waiters"], sem["holders"]) == (0, 1, []), sem


def test_a_class_s_own_set_clear_and_release_run(run) -> None:
    """The wrappers run a copy of asyncio's ``Event.set``/``clear`` and ``Lock.release``
    (one Python call less each) only where the object's class keeps asyncio's; a
    release of a lock not held still raises from asyncio's own code."""
    r, objs = run
    out = r.program_stdout
    assert "calls ['set', 'clear', 'release']" in out, out[-2000:]
    assert "release: Lock is not acquired. locks.py release" in out, out[-2000:]
    loud, loud_lock = objs["loud"], objs["loud_lock"]
    assert loud["acquisitions"] == 1 and 0 < loud["held"] < 1.0, loud
    assert loud_lock["acquisitions"] == 1 and loud_lock["holders"] == [], loud_lock


def test_the_wrappers_copies_of_asyncio_s_methods_are_used(run) -> None:
    """asyncio's ``Event.set``, ``Event.clear`` and ``Lock.release`` have the shape the
    wrappers copy (their names: ``primitives._known``) on this Python: else the copies
    are left out (slower, still exact), and this fails to say so."""
    r, _objs = run
    assert "copies True" in r.program_stdout, r.program_stdout[-2000:]


def test_queues_count_every_item(run) -> None:
    r, objs = run
    bounded = objs["bounded"]
    assert (bounded["maxsize"], bounded["peak_size"], bounded["size"]) == (3, 3, 0)
    assert bounded["puts"] == bounded["gets"] == 10
    assert 0.1 <= bounded["put_wait"] <= 3.0, bounded  # 7 puts wait on the consumer
    pingpong = objs["pingpong"]
    assert (pingpong["peak_size"], pingpong["puts"], pingpong["gets"]) == (1, 3000, 3000)
    for name in ("lifo", "prio"):
        q = objs[name]
        assert (q["puts"], q["gets"], q["size"], q["peak_size"]) == (5, 2, 3, 5), q
    assert r.program_stdout.count("\n") >= 2


def test_size_samples_come_one_per_millisecond_at_most(run) -> None:
    r, objs = run
    pid = objs["pingpong"]["id"]
    states = [e for e in r.kinds("primitive_state") if e["id"] == pid]
    samples = [s for e in states for s in e["sizes"]]
    assert samples, states
    for e in states:
        ms = [int(t * 1000) for t, _n in e["sizes"]]
        assert ms == sorted(set(ms)), e["sizes"]
    # 6,000 blocked puts and gets: the samples are bounded by the run's milliseconds
    span = samples[-1][0] - samples[0][0]
    assert len(samples) <= span * 1000 + len(states) + 1, (len(samples), span)


def test_objects_let_go_are_not_kept(run) -> None:
    r, _objs = run
    assert "freed 50" in r.program_stdout, r.program_stdout
    made = [e for e in r.kinds("primitive") if e["name"] == "let_go"]
    assert len(made) == 50
    # each one's figures, whether the flush saw it alive or gone
    queues = [q for q in r.kinds("summary")[0]["queues"] if q["name"] == "let_go"]
    assert [(q["puts"], q["gets"], q["size"]) for q in queues] == [(1, 0, 1), (1, 1, 0)] * 25


def test_traced_objects_keep_their_attributes_inline(run) -> None:
    r, _objs = run
    assert "inline True" in r.program_stdout, r.program_stdout


class _Tracer:
    """What ``primitives`` asks of the tracer, for running it in this process."""

    enabled = True
    current = None

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.patches = Patches()
        self.sent: list[dict] = []
        self.failure_lock = threading.Lock()
        self.failure_sites: set[str] = set()
        self.aio = os.path.dirname(asyncio.__file__) + os.sep

    def kind_of(self, code) -> int:
        return 1 if code.co_filename.startswith(self.aio) else 0

    def send_json(self, event: dict) -> None:
        self.sent.append(event)

    def flush(self) -> None:
        pass


def test_strip_leaves_each_object_as_asyncio_made_it() -> None:
    """``asyncplay attach``'s detach: a Condition's acquire and release are its lock's
    again (asyncio sets them on the instance), the others' are the class's."""
    tracer = _Tracer()
    primitives.install(tracer, asyncio)

    async def main() -> list:
        lock = asyncio.Lock()
        cond = asyncio.Condition(lock)
        sem = asyncio.Semaphore(2)
        q = asyncio.Queue(maxsize=1)
        async with cond:
            cond.notify_all()
        async with sem:
            q.put_nowait(1)
        traced = [vars(o).get("acquire") for o in (lock, cond, sem)]
        primitives.strip(tracer.primitives)
        async with cond:  # works, through the lock's own methods
            pass
        async with sem:
            q.put_nowait(q.get_nowait())
        assert all(f.__module__ == primitives.__name__ for f in traced)
        return [
            cond.acquire == lock.acquire and cond.release == lock.release,
            all(n not in vars(o) for o in (lock, sem) for n in ("acquire", "release")),
            all(n not in vars(q) for n in ("put_nowait", "join")),
            type(q._putters) is collections.deque,
        ]

    try:
        assert asyncio.run(main()) == [True] * 4
        assert tracer.failure_sites == set()
        assert [e["kind"] for e in tracer.sent if e["event"] == "primitive"] == [
            "Lock", "Condition", "Semaphore", "Queue",
        ]  # fmt: skip
    finally:
        tracer.patches.undo()


def test_what_a_task_waits_on_follows_the_objects_changes() -> None:
    """``views.objects.task_waits_on`` (the await graph asks it for every task it draws)
    answers from the objects as they are now, each time they change."""
    from asyncplay.model import RunModel, apply
    from asyncplay.views.objects import task_waits_on

    m = RunModel()
    for pid, kind in ((1, "Lock"), (2, "Queue")):
        apply(m, {"event": "primitive", "t": 0.0, "id": pid, "kind": kind, "name": None})

    def state(pid: int, waiters: list) -> None:
        apply(m, {"event": "primitive_state", "t": 0.1, "id": pid, "acquisitions": 1,
                  "holders": [], "waiters": waiters, "max_waiters": len(waiters),
                  "longest_wait": 0.0, "held": 0.0})  # fmt: skip

    assert task_waits_on(m, 7) is None
    state(2, [[7, "get"], [8, "get"]])
    assert task_waits_on(m, 7) is m.primitives[2] and task_waits_on(m, 8) is m.primitives[2]
    state(1, [[7, "acquire"]])
    assert task_waits_on(m, 7) is m.primitives[1]  # the first object found, as before
    state(2, [])
    state(1, [])
    assert task_waits_on(m, 7) is None and task_waits_on(m, 8) is None
