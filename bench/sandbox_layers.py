"""Start-up cost of each sandbox layer: a hello world under every ``--sandbox`` mode (and
every ``--network`` mode where this asyncplay has the flag), against plain Python.

All variants run interleaved in one process, round after round, with the same interpreter;
the figures are medians of wall time and of CPU time (the command and everything it waited
for: bwrap, its helpers, the program), each as a ratio to plain ``python hello.py``, and the
wall-clock milliseconds a variant adds over ``--sandbox none`` (asyncplay without layers).
``--quiet``: no task summary, so what differs between variants is the sandbox alone.

    python bench/sandbox_layers.py [--rounds 10] [--python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT

PROGRAM = 'print("hello, world")\n'


def variants() -> list[tuple[str, list[str]]]:
    """(label, asyncplay run flags) for each layer this checkout knows."""
    sys.path.insert(0, str(ROOT))
    from asyncplay.cli.args import RUN_OPTIONS

    out = [(f"--sandbox {mode}", ["--sandbox", mode]) for mode in ("none", "rlimit", "bwrap")]
    out.append(("--sandbox auto", ["--sandbox", "auto"]))
    option = RUN_OPTIONS.get("--network")
    if option is not None:
        for mode in option[1].choices:  # type: ignore[union-attr]
            out.append((f"auto --network {mode}", ["--sandbox", "auto", "--network", mode]))
    return out


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``argv`` and all it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env, cwd=cwd, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or proc.stdout != b"hello, world\n":
        sys.exit(f"{argv} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def layers(python: str, flags: list[str], env: dict[str, str], cwd: str) -> str:
    """The layers a run under ``flags`` really got (run_start's sandbox field)."""
    proc = subprocess.run(
        [python, "-m", "asyncplay", "run", "--json", *flags, "hello.py"],
        capture_output=True,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )
    try:
        sandbox = json.loads(proc.stdout.decode().splitlines()[0])["sandbox"]
        got = "+".join(sandbox["layers"]) or "-"
        return f"{got} net {sandbox['network']}" if sandbox.get("network") else got
    except (IndexError, ValueError, KeyError, TypeError):
        return f"? ({proc.stderr.decode().strip()[-60:]})"


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: start-up cost of each sandbox layer")
    ap.add_argument("--python", default=sys.executable, help="interpreter for every side")
    ap.add_argument("--rounds", type=int, default=10)
    ns = ap.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure what a user gets: cached bytecode
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    subprocess.run(
        [ns.python, "-m", "compileall", "-q", str(ROOT / "asyncplay")], env=env, check=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "hello.py").write_text(PROGRAM)
        sides = [("python hello.py", "-", [ns.python, "hello.py"])]
        for label, flags in variants():
            argv = [ns.python, "-m", "asyncplay", "run", "--quiet", *flags, "hello.py"]
            sides.append((label, layers(ns.python, flags, env, tmp), argv))
        for _label, _layers, argv in sides:  # warm caches and .pyc files
            timed(argv, env, tmp)
        walls: list[list[float]] = [[] for _ in sides]
        cpus: list[list[float]] = [[] for _ in sides]
        for _ in range(ns.rounds):
            for i, (_label, _layers, argv) in enumerate(sides):
                wall, cpu = timed(argv, env, tmp)
                walls[i].append(wall)
                cpus[i].append(cpu)
    version = subprocess.run(
        [ns.python, "-c", "import sys;print(*sys.version_info[:3], sep='.')"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    who = "root" if os.geteuid() == 0 else f"uid {os.geteuid()}"
    print(f"hello world, Python {version}, as {who}, {ns.rounds} interleaved rounds, medians:")
    print(f"{'':22} {'layers':28} {'wall':>8} {'ratio':>7} {'CPU':>8} {'ratio':>7} {'+wall':>8}")
    plain_wall, plain_cpu = statistics.median(walls[0]), statistics.median(cpus[0])
    base_wall = statistics.median(walls[1])  # --sandbox none
    for i, (label, got, _argv) in enumerate(sides):
        wall, cpu = statistics.median(walls[i]), statistics.median(cpus[i])
        extra = f"{(wall - base_wall) * 1000:+.0f} ms" if i > 1 else ""
        print(
            f"{label:22} {got:28} {wall * 1000:6.0f}ms {wall / plain_wall:6.1f}x "
            f"{cpu * 1000:6.0f}ms {cpu / plain_cpu:6.1f}x {extra:>8}"
        )


if __name__ == "__main__":
    main()
