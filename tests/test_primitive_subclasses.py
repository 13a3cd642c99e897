"""A program's own use of asyncio's queues, locks and events, under the runtime's
per-object wrappers and lines of waiters, runs as under python (review, round 8): copies
of the objects, their lines' repr and copies, subclasses whose wait or acquire take other
arguments or keep the line of waiters their own way, a subclass's bad class keywords."""

from __future__ import annotations

import pytest
from helpers import asyncplay, plain
from pythons import SUPPORTED_VERSIONS, python_or_skip

PROGRAM = '''\
import asyncio
import collections
import copy
import dataclasses


class TimedEvent(asyncio.Event):
    async def wait(self, timeout=None):
        return await asyncio.wait_for(super().wait(), timeout)


class TimedLock(asyncio.Lock):
    async def acquire(self, timeout=None):
        return await asyncio.wait_for(super().acquire(), timeout)


class OwnLine(asyncio.Event):
    """Keeps its own line: woken by popleft, never removed by its wait."""

    async def wait(self):
        if self._value:
            return True
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        await fut
        return True

    def set(self):
        self._value = True
        while self._waiters:
            self._waiters.popleft().set_result(True)


class Tagged(asyncio.Semaphore):
    async def acquire(self):
        fut = asyncio.get_running_loop().create_future()
        self._waiters = self._waiters or collections.deque()
        self._waiters.append(["tag", fut])
        self._waiters.pop()
        return await super().acquire()


@dataclasses.dataclass
class Box:
    held: object


async def main():
    ev, lock, sem, q = asyncio.Event(), asyncio.Lock(), asyncio.Semaphore(1), asyncio.Queue()
    for obj in (ev, lock, sem, q, asyncio.Condition()):
        twin = copy.deepcopy(obj)
        print(type(twin).__name__, type(copy.copy(obj)).__name__, twin.__class__ is obj.__class__)
    print(type(dataclasses.asdict(Box(lock))["held"]).__name__)
    print(ev._waiters, q._getters, type(copy.copy(ev._waiters)).__name__)
    te = TimedEvent()
    asyncio.get_running_loop().call_later(0.01, te.set)
    print("timed event", await te.wait(timeout=1))
    tl = TimedLock()
    print("timed lock", await tl.acquire(timeout=1))
    tl.release()
    own = OwnLine()
    waiters = [asyncio.create_task(own.wait()) for _ in range(2)]
    await asyncio.sleep(0.01)
    own.set()
    print("own line", await asyncio.gather(*waiters), list(own._waiters))
    tg = Tagged(1)
    print("tagged", await tg.acquire())
    try:
        class Bad(asyncio.Lock, spam=1):
            pass
    except TypeError as exc:
        print("subclass:", exc)
        tb = exc.__traceback__
        while tb is not None:
            print("  in", tb.tb_frame.f_code.co_name)
            tb = tb.tb_next


asyncio.run(main())
'''


def _as_under_python(tmp_path, version: str, program: str, drop: str = "") -> dict:
    """Run ``program`` under python and asyncplay: the same output (less ``drop``, a line
    only asyncplay prints), no failure of the runtime's; its named objects' figures."""
    python = python_or_skip(version)
    (tmp_path / "p.py").write_text(program)
    want = plain(python, "p.py", cwd=tmp_path)
    assert want.returncode == 0, want.stderr
    r = asyncplay("run", "--json", "--python", python, "p.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-800:]
    assert r.program_stdout.replace(drop, "") == want.stdout.decode()
    assert not [e for e in r.kinds("warning") if e["kind"] == "tracer_failed"]
    return {e["name"]: e for e in r.kinds("summary")[0]["locks"] if e["name"]}


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_the_programs_primitives_behave_as_under_python(tmp_path, version) -> None:
    # (3.10 re-adds a wrapper's frame at a bare raise: own_frames.py)
    drop = "  in __init_subclass__\n" if version == "3.10" else ""
    locks = _as_under_python(tmp_path, version, PROGRAM, drop)
    # The subclass that wakes its line by popleft: no waiter left behind, none kept.
    assert locks["own"]["waiters"] == [], locks["own"]


# Each override takes arguments asyncio's method does not; copies of traced objects are
# their own (the per-object wrappers are closures over the original: a copy acted on it),
# and pickle (review, round 8).
ARGUMENTS = """\
import asyncio
import copy
import dataclasses
import functools
import pickle


class Why(asyncio.Event):
    def set(self, why=None):
        print("set because", why)
        super().set()

    def clear(self, why=None):
        print("clear because", why)
        super().clear()


class Many(asyncio.Semaphore):
    def release(self, n=1):
        for _ in range(n):
            super().release()


class Tagged(asyncio.Queue):
    def put_nowait(self, item, tag=None):
        super().put_nowait((tag, item))

    async def join(self, timeout=None):
        return await asyncio.wait_for(super().join(), timeout)


class TimedLock(asyncio.Lock):
    async def acquire(self, timeout=None):
        return await asyncio.wait_for(super().acquire(), timeout)


def loud(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        print("calling", method.__name__, len(args) + len(kwargs))
        return method(self)

    return wrapper


class Wrapped(asyncio.Event):
    wait = loud(asyncio.Event.wait)


@dataclasses.dataclass
class Box:
    lock: object
    ev: object


async def main():
    w = Why()
    w.set("ready")
    w.clear(why="again")
    m = Many(0)
    m.release(2)
    print("many", m._value)
    t = Tagged()
    t.put_nowait(1, tag="a")
    print("tagged", t.get_nowait())
    t.task_done()
    print("joined", await t.join(timeout=1))
    tl = TimedLock()
    for _ in range(3):
        await tl.acquire(timeout=1)
        await asyncio.sleep(0.01)
        tl.release()
    cond = asyncio.Condition(TimedLock())
    print("cond", await cond.acquire(timeout=1))
    cond.release()
    wr = Wrapped()
    wr.set()
    print("wrapped", await wr.wait(timeout=1))
    lock, ev = asyncio.Lock(), asyncio.Event()
    for how in (copy.copy, copy.deepcopy, lambda o: pickle.loads(pickle.dumps(o))):
        a, e = how(lock), how(ev)
        await a.acquire()
        e.set()
        print("copies", lock.locked(), a.locked(), ev.is_set(), e.is_set())
    box = dataclasses.asdict(Box(lock, ev))
    await box["lock"].acquire()
    box["ev"].set()
    print("box", lock.locked(), box["lock"].locked(), ev.is_set(), box["ev"].is_set())
    c2 = copy.deepcopy(asyncio.Condition())
    async with c2:
        print("cond copy", c2.locked())
    q2 = pickle.loads(pickle.dumps(asyncio.Queue()))
    q2.put_nowait(5)
    print("queue copy", q2.qsize())


asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_overrides_with_arguments_and_copies_run_as_under_python(tmp_path, version) -> None:
    locks = _as_under_python(tmp_path, version, ARGUMENTS)
    # A pass-through override (acquire(timeout) calling super) is still counted and held.
    assert locks["tl"]["acquisitions"] == 3 and locks["tl"]["held"] > 0.02, locks["tl"]
