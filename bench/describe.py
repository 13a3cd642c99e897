"""``describe`` (what a task waits on, ``child/waits.py``) alone: N fresh tasks suspended
in one kind of wait, each described once, inside ``functools.reduce`` so callgrind counts
the describes and nothing else:

    valgrind --tool=callgrind --toggle-collect=functools_reduce python bench/describe.py get
    # instructions / --tasks (2,000) = per describe, ~1,060 of it the reduce's lambda

(``PYTHONHASHSEED=0``, the checkout's bytecode compiled: docs/performance.md.) A tracer
not installed into asyncio (a ``Tracer`` over /dev/null, what ``describe`` needs of
``install`` set by hand), so the program's objects are asyncio's own. Without valgrind it
prints the CPU time a describe.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # this checkout's runtime is measured

CASES = ("sleep", "get", "lock", "event", "gather", "wait_for", "sem", "future", "nested")


async def _on(aw: object) -> None:
    await aw  # type: ignore[misc]


async def _in_lock(lock: asyncio.Lock) -> None:
    async with lock:
        pass


async def _in_sem(sem: asyncio.Semaphore) -> None:
    async with sem:
        pass


async def _helper(ev: asyncio.Event) -> None:
    await ev.wait()


async def _nested(ev: asyncio.Event) -> None:
    await _helper(ev)


async def _run(case: str, n: int, noop: bool) -> float:
    sys.path.insert(0, str(ROOT))
    from asyncplay.child.channel import Channel
    from asyncplay.child.task_record import new_record
    from asyncplay.child.tracer import Tracer, load_rooms

    load_rooms()  # (the rooms a traced asyncio loads: describe's module among them)
    tracer = Tracer(Channel(os.open(os.devnull, os.O_WRONLY)), time.perf_counter())
    tracer.aio_dir = os.path.dirname(asyncio.__file__) + os.sep
    tracer.gathering = asyncio.tasks._GatheringFuture  # type: ignore[attr-defined]
    loop = asyncio.get_running_loop()
    lock, sem, q, ev = asyncio.Lock(), asyncio.Semaphore(0), asyncio.Queue(), asyncio.Event()
    await lock.acquire()
    make = {
        "sleep": lambda i: _on(asyncio.sleep(0.01 * (i % 3 + 1))),
        "get": lambda i: _on(q.get()),
        "lock": lambda i: _in_lock(lock),
        "event": lambda i: _on(ev.wait()),
        "gather": lambda i: _on(asyncio.gather(asyncio.sleep(1), asyncio.sleep(1))),
        "wait_for": lambda i: _on(asyncio.wait_for(loop.create_future(), 5)),
        "sem": lambda i: _in_sem(sem),
        "future": lambda i: _on(loop.create_future()),
        "nested": lambda i: _nested(ev),
    }[case]
    tasks = [asyncio.ensure_future(make(i)) for i in range(n)]
    for _ in range(3):
        await asyncio.sleep(0)
    pairs = [(new_record(task, i + 1, "t"), task) for i, task in enumerate(tasks)]
    describe = (lambda rec, task: None) if noop else tracer.describe
    start = time.process_time()
    functools.reduce(lambda _acc, pair: describe(*pair), pairs, None)
    took = time.process_time() - start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: describe alone, per call")
    ap.add_argument("case", choices=CASES)
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--noop", action="store_true", help="the harness alone (no describe)")
    ns = ap.parse_args()
    took = asyncio.run(_run(ns.case, ns.tasks, ns.noop))
    print(f"{ns.case}: {took / ns.tasks * 1e9:,.0f} ns CPU a describe", file=sys.stderr)


if __name__ == "__main__":
    main()
