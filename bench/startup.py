"""Hello-world start-up, piece by piece: where ``asyncplay run``'s time goes before and
after the program, side by side with plain Python, every side interleaved round after
round (medians; CPU is user + system of every process started, as ``cost.py`` counts it).

    python bench/startup.py                      # 3.11 (pyenv's real binary), 15 rounds
    python bench/startup.py --python /usr/bin/python3 --rounds 9
    python bench/startup.py --against /tmp/before   # another checkout's rows too
    python bench/startup.py --asyncio   # the program imports asyncio and runs one task

The rows: plain ``python hello.py``; ``python -c pass`` with asyncplay's run path imported
(the parent's imports alone); ``python hello.py`` with the child runtime injected (the
runtime's start-up alone: its imports, the channel, the gate, the exit report); then
``asyncplay run`` under ``--sandbox none``, ``--network off`` and the default.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from cost import (
    ROOT,
    become_subreaper,
    compile_trees,
    real_binary,
    real_pythons,
    timed,
    version_of,
)

PROGRAM = 'print("hello, world")\n'
# The same with asyncio imported and one task run: what the tracer's install costs.
ASYNCIO_PROGRAM = 'import asyncio\n\nasyncio.run(asyncio.sleep(0))\nprint("hello, world")\n'
RUN_PATH = (
    "import asyncplay.cli, asyncplay.cli.run, asyncplay.sandbox, asyncplay.policy, "
    "asyncplay.runner.sync_driver, asyncplay.model"
)
# The child runtime alone: its spec names a channel (stderr: discarded) and no gate.
INJECTED = (
    "import os, sys; from asyncplay import protocol; from asyncplay.runner.spec import RunSpec; "
    "open(sys.argv[1], 'wb').write(protocol.pack_spec(RunSpec(path='hello.py').child_spec(2)))"
)


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: asyncplay run's start-up, piece by piece")
    ap.add_argument("--python", help="interpreter (default: pyenv's 3.11)")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--against", metavar="DIR", help="another checkout's rows too ('before')")
    ap.add_argument("--asyncio", action="store_true", help="a program that imports asyncio")
    ns = ap.parse_args()
    python = real_binary(ns.python) if ns.python else real_pythons()[0]
    become_subreaper()
    base = dict(os.environ)
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base.pop("PYTHONUNBUFFERED", None)
    roots = [("", str(ROOT))] + ([("before ", os.path.abspath(ns.against))] if ns.against else [])
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "hello.py").write_text(ASYNCIO_PROGRAM if ns.asyncio else PROGRAM)
        sides: list[tuple[str, list[str], dict[str, str]]] = []
        plain_env = dict(base)
        sides.append(("python hello.py", [python, "hello.py"], plain_env))
        for tag, root in roots:
            env = dict(base, PYTHONPATH=root)
            compile_trees(python, [(tag, root)], {root: env})
            spec = os.path.join(tmp, f"spec{len(sides)}.marshal")
            os.spawnve(os.P_WAIT, python, [python, "-c", INJECTED, spec], env)
            child_env = dict(
                env,
                PYTHONPATH=os.path.join(root, "asyncplay", "child", "inject"),
                ASYNCPLAY_CHILD_SPEC=spec,
            )
            sides += [
                (f"{tag}imports of asyncplay run", [python, "-c", RUN_PATH], env),
                (f"{tag}child runtime alone", [python, "hello.py"], child_env),
            ]
            for name, flags in (
                ("--sandbox none", ["--sandbox", "none"]),
                ("--network off", ["--network", "off"]),
                ("default", []),
            ):
                argv = [python, "-m", "asyncplay", "run", "--quiet", *flags, "hello.py"]
                sides.append((f"{tag}asyncplay run {name}", argv, env))
        for _name, argv, env in sides:
            timed(argv, env, tmp)  # warm caches and .pyc files
        walls: list[list[float]] = [[] for _ in sides]
        cpus: list[list[float]] = [[] for _ in sides]
        for _ in range(ns.rounds):
            for i, (_name, argv, env) in enumerate(sides):
                wall, cpu = timed(argv, env, tmp)
                walls[i].append(wall)
                cpus[i].append(cpu)
    print(
        f"{'asyncio ' if ns.asyncio else ''}hello world start-up, Python {version_of(python)}, "
        f"{ns.rounds} interleaved rounds, "
        f"medians; load {os.getloadavg()[0]:.1f}"
    )
    pw, pc = statistics.median(walls[0]), statistics.median(cpus[0])
    print(f"{'':38} {'wall':>8} {'ratio':>6} {'CPU':>8} {'ratio':>6}")
    for i, (name, _argv, _env) in enumerate(sides):
        w, c = statistics.median(walls[i]), statistics.median(cpus[i])
        print(f"{name:38} {w * 1000:6.1f}ms {w / pw:5.2f}x {c * 1000:6.1f}ms {c / pc:5.2f}x")
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
