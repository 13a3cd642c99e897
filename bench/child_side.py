"""What the program's own process costs under ``asyncplay run``, against the same program
under plain python: the child alone, split into what every run pays and what grows with
the program.

Each round runs, side by side, for a hello world (the runtime's start-up and exit only),
a program that imports asyncio and runs one ``sleep(0)`` (that, plus the tracer's
install when asyncio is imported) and the programs asked for (``bench/cost.py``'s; 20,000
tasks and 200,000 printed lines by default): plain python, and a real ``asyncplay run
--sandbox none --quiet``, whose child's resource usage is the one the session reaps
(``os.wait4``, read in the asyncplay process itself) and whose parent's is that
process's own. So the child's excess over python, per program, is

- start-up: hello's (the runtime imported by ``sitecustomize``, ``boot.setup``, the
  helper thread, the exit);
- install: the asyncio program's, less hello's (the tracer's rooms, the step hook
  compiled, the patches);
- the rest: the program's own excess, less both (tasks, steps, output, the records
  sent, the figures at the end).

Minor page faults (the memory the child touches) and context switches are given too.
``--against DIR`` runs another checkout's asyncplay in the same rounds ("before" rows).
Medians of ``--rounds`` interleaved rounds; the load is printed with the figures.

    python bench/child_side.py                             # 3.11 (or this python), 5 rounds
    python bench/child_side.py --python /root/.pyenv/versions/3.13.0/bin/python3.13
    python bench/child_side.py --against /tmp/before --only tasks --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost import PROGRAMS  # noqa: E402

ASYNCIO = "import asyncio\n\nasyncio.run(asyncio.sleep(0))\n"

# In the asyncplay process: the child's usage as the session reaps it, and this
# process's own at its exit, written to the file named first.
DRIVER = """
import atexit, os, resource, runpy, sys
out = sys.argv[1]
wait4 = os.wait4
def usage(who, u):
    with open(out, "a") as f:
        f.write(f"{who} {u.ru_utime + u.ru_stime} {u.ru_minflt} {u.ru_nvcsw + u.ru_nivcsw}\\n")
def reaping(pid, options):
    got = wait4(pid, options)
    if got[0]:
        usage("child", got[2])
    return got
os.wait4 = reaping
exit_now = os._exit  # (the command line leaves by os._exit: no atexit)
def leaving(status):
    usage("parent", resource.getrusage(resource.RUSAGE_SELF))
    exit_now(status)
os._exit = leaving
atexit.register(lambda: usage("parent", resource.getrusage(resource.RUSAGE_SELF)))
sys.argv = ["asyncplay", "run", "--sandbox", "none", "--quiet", *sys.argv[2:]]
runpy.run_module("asyncplay", run_name="__main__")
"""

# Plain python: the program in a child of this one-liner, its usage as reaped.
PLAIN = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, _, u = os.wait4(pid, 0)
with open(sys.argv[1], "a") as f:
    f.write(f"child {u.ru_utime + u.ru_stime} {u.ru_minflt} {u.ru_nvcsw + u.ru_nivcsw}\\n")
"""


def run_once(python: str, code: str, prog: Path, env: dict[str, str]) -> dict[str, tuple]:
    """{"child": (cpu, minflt, csw), "parent": ...} of one run (output discarded)."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
        subprocess.run(
            [python, "-c", code, out.name, str(prog)],
            env=env,
            cwd=prog.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        got = {}
        for line in out.read().splitlines():
            who, cpu, flt, csw = line.split()
            got.setdefault(who, (float(cpu), int(flt), int(csw)))
        return got


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: the child's own cost, split")
    ap.add_argument("--python", default="", help="the interpreter (default: pyenv's 3.11)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", action="append", choices=sorted(PROGRAMS), default=[])
    ap.add_argument("--against", metavar="DIR", help="another checkout, in the same rounds")
    ns = ap.parse_args()
    python = ns.python or next(
        iter(sorted(Path("/root/.pyenv/versions").glob("3.11.*/bin/python3.11"))), None
    )
    python = str(python or sys.executable)
    roots = {"now": str(ROOT)}
    if ns.against:
        roots["before"] = str(Path(ns.against).resolve())
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # what a user gets: cached bytecode
    env.pop("PYTHONUNBUFFERED", None)
    for root in roots.values():
        subprocess.run(
            [python, "-m", "compileall", "-q", os.path.join(root, "asyncplay")], check=True
        )
    names = ns.only or ["tasks", "prints"]
    with tempfile.TemporaryDirectory() as tmp:
        progs = {"hello": PROGRAMS["hello"][1], "asyncio": ASYNCIO}
        progs.update({n: PROGRAMS[n][1] for n in names})
        paths = {}
        for name, text in progs.items():
            paths[name] = Path(tmp) / f"{name}_prog.py"
            paths[name].write_text(text)
        figures: dict[tuple[str, str], list[dict]] = {}
        for _ in range(ns.rounds):
            for name, path in paths.items():
                figures.setdefault(("plain", name), []).append(run_once(python, PLAIN, path, env))
                for side, root in roots.items():
                    side_env = dict(env, PYTHONPATH=root)
                    figures.setdefault((side, name), []).append(
                        run_once(python, DRIVER, path, side_env)
                    )
    load = os.getloadavg()[0]

    def med(side: str, name: str, who: str = "child", field: int = 0) -> float:
        runs = [r[who][field] for r in figures[(side, name)] if who in r]
        return statistics.median(runs) if runs else float("nan")

    print("the program's process under asyncplay run --sandbox none --quiet against python,")
    print(f"{python}, {ns.rounds} interleaved rounds, medians (CPU in ms); load {load:.1f}")
    print(f"{'program':10} {'side':7} {'plain':>7} {'child':>7} {'excess':>7} "
          f"{'minflt+':>8} {'csw':>5} {'parent':>7}")  # fmt: skip
    for name in paths:
        plain = med("plain", name)
        for side in roots:
            child = med(side, name)
            print(
                f"{name:10} {side:7} {1e3 * plain:7.1f} {1e3 * child:7.1f} "
                f"{1e3 * (child - plain):7.1f} "
                f"{med(side, name, field=1) - med('plain', name, field=1):8.0f} "
                f"{med(side, name, field=2):5.0f} {1e3 * med(side, name, 'parent'):7.1f}"
            )
    for side in roots:
        start = med(side, "hello") - med("plain", "hello")
        install = med(side, "asyncio") - med("plain", "asyncio") - start
        print(
            f"{side}: child start-up {1e3 * start:.1f} ms, install {1e3 * install:.1f} ms", end=""
        )
        for name in names:
            rest = med(side, name) - med("plain", name) - start - install
            print(f", {name} the rest {1e3 * rest:.1f} ms", end="")
        print()


if __name__ == "__main__":
    main()
