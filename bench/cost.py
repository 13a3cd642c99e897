"""The cost of ``asyncplay run`` against plain Python: wall and CPU, per sandbox layer.

One table for 20,000 tasks, 200,000 printed lines and a hello world (``--only shapes``:
programs that wait on sleeps, queues, events, locks, gathers, wait_for, streams, to_thread
and a semaphore; ``--only NAME`` one program), each under
``--sandbox none``, ``rlimit``, ``bwrap`` and the default (``auto``, ``--network on``),
against the same interpreter's real binary (never a pyenv shim), for each ``--python``.
Every side runs interleaved, round after round; the figures are ratios of medians, and
"worst" is the slowest round's CPU against plain's median (an outlier a median would hide).

CPU is that of every process the run starts: this script makes itself a child subreaper,
so whatever detaches (a helper, a daemonised grandchild) is reparented to it and reaped,
and the user + system time of every reaped process is in ``RUSAGE_CHILDREN``. The task
summary is included (no ``--quiet``): it is what a user gets.

    python bench/cost.py                     # 3.11 and 3.13 from pyenv, 5 rounds
    python bench/cost.py --rounds 9 --only tasks --python /usr/bin/python3
    python bench/cost.py --only shapes --layer none --layer default
    python bench/cost.py --python python3.14 --python python3.15 --layer none --layer default
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROGRAMS = {
    "tasks": (
        "20,000 tasks",
        "import asyncio\n\n"
        "async def tiny():\n"
        "    for _ in range(3):\n"
        "        await asyncio.sleep(0)\n\n"
        "async def main():\n"
        "    await asyncio.gather(*(tiny() for _ in range(20_000)))\n\n"
        "asyncio.run(main())\n",
    ),
    "prints": (
        "200,000 printed lines",
        "import asyncio\n\n"
        "async def main():\n"
        "    for i in range(200_000):\n"
        '        print("line", i)\n\n'
        "asyncio.run(main())\n",
    ),
    "hello": ("hello world", 'print("hello, world")\n'),
    # Programs that suspend on futures at nearly every step (what a task waits on is
    # worked out after each such step, which a bare sleep(0) never pays): the "shapes"
    # group, not in the default run. Each is written to NAME.py: no name of the standard
    # library (a queue.py would shadow the queue module that to_thread imports).
    "sleeps": (
        "3,000 tasks x 10 sleeps",
        """\
import asyncio

async def worker(i):
    for n in range(10):
        await asyncio.sleep(0.001 * (n % 3))

async def main():
    await asyncio.gather(*(worker(i) for i in range(3_000)))

asyncio.run(main())
""",
    ),
    "queues": (
        "queue: 4 producers, 4 consumers",
        """\
import asyncio

async def producer(q, n):
    for i in range(n):
        await q.put(i)

async def consumer(q):
    while True:
        await q.get()
        q.task_done()

async def main():
    q = asyncio.Queue(maxsize=8)
    consumers = [asyncio.create_task(consumer(q)) for _ in range(4)]
    await asyncio.gather(*(producer(q, 6_000) for _ in range(4)))
    await q.join()
    for c in consumers:
        c.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)

asyncio.run(main())
""",
    ),
    "events": (
        "events: 200 ping-pong pairs",
        """\
import asyncio

async def player(mine, theirs, rounds):
    for _ in range(rounds):
        await mine.wait()
        mine.clear()
        theirs.set()

async def main():
    players = []
    for _ in range(200):
        a, b = asyncio.Event(), asyncio.Event()
        players += [player(a, b, 100), player(b, a, 100)]
        a.set()
    await asyncio.gather(*players)

asyncio.run(main())
""",
    ),
    "locks": (
        "2,000 tasks on one Lock",
        """\
import asyncio

async def worker(lock, shared):
    for _ in range(10):
        async with lock:
            shared[0] += 1
            await asyncio.sleep(0)

async def main():
    lock, shared = asyncio.Lock(), [0]
    await asyncio.gather(*(worker(lock, shared) for _ in range(2_000)))

asyncio.run(main())
""",
    ),
    "gathers": (
        "gather of gathers",
        """\
import asyncio

async def leaf(i):
    await asyncio.sleep(0.001)
    return i

async def branch(n):
    return sum(await asyncio.gather(*(leaf(i) for i in range(n))))

async def main():
    for _ in range(5):
        await asyncio.gather(*(branch(20) for _ in range(150)))

asyncio.run(main())
""",
    ),
    "wait_for": (
        "1,000 tasks x 10 wait_for",
        """\
import asyncio

async def answer(fut):
    await asyncio.sleep(0)
    fut.set_result(1)

async def asker(loop):
    for _ in range(10):
        fut = loop.create_future()
        asyncio.create_task(answer(fut))
        await asyncio.wait_for(fut, 5)

async def main():
    loop = asyncio.get_running_loop()
    await asyncio.gather(*(asker(loop) for _ in range(1_000)))

asyncio.run(main())
""",
    ),
    "streams": (
        "streams: 15 echo clients",
        """\
import asyncio

async def echo(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()

async def client(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for i in range(200):
        writer.write(b"ping %d\\n" % i)
        await writer.drain()
        await reader.readline()
    writer.close()
    await writer.wait_closed()

async def main():
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        await asyncio.gather(*(client(port) for _ in range(15)))

asyncio.run(main())
""",
    ),
    "to_thread": (
        "2,000 to_thread calls",
        """\
import asyncio

def work(n):
    return n * n

async def main():
    for _ in range(20):
        await asyncio.gather(*(asyncio.to_thread(work, i) for i in range(100)))

asyncio.run(main())
""",
    ),
    "semaphore": (
        "Semaphore(50), 6,000 jobs",
        """\
import asyncio

async def job(sem, i):
    async with sem:
        await asyncio.sleep(0.001)

async def main():
    sem = asyncio.Semaphore(50)
    await asyncio.gather(*(job(sem, i) for i in range(6_000)))

asyncio.run(main())
""",
    ),
}
DEFAULT = ("tasks", "prints", "hello")
GROUPS = {"shapes": tuple(n for n in PROGRAMS if n not in DEFAULT)}
LAYERS = [
    ("none", ["--sandbox", "none"]),
    ("rlimit", ["--sandbox", "rlimit"]),
    ("bwrap", ["--sandbox", "bwrap"]),
    ("default", []),
]
GOALS = {name: (1.5, 1.6) for name in PROGRAMS} | {"hello": (3.0, None)}
PR_SET_CHILD_SUBREAPER = 36


def real_pythons() -> list[str]:
    """The real binaries of pyenv's 3.11 and 3.13 (a shim would add its own start-up)."""
    found = []
    for minor in ("3.11", "3.13"):
        paths = sorted(glob.glob(f"/root/.pyenv/versions/{minor}.*/bin/python{minor}"))
        if paths:
            found.append(paths[-1])
    return found or [os.path.realpath(sys.executable)]


def real_binary(python: str) -> str:
    """The interpreter itself: found on PATH, through symlinks and a wrapper script
    (``.ci/debian-pythons`` puts ``exec /opt/.../python3.14 "$@"`` in /usr/local/bin)."""
    path = os.path.realpath(shutil.which(python) or python)
    return subprocess.run(
        [path, "-c", "import sys; print(sys.executable)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall, CPU) of one run: wall until the command exits, CPU of it and every
    process it started, detached ones included (reaped here as their subreaper)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd
        )
        proc.wait()
        wall = time.perf_counter() - start
        while True:  # whatever detached: wait for it to end, and count it
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"{argv} failed ({proc.returncode}): {err.read().decode()[-500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def compile_trees(
    python: str, roots: list[tuple[str, str]], envs: dict[str, dict[str, str]]
) -> None:
    """Each tree's ``.pyc`` files written by ``python`` before any side is timed, so no
    round pays a compile the others do not."""
    for _, root in roots:
        subprocess.run(
            [python, "-m", "compileall", "-q", os.path.join(root, "asyncplay")],
            env=envs[root],
            check=True,
        )


def version_of(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import sys;print(*sys.version_info[:3], sep='.')"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: asyncplay run against plain Python")
    ap.add_argument("--python", action="append", help="interpreter (repeatable)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--only",
        action="append",
        choices=sorted(PROGRAMS) + sorted(GROUPS),
        help="a program, or a group of them (shapes); default: " + ", ".join(DEFAULT),
    )
    ap.add_argument("--layer", action="append", choices=[name for name, _ in LAYERS])
    ap.add_argument(
        "--against",
        metavar="DIR",
        help="another checkout's asyncplay, run interleaved too (its rows say 'before')",
    )
    ns = ap.parse_args()
    # A name on PATH (python3.14) as the shell finds it; then its real binary (a wrapper
    # script or a shim would add its own start-up to both sides).
    pythons = [real_binary(p) for p in ns.python] if ns.python else real_pythons()
    names = [n for only in ns.only or DEFAULT for n in GROUPS.get(only, (only,))]
    layers = [(n, f) for n, f in LAYERS if not ns.layer or n in ns.layer]
    become_subreaper()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # what a user gets: cached bytecode
    env.pop("PYTHONUNBUFFERED", None)
    roots = [("", str(ROOT))] + ([("before ", os.path.abspath(ns.against))] if ns.against else [])
    envs = {
        root: dict(env, PYTHONPATH=root + os.pathsep + env.get("PYTHONPATH", ""))
        for _, root in roots
    }
    print(
        f"asyncplay run against plain python, {ns.rounds} interleaved rounds, medians; "
        f"CPU = user+system of every process started; load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'benchmark':32} {'python':7} {'sandbox':14} {'plain':>7} {'asyncplay':>9} "
        f"{'wall':>6} {'plain':>7} {'asyncplay':>9} {'CPU':>6} {'worst':>6}  goal"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            Path(tmp, f"{name}.py").write_text(PROGRAMS[name][1])
        for python in pythons:
            compile_trees(python, roots, envs)
            version = version_of(python)
            for name in names:
                sides = [("", str(ROOT), "plain", [python, f"{name}.py"])]
                for tag, root in roots:
                    for layer, flags in layers:
                        argv = [python, "-m", "asyncplay", "run", *flags, f"{name}.py"]
                        sides.append((tag, root, layer, argv))
                for _tag, root, _layer, argv in sides:  # warm caches and .pyc files
                    timed(argv, envs[root], tmp)
                walls: list[list[float]] = [[] for _ in sides]
                cpus: list[list[float]] = [[] for _ in sides]
                for _ in range(ns.rounds):
                    for i, (_tag, root, _layer, argv) in enumerate(sides):
                        wall, cpu = timed(argv, envs[root], tmp)
                        walls[i].append(wall)
                        cpus[i].append(cpu)
                pw, pc = statistics.median(walls[0]), statistics.median(cpus[0])
                for i, (tag, _root, layer, _argv) in enumerate(sides[1:], start=1):
                    w, c = statistics.median(walls[i]), statistics.median(cpus[i])
                    goal_w, goal_c = GOALS[name]
                    goal = f"wall <= {goal_w}x" + (f", CPU <= {goal_c}x" if goal_c else "")
                    # The slowest round's CPU against plain's median: a median hides a run
                    # that spins now and then (one did, 6-28 s in one round of seven).
                    worst = max(cpus[i]) / pc
                    print(
                        f"{PROGRAMS[name][0]:32} {version:7} {tag + layer:14} {pw:6.3f}s {w:8.3f}s "
                        f"{w / pw:5.2f}x {pc:6.3f}s {c:8.3f}s {c / pc:5.2f}x {worst:5.2f}x  "
                        f"{goal if layer == 'default' and not tag else ''}",
                        flush=True,
                    )
                    if max(cpus[i]) > 2 * c:
                        print(f"  ! a round took {max(cpus[i]):.3f}s CPU, over twice the median")
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
