"""The cost of --record: `asyncplay run` with and without it, side by side, on the
20,000-task program of bench/tasks.py (about 60,000 steps, 40,000 task events)."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, timed
from tasks import PROGRAM


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: --record")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--rounds", type=int, default=7)
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
        plain, recorded = [], []
        for _ in range(ns.rounds):
            plain.append(timed(base, env))
            recorded.append(timed(recording, env))
        size = rec.stat().st_size
    pm, rm = statistics.median(plain), statistics.median(recorded)
    print(
        f"record ({ns.rounds} rounds): run {pm:.3f}s, run --record {rm:.3f}s, "
        f"ratio {rm / pm:.2f}x (best-of {min(recorded) / min(plain):.2f}x), "
        f"recording {size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
