"""The TUI's await graph pane on big runs, without processes or a screen.

What the pane pays when its inputs change (a tick with new steps, a new timeline moment):
``graph.moment`` (the waits at that moment, who is deadlocked) plus ``build_rows`` (the
tree as rows), and per screenful the styled lines of the rows on it. Baseline, measured
side by side on the same model: the headless ``--graph`` text (``graph.render``).
Run: ``python bench/graph_pane.py``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.style import Style  # noqa: E402

from asyncplay.model import RunModel, build  # noqa: E402
from asyncplay.tui.panes.graph import _row_strip, build_rows  # noqa: E402
from asyncplay.views import graph

N = 10_000


def _task(tid: int, parent: int | None, coro: str = "worker") -> dict:
    return {"event": "task_created", "t": 0.0, "id": tid, "name": f"Task-{tid}",
            "coro": coro, "parent": parent, "internal": False, "file": "/p/x.py",
            "line": 3}  # fmt: skip


def _step(tid: int, start: float, awaiting: str) -> dict:
    return {
        "event": "steps",
        "t": start + 1e-4,
        "steps": [[tid, start, 1e-4, awaiting, "/p/x.py", 5]],
    }


def gather(alike: bool) -> RunModel:
    """main gathers N workers, all sleeping alike (folded) or each on its own sleep."""
    evs = [{"event": "run_start", "t": 0.0, "target": "/p/x.py"}, _task(1, None, "main")]
    evs.append(_step(1, 0.0, f"gather({N})"))
    for i in range(2, N + 2):
        evs += [_task(i, 1), _step(i, 0.001 + i * 1e-6, "sleep(1)" if alike else f"sleep({i})")]
    return build(evs)


def chain(depth: int = 3000) -> RunModel:
    evs = [{"event": "run_start", "t": 0.0, "target": "/p/x.py"}]
    for i in range(1, depth + 1):
        evs += [
            _task(i, i - 1 or None),
            _step(i, i * 1e-6, f"Task-{i + 1}" if i < depth else "sleep(1)"),
        ]
    return build(evs)


def best(fn: Callable[[], object], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print(f"{'case':34} {'rows':>6} {'--graph':>9} {'pane build':>11} {'ratio':>6} {'screen':>8}")
    cases = [
        (f"gather of {N:,} alike (live)", gather(True), None),
        (f"gather of {N:,} alike (at 0.5 s)", gather(True), 0.5),
        (f"gather of {N:,} distinct (live)", gather(False), None),
        (f"gather of {N:,} distinct (at 0.5 s)", gather(False), 0.5),
        ("chain 3,000 deep (live)", chain(), None),
    ]
    for name, model, at in cases:
        waits = graph.waits_at(model, at)
        base = best(lambda m=model, w=waits: graph.render(m, w))

        def pane(m: RunModel = model, t: float | None = at) -> list:
            return build_rows(m, graph.moment(m, t), False)

        cost = best(pane)
        rows = pane()
        screen = best(lambda r=rows: [_row_strip(row, Style()) for row in r[:48]])
        print(
            f"{name:34} {len(rows):>6} {base * 1000:>7.1f}ms {cost * 1000:>9.1f}ms "
            f"{cost / base:>5.2f}x {screen * 1000:>6.2f}ms"
        )


if __name__ == "__main__":
    main()
