"""Side-by-side timing: plain Python versus ``asyncplay run``, interleaved in one process.

The machines this runs on are noisy, so each round times both commands back to back and the
figure reported is the ratio of the medians (plus the best-of ratio).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{argv} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def compare(name: str, program: str, default_rounds: int) -> None:
    ap = argparse.ArgumentParser(description=f"bench: {name}")
    ap.add_argument("--python", default=sys.executable, help="interpreter for both sides")
    ap.add_argument("--rounds", type=int, default=default_rounds)
    ap.add_argument(
        "--unbuffered",
        action="store_true",
        help="set PYTHONUNBUFFERED=1 for both sides (as many Docker images do)",
    )
    ns = ap.parse_args()
    env = dict(os.environ)
    # Measure what a user gets: cached bytecode, and Python's default buffering (or -u's).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONUNBUFFERED", None)
    if ns.unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    subprocess.run(
        [ns.python, "-m", "compileall", "-q", str(ROOT / "asyncplay")], env=env, check=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.py"
        path.write_text(program)
        plain_argv = [ns.python, str(path)]
        traced_argv = [ns.python, "-m", "asyncplay", "run", str(path)]  # summary included
        timed(plain_argv, env)  # warm caches and .pyc files
        timed(traced_argv, env)
        plain, traced = [], []
        for _ in range(ns.rounds):
            plain.append(timed(plain_argv, env))
            traced.append(timed(traced_argv, env))
    pm, tm = statistics.median(plain), statistics.median(traced)
    version = subprocess.run(
        [ns.python, "-c", "import sys;print(*sys.version_info[:3], sep='.')"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    mode = ", PYTHONUNBUFFERED=1" if ns.unbuffered else ""
    print(
        f"{name} (Python {version}{mode}, {ns.rounds} rounds): plain {pm:.3f}s, asyncplay {tm:.3f}s, "
        f"ratio {tm / pm:.2f}x (best-of {min(traced) / min(plain):.2f}x)"
    )
