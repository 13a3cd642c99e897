"""The TUI timeline pane's tick with 10,000 tasks, against the task table's, side by side.

Each tick does what the app's 15 Hz tick does to a view: ``sync(now)`` after a batch of
new steps, then drawing every line on screen (an upper bound: Textual redraws only the
lines refreshed). Baseline: the task table, the same way, in the same rounds. Prints the
median milliseconds per tick of each and their ratio, following the run live (the window
grows every tick, so every visible lane is recomputed) and zoomed in (only changed lanes).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import App, ComposeResult  # noqa: E402

from asyncplay.model import RunModel, apply  # noqa: E402
from asyncplay.tui.panes.task_table import TaskTable  # noqa: E402
from asyncplay.tui.panes.timeline import TimelinePane  # noqa: E402

TASKS, STEPS, TICKS = 10_000, 15, 60


def model() -> RunModel:
    m = RunModel()
    apply(m, {"event": "run_start", "t": 0.0, "target": "/p/big.py"})
    for i in range(1, TASKS + 1):
        apply(m, {"event": "task_created", "t": i * 1e-5, "id": i, "name": f"worker-{i}",
                  "coro": "worker", "file": "/p/big.py", "line": 3})  # fmt: skip
    t = 0.2
    for _k in range(STEPS):
        batch = []
        for i in range(1, TASKS + 1):
            batch.append([i, t, 2e-6, "sleep(0.1)", "/p/big.py", 5])
            t += 3e-6
        apply(m, {"event": "steps", "t": t, "steps": batch})
    return m


class Host(App):
    def compose(self) -> ComposeResult:
        yield TaskTable(id="table")
        yield TimelinePane(id="timeline")


def tick(view: TaskTable | TimelinePane, now: float) -> float:
    start = time.perf_counter()
    view.sync(now)
    for y in range(view.size.height):
        view.render_line(y)
    return time.perf_counter() - start


async def main(width: int, height: int) -> None:
    app = Host()
    async with app.run_test(size=(width, height * 2)) as pilot:  # the two views stacked
        table, pane = app.query_one(TaskTable), app.query_one(TimelinePane)
        table.styles.height = pane.styles.height = height
        m = model()
        table.show(m)
        pane.show(m)
        await pilot.pause()
        print(f"{TASKS} tasks, {m.steps} steps, views {pane.size.width}x{pane.size.height}")
        for label, zoomed in (("following live", False), ("zoomed in", True)):
            if zoomed:
                pane.action_zoom(0.01)
            times: dict[str, list[float]] = {"table": [], "timeline": []}
            for k in range(TICKS):
                t = m.now + 0.01
                steps = [[i, t, 1e-5, "sleep(0.1)", "/p/big.py", 5] for i in range(1, 40, 3)]
                apply(m, {"event": "steps", "t": t + 1e-5, "steps": steps})
                order = (table, pane) if k % 2 else (pane, table)  # interleaved
                for view in order:
                    name = "table" if view is table else "timeline"
                    times[name].append(tick(view, m.now))
            ms = {name: statistics.median(v) * 1e3 for name, v in times.items()}
            print(f"  {label:<15} timeline {ms['timeline']:.2f} ms/tick, task table "
                  f"{ms['table']:.2f} ms/tick: {ms['timeline'] / ms['table']:.2f}x")  # fmt: skip
        print(f"  lanes computed in all: {pane.lanes_computed}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="160x48", help="each view's WIDTHxHEIGHT (78x9: 80x24)")
    ns = ap.parse_args()
    w, h = (int(x) for x in ns.size.split("x"))
    asyncio.run(main(w, h))
