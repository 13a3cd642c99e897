"""Playback on a 100,000-step recording: what a step back costs, against folding from scratch.

Two programs of 100,000 task steps each are recorded once with ``asyncplay run --record``:
10 tasks of 10,000 steps (few, long lanes) and 100 tasks of 1,000 (many lanes: a model
ten times the size to snapshot). For each, in this process (``views/playback.py``):

- baseline: ``model.build`` of all its events, the fold a step back would cost without
  snapshots (the model at step k folded from the start);
- finding the positions (``Playback(...)``, done in a thread when playback is entered);
- playing it to the end (every position, snapshots taken on the way);
- ``--steps`` steps back from the end, one at a time (median, 95th percentile, max),
  then as many steps forward; a step back loads the nearest snapshot and folds on.

Prints each, the snapshots' number and bytes, and the step back's ratio to the baseline.
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

from _common import ROOT

sys.path.insert(0, str(ROOT))

from asyncplay.model import build  # noqa: E402
from asyncplay.views.playback import Playback  # noqa: E402
from asyncplay.views.recording import read  # noqa: E402

PROGRAM = """import asyncio

async def worker(n):
    for i in range({steps}):
        if i % 100 == 0:
            print(f"worker {{n}} at {{i}}")
        await asyncio.sleep(0)

async def main():
    await asyncio.gather(*(worker(n) for n in range({tasks})))

asyncio.run(main())
"""


def record(folder: Path, tasks: int, steps: int) -> str:
    program = folder / f"p{tasks}.py"
    program.write_text(PROGRAM.format(tasks=tasks, steps=steps))
    rec = str(folder / f"p{tasks}.jsonl")
    subprocess.run(
        [sys.executable, "-m", "asyncplay", "run", "--quiet", "--record", rec, str(program)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return rec


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def measure(path: str, moves: int) -> None:
    events = read(path).events
    start = time.perf_counter()
    model = build(events)
    base = time.perf_counter() - start
    start = time.perf_counter()
    pb = Playback(events)
    found = time.perf_counter() - start
    start = time.perf_counter()
    pb.seek(pb.total)
    played = time.perf_counter() - start
    back = []
    for _ in range(moves):
        start = time.perf_counter()
        pb.seek(pb.position - 1)
        back.append(time.perf_counter() - start)
    forward = []
    for _ in range(moves):
        start = time.perf_counter()
        pb.seek(pb.position + 1)
        forward.append(time.perf_counter() - start)
    back.sort()
    median = statistics.median(back)
    print(
        f"{os.path.basename(path)}: {len(model.tasks)} tasks, {pb.total:,} steps, "
        f"{len(events):,} events"
    )
    print(f"  fold from scratch (baseline): {ms(base)}")
    print(f"  positions found: {ms(found)}; played to the end: {played:.2f} s")
    print(f"  snapshots: {pb.snapshots}, {pb.snapshot_bytes / 2**20:.1f} MiB")
    print(
        f"  step back ({moves}): median {ms(median)}, p95 {ms(back[int(len(back) * 0.95)])}, "
        f"max {ms(back[-1])} ({median / base:.2f}x the baseline)"
    )
    print(f"  step forward: median {ms(statistics.median(forward))}, max {ms(max(forward))}")


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: playback's step back")
    ap.add_argument("--steps", type=int, default=300, help="steps back (and forward) timed")
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for tasks in (10, 100):
            measure(record(Path(tmp), tasks, 100_000 // tasks), ns.steps)


if __name__ == "__main__":
    main()
