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


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_the_programs_primitives_behave_as_under_python(tmp_path, version) -> None:
    python = python_or_skip(version)
    (tmp_path / "p.py").write_text(PROGRAM)
    want = plain(python, "p.py", cwd=tmp_path)
    assert want.returncode == 0, want.stderr
    r = asyncplay("run", "--json", "--python", python, "p.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-800:]
    got = r.program_stdout
    if version == "3.10":  # (3.10 re-adds a wrapper's frame at a bare raise: own_frames.py)
        got = got.replace("  in __init_subclass__\n", "")
    assert got == want.stdout.decode()
    assert not [e for e in r.kinds("warning") if e["kind"] == "tracer_failed"]
    locks = {e["name"]: e for e in r.kinds("summary")[0]["locks"] if e["name"]}
    # The subclass that wakes its line by popleft: no waiter left behind, none kept.
    assert locks["own"]["waiters"] == [], locks["own"]
