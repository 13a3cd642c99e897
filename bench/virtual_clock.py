"""Wall time of every bundled snippet under ``--clock real`` and ``--clock virtual``.

Both clocks run the same snippet back to back in each round (these machines are noisy);
the table shows the medians and the speed-up (real / virtual). Snippets that wait on a
thread or block the loop gain nothing: there, time runs at the real rate on purpose.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asyncplay.snippets import list_bundled  # noqa: E402


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{argv} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: virtual clock speed-up per snippet")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the program")
    ap.add_argument("--rounds", type=int, default=3)
    ns = ap.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    base = [sys.executable, "-m", "asyncplay", "run", "--quiet", "--python", ns.python]
    print(f"{'snippet':<15} {'real (s)':>9} {'virtual (s)':>12} {'speed-up':>9}")
    total_real = total_virtual = 0.0
    for snippet in list_bundled():
        real, virtual = [], []
        for _ in range(ns.rounds):
            real.append(timed([*base, "--clock", "real", snippet.name], env))
            virtual.append(timed([*base, "--clock", "virtual", snippet.name], env))
        r, v = statistics.median(real), statistics.median(virtual)
        total_real += r
        total_virtual += v
        print(f"{snippet.name:<15} {r:>9.2f} {v:>12.2f} {r / v:>8.1f}x")
    print(
        f"{'all':<15} {total_real:>9.2f} {total_virtual:>12.2f} {total_real / total_virtual:>8.1f}x"
    )


if __name__ == "__main__":
    main()
