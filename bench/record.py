"""The cost of --record: `asyncplay run` with and without it, side by side, on the
20,000-task program of bench/tasks.py (60,000 events, a 12 MB recording).

Two figures: the whole command (the recording is encoded and written in batches, during
and after the run), and the program's own run time - first task created to last task done,
read from a --trace written after the run - which is what recording must not slow.
Then asyncplay's own peak memory (maximum RSS, from a wrapper process) recording a tight
`await asyncio.sleep(0)` loop for --rss-seconds, with and without --record: the recording
is written in batches, so the peak must not grow with the run's length.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, timed
from tasks import PROGRAM


def program_time(argv: list[str], env: dict[str, str], trace: Path) -> float:
    timed([*argv[:4], "--trace", str(trace), *argv[4:]], env)
    events = json.loads(trace.read_text())["traceEvents"]
    ts = [e["ts"] for e in events if e["ph"] == "i" and e["name"] in ("created", "done")]
    return (max(ts) - min(ts)) / 1e6


YIELD_LOOP = "import asyncio\nasync def main():\n    while True:\n        await asyncio.sleep(0)\nasyncio.run(main())\n"
PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def peak_rss_mib(python: str, argv: list[str], env: dict[str, str]) -> float:
    out = subprocess.run([python, "-c", PEAK, *argv], env=env, capture_output=True, check=True)
    return int(out.stdout) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: --record")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--rss-seconds", type=float, default=10.0)
    ns = ap.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONUNBUFFERED", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    subprocess.run(
        [ns.python, "-m", "compileall", "-q", str(ROOT / "asyncplay")], env=env, check=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tasks.py"
        path.write_text(PROGRAM)
        rec = Path(tmp) / "r.jsonl"
        base = [ns.python, "-m", "asyncplay", "run", str(path)]
        recording = [ns.python, "-m", "asyncplay", "run", "--record", str(rec), str(path)]
        timed(base, env)
        timed(recording, env)
        plain, recorded, own_plain, own_recorded = [], [], [], []
        trace = Path(tmp) / "t.json"
        for _ in range(ns.rounds):
            plain.append(timed(base, env))
            recorded.append(timed(recording, env))
            own_plain.append(program_time(base, env, trace))
            own_recorded.append(program_time(recording, env, trace))
        size = rec.stat().st_size
        loop = Path(tmp) / "yield0.py"
        loop.write_text(YIELD_LOOP)
        run = [ns.python, "-m", "asyncplay", "run", "--quiet", "--timeout", str(ns.rss_seconds)]
        rss_plain = peak_rss_mib(ns.python, [*run, str(loop)], env)
        rss_rec = peak_rss_mib(ns.python, [*run, "--record", str(rec), str(loop)], env)
        loop_size = rec.stat().st_size
    pm, rm = statistics.median(plain), statistics.median(recorded)
    print(
        f"record ({ns.rounds} rounds): run {pm:.3f}s, run --record {rm:.3f}s, "
        f"ratio {rm / pm:.2f}x (best-of {min(recorded) / min(plain):.2f}x), "
        f"recording {size / 1e6:.1f} MB"
    )
    op, orr = statistics.median(own_plain), statistics.median(own_recorded)
    print(
        f"  the program's own run time: {op:.3f}s, with --record {orr:.3f}s, ratio {orr / op:.2f}x"
    )
    print(
        f"  peak RSS of asyncplay, a {ns.rss_seconds:g} s yield loop: {rss_plain:.0f} MiB, "
        f"with --record {rss_rec:.0f} MiB ({loop_size / 1e6:.0f} MB recorded), "
        f"ratio {rss_rec / rss_plain:.2f}x"
    )


if __name__ == "__main__":
    main()
