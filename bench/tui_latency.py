"""The TUI under load: keypress-to-editor latency, memory, and start-up against plain Textual.

    python bench/tui_latency.py [--seconds 8] [--startup-rounds 5] [--only timeline]
    python bench/tui_latency.py --against DIR [--rounds 3] [--only tasks]

1. Latency. The app runs headless (Textual's test driver). A separate thread plays the
   terminal: every 50 ms it stamps the time and hands a key to the app's loop the way the
   real input thread does; the editor stamps it again when its key handler runs. Measured
   idle, while a run prints lines as fast as it can, and while a run keeps 10,000 tasks
   stepping (each wakes once a second): both programs go on for the whole window (and
   a bit more), and only the keys sent while the run was still going count (the line
   says how many of the keys sent fell inside the load, and how long it lasted); and with
   the timeline open (F4 once the 10,000 tasks run, timeline and graph beside the editor):
   keys still typed into the editor, and keys ``down``/``right`` sent to the focused
   timeline, from the send to the pane's action having run (sends and calls matched in
   order). The timeline's own baseline is the same keys to it with no run.
2. Memory: the app process's peak RSS over all of that (the program's child is not ours).
3. Start-up and idle RSS, in fresh processes, side by side: ``asyncplay``'s app until its
   editor is mounted and painted, against a minimal Textual app with the same widgets
   (TextArea, Log, DataTable, Input, Buttons, Footer), interleaved, ratio of medians.

Each row gives p50, p95 and the worst key of the keys that fell inside the load. With
``--against DIR`` (a checkout of the code before a change: ``git archive REV | tar -x -C
DIR``) each loaded scenario runs in fresh processes on this tree and on DIR in turn, A B A
B, with this file's measuring code on both; the rows are the medians of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Both loads last LOAD_SECONDS (set to the window plus a margin): the keys must fall
# while they run, not after.
PRINTS = """
import time
end = time.monotonic() + LOAD_SECONDS
i = 0
while time.monotonic() < end:
    for _ in range(1000):
        print("line", i)
        i += 1
"""

TASKS = """
import asyncio, time

async def worker(i, end):
    await asyncio.sleep(i / 10_000)  # spread: 10,000 steps a second, evenly
    while time.monotonic() < end:
        await asyncio.sleep(1)

async def main():
    end = time.monotonic() + LOAD_SECONDS
    await asyncio.gather(*(asyncio.create_task(worker(i, end)) for i in range(10_000)))

asyncio.run(main())
"""


PANE_ACTIONS = ("action_move", "action_column")  # down/up, right/left


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


async def measure(
    program: str | None, seconds: float, home: Path, timeline: str | None = None
) -> dict:
    """Key latency while ``program`` runs (None: idle). ``timeline``: None (keys to the
    editor, no timeline), "editor" (F4, then keys to the editor) or "pane" (F4, keys
    ``down``/``right`` to the focused timeline)."""
    from textual import events

    from asyncplay import storage
    from asyncplay.tui.app import AsyncplayApp
    from asyncplay.tui.panes.editor import CodeEditor
    from asyncplay.tui.panes.timeline import TimelinePane

    path = home / "bench_prog.py"
    if program is not None:  # the load lasts the window, plus the time to start it
        program = program.replace("LOAD_SECONDS", repr(seconds + 5.0))
    app = AsyncplayApp(storage.Autosave(text=program or "pass\n", path=str(path)))
    app.gc_tuning = True  # as the command line sets it
    latencies: list[tuple[float, float]] = []  # (sent at, latency)
    sent: dict[int, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        editor = app.editor
        original = CodeEditor._on_key

        async def stamped(self: CodeEditor, event: events.Key) -> None:
            await original(self, event)
            t0 = sent.pop(id(event), None)
            if t0 is not None:
                latencies.append((t0, time.perf_counter() - t0))

        CodeEditor._on_key = stamped  # type: ignore[method-assign]
        # The timeline's actions: each call is the next key sent to it (FIFO).
        queue: deque[float] = deque()
        pane_actions = {name: getattr(TimelinePane, name) for name in PANE_ACTIONS}

        def timed(action):  # noqa: ANN001, ANN202
            def run(self: TimelinePane, delta: int) -> None:
                action(self, delta)
                if queue:
                    t0 = queue.popleft()
                    latencies.append((t0, time.perf_counter() - t0))

            return run

        if timeline == "pane":
            for name, action in pane_actions.items():
                setattr(TimelinePane, name, timed(action))
        editor.move_cursor(editor.document.end)
        await pilot.pause(0.3)
        if program is not None:
            await pilot.press("f5")
            for _ in range(200):
                if app.model is not None and (app.model.output or app.model.tasks):
                    break
                await pilot.pause(0.02)
        if timeline is not None:
            await pilot.press("f4")
            await pilot.pause(0.2)
            if timeline == "editor":
                editor.focus()
            else:
                app.timeline.focus()
                await pilot.press("home")  # the first lane: there are lanes below to go to
            await pilot.pause(0.2)
        loop = asyncio.get_running_loop()
        stop = threading.Event()

        def terminal() -> None:
            n = 0
            while not stop.is_set():
                if timeline == "pane":
                    name = ("down", "right")[n % 2]
                    key = events.Key(name, None)
                    queue.append(time.perf_counter())
                else:
                    key = events.Key("x", "x")
                    sent[id(key)] = time.perf_counter()
                loop.call_soon_threadsafe(app.post_message, key)
                n += 1
                time.sleep(0.05)

        thread = threading.Thread(target=terminal, daemon=True)
        t_start = time.perf_counter()
        load_end = None  # when the run was first seen ended (None: it ran all along)
        thread.start()
        while time.perf_counter() - t_start < seconds:
            await asyncio.sleep(0.1)
            if program is not None and app.model is not None and app.model.status != "running":
                load_end = time.perf_counter()
                break
        if load_end is None:
            load_end = time.perf_counter()
        stop.set()
        thread.join()
        await pilot.pause(0.2)
        model = app.model
        info = {
            "lines": (model.dropped_lines + len(model.output)) if model else 0,
            "tasks": len(model.tasks) if model else 0,
            "rows": app.tasks.row_count,
            "lanes": app.timeline.lane_count if timeline else 0,
            "status": model.status if model else "idle",
            "unmatched": len(queue),  # keys sent to the timeline whose action never ran
            "sent_keys": len(latencies) + len(queue) + len(sent),
            "load_s": load_end - t_start,
        }
        await app.end_session(0.2)
        CodeEditor._on_key = original  # type: ignore[method-assign]
        for name, action in pane_actions.items():
            setattr(TimelinePane, name, action)
    # Only the keys sent while the run was going (idle: all of them).
    inside = [lat for t0, lat in latencies if t0 <= load_end]
    info["p50"] = percentile(inside, 0.5) * 1000
    info["p95"] = percentile(inside, 0.95) * 1000
    info["max"] = max(inside) * 1000 if inside else float("nan")
    info["keys"] = len(inside)
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


# (name, label, program, timeline, where the keys go); "--only" picks by the name's first word.
SCENARIOS = (
    ("idle", "idle", None, None, "editor"),
    ("prints", "printing lines", PRINTS, None, "editor"),
    ("tasks", "10,000 tasks", TASKS, None, "editor"),
    ("timeline-editor", "10,000 tasks, timeline", TASKS, "editor", "editor"),
    ("timeline-idle", "idle, timeline focused", None, "pane", "timeline"),
    ("timeline-pane", "10,000 tasks, timeline", TASKS, "pane", "timeline"),
)


def wanted(name: str, only: str | None) -> bool:
    """The scenarios of ``--only`` (the idle rows are the baselines: measured with the others)."""
    if only is None:
        return True
    if only == "timeline":
        return name in ("idle", "timeline-editor", "timeline-idle", "timeline-pane")
    return name == only or (name == "idle" and only in ("prints", "tasks"))


def row(label: str, target: str, r: dict, base: float | None, tree: str = "") -> str:
    ratio = f" ({r['p50'] / base:4.2f}x idle)" if base else ""
    lanes = f", {r['lanes']:,} lanes" if r.get("timeline") else ""
    where = "the load" if r.get("loaded") else "the window"
    return (
        f"{tree}{label:<24} keypress->{target:<8} p50 {r['p50']:6.1f} ms{ratio}"
        f"  p95 {r['p95']:6.1f} ms  worst {r['max']:6.1f} ms  ({r['keys']} of"
        f" {r['sent_keys']} keys inside {where} ({r['load_s']:.1f} s);"
        f" run: {r['lines']:,} lines, {r['tasks']:,} tasks, {r['rows']:,} rows{lanes},"
        f" {r['status']})"
    )


def one(name: str, seconds: float, home: Path) -> dict:
    _name, _label, program, timeline, _target = next(s for s in SCENARIOS if s[0] == name)
    r = asyncio.run(measure(program, seconds, home, timeline))
    r["timeline"], r["loaded"] = timeline is not None, program is not None
    return r


def against(ns: argparse.Namespace) -> None:
    """Each scenario in fresh processes, this tree and ``--against DIR`` in turn (A B A B
    ...), the same measuring code on both: the medians of the rounds, side by side."""
    trees = {"this": str(ROOT), "against": str(Path(ns.against).resolve())}
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load"
        f" {os.getloadavg()[0]:.1f}; this: {trees['this']}, against: {trees['against']};"
        f" {ns.rounds} round(s) each, interleaved"
    )
    for name, label, _program, _timeline, target in SCENARIOS:
        if not wanted(name, ns.only) or name in ("idle", "timeline-idle"):
            continue
        got: dict[str, list[dict]] = {k: [] for k in trees}
        for _ in range(ns.rounds):
            for key, tree in trees.items():
                out = subprocess.run(
                    [sys.executable, __file__, "--scenario", name, "--tree", tree]
                    + ["--seconds", str(ns.seconds)],
                    capture_output=True,
                    text=True,
                    timeout=ns.seconds * 4 + 120,
                )
                if out.returncode != 0:
                    sys.exit(f"{name} on {tree} failed: {out.stderr[-1500:]}")
                got[key].append(json.loads(out.stdout.splitlines()[-1]))
        for key, runs in got.items():
            med = {k: statistics.median(r[k] for r in runs) for k in ("p50", "p95", "max")}
            last = dict(runs[-1], **med)
            last["keys"] = sum(r["keys"] for r in runs)
            last["sent_keys"] = sum(r["sent_keys"] for r in runs)
            print(row(label, target, last, None, f"{key:<8}"))
    print(f"load {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="per scenario (at most)")
    ap.add_argument("--startup-rounds", type=int, default=5)
    ap.add_argument(
        "--only", choices=("idle", "prints", "tasks", "timeline", "startup"), default=None
    )
    ap.add_argument(
        "--against",
        metavar="DIR",
        help="another checkout (git archive REV | tar -x -C DIR): each loaded scenario on"
        " both trees in turn, in fresh processes",
    )
    ap.add_argument("--rounds", type=int, default=3, help="with --against: rounds per tree")
    ap.add_argument("--scenario", choices=[s[0] for s in SCENARIOS], help=argparse.SUPPRESS)
    ap.add_argument("--tree", help=argparse.SUPPRESS)  # the asyncplay package's checkout
    ns = ap.parse_args()
    if ns.tree:
        sys.path.insert(0, ns.tree)
    if ns.against:
        against(ns)
        return
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["ASYNCPLAY_HOME"] = str(home)
        # The printing load prints as fast as it can for the whole window: some 10 MB a
        # second, past the default --output-limit (8 MiB) within the first second. The
        # playground's own setting raised, so the load lasts (storage.Settings).
        (home / "settings.json").write_text('{"output_mib": 65536, "version": 1}')
        if ns.scenario:  # one scenario, its figures as JSON (for --against)
            print(json.dumps(one(ns.scenario, ns.seconds, home)))
            return
        print(
            f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
        )
        baselines: dict[str, float] = {}
        for name, label, program, _timeline, target in SCENARIOS:
            if not wanted(name, ns.only) or ns.only == "startup":
                continue
            r = one(name, ns.seconds, home)
            if program is None:
                baselines[target] = r["p50"]
            print(row(label, target, r, baselines.get(target) if program else None))
            if r["unmatched"]:
                print(f"  ({r['unmatched']} keys to the timeline ran no action)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"app peak RSS over all scenarios: {peak:.0f} MiB; load {os.getloadavg()[0]:.1f}")
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
