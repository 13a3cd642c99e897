"""What stepping (#17) costs a run that is not stepped: the playground's path, before/after.

A run the playground starts has the control channel: its runtime reads the control pipe on
its helper thread and keeps the hook with the pause in it out of the way until a pause is
asked for. This runs bench/tasks.py's program (20,000 tasks, 60,000 steps) and 100,000
printed lines through ``RunSession`` exactly as the playground does (no pause asked):
"after" is this checkout; "off" is this checkout with the session's control channel
turned off (``SessionCore(control=False)``, as the headless command line has it: the child
then starts nothing of stepping), so after/off is what stepping costs a run that is not
stepped ("off'" is "off" once more: the noise between two identical sides); "before" is
the whole ``asyncplay`` package of ``--baseline`` (the last commit before stepping, with
whatever else has changed since); "armed" is this checkout with a task breakpoint on a
name no task has, so the hook with the pause in it runs every step but never pauses.
Interleaved round by round with plain Python, ``--sandbox none`` (the layers cost the same
on every side and only add noise). Wall and CPU (user + system of the driver and the run:
``RUSAGE_CHILDREN``) and the run's own CPU (its processes only, which the driver reaped:
the hot path), medians; the load average is printed at the start and the end.

    python bench/stepping.py                              # 7 rounds, this interpreter
    python bench/stepping.py --rounds 9 --python /root/.pyenv/versions/3.13.0/bin/python3.13
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT
from tasks import PROGRAM as TASKS

BASELINE = "280ac6c"  # main just before stepping's first piece landed
PRINTS = """
import asyncio

async def main():
    for i in range(100_000):
        print("line", i)

asyncio.run(main())
"""

DRIVER = r"""
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from asyncplay.runner.session import RunSession
from asyncplay.runner.spec import RunSpec

async def main():
    kw = {}
    if sys.argv[4] == "off":  # this checkout with no control channel: nothing of stepping
        import functools
        import asyncplay.runner.session as session_mod
        session_mod.SessionCore = functools.partial(session_mod.SessionCore, control=False)
    if sys.argv[4] == "armed":
        from asyncplay.breakpoints import Breakpoints
        kw["breakpoints"] = Breakpoints(tasks=["no task has this name"])
    spec = RunSpec(path=sys.argv[2], python=sys.argv[3], sandbox="none", **kw)
    session = await RunSession.start(spec)
    async for ev in session.events():
        pass
    end = await session.wait()
    await session.aclose()
    import resource
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)  # the run's processes, reaped
    print(ru.ru_utime + ru.ru_stime)
    sys.exit(0 if end.get("exit_code") == 0 else 1)

asyncio.run(main())
"""


def timed(argv: list[str]) -> tuple[float, float, float]:
    """Wall, CPU of everything, CPU of the program's own processes (what the driver
    reports it reaped; plain Python: all of it)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{argv} failed ({proc.returncode}): {proc.stderr.decode()[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = proc.stdout.split()
    run_cpu = float(lines[-1]) if "driver" in argv[1] else cpu
    return wall, cpu, run_cpu


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: stepping's cost when not stepping")
    ap.add_argument("--python", default=sys.executable, help="the program's interpreter")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--baseline", default=BASELINE, help="git revision of 'before'")
    ns = ap.parse_args()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "before"
        base.mkdir()
        archive = subprocess.run(
            ["git", "archive", ns.baseline, "asyncplay"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        driver = Path(tmp) / "driver.py"
        driver.write_text(DRIVER)
        programs = {"20,000 tasks": TASKS, "100,000 printed lines": PRINTS}

        def drive(root: Path | str, how: str = "-") -> object:
            return lambda prog: [sys.executable, str(driver), str(root), prog, ns.python, how]

        sides = {
            "plain": lambda prog: [ns.python, prog],
            "before": drive(base),
            "off": drive(ROOT, "off"),
            # "off" once more: how far two identical sides drift apart
            "off'": drive(ROOT, "off"),
            "after": drive(ROOT),
            "armed": drive(ROOT, "armed"),
        }
        results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        for i, (name, text) in enumerate(programs.items()):
            prog = Path(tmp) / f"program{i}.py"
            prog.write_text(text)
            for argv in sides.values():  # a warm-up round, not counted
                timed(argv(str(prog)))
            for _ in range(ns.rounds):
                for side, argv in sides.items():
                    results.setdefault((name, side), []).append(timed(argv(str(prog))))
    load1 = os.getloadavg()
    version = subprocess.run(
        [ns.python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(
        f"stepping's cost when not stepping, Python {version}, {ns.rounds} interleaved rounds, "
        f"medians, --sandbox none; before = {ns.baseline}; "
        f"load {load0[0]:.1f} at the start, {load1[0]:.1f} at the end"
    )
    print(
        f"{'benchmark':22} {'side':7} {'wall':>8} {'CPU':>8} {'run CPU':>8} "
        f"{'wall/off':>9} {'CPU/off':>8} {'run CPU/off':>12} {'run CPU/plain':>14}"
    )
    for name in programs:
        med = {
            side: tuple(statistics.median(r[k] for r in results[(name, side)]) for k in range(3))
            for side in sides
        }
        bw, bc, br = med["off"]
        pr = med["plain"][2]
        for side, (w, c, r) in med.items():
            rel = (
                ""
                if side == "plain"
                else f"{w / bw:8.2f}x {c / bc:7.2f}x {r / br:11.2f}x {r / pr:13.2f}x"
            )
            print(f"{name:22} {side:7} {w:7.3f}s {c:7.3f}s {r:7.3f}s {rel}")


if __name__ == "__main__":
    main()
