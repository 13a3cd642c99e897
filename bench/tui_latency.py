"""The TUI under load: keypress-to-editor latency, memory, and start-up against plain Textual.

    python bench/tui_latency.py [--seconds 8] [--startup-rounds 5]

1. Latency. The app runs headless (Textual's test driver). A separate thread plays the
   terminal: every 50 ms it stamps the time and hands a key to the app's loop the way the
   real input thread does; the editor stamps it again when its key handler runs. Measured
   idle, while a run prints 200,000 lines, and while a run holds 10,000 tasks.
2. Memory: the app process's peak RSS over all of that (the program's child is not ours).
3. Start-up and idle RSS, in fresh processes, side by side: ``asyncplay``'s app until its
   editor is mounted and painted, against a minimal Textual app with the same widgets
   (TextArea, Log, DataTable, Input, Buttons, Footer), interleaved, ratio of medians.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRINTS = """
for i in range(200_000):
    print("line", i)
"""

TASKS = """
import asyncio

async def worker(i):
    await asyncio.sleep(3 + i / 10_000)

async def main():
    await asyncio.gather(*(asyncio.create_task(worker(i)) for i in range(10_000)))

asyncio.run(main())
"""


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


async def measure(program: str | None, seconds: float, home: Path) -> dict:
    from textual import events

    from asyncplay import storage
    from asyncplay.tui.app import AsyncplayApp
    from asyncplay.tui.editor import CodeEditor

    path = home / "bench_prog.py"
    app = AsyncplayApp(storage.Autosave(text=program or "pass\n", path=str(path)))
    app.gc_tuning = True  # as the command line sets it
    latencies: list[float] = []
    sent: dict[int, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        editor = app.editor
        original = CodeEditor._on_key

        async def stamped(self: CodeEditor, event: events.Key) -> None:
            await original(self, event)
            t0 = sent.pop(id(event), None)
            if t0 is not None:
                latencies.append(time.perf_counter() - t0)

        CodeEditor._on_key = stamped  # type: ignore[method-assign]
        editor.move_cursor(editor.document.end)
        await pilot.pause(0.3)
        if program is not None:
            await pilot.press("f5")
            for _ in range(200):
                if app.model is not None and (app.model.output or app.model.tasks):
                    break
                await pilot.pause(0.02)
        loop = asyncio.get_running_loop()
        stop = threading.Event()

        def terminal() -> None:
            while not stop.is_set():
                key = events.Key("x", "x")
                sent[id(key)] = time.perf_counter()
                loop.call_soon_threadsafe(app.post_message, key)
                time.sleep(0.05)

        thread = threading.Thread(target=terminal, daemon=True)
        t_start = time.perf_counter()
        thread.start()
        while time.perf_counter() - t_start < seconds:
            await asyncio.sleep(0.1)
            if program is not None and app.model is not None and app.model.status == "ended":
                break
        stop.set()
        thread.join()
        await pilot.pause(0.2)
        model = app.model
        info = {
            "lines": (model.dropped_lines + len(model.output)) if model else 0,
            "tasks": len(model.tasks) if model else 0,
            "rows": app.tasks.row_count,
            "status": model.status if model else "idle",
        }
        await app.end_session(0.2)
        CodeEditor._on_key = original  # type: ignore[method-assign]
    info["p50"] = percentile(latencies, 0.5) * 1000
    info["p95"] = percentile(latencies, 0.95) * 1000
    info["max"] = max(latencies) * 1000 if latencies else float("nan")
    info["keys"] = len(latencies)
    return info


STARTUP_ASYNCPLAY = """
import os, sys, time
t0 = time.perf_counter()
from asyncplay import storage
from asyncplay.tui.app import AsyncplayApp

class Timed(AsyncplayApp):
    def on_mount(self):
        super().on_mount()
        self.call_after_refresh(self.done)
    def done(self):
        print(time.perf_counter() - t0, flush=True)
        time.sleep(0.5)
        print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0], flush=True)
        self.exit()

Timed(storage.Autosave(text=open(sys.argv[1]).read(), path=sys.argv[1]), autosave=False).run(
    headless=True, size=(120, 40))
"""

STARTUP_MINIMAL = """
import sys, time
t0 = time.perf_counter()
from textual.app import App
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Footer, Input, Log, Static, TextArea

class Minimal(App):
    def compose(self):
        with Horizontal():
            yield TextArea(open(sys.argv[1]).read(), show_line_numbers=True)
            with Vertical():
                yield Log()
                yield Input()
                yield DataTable()
        with Horizontal():
            yield Button("Run")
            yield Button("Stop")
            yield Static("ready")
        yield Footer()
    def on_mount(self):
        self.query_one(TextArea).focus()
        self.call_after_refresh(self.done)
    def done(self):
        print(time.perf_counter() - t0, flush=True)
        time.sleep(0.5)
        print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0], flush=True)
        self.exit()

Minimal().run(headless=True, size=(120, 40))
"""


def startup(rounds: int, home: Path) -> dict:
    env = dict(os.environ, ASYNCPLAY_HOME=str(home), PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # what a user gets: cached bytecode
    prog = ROOT / "snippets" / "gather.py"
    scripts = {"asyncplay": STARTUP_ASYNCPLAY, "minimal": STARTUP_MINIMAL}
    times: dict[str, list[float]] = {k: [] for k in scripts}
    rss: dict[str, list[int]] = {k: [] for k in scripts}
    for i in range(rounds + 1):  # the first round warms caches and is not counted
        for name, script in scripts.items():
            out = subprocess.run(
                [sys.executable, "-c", script, str(prog)],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            lines = out.stdout.split()
            if out.returncode != 0 or len(lines) < 2:
                sys.exit(f"{name} start-up failed: {out.stderr[-800:]}")
            if i:
                times[name].append(float(lines[0]))
                rss[name].append(int(lines[1]))
    a, m = statistics.median(times["asyncplay"]), statistics.median(times["minimal"])
    return {
        "asyncplay_s": a,
        "minimal_s": m,
        "ratio": a / m,
        "idle_rss_mib": statistics.median(rss["asyncplay"]) / 1024,
        "minimal_rss_mib": statistics.median(rss["minimal"]) / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="per scenario (at most)")
    ap.add_argument("--startup-rounds", type=int, default=5)
    ap.add_argument("--only", choices=("idle", "prints", "tasks", "startup"), default=None)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["ASYNCPLAY_HOME"] = str(home)
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        for key, label, program in (
            ("idle", "idle", None),
            ("prints", "200,000 printed lines", PRINTS),
            ("tasks", "10,000 tasks", TASKS),
        ):
            if ns.only not in (None, key):
                continue
            r = asyncio.run(measure(program, ns.seconds, home))
            print(
                f"{label:<22} keypress->editor p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms"
                f"  max {r['max']:6.1f} ms  ({r['keys']} keys; run: {r['lines']:,} lines,"
                f" {r['tasks']:,} tasks, {r['rows']:,} rows shown, {r['status']})"
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"app peak RSS over all scenarios: {peak:.0f} MiB")
        if ns.only not in (None, "startup"):
            return
        s = startup(ns.startup_rounds, home)
        print(
            f"start-up to a painted editor: asyncplay {s['asyncplay_s'] * 1000:.0f} ms, "
            f"minimal Textual app {s['minimal_s'] * 1000:.0f} ms: ratio {s['ratio']:.2f}x"
        )
        print(
            f"idle RSS: asyncplay {s['idle_rss_mib']:.0f} MiB, "
            f"minimal Textual app {s['minimal_rss_mib']:.0f} MiB"
        )


if __name__ == "__main__":
    main()
