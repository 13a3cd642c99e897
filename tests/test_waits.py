"""What a task waits on, through ``describe``'s caches (child/waits.py): each step's words
and line are what working them out afresh would give, where a cache could go stale.

The end-to-end tests run a program under ``asyncplay run --json`` on every installed
CPython and compare each task's waits, step by step, with what the source says; the
others drive the caches directly on this interpreter.
"""

from __future__ import annotations

import asyncio
import os
import time
from types import SimpleNamespace

import pytest
from helpers import asyncplay
from pythons import SUPPORTED_VERSIONS, python_or_skip

from asyncplay.child import waits
from asyncplay.child.channel import Channel
from asyncplay.child.safe_repr import short_number
from asyncplay.child.task_record import new_record
from asyncplay.child.tracer import Tracer

# One code waiting at two lines; a delay that differs per call; one asyncio method (get)
# on objects of three types; a generator-based coroutine whose one frame waits at two
# lines; wait() and to_thread() named by what they are given.
SHAPES = """\
import asyncio
import threading
import time
import types


class Inbox(asyncio.Queue):
    pass


class Outbox(asyncio.Queue):
    pass


async def alternate(q, box, asked):
    for i in range(4):
        if i % 2:
            asked.set()  # (the feeder puts once this step has suspended)
            await q.get()  # GET
        else:
            await asyncio.sleep(0.001 * (i + 1))  # SLEEP
    asked.set()
    await box.get()  # BOX


async def feed(q, box, asked):
    for _ in range(2):
        await asked.wait()
        asked.clear()
        q.put_nowait(1)
    await asked.wait()
    box.put_nowait(1)


@types.coroutine
def two_futures(first, second):
    yield from first  # FIRST
    yield from second  # SECOND


async def gen_based(first, second):
    await two_futures(first, second)


async def waiter():
    await asyncio.wait([asyncio.create_task(asyncio.sleep(0.01))])  # WAIT
    t1 = asyncio.create_task(asyncio.sleep(0.01))
    await asyncio.wait([t1, asyncio.create_task(asyncio.sleep(0.01))])  # WAIT
    await asyncio.to_thread(threading.Event().wait, 0.01)  # THREAD
    await asyncio.to_thread(time.sleep, 0.01)  # THREAD


async def main():
    loop = asyncio.get_running_loop()
    first, second = loop.create_future(), loop.create_future()
    tasks = [asyncio.create_task(gen_based(first, second), name="gen")]
    tasks.append(asyncio.create_task(waiter(), name="waiter"))
    for name, box in (("in", Inbox()), ("out", Outbox())):
        q, asked = asyncio.Queue(), asyncio.Event()
        tasks.append(asyncio.create_task(alternate(q, box, asked), name=name))
        tasks.append(asyncio.create_task(feed(q, box, asked)))
    await asyncio.sleep(0.01)
    first.set_result(1)
    await asyncio.sleep(0)  # (gen runs first: its wake-up was scheduled before)
    second.set_result(2)
    await asyncio.gather(*tasks)


asyncio.run(main())
"""


def _line(source: str, mark: str, nth: int = 0) -> int:
    found = [i for i, text in enumerate(source.splitlines(), 1) if text.endswith(f"# {mark}")]
    return found[nth]


def _waits_by_task(result) -> dict[str, list[tuple[str, str | None, int]]]:
    """Each task's (awaiting, file's name, line) after every step that left it waiting
    on a future."""
    names = {e["id"]: e["name"] for e in result.kinds("task_created")}
    for e in result.kinds("task_renamed"):
        names[e["id"]] = e["name"]
    seen: dict[str, list[tuple[str, str | None, int]]] = {}
    for batch in result.kinds("steps"):
        for tid, _start, _dur, awaiting, f, line in batch["steps"]:
            if awaiting:
                where = os.path.basename(f) if f else None
                seen.setdefault(names[tid], []).append((awaiting, where, line))
    return seen


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_each_step_s_wait_is_its_own(tmp_path, version) -> None:
    """The same code at two lines, per-call delays, one method on three types, a
    generator's frame at two yields: every step named and placed as the source says."""
    (tmp_path / "w.py").write_text(SHAPES)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), "w.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:]
    seen = _waits_by_task(r)
    get, sleep, box = (_line(SHAPES, m) for m in ("GET", "SLEEP", "BOX"))
    for task, queue in (("in", "Inbox"), ("out", "Outbox")):
        assert seen[task] == [
            ("sleep(0.001)", "w.py", sleep),
            ("Queue.get()", "w.py", get),
            ("sleep(0.003)", "w.py", sleep),
            ("Queue.get()", "w.py", get),
            (f"{queue}.get()", "w.py", box),
        ], task
    first, second = _line(SHAPES, "FIRST"), _line(SHAPES, "SECOND")
    assert seen["gen"] == [("future", "w.py", first), ("future", "w.py", second)]
    assert seen["waiter"] == [
        ("wait(1)", "w.py", _line(SHAPES, "WAIT")),
        ("wait(2)", "w.py", _line(SHAPES, "WAIT", 1)),
        ("to_thread(Event.wait)", "w.py", _line(SHAPES, "THREAD")),
        ("to_thread(sleep)", "w.py", _line(SHAPES, "THREAD", 1)),
    ]


# Code objects made and freed one after another (the next one is likely to get the freed
# one's id), each waiting at its own line: a cache keyed by a code's id without keeping
# the code alive would give a later one an earlier one's line.
REUSED = """\
import asyncio
import gc


async def runner(fn, fut):
    await fn(fut)


async def main():
    loop = asyncio.get_running_loop()
    for i in range(40):
        ns = {}
        exec(compile("\\n" * i + "async def made(fut):\\n    await fut\\n", "made.py", "exec"), ns)
        fut = loop.create_future()
        task = asyncio.create_task(runner(ns.pop("made"), fut), name=f"made{i}")
        await asyncio.sleep(0)
        fut.set_result(None)
        await task
        del ns, task, fut
        gc.collect()


asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_a_freed_code_s_id_reused_gets_its_own_line(tmp_path, version) -> None:
    (tmp_path / "r.py").write_text(REUSED)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), "r.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:]
    seen = _waits_by_task(r)
    assert {name: waits for name, waits in seen.items() if name.startswith("made")} == {
        f"made{i}": [("future", "made.py", i + 2)] for i in range(40)
    }


# ---- the caches, driven directly on this interpreter -----------------------------------------


@pytest.fixture
def tracer(tmp_path):
    """A tracer not installed into asyncio (nothing of this process is replaced), writing
    its records to a file; what ``describe`` needs of ``install`` set by hand."""
    fd = os.open(tmp_path / "records", os.O_WRONLY | os.O_CREAT)
    t = Tracer(Channel(fd), time.perf_counter())
    t.aio_dir = os.path.dirname(asyncio.__file__) + os.sep
    t.gathering = asyncio.tasks._GatheringFuture
    yield t
    os.close(fd)


def _describe_all(tracer, coros) -> list[str]:
    """Each coroutine run as a task to its first wait, then described."""

    async def main():
        tasks = [asyncio.ensure_future(c) for c in coros]
        await asyncio.sleep(0)
        words = []
        for i, task in enumerate(tasks):
            rec = new_record(task, i + 1, f"t{i}")
            words.append(tracer.strings.text(tracer.describe(rec, task)[0]))
            assert rec.wait[0] == tracer.strings.sid(words[-1])
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return words

    return asyncio.run(main())


def test_sleep_names_each_delay_by_its_own_text(tracer) -> None:
    """Equal values of other types (``10**16 == 1e16``, ``True == 1``, ``0 == -0.0``) have
    their own texts: each named as ``short_number`` names it, whichever came first."""
    delays = [10**16, 1e16, 1, True, 1.0, 0.5, 0.5, -0.0, 2**70, float(2**70), 1e-05]
    words = _describe_all(tracer, [asyncio.sleep(d) for d in delays])
    assert words == [f"sleep({short_number(d)})" for d in delays]
    assert words[:4] == [
        "sleep(10000000000000000)", "sleep(1e+16)", "sleep(1)", "sleep(True)",
    ]  # fmt: skip


def test_a_value_cache_stops_growing_and_never_keeps_nan(tracer) -> None:
    namer = waits._sleep_namer(tracer.strings.sid)
    ints, floats = namer.ids
    delays = [i / 7 for i in range(waits.MAX_VALUES + 50)]
    for _ in range(2):
        ids = [namer(SimpleNamespace(f_locals={"delay": d})) for d in delays]
        assert [tracer.strings.text(s) for s in ids] == [
            f"sleep({short_number(d)})" for d in delays
        ]
    assert len(floats) == waits.MAX_VALUES and ints == {}
    floats.clear()
    nan = SimpleNamespace(f_locals={"delay": float("nan")})
    assert tracer.strings.text(namer(nan)) == "sleep(nan)"
    assert tracer.strings.text(namer(nan)) == "sleep(nan)"
    assert floats == {}


def test_method_waits_are_named_by_each_object_s_type(tracer) -> None:
    class Mailbox(asyncio.Queue):
        pass

    async def get(q):
        await q.get()

    async def main():
        q, m = asyncio.Queue(), Mailbox()
        tasks = [asyncio.ensure_future(get(x)) for x in (q, m, q, m)]
        await asyncio.sleep(0)
        words = []
        for i, task in enumerate(tasks):
            rec = new_record(task, i + 1, f"t{i}")
            words.append(tracer.strings.text(tracer.describe(rec, task)[0]))
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return words

    assert asyncio.run(main()) == ["Queue.get()", "Mailbox.get()", "Queue.get()", "Mailbox.get()"]


# ---- the walk by codes against the walk by frames ---------------------------------------------

# One line awaiting something else each time (a sleep, a queue, an event, a plain future,
# an awaitable of the program's whose __await__ is a generator over two futures); a
# generator-based coroutine suspended at a bare ``yield`` of a future (its chain ends on a
# coroutine awaiting nothing: described by the frames).
MIXED = """\
import asyncio
import types


class Ticket:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def __await__(self):
        yield from self.a  # TICKET_A
        yield from self.b  # TICKET_B


@types.coroutine
def bare(fut):
    fut._asyncio_future_blocking = True
    yield fut  # BARE


async def mixed(q, ev, fut, a, b, asked):
    for aw in (asyncio.sleep(0.001), q.get(), ev.wait(), fut, Ticket(a, b)):
        asked.set()
        await aw  # MIXED


async def feed(q, ev, fut, a, b, asked):
    for n in range(5):
        await asked.wait()
        asked.clear()
        if n == 1:
            q.put_nowait(1)
        elif n == 2:
            ev.set()
        elif n == 3:
            fut.set_result(1)
        elif n == 4:
            a.set_result(1)
            await asyncio.sleep(0)
            b.set_result(2)


async def bare_waiter(fut):
    await bare(fut)


async def main():
    loop = asyncio.get_running_loop()
    q, ev, asked = asyncio.Queue(), asyncio.Event(), asyncio.Event()
    fut, a, b, lone = (loop.create_future() for _ in range(4))
    tasks = [
        asyncio.create_task(mixed(q, ev, fut, a, b, asked), name="mixed"),
        asyncio.create_task(feed(q, ev, fut, a, b, asked), name="feed"),
        asyncio.create_task(bare_waiter(lone), name="bare"),
    ]
    await asyncio.sleep(0.01)
    lone.set_result(None)
    await asyncio.gather(*tasks)


asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_one_line_awaiting_other_things_is_named_each_time(tmp_path, version) -> None:
    """The answer is cached per line and name: a line awaiting a sleep, a queue, an event,
    a future and an awaitable of the program's is named as each step waits, and the
    awaitable's own generator is where it waits, at each of its lines."""
    (tmp_path / "m.py").write_text(MIXED)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), "m.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:]
    seen = _waits_by_task(r)
    at = _line(MIXED, "MIXED")
    assert seen["mixed"] == [
        ("sleep(0.001)", "m.py", at),
        ("Queue.get()", "m.py", at),
        ("Event.wait()", "m.py", at),
        ("future", "m.py", at),
        ("future", "m.py", _line(MIXED, "TICKET_A")),
        ("future", "m.py", _line(MIXED, "TICKET_B")),
    ]
    assert seen["bare"] == [("future", "m.py", _line(MIXED, "BARE"))]


# Every wait the walk by codes (``describe``) must answer as the walk by frames
# (``describe_frames``) does, each on a tracer of its own (fresh caches), twice (the second
# answer from the caches), as texts; run by each installed CPython on this checkout.
DIFFERENTIAL = """\
import asyncio, os, sys, time, types
from asyncplay.child import waits
from asyncplay.child.channel import Channel
from asyncplay.child.task_record import new_record
from asyncplay.child.tracer import Tracer


def tracer():
    t = Tracer(Channel(os.open(os.devnull, os.O_WRONLY)), time.perf_counter())
    t.aio_dir = os.path.dirname(asyncio.__file__) + os.sep
    t.gathering = asyncio.tasks._GatheringFuture
    return t


class Ticket:
    def __init__(self, fut):
        self.fut = fut

    def __await__(self):
        yield from self.fut


class Iter:  # an awaitable whose iterator is no generator: the walk stops at it
    def __init__(self, fut):
        self.fut = fut

    def __await__(self):
        return self

    def __next__(self):
        if self.fut.done():
            raise StopIteration(self.fut.result())
        self.fut._asyncio_future_blocking = True
        return self.fut


@types.coroutine
def bare(fut):
    fut._asyncio_future_blocking = True
    yield fut


class Mailbox(asyncio.Queue):
    pass


async def on(aw):
    await aw


async def helper(aw):
    await on(aw)


async def twice(a, b, first):
    if first:
        await a
    await b


async def main():
    loop = asyncio.get_running_loop()
    fut = loop.create_future
    lock, sem = asyncio.Lock(), asyncio.Semaphore(0)
    await lock.acquire()
    q, m, ev, cond = asyncio.Queue(), Mailbox(), asyncio.Event(), asyncio.Condition()
    joined = asyncio.Queue()
    joined.put_nowait(1)
    other = asyncio.create_task(asyncio.sleep(10), name="other")

    async def in_cond():
        async with cond:
            await cond.wait()

    coros = [
        on(asyncio.sleep(0.5)), on(asyncio.sleep(10**16)), on(asyncio.sleep(1e16)),
        on(q.get()), on(m.get()), helper(q.get()), on(lock.acquire()), on(sem.acquire()),
        on(ev.wait()), helper(ev.wait()), on(asyncio.gather(fut(), fut())),
        on(asyncio.wait_for(fut(), 5)), on(asyncio.wait_for(on(fut()), 5)),
        on(asyncio.wait([fut()])), on(fut()), on(other), on(Ticket(fut())),
        on(Iter(fut())), on(bare(fut())), helper(bare(fut())), in_cond(),
        on(asyncio.shield(fut())), twice(fut(), fut(), True), twice(fut(), fut(), False),
        on(joined.join()), on(next(asyncio.as_completed([fut()]))),
        on(asyncio.sleep(0)),  # (the last one done by then)
    ]
    tasks = [asyncio.ensure_future(c) for c in coros]
    fresh = asyncio.ensure_future(on(fut()))  # described before its first step
    fast, slow = tracer(), tracer()
    out = []

    def both(i, task):
        rec_a, rec_b = new_record(task, i, "t"), new_record(task, i, "t")
        for _ in range(2):
            a = waits.describe(fast, rec_a, task)
            b = waits.describe_frames(slow, rec_b, task)
            ta = (fast.strings.text(a[0]), fast.strings.text(a[1]), a[2])
            tb = (slow.strings.text(b[0]), slow.strings.text(b[1]), b[2])
            out.append((i, ta, tb))

    both(0, fresh)
    for _ in range(3):
        await asyncio.sleep(0)
    for i, task in enumerate(tasks, 1):
        both(i, task)
    for task in [*tasks, fresh, other]:
        task.cancel()
    await asyncio.gather(*tasks, fresh, other, return_exceptions=True)
    print(repr(out))


asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_the_walk_by_codes_answers_as_the_walk_by_frames(tmp_path, version) -> None:
    import ast
    import subprocess
    from pathlib import Path

    root = Path(waits.__file__).resolve().parents[2]
    r = subprocess.run(
        [python_or_skip(version), "-c", DIFFERENTIAL],
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = ast.literal_eval(r.stdout.strip().splitlines()[-1])
    assert len(out) == 2 * 28
    assert [row for row in out if row[1] != row[2]] == []
    names = {row[1][0] for row in out}
    assert {"sleep(0.5)", "Queue.get()", "Mailbox.get()", "Lock.acquire()", "other"} <= names
    assert "as_completed()" in names
    # every one waits at a line of the program, but the task that ended (twice)
    assert [row[0] for row in out if not row[1][2]] == [27, 27]


def test_a_finished_coroutine_ends_the_walk_as_the_frames_do(tracer) -> None:
    """A chain may end on a coroutine that awaits nothing (here a finished one, whose
    frame is gone): ``describe`` leaves it to the walk by frames, which stops there."""

    async def done():
        return 1

    coro = done()
    try:
        coro.send(None)
    except StopIteration:
        pass

    async def main():
        fut = asyncio.get_running_loop().create_future()
        task = SimpleNamespace(get_coro=lambda: coro, _fut_waiter=fut)
        rec = new_record(None, 1, "t")
        return tracer.strings.text(tracer.describe(rec, task)[0]), rec.wait[1:]

    assert asyncio.run(main()) == ("future", (0, 0))


# A wait in a method of asyncio's queues, locks and events is named by its class, without
# a frame, while no instance of a class derived from it was made (primitives.py,
# ``plain_methods``): each of these waits first on an object of asyncio's own class (the
# name cached), then on one of a class made later (a program's, or asyncio's own
# subclass), then on the first again.
DERIVED = """\
import asyncio


async def wait_on(make, call):
    first = make[0]()
    for obj in (first, make[1](), first):
        task = asyncio.create_task(call(obj))
        await asyncio.sleep(0.005)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def get(q):
    await q.get()  # AT


async def acquire(sem):
    await sem.acquire()  # AT


async def wait(ev):
    await ev.wait()  # AT


async def main():
    await wait_on((asyncio.Queue, lambda: type("Box", (asyncio.Queue,), {})()), get)
    await wait_on((asyncio.Queue, asyncio.LifoQueue), get)
    await wait_on((lambda: asyncio.Semaphore(0), lambda: asyncio.BoundedSemaphore(0)), acquire)
    await wait_on((asyncio.Event, lambda: type("Flag", (asyncio.Event,), {})()), wait)


asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_a_method_is_named_by_its_class_until_a_derived_one_is_made(tmp_path, version) -> None:
    (tmp_path / "d.py").write_text(DERIVED)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), "d.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:]
    seen = [w for name, waits in _waits_by_task(r).items() if name != "Task-1" for w in waits]
    lines = [_line(DERIVED, "AT", n) for n in range(3)]
    expected = [
        ("Queue.get()", lines[0]), ("Box.get()", lines[0]), ("Queue.get()", lines[0]),
        ("Queue.get()", lines[0]), ("LifoQueue.get()", lines[0]), ("Queue.get()", lines[0]),
        ("Semaphore.acquire()", lines[1]), ("BoundedSemaphore.acquire()", lines[1]),
        ("Semaphore.acquire()", lines[1]),
        ("Event.wait()", lines[2]), ("Flag.wait()", lines[2]), ("Event.wait()", lines[2]),
    ]  # fmt: skip
    assert [(w[0], w[2]) for w in seen] == expected
    assert {w[1] for w in seen} == {"d.py"}


# An instance of a derived class need not pass through asyncio's ``__init__``: its class's
# own ``__init__`` may not call ``super().__init__()``, or an object of asyncio's class is
# given the program's by ``__class__ =``. The class is made after a wait on asyncio's own
# named it (cached): its waits are still its own (review, round 8: said ``Event.wait()``).
UNINITED = """\
import asyncio
import collections


async def wait(ev):
    await ev.wait()  # AT


async def briefly(ev):
    task = asyncio.create_task(wait(ev))
    await asyncio.sleep(0.005)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def main():
    await briefly(asyncio.Event())

    class Mine(asyncio.Event):
        def __init__(self):
            self._waiters = collections.deque()
            self._value = False

    class Recast(asyncio.Event):
        pass

    await briefly(Mine())
    other = asyncio.Event()
    other.__class__ = Recast
    await briefly(other)
    await briefly(asyncio.Event())


asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_a_derived_class_never_through_asyncios_init_is_named_as_itself(tmp_path, version):
    (tmp_path / "u.py").write_text(UNINITED)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), "u.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:]
    seen = [w for name, waits in _waits_by_task(r).items() if name != "Task-1" for w in waits]
    line = _line(UNINITED, "AT", 0)
    expected = ["Event.wait()", "Mine.wait()", "Recast.wait()", "Event.wait()"]
    assert [(w[0], w[2]) for w in seen] == [(name, line) for name in expected]
