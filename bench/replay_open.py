"""What opening a recording in the app costs, against reading and folding it alone.

The 20,000-task program of bench/tasks.py is recorded once (about 60,000 events). Then,
round after round, side by side in this process:

- baseline: ``recording.read`` + ``replay.fold`` (the work ``asyncplay replay --print``
  does before it prints);
- replay: what ``asyncplay replay FILE`` does before its first frame: read, the check
  fold, and the app up (headless) with the whole recording played through its session
  and reducer (``ReplayApp`` folds everything before the first frame), then playback
  entered at the start (the positions of its steps found).

Prints the medians and their ratio. The app's own start-up is in it: it is what a user
waits for.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT
from tasks import PROGRAM

sys.path.insert(0, str(ROOT))

from asyncplay.cli.replay import fold  # noqa: E402
from asyncplay.views.recording import read  # noqa: E402


def baseline(path: str) -> float:
    start = time.perf_counter()
    fold(read(path), path)
    return time.perf_counter() - start


async def opened(path: str) -> float:
    from asyncplay.tui.replay_mode import Replay, ReplayApp

    start = time.perf_counter()
    rec = read(path)
    fold(rec, path)
    app = ReplayApp(Replay(path, rec))
    async with app.run_test(size=(120, 40)):
        elapsed = time.perf_counter() - start  # run_test returns after the first frame's mount
        # the whole run folded, then playback entered at its start (its positions found)
        assert app.playback.playback is not None and app.playback.playback.position == 0
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: opening a recording in the app")
    ap.add_argument("--rounds", type=int, default=5)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ASYNCPLAY_HOME"] = str(Path(tmp) / "home")  # never the user's autosave
        program = Path(tmp) / "tasks.py"
        program.write_text(PROGRAM)
        rec = str(Path(tmp) / "r.jsonl")
        subprocess.run(
            [sys.executable, "-m", "asyncplay", "run", "--quiet", "--record", rec, str(program)],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
        )
        events = len(read(rec).events)
        size = os.path.getsize(rec) / 2**20
        base, app = [], []
        for _ in range(ns.rounds):
            base.append(baseline(rec))
            app.append(asyncio.run(opened(rec)))
    b, a = statistics.median(base), statistics.median(app)
    print(f"recording: {events} events, {size:.1f} MiB; {ns.rounds} rounds, medians")
    print(f"read + fold (replay --print's work): {b:.3f} s")
    print(f"replay in the app, to the first frame: {a:.3f} s")
    print(f"ratio: {a / b:.2f}x")


if __name__ == "__main__":
    main()
