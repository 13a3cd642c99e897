"""Hostile programs: how long each takes to stop past its limit, asyncplay's own peak memory
meanwhile, and what each sandbox layer adds to a hello world's start-up.

    python bench/hostile.py [--layer auto|bwrap|rlimit|none] [--rounds N]

Every case runs ``asyncplay run`` in a fresh interpreter that reports its own peak RSS
(children not included); "over" is the wall time past the limit that stopped it. The
start-up table times hello world under each layer against ``--sandbox none``, interleaved.
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

ROOT = Path(__file__).resolve().parent.parent

PEAK = (
    "import resource, sys\n"
    "from asyncplay.cli import main\n"
    "code = main(sys.argv[2:])\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(f'{code} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}')\n"
)

# name -> (program, flags, the limit's seconds when it is a time limit)
CASES: dict[str, tuple[str, list[str], float]] = {
    "hello (baseline)": ("print('hello')\n", [], 0.0),
    "cpu loop -> --timeout 2": ("while True:\n    pass\n", ["--timeout", "2", "--cpu", "60"], 2),
    "sleep(0) busy loop -> --timeout 2": (
        "import asyncio\nasync def m():\n    while True:\n        await asyncio.sleep(0)\n"
        "asyncio.run(m())\n",
        ["--timeout", "2"],
        2,
    ),
    "deadlock -> --timeout 2": (
        "import asyncio\nasync def m():\n    await asyncio.get_running_loop().create_future()\n"
        "asyncio.run(m())\n",
        ["--timeout", "2"],
        2,
    ),
    "non-daemon thread -> --timeout 2": (
        "import threading, time\nthreading.Thread(target=time.sleep, args=(3600,)).start()\n",
        ["--timeout", "2"],
        2,
    ),
    "ignores SIGINT+SIGTERM -> --timeout 2": (
        "import signal, time\nsignal.signal(2, signal.SIG_IGN)\nsignal.signal(15, signal.SIG_IGN)\n"
        "while True:\n    time.sleep(0.01)\n",
        ["--timeout", "2"],
        2,
    ),
    "cpu loop -> --cpu 1": ("while True:\n    pass\n", ["--cpu", "1"], 1),
    "ignores SIGXCPU -> --cpu 1": (
        "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n",
        ["--cpu", "1"],
        1,
    ),
    "memory bomb -> --memory 200": (
        "x = []\nwhile True:\n    x.append(bytearray(8 << 20))\n",
        ["--memory", "200"],
        0.0,
    ),
    "fills /tmp, /dev/shm and memfds -> --memory 256": (
        "import os, time\nkeep = []\nfor where in ('/tmp', '/dev/shm', 'memfd'):\n"
        "    try:\n        for i in range(40):\n"
        "            fd = os.memfd_create('m') if where == 'memfd' else "
        "os.open(f'{where}/f{i}', os.O_WRONLY | os.O_CREAT)\n"
        "            keep.append(fd)\n            for _ in range(32):\n"
        "                os.write(fd, b'x' * (1 << 20))\n"
        "    except OSError:\n        pass\ntime.sleep(30)\n",
        ["--memory", "256"],
        0.0,
    ),
    "fork bomb -> --procs 20": ("import os\nwhile True:\n    os.fork()\n", ["--procs", "20"], 0.0),
    "thread bomb -> --procs 20, then --timeout 3": (
        "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, "
        "args=(60,)).start()\n",
        ["--procs", "20", "--timeout", "3"],
        3,
    ),
    "3M forged task records -> --memory 100": (
        "import os, struct\nH, C = struct.Struct('<BI'), struct.Struct('<IIdIIIB')\n"
        "fd = 200\nwhile True:\n    try:\n        os.fstat(fd)\n        break\n"
        "    except OSError:\n        fd += 1\n"
        "for s in range(1, 3_000_000, 10_000):\n"
        "    os.write(fd, b''.join(H.pack(67, C.size + 1) + C.pack(i, 0, 0.0, 0, 0, 0, 0) + b't'"
        " for i in range(s, s + 10_000)))\n",
        ["--memory", "100"],
        0.0,
    ),
    "flood, lines -> --output-limit 8": ("while True:\n    print('x' * 100)\n", [], 0.0),
    "flood, no newline -> --output-limit 8": (
        "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
        [],
        0.0,
    ),
    "flood, binary -> --output-limit 8": (
        "import os, sys\nwhile True:\n    sys.stdout.buffer.write(os.urandom(65536))\n",
        [],
        0.0,
    ),
    "flood, one 200 MiB line -> --output-limit 8": (
        "import sys\nsys.stdout.write('y' * (200 << 20))\n",
        [],
        0.0,
    ),
}


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def run_case(tmp: Path, program: str, flags: list[str], layer: str, json_mode: bool):
    (tmp / "p.py").write_text(program)
    report = tmp / "peak"
    argv = ["run", "--quiet", "--sandbox", layer, *flags, *(["--json"] if json_mode else [])]
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", PEAK, str(report), *argv, "p.py"],
        cwd=tmp,
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
    )
    took = time.perf_counter() - start
    code, kib = report.read_text().split()
    return int(code), took, int(kib)


def startup(tmp: Path, rounds: int) -> None:
    (tmp / "hello.py").write_text("print('hello')\n")
    layers = ["none", "rlimit", "bwrap", "auto"]
    times: dict[str, list[float]] = {layer: [] for layer in layers}
    for _ in range(rounds):
        for layer in layers:
            argv = [sys.executable, "-m", "asyncplay", "run", "--sandbox", layer, "hello.py"]
            start = time.perf_counter()
            subprocess.run(argv, cwd=tmp, env=env(), capture_output=True, check=True)
            times[layer].append(time.perf_counter() - start)
    base = statistics.median(times["none"])
    print(f"\nhello world start-up, median of {rounds} interleaved rounds:")
    for layer in layers:
        med = statistics.median(times[layer])
        print(f"  --sandbox {layer:<7} {med * 1000:7.1f} ms   x{med / base:.2f} of none")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layer", default="auto", choices=["auto", "bwrap", "rlimit", "none"])
    ap.add_argument("--rounds", type=int, default=9, help="start-up rounds")
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        print(f"--sandbox {ns.layer}: time to stop and asyncplay's own peak RSS")
        print(
            f"  {'case':<45} {'exit':>4} {'total s':>8} {'over s':>7} {'peak MiB':>9} {'json':>9}"
        )
        for name, (program, flags, limit) in CASES.items():
            code, took, kib = run_case(tmp, program, flags, ns.layer, False)
            _c, _t, kib_json = run_case(tmp, program, flags, ns.layer, True)
            over = f"{took - limit:7.2f}" if limit else "      -"
            print(
                f"  {name:<45} {code:>4} {took:8.2f} {over} {kib / 1024:9.1f} "
                f"{kib_json / 1024:9.1f}"
            )
        startup(tmp, ns.rounds)


if __name__ == "__main__":
    main()
