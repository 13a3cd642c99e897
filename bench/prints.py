"""Printing under asyncplay against plain python: wall and CPU of every process.

Two programs: one task printing 200,000 lines in one step (``bench/cost.py``'s "prints":
the cost per byte of output) and five tasks printing a line at every step, 50,000 steps
(the cost per write attributed to a task: a record, a merge, an event). The output goes to
a file, as in ``bench/cost.py``; CPU is user + system of every process (this script is
their subreaper). Medians of ``--rounds``, every side interleaved; ``--against DIR`` runs
another checkout's asyncplay in the same rounds (rows "before").

    python bench/prints.py                                  # 3.11 and 3.13, --sandbox none
    python bench/prints.py --against /tmp/before --rounds 7 --sandbox auto
    python bench/prints.py --unbuffered                     # PYTHONUNBUFFERED=1 on both sides
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost import (  # noqa: E402
    ROOT,
    become_subreaper,
    compile_trees,
    real_binary,
    real_pythons,
    timed,
    version_of,
)

PROGRAMS = {
    "flood": (
        "200,000 lines, one step",
        "import asyncio\n\n"
        "async def main():\n"
        "    for i in range(200_000):\n"
        '        print("line", i)\n\n'
        "asyncio.run(main())\n",
    ),
    "steps": (
        "a line a step, 50,000",
        "import asyncio\n\n"
        "async def worker(n):\n"
        "    for i in range(10_000):\n"
        '        print("worker", n, "line", i)\n'
        "        await asyncio.sleep(0)\n\n"
        "async def main():\n"
        "    await asyncio.gather(*(worker(n) for n in range(5)))\n\n"
        "asyncio.run(main())\n",
    ),
}


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: printing under asyncplay")
    ap.add_argument("--python", action="append", help="interpreter (repeatable)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", action="append", choices=sorted(PROGRAMS))
    ap.add_argument("--sandbox", default="none", help="asyncplay's --sandbox (default none)")
    ap.add_argument("--unbuffered", action="store_true", help="PYTHONUNBUFFERED=1 both sides")
    ap.add_argument("--against", metavar="DIR", help="another checkout, run interleaved too")
    ns = ap.parse_args()
    pythons = [real_binary(p) for p in ns.python] if ns.python else real_pythons()
    become_subreaper()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONUNBUFFERED", None)
    if ns.unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    roots = [("", str(ROOT))] + ([("before ", os.path.abspath(ns.against))] if ns.against else [])
    envs = {r: dict(env, PYTHONPATH=r + os.pathsep + env.get("PYTHONPATH", "")) for _, r in roots}
    print(
        f"printing under asyncplay run --sandbox {ns.sandbox} against plain python, "
        f"{ns.rounds} interleaved rounds, medians{', PYTHONUNBUFFERED=1' if ns.unbuffered else ''}; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'program':25} {'python':7} {'side':7} {'plain':>7} {'asyncplay':>9} {'wall':>6} "
        f"{'plain':>7} {'asyncplay':>9} {'CPU':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in ns.only or list(PROGRAMS):
            Path(tmp, f"{name}.py").write_text(PROGRAMS[name][1])
        for python in pythons:
            compile_trees(python, roots, envs)
            version = version_of(python)
            for name in ns.only or list(PROGRAMS):
                sides = [("plain", str(ROOT), [python, f"{name}.py"])]
                for tag, root in roots:
                    argv = [python, "-m", "asyncplay", "run", "--sandbox", ns.sandbox, f"{name}.py"]
                    sides.append((tag or "now", root, argv))
                for _tag, root, argv in sides:  # warm caches and .pyc files
                    timed(argv, envs[root], tmp)
                walls: list[list[float]] = [[] for _ in sides]
                cpus: list[list[float]] = [[] for _ in sides]
                for _ in range(ns.rounds):
                    for i, (_tag, root, argv) in enumerate(sides):
                        wall, cpu = timed(argv, envs[root], tmp)
                        walls[i].append(wall)
                        cpus[i].append(cpu)
                pw, pc = statistics.median(walls[0]), statistics.median(cpus[0])
                for i, (tag, _root, _argv) in enumerate(sides[1:], start=1):
                    w, c = statistics.median(walls[i]), statistics.median(cpus[i])
                    print(
                        f"{PROGRAMS[name][0]:25} {version:7} {tag.strip():7} {pw:6.3f}s "
                        f"{w:8.3f}s {w / pw:5.2f}x {pc:6.3f}s {c:8.3f}s {c / pc:5.2f}x",
                        flush=True,
                    )
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
