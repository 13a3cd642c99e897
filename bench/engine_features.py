"""The cost of the concurrency diagnostics (blocking detector, deadlock check, cancellation
source, the loop-wait hook) on the engine benchmark: ``asyncplay run`` of bench/tasks.py's
program with this checkout's child runtime against the child runtime of ``--baseline``
(default: the last commit before them), everything else identical, interleaved round by
round. Plain Python runs alongside, for the usual ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT
from primitives import PROGRAM as PRIMITIVES
from tasks import PROGRAM as TASKS

BASELINE = "c37cc9c"  # main just before the blocking detector landed
CHILD = "asyncplay/child"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time, and the CPU time of the processes it ran (user + system): a loaded
    machine stretches the first far more than the second."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{argv} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def baseline_tree(rev: str, dest: Path) -> Path:
    """This checkout, with ``asyncplay/child/`` as it was at ``rev``."""
    shutil.copytree(ROOT / "asyncplay", dest / "asyncplay")
    shutil.rmtree(dest / CHILD)
    files = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev, CHILD],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        blob = subprocess.run(["git", "show", f"{rev}:{name}"], cwd=ROOT, capture_output=True)
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob.stdout)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--baseline", default=BASELINE, help="git revision of the old runtime")
    ap.add_argument(
        "--program",
        choices=("tasks", "primitives"),
        default="tasks",
        help="tasks.py's 20,000 tasks (no queue or lock), or primitives.py's queue and semaphore",
    )
    ns = ap.parse_args()
    program = TASKS if ns.program == "tasks" else PRIMITIVES
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONUNBUFFERED", None)
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline_tree(ns.baseline, Path(tmp) / "base")
        path = Path(tmp) / f"{ns.program}.py"
        path.write_text(program)
        envs = {}
        for label, root in (("new", ROOT), ("old", base)):
            e = dict(env)
            e["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
            subprocess.run(
                [ns.python, "-m", "compileall", "-q", str(root / "asyncplay")], env=e, check=True
            )
            envs[label] = e
        run = [ns.python, "-m", "asyncplay", "run", str(path)]
        plain_argv = [ns.python, str(path)]
        for argv, e in ((plain_argv, env), (run, envs["old"]), (run, envs["new"])):
            timed(argv, e)  # warm up
        times: dict[str, list[tuple[float, float]]] = {"plain": [], "old": [], "new": []}
        for _ in range(ns.rounds):
            times["plain"].append(timed(plain_argv, env))
            times["old"].append(timed(run, envs["old"]))
            times["new"].append(timed(run, envs["new"]))
    version = subprocess.run(
        [ns.python, "-c", "import sys;print(*sys.version_info[:3], sep='.')"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"{ns.program} (Python {version}, {ns.rounds} rounds), medians:")
    for i, what in ((0, "wall"), (1, "CPU")):
        med = {k: statistics.median(x[i] for x in v) for k, v in times.items()}
        print(
            f"  {what:>4}: plain {med['plain']:.3f}s, runtime@{ns.baseline} {med['old']:.3f}s "
            f"({med['old'] / med['plain']:.2f}x), this runtime {med['new']:.3f}s "
            f"({med['new'] / med['plain']:.2f}x); new/old {med['new'] / med['old']:.3f}x"
        )


if __name__ == "__main__":
    main()
