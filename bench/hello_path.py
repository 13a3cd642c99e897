"""A hello world's critical path under ``asyncplay run``: when each moment of the start and
the end comes, in milliseconds from the command's own start (docs/performance.md, "Round 8:
hello world").

The command runs as a small script that wraps ``asyncplay.cli.main`` and marks, with
``time.monotonic()`` against the launcher's clock: the parent's first line, each process
the run starts, the pre-exec code in the program's fork, bwrap's namespaces and mounts
done, the gate, the first bytes of each pipe, the exit seen and the parent's own exit. The
program prints its own ``time.monotonic()``. Plain ``python`` runs the same program in the
same rounds. The figures are the medians of each moment, then the fastest runs' own
moments (a median row is not one run: the fastest runs show the path's order).

    python bench/hello_path.py [--rounds 15] [--python PATH] [--best 2] [-- RUN FLAGS...]
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

PROGRAM = "import time\nprint('hello', time.monotonic())\n"

# Runs asyncplay with the moments marked; prints them on stderr as "PATH ms what" lines.
WRAPPER = r"""
import os, sys, time
T0 = float(os.environ["HELLO_PATH_T0"])
MARKS = os.environ["HELLO_PATH_MARKS"]
log = [("the parent's first line", time.monotonic())]
def mark(what):
    log.append((what, time.monotonic()))
from asyncplay import cli
from asyncplay.runner import core, spawn
from asyncplay.sandbox import bwrap, process
start = process.start
def started(argv, **kw):
    mark("process started: " + os.path.basename(argv[0]))
    pre = kw.get("preexec")
    if pre is not None:
        def timed_pre():
            t1 = time.monotonic()
            try:
                pre()
            finally:
                t2 = time.monotonic()
                try:  # (as the run's user by now: the program's folder is writable to it)
                    fd = os.open(MARKS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
                    os.write(fd, f"{t1}\tpre-exec code starts\n{t2}\tpre-exec code ends\n".encode())
                    os.close(fd)
                except OSError:
                    pass
        kw["preexec"] = timed_pre
    proc = start(argv, **kw)
    mark("process.start returns: " + os.path.basename(argv[0]))
    return proc
process.start = started
wait_setup = bwrap.Launch.wait_setup
def setup_done(self, *a):
    got = wait_setup(self, *a)
    mark("bwrap's namespaces and mounts made")
    return got
bwrap.Launch.wait_setup = setup_done
open_gate = spawn.open_gate
def gate(fd):
    mark("the gate opens")
    return open_gate(fd)
spawn.open_gate = gate
on_readable = core.SessionCore.on_readable
first = set()
def readable(self, fd, name):
    got = on_readable(self, fd, name)
    if name not in first:
        first.add(name)
        mark("first read of " + name)
    return got
core.SessionCore.on_readable = readable
on_exit = core.SessionCore.on_exit
def exited(self, *a):
    mark("the run's exit seen")
    return on_exit(self, *a)
core.SessionCore.on_exit = exited
exit_now = cli._exit_now
def leave(status):
    mark("the parent's os._exit")
    try:
        with open(MARKS) as f:
            for line in f:
                t, what = line.rstrip("\n").split("\t")
                log.append((what, float(t)))
    except OSError:
        pass
    for what, t in log:
        sys.stderr.write(f"PATH {(t - T0) * 1000:.3f} {what}\n")
    exit_now(status)
cli._exit_now = leave
sys.argv = ["asyncplay", *sys.argv[1:]]
sys.exit(cli.main())
"""


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: a hello world's critical path")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--best", type=int, default=2, help="the fastest runs shown whole")
    ap.add_argument("flags", nargs="*", help="asyncplay run's flags (after --)")
    ns = ap.parse_args()
    env = dict(os.environ)
    for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"):
        env.pop(name, None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    subprocess.run(
        [ns.python, "-m", "compileall", "-q", str(ROOT / "asyncplay")], env=env, check=True
    )
    moments: dict[str, list[float]] = {}
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "hello.py").write_text(PROGRAM)
        os.chmod(tmp, 0o755)  # (a root run's program reads it as nobody)
        marks = os.path.join(tmp, "marks")
        argv = [ns.python, "-c", WRAPPER, "run", "--quiet", *ns.flags, "hello.py"]
        for _ in range(ns.rounds + 1):  # (the first warms the caches: not counted)
            run: dict[str, float] = {}
            t0 = time.monotonic()
            env.update(HELLO_PATH_T0=repr(t0), HELLO_PATH_MARKS=marks)
            proc = subprocess.run(argv, capture_output=True, env=env, cwd=tmp)
            run["the command has ended"] = (time.monotonic() - t0) * 1000
            if proc.returncode != 0:
                sys.exit(f"asyncplay run failed ({proc.returncode}): {proc.stderr[-500:]!r}")
            run["the program's line"] = (float(proc.stdout.split()[1]) - t0) * 1000
            for line in proc.stderr.decode().splitlines():
                if line.startswith("PATH "):
                    _, ms, what = line.split(" ", 2)
                    run.setdefault(what, float(ms))
            if os.path.exists(marks):
                os.unlink(marks)
            t0 = time.monotonic()
            subprocess.run([ns.python, "hello.py"], capture_output=True, env=env, cwd=tmp)
            run["plain python hello.py, whole"] = (time.monotonic() - t0) * 1000
            runs.append(run)
    runs = runs[1:]
    for run in runs:
        for what, ms in run.items():
            moments.setdefault(what, []).append(ms)
    best = sorted(runs, key=lambda r: r["the command has ended"])[: ns.best]
    version = subprocess.run(
        [ns.python, "-c", "import sys; print(*sys.version_info[:3], sep='.')"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(
        f"a hello world's path, Python {version}, asyncplay run --quiet {' '.join(ns.flags)}, "
        f"{ns.rounds} rounds, load {os.getloadavg()[0]:.1f}; ms from the command's start"
    )
    print(f"{'median':>8} " + " ".join(f"{'fastest':>8}" for _ in best) + "  moment")
    for what in sorted(moments, key=lambda w: statistics.median(moments[w])):
        cells = " ".join(f"{r[what]:8.2f}" if what in r else f"{'-':>8}" for r in best)
        print(f"{statistics.median(moments[what]):8.2f} {cells}  {what}")


if __name__ == "__main__":
    main()
