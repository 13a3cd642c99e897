"""The reducer and the views on a big run, without processes: 20,000 tasks, 300,000 steps.

Baseline, measured side by side: parsing the same events from JSON lines (what `replay`
must do anyway). Prints each part's time and its ratio to that baseline.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asyncplay.model import RunModel, apply  # noqa: E402
from asyncplay.views import chrome_trace as trace
from asyncplay.views import graph, summary, timeline

TASKS, STEPS = 20_000, 15  # steps per task


def events() -> list[dict]:
    out: list[dict] = [{"event": "run_start", "t": 0.0, "target": "/p/big.py"}]
    for i in range(1, TASKS + 1):
        out.append({"event": "task_created", "t": i * 1e-5, "id": i, "name": f"Task-{i}",
                    "coro": f"worker{i % 7}", "parent": None, "internal": False,
                    "file": "/p/big.py", "line": 3})  # fmt: skip
    t = 0.2
    for k in range(STEPS):
        batch = []
        for i in range(1, TASKS + 1):
            batch.append([i, t, 2e-6, "sleep(0)" if k < STEPS - 1 else "Queue.get()",
                          "/p/big.py", 5])  # fmt: skip
            t += 3e-6
            if len(batch) == 1000:
                out.append({"event": "steps", "t": t, "steps": batch})
                batch = []
    out.append({"event": "run_end", "t": t + 0.01, "exit_code": 0, "message": "done"})
    return out


def best(fn, rounds: int = 3) -> float:  # noqa: ANN001
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    evs = events()
    lines = [json.dumps(e) for e in evs]
    base = best(lambda: [json.loads(x) for x in lines])
    model = RunModel()

    def fold() -> None:
        nonlocal model
        model = RunModel()
        for e in evs:
            apply(model, e)

    parts = {
        "fold (apply)": best(fold),
        "summary": best(lambda: summary.summary(model, width=120)),
        "timeline": best(lambda: timeline.timeline_text(model, 120)),
        "graph": best(lambda: graph.graph_text(model)),
        "trace": best(lambda: trace.write(model, io.StringIO())),
    }
    steps = TASKS * STEPS
    print(f"{TASKS} tasks, {steps} steps; baseline: JSON-parsing the events {base:.3f}s")
    for name, secs in parts.items():
        print(f"  {name:<13} {secs:.3f}s  {secs / base:.2f}x the parse  "
              f"({secs / steps * 1e6:.2f} µs per step)")  # fmt: skip


if __name__ == "__main__":
    main()
