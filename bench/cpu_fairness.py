"""CPU fairness: how much slower a neighbour's CPU job runs while ten asyncplay runs spin.

    python bench/cpu_fairness.py [--runs 10] [--seconds 6] [--sandbox auto]

The neighbour is another program of the machine (its own session, as another user's login
would be) doing fixed pieces of pure-Python work and noting when each started and ended.
It works alone first, then ``--runs`` copies of ``asyncplay run`` of an endless loop start
(until the bench tells them to stop), then it works alone again. A piece counts as *under load* when it
lies wholly between the moment every run's program was spinning and the first run's end,
and as *alone* when it lies wholly outside the runs. The figure is the ratio of the
medians (under load / alone), with the number of pieces behind each. ``--sandbox none``
gives the unprotected figure on the same machine (no cgroup, no autogroup nice). Run it as
root and as an unprivileged user (docs/sandbox.md, CPU, has the command and figures).
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

# Pieces of work until the deadline; one "start end" line (CLOCK_MONOTONIC, shared by every
# process of the machine) per piece.
NEIGHBOUR = r"""
import sys, time
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    t0 = time.monotonic()
    n = 0
    for i in range(300_000):
        n += i * i
    print(t0, time.monotonic(), flush=True)
"""

# Spins until the bench makes the file ``stop`` in its folder (the runs start slowly on a busy
# machine: a shared end keeps them all spinning at once for --seconds).
SPIN = (
    "import os\nprint('spinning', flush=True)\nn = 0\nwhile True:\n    n += 1\n"
    "    if n % 200_000 == 0 and os.path.exists('stop'):\n        break\n"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=5.0, help="seconds of load")
    ap.add_argument("--alone", type=float, default=2.0, help="seconds alone, before and after")
    ap.add_argument("--sandbox", default="auto")
    ns = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "spin.py").write_text(SPIN)
        total = 2 * ns.alone + ns.seconds + 60.0  # ended early (below)
        neighbour = subprocess.Popen(
            [sys.executable, "-c", NEIGHBOUR, str(total)],
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        time.sleep(ns.alone)
        first_start = time.monotonic()
        argv = [sys.executable, "-m", "asyncplay", "run", "--quiet", "--sandbox", ns.sandbox]
        argv += ["--timeout", "120", "--cpu", "120", "spin.py"]
        runs = [
            subprocess.Popen(argv, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(ns.runs)
        ]
        for run in runs:  # every program has started: the load is on
            assert run.stdout is not None
            run.stdout.readline()
        loaded_from = time.monotonic()
        time.sleep(ns.seconds)
        (Path(tmp) / "stop").write_text("")
        ends = []
        codes = []
        for run in runs:
            codes.append(run.wait())
            ends.append(time.monotonic())
        loaded_to = min(ends)
        last_end = max(ends)
        time.sleep(ns.alone)
        neighbour.terminate()
        out, _err = neighbour.communicate()
    pieces = [tuple(map(float, line.split())) for line in out.decode().splitlines()]
    alone = [b - a for a, b in pieces if b < first_start or a > last_end]
    loaded = [b - a for a, b in pieces if a >= loaded_from and b <= loaded_to]
    print(
        f"{ns.runs} x asyncplay run --sandbox {ns.sandbox} (uid {os.getuid()}, "
        f"{os.cpu_count()} CPUs): exit statuses {sorted(set(codes))}"
    )
    print(
        f"load on for {loaded_to - loaded_from:.1f} s (after {loaded_from - first_start:.1f} s of start-up)"
    )
    if not alone or not loaded:
        sys.exit(f"too few pieces: {len(alone)} alone, {len(loaded)} under load")
    ratio = statistics.median(loaded) / statistics.median(alone)
    print(
        f"neighbour piece: {statistics.median(alone) * 1000:.0f} ms alone ({len(alone)} pieces), "
        f"{statistics.median(loaded) * 1000:.0f} ms under load ({len(loaded)} pieces inside it): "
        f"{ratio:.2f}x slower"
    )


if __name__ == "__main__":
    main()
