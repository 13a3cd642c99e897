"""The child runtime alone on a program that waits (``bench/cost.py``'s shapes, or one of
the extra ones below), in one process: a ``Tracer`` over a channel to /dev/null, installed
as a headless run installs it (figures mode), or none (plain).

No parent, no sandbox: what is left is the child's own work per wait and per object
operation. Made for instruction counts, which the machine's load does not move:

    valgrind --tool=callgrind --toggle-collect=functools_reduce \\
        python bench/child_shapes.py events traced --steady
    valgrind --tool=callgrind --toggle-collect=functools_reduce \\
        python bench/child_shapes.py events plain

(the program's ``asyncio.run`` runs inside ``functools.reduce``: the count is the run's,
not the imports'; ``--steady``: nothing is sent by the clock, which valgrind slows
50-fold (flushes every 50 ms, the deferred states and figures every 0.2 s): the channel
goes when the loop is about to wait and at the end, so two counts of the same checkout
agree to a fraction of a per cent.) Without
valgrind it prints the CPU time the program took (``--rounds N``: the best of N).
``PYTHONPATH`` picks the checkout measured.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost import PROGRAMS  # noqa: E402

# Programs that wait, not bench/cost.py's: what a general change must help too.
EXTRA = {
    "condition": """\
import asyncio

async def consumer(cond, box, n):
    for _ in range(n):
        async with cond:
            await cond.wait_for(lambda: box)
            box.pop()

async def producer(cond, box, n):
    for i in range(n):
        async with cond:
            box.append(i)
            cond.notify()
        await asyncio.sleep(0)

async def main():
    cond, box = asyncio.Condition(), []
    await asyncio.gather(
        *(consumer(cond, box, 1_000) for _ in range(10)),
        *(producer(cond, box, 1_000) for _ in range(10)),
    )

asyncio.run(main())
""",
    "taskgroup": """\
import asyncio

async def leaf(i):
    await asyncio.sleep(0)
    await asyncio.sleep(0.0005)
    return i

async def group():
    async with asyncio.TaskGroup() as tg:
        for i in range(50):
            tg.create_task(leaf(i))

async def main():
    for _ in range(40):
        async with asyncio.timeout(5):
            await group()

asyncio.run(main())
""",
    "broadcast": """\
import asyncio

async def listener(ev, done, rounds):
    for r in range(rounds):
        await ev[r].wait()
    done.release()

async def main():
    rounds, n = 60, 300
    evs = [asyncio.Event() for _ in range(rounds)]
    done = asyncio.Semaphore(0)
    tasks = [asyncio.create_task(listener(evs, done, rounds)) for _ in range(n)]
    for ev in evs:
        await asyncio.sleep(0)
        ev.set()
    for _ in range(n):
        await done.acquire()
    await asyncio.gather(*tasks)

asyncio.run(main())
""",
    "bounded": """\
import asyncio

async def producer(q, n):
    for i in range(n):
        await q.put(i)

async def consumer(q):
    while True:
        item = await q.get()
        q.task_done()
        if item is None:
            return

async def main():
    q = asyncio.Queue(maxsize=4)
    consumers = [asyncio.create_task(consumer(q)) for _ in range(3)]
    await asyncio.gather(*(producer(q, 200) for _ in range(100)))
    for _ in consumers:
        await q.put(None)
    await asyncio.gather(*consumers)

asyncio.run(main())
""",
}


def source(name: str) -> str:
    return EXTRA[name] if name in EXTRA else PROGRAMS[name][1]


def main() -> None:
    names = sorted(EXTRA) + [n for n in PROGRAMS if n not in ("tasks", "prints", "hello")]
    ap = argparse.ArgumentParser(description="bench: the child runtime alone, a waiting program")
    ap.add_argument("program", choices=names)
    ap.add_argument("mode", choices=["traced", "plain"])
    ap.add_argument("--records", choices=["steps", "figures", "both"], default="figures")
    ap.add_argument("--steady", action="store_true", help="no flush falls due by the clock")
    ap.add_argument("--rounds", type=int, default=1, help="runs, in one process: the best")
    ns = ap.parse_args()
    if ns.program == "taskgroup" and sys.version_info < (3, 11):
        ap.error("taskgroup needs Python 3.11+")
    code = compile(source(ns.program), f"/tmp/asyncplay-bench/{ns.program}.py", "exec")
    best = float("inf")
    for _ in range(ns.rounds):
        tracer = None
        if ns.mode == "traced":
            from asyncplay.child import channel
            from asyncplay.child.tracer import Tracer

            if ns.steady:  # (what is sent by the clock: every 50 ms, 0.2 s)
                from asyncplay.child import primitive_figures, step_figures

                channel.FLUSH_INTERVAL = 1e9
                primitive_figures.SEND_EVERY = step_figures.SEND_EVERY = 1e9
            tracer = Tracer(channel.Channel(os.open(os.devnull, os.O_WRONLY)), time.perf_counter())
            tracer.step_records = ns.records
            tracer.install(asyncio)
        glb = {"__name__": "__main__"}
        start = time.process_time()
        functools.reduce(lambda _a, _b: exec(code, glb), [0, 0])
        took = time.process_time() - start
        if tracer is not None:
            tracer.flush()
            tracer.uninstall()
        best = min(best, took)
    print(f"{ns.program} {ns.mode}: {best:.3f} s CPU", file=sys.stderr)


if __name__ == "__main__":
    main()
