"""What ``asyncplay attach`` costs: the time to attach, and a busy program's step rate
before, while and after it is attached (the same process, measured side by side).

The program does ``await asyncio.sleep(0)`` in 10 tasks as fast as it can and prints its
steps per second every 0.5 s; asyncplay attaches with ``--json`` (its output discarded),
stays ``--timeout`` seconds, detaches. Usage: ``python bench/attach.py [python3.14]``.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BUSY = r"""
import asyncio, time
count = 0
async def spin():
    global count
    while True:
        await asyncio.sleep(0)
        count += 1
async def report():
    global count
    while True:
        count, t0 = 0, time.perf_counter()
        await asyncio.sleep(0.5)
        print(int(count / (time.perf_counter() - t0)), flush=True)
async def main():
    for _ in range(10):
        asyncio.create_task(spin())
    await report()
asyncio.run(main())
"""


def rates(proc: subprocess.Popen, n: int) -> list[int]:
    return [int(proc.stdout.readline()) for _ in range(n)]  # type: ignore[union-attr]


def main() -> None:
    python = shutil.which(sys.argv[1] if len(sys.argv) > 1 else "python3.14")
    if python is None:
        sys.exit("no such python")
    proc = subprocess.Popen([python, "-c", BUSY], stdout=subprocess.PIPE, text=True)
    try:
        rates(proc, 2)  # warm up
        before = rates(proc, 4)
        attach_ms = []
        start = time.monotonic()
        attacher = subprocess.Popen(
            [sys.executable, "-m", "asyncplay", "attach", "--json", "--timeout", "3",
             str(proc.pid)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        during = rates(proc, 6)
        _, err = attacher.communicate(timeout=60)
        elapsed = time.monotonic() - start
        found = re.search(r" in (\d+) ms", err)
        if found:
            attach_ms.append(int(found.group(1)))
        rates(proc, 2)  # the step in flight and asyncplay's own exit, on the same cores
        after = rates(proc, 4)
    finally:
        proc.kill()
        proc.wait()
    py = subprocess.run([python, "-V"], capture_output=True, text=True).stdout.strip()
    print(
        f"{py}: steps/s before {statistics.median(before):,.0f}, attached "
        f"{statistics.median(during[1:]):,.0f}, after {statistics.median(after):,.0f}"
    )
    print(
        f"attach took {attach_ms[0] if attach_ms else '?'} ms (asyncplay's own count); "
        f"the whole command {elapsed:.2f} s with --timeout 3"
    )


if __name__ == "__main__":
    main()
