"""How the objects' wrappers look to the program and in asyncplay's tables.

A traced Event's ``set`` and Lock's ``release`` run a copy of asyncio's lines where
nothing can go wrong in them (``child/primitives.py``); where something can (futures to
wake), asyncio's own method runs, so a traceback from inside it shows asyncio's frame
exactly as under python (review: an Event or Lock whose waiter belongs to a closed loop
lost the ``locks.py ... in set`` / ``in release`` lines). A blocked wait made a task
(``gather``, 3.10-3.11's ``wait_for``) is named as asyncio's coroutine, not the runtime's
wrapper of it."""

from __future__ import annotations

import re
import sys

import pytest
from helpers import asyncplay, plain

# A waiter left on a loop that is then closed: waking it raises inside asyncio's method.
EVENT = """
import asyncio
ev = asyncio.Event()
loop = asyncio.new_event_loop()
loop.create_task(ev.wait())
loop.run_until_complete(asyncio.sleep(0.01))
loop.close()
async def main():
    ev.set()
asyncio.run(main())
"""

LOCK = """
import asyncio
lock = asyncio.Lock()
async def hold():
    await lock.acquire()
    asyncio.get_running_loop().create_task(lock.acquire())
    await asyncio.sleep(0.01)
loop = asyncio.new_event_loop()
loop.run_until_complete(hold())
loop.close()
async def main():
    lock.release()
asyncio.run(main())
"""

FRAME = re.compile(r'File "[^"]*", line \d+, in (\w+)')


def _frames(stderr: bytes) -> list[str]:
    """The traceback's functions, from the program's module to the error."""
    return FRAME.findall(stderr.decode(errors="replace"))


@pytest.mark.parametrize(
    ("program", "method"), [(EVENT, "set"), (LOCK, "release")], ids=["event", "lock"]
)
def test_an_error_inside_asyncios_method_shows_its_frame(tmp_path, program, method) -> None:
    path = tmp_path / "prog.py"
    path.write_text(program)
    want = plain(sys.executable, str(path), cwd=tmp_path)
    got = asyncplay("run", "--quiet", str(path), cwd=tmp_path)
    assert want.returncode == 1 and method in _frames(want.stderr), want.stderr.decode()
    assert got.returncode == 1, got.stderr.decode()
    assert _frames(got.stderr) == _frames(want.stderr), got.stderr.decode()


# Each wait blocks (a semaphore's or a condition's would be timed by a coroutine of the
# runtime's around asyncio's; these by their lines of waiters).
TASKS = """
import asyncio
async def main():
    ev, lock = asyncio.Event(), asyncio.Lock()
    try:
        await asyncio.wait_for(ev.wait(), 0.05)
    except asyncio.TimeoutError:
        pass
    await lock.acquire()
    asyncio.get_running_loop().call_later(0.02, lock.release)
    await asyncio.gather(lock.acquire(), ev.wait(), ev_set(ev))
async def ev_set(ev):
    await asyncio.sleep(0.03)
    ev.set()
asyncio.run(main())
"""


def test_a_blocked_wait_made_a_task_is_named_as_asyncios_coroutine(tmp_path) -> None:
    """Review: the tasks' table said ``_timed`` for these."""
    path = tmp_path / "prog.py"
    path.write_text(TASKS)
    want = plain(sys.executable, str(path), cwd=tmp_path)
    assert want.returncode == 0, want.stderr.decode()
    got = asyncplay("run", "--json", str(path), cwd=tmp_path)
    assert got.returncode == 0, got.stderr.decode()
    made = [(e["line"], e["coro"]) for e in got.kinds("task_created")][1:-2]  # (main; end's)
    gathered = [(11, "Lock.acquire"), (11, "Event.wait"), (11, "ev_set")]
    if sys.version_info < (3, 12):  # (3.12+: wait_for awaits without a task)
        assert made == [(6, "Event.wait"), *gathered], made
    else:
        assert made == gathered, made


# Blocked waits made tasks: asyncio's coroutines, with nothing of the runtime's in their
# chains (a blocked Event.wait, Lock.acquire and Semaphore.acquire are timed by their line of waiters:
# ``wait_lines.HeldLine``), so a task's repr and stack read as under python (they said
# ``_timed() running at .../primitives.py``).
REPRS = """
import asyncio, re
async def main():
    ev, lock, sem = asyncio.Event(), asyncio.Lock(), asyncio.Semaphore(0)
    await lock.acquire()
    tasks = [asyncio.ensure_future(ev.wait()), asyncio.ensure_future(lock.acquire())]
    tasks.append(asyncio.ensure_future(sem.acquire()))
    await asyncio.sleep(0)
    for t in tasks:
        print(re.sub(r" at 0x[0-9a-f]+", "", repr(t)))
        print([f.f_code.co_name for f in t.get_stack()], t.get_coro().__qualname__)
    ev.set()
    lock.release()
    sem.release()
    print(await asyncio.gather(*tasks))
asyncio.run(main())
"""


def test_a_blocked_wait_made_a_task_reads_as_under_python(tmp_path) -> None:
    path = tmp_path / "prog.py"
    path.write_text(REPRS)
    want = plain(sys.executable, str(path), cwd=tmp_path)
    assert want.returncode == 0 and b"Event.wait() running at" in want.stdout, want.stderr
    got = asyncplay("run", "--quiet", str(path), cwd=tmp_path)
    assert got.returncode == 0, got.stderr.decode()
    assert got.stdout == want.stdout
