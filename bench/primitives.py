"""The cost of watching the program's queues, locks, semaphores, conditions and events:
``asyncplay run`` against plain Python, side by side, interleaved round by round, wall
and CPU (user + system of every process), ratios of medians.

``queue`` is issue #19's budget (within 2x plain python's wall time): 100,000 put/get
pairs through a bounded ``asyncio.Queue``, then a ``Semaphore`` taken 100,000 times by 8
workers. The others are the same kind of load in other shapes: a Lock in a tight loop,
an Event set and waited, a Condition's producer/consumer, ``put_nowait``/``get_nowait``
on the three queue kinds, and many queues and locks at once. ``--against DIR`` (a
``git archive main | tar -x -C DIR`` of an older checkout) adds its ``asyncplay run``
as a third side. ``engine_features.py --program primitives`` runs ``queue`` against an
older child runtime only.

    python bench/primitives.py                                  # queue, 5 rounds
    python bench/primitives.py --program all --python /root/.pyenv/versions/3.12.1/bin/python3.12
    python bench/primitives.py --program lock --program event --against /tmp/before
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """
import asyncio

N = 100_000

async def producer(q):
    for i in range(N):
        await q.put(i)

async def consumer(q):
    for _ in range(N):
        await q.get()
        q.task_done()

async def worker(sem, n):
    for _ in range(n):
        async with sem:
            pass

async def main():
    q = asyncio.Queue(maxsize=100)
    await asyncio.gather(producer(q), consumer(q))
    sem = asyncio.Semaphore(2)
    await asyncio.gather(*(worker(sem, N // 8) for _ in range(8)))

asyncio.run(main())
"""

PROGRAMS = {
    "queue": ("100,000 put/get pairs, Queue(maxsize=100); Semaphore(2) x 100,000", PROGRAM),
    "lock": (
        "a Lock taken 200,000 times by 4 tasks, each yielding every 100",
        """
import asyncio

async def worker(lock):
    for i in range(50_000):
        async with lock:
            pass
        if i % 100 == 0:
            await asyncio.sleep(0)

async def main():
    lock = asyncio.Lock()
    await asyncio.gather(*(worker(lock) for _ in range(4)))

asyncio.run(main())
""",
    ),
    "event": (
        "100,000 set/wait/clear of an Event; two tasks woken in turn 10,000 times",
        """
import asyncio

async def ping(mine, theirs, n):
    for _ in range(n):
        await mine.wait()
        mine.clear()
        theirs.set()

async def main():
    ev = asyncio.Event()
    for _ in range(100_000):
        ev.set()
        await ev.wait()
        ev.clear()
    a, b = asyncio.Event(), asyncio.Event()
    a.set()
    await asyncio.gather(ping(a, b, 10_000), ping(b, a, 10_000))

asyncio.run(main())
""",
    ),
    "condition": (
        "a Condition between a producer and a consumer, 20,000 items, notify per item",
        """
import asyncio
from collections import deque

async def producer(cond, items, n):
    for i in range(n):
        async with cond:
            items.append(i)
            cond.notify()
        if i % 10 == 0:
            await asyncio.sleep(0)

async def consumer(cond, items, n):
    got = 0
    while got < n:
        async with cond:
            await cond.wait_for(lambda: items)
            got += len(items)
            items.clear()

async def main():
    cond, items = asyncio.Condition(), deque()
    await asyncio.gather(consumer(cond, items, 20_000), producer(cond, items, 20_000))

asyncio.run(main())
""",
    ),
    "nowait": (
        "100,000 put_nowait/get_nowait pairs on a Queue, a PriorityQueue and a LifoQueue each",
        """
import asyncio

async def main():
    for q in (asyncio.Queue(), asyncio.PriorityQueue(), asyncio.LifoQueue()):
        for i in range(100_000):
            q.put_nowait(i)
            q.get_nowait()
            if i % 1000 == 0:
                await asyncio.sleep(0)

asyncio.run(main())
""",
    ),
    "many": (
        "1,000 queues of 100 items each, drained by 1,000 tasks taking a lock of their own per item",
        """
import asyncio

async def drain(q, lock):
    for _ in range(100):
        await q.get()
        async with lock:
            pass

async def main():
    queues = [asyncio.Queue() for _ in range(1_000)]
    locks = [asyncio.Lock() for _ in range(1_000)]
    for q in queues:
        for i in range(100):
            q.put_nowait(i)
    await asyncio.gather(*(drain(q, lock) for q, lock in zip(queues, locks)))

asyncio.run(main())
""",
    ),
}


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Wall time, and the CPU time (user + system) of the processes it ran."""
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{argv} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable, help="interpreter for every side")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--program",
        action="append",
        choices=(*PROGRAMS, "all"),
        help="which load (repeatable; default: queue, issue #19's budget)",
    )
    ap.add_argument("--against", metavar="DIR", help="an older checkout, timed as a third side")
    ns = ap.parse_args()
    names = ns.program or ["queue"]
    if "all" in names:
        names = list(PROGRAMS)
    env = dict(os.environ)
    # Measure what a user gets: cached bytecode, Python's default buffering.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONUNBUFFERED", None)
    trees = [("asyncplay", ROOT)] + ([("before", Path(ns.against))] if ns.against else [])
    envs = {}
    for label, tree in trees:
        envs[label] = dict(env, PYTHONPATH=str(tree) + os.pathsep + env.get("PYTHONPATH", ""))
        subprocess.run(
            [ns.python, "-m", "compileall", "-q", str(tree / "asyncplay")],
            env=envs[label],
            check=True,
        )
    version = subprocess.run(
        [ns.python, "-c", "import sys;print(*sys.version_info[:3], sep='.')"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    load = os.getloadavg()[0]
    print(f"Python {version}, {ns.rounds} rounds, medians, load {load:.1f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            what, program = PROGRAMS[name]
            path = Path(tmp) / f"{name}.py"
            path.write_text(program)
            sides = [("plain", [ns.python, str(path)], env)]
            # summary included (no --quiet): what a user gets; from a folder of its own,
            # so the checkout imported is the one PYTHONPATH names
            sides += [
                (label, [ns.python, "-m", "asyncplay", "run", str(path)], envs[label])
                for label, _tree in trees
            ]
            for _label, argv, side_env in sides:  # warm caches and .pyc files
                subprocess.run(argv, capture_output=True, env=side_env, cwd=tmp)
            times: dict[str, list[tuple[float, float]]] = {label: [] for label, *_ in sides}
            for _ in range(ns.rounds):
                for label, argv, side_env in sides:
                    times[label].append(timed(argv, side_env, tmp))
            wall = {k: statistics.median(w for w, _c in v) for k, v in times.items()}
            cpu = {k: statistics.median(c for _w, c in v) for k, v in times.items()}
            print(f"{name}: {what}")
            print(f"  plain          wall {wall['plain']:.3f}s  CPU {cpu['plain']:.3f}s")
            for label, _tree in trees:
                print(
                    f"  {label:<14} wall {wall[label]:.3f}s  CPU {cpu[label]:.3f}s  "
                    f"ratio wall {wall[label] / wall['plain']:.2f}x, "
                    f"CPU {cpu[label] / cpu['plain']:.2f}x"
                )


if __name__ == "__main__":
    main()
