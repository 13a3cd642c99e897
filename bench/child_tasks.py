"""The child runtime alone on bench/cost.py's 20,000-task program, in one process: a
``Tracer`` over a channel to /dev/null, installed as a run installs it, or none (plain).

No parent, no sandbox, no output pipes: what is left is the child's own work per task and
per step. Made for instruction counts, which the machine's load does not move:

    valgrind --tool=callgrind python bench/child_tasks.py traced      # the whole program
    valgrind --tool=callgrind python bench/child_tasks.py plain
    valgrind --tool=callgrind --toggle-collect=functools_reduce \\
        python bench/child_tasks.py traced --creation                  # the tasks' creation

(``--creation``: the ``gather`` that creates the tasks runs inside ``functools.reduce``, so
``--toggle-collect`` counts creation alone.) Without valgrind it prints the CPU time the
program took. ``--tasks N`` for another size, ``--sleeps N`` for the steps per task (the
difference of two counts that differ only in it is the cost of a step alone); ``PYTHONPATH`` picks the checkout.
``--records figures`` is what a headless ``asyncplay run`` asks (``steps``, the default,
is the TUI's and ``--json``'s); ``--output`` also puts the runtime's stdout/stderr layers
in, as a run does (the step hook then flushes a real ``TextIOWrapper``); ``--headless`` with
it, as ``asyncplay run`` has them (its writes not copied: no flush per step). Traced, it also
prints the CPU of ``Tracer.install`` (``--tasks 0``: that alone matters).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: the child runtime alone, in-process")
    ap.add_argument("mode", choices=["traced", "plain"])
    ap.add_argument("--tasks", type=int, default=20_000)
    ap.add_argument("--creation", action="store_true", help="create inside functools.reduce")
    ap.add_argument("--sleeps", type=int, default=3, help="sleep(0)s per task (3: cost.py's)")
    ap.add_argument("--records", choices=["steps", "figures", "both"], default="steps")
    ap.add_argument("--output", action="store_true", help="the runtime's output layers too")
    ap.add_argument(
        "--headless",
        action="store_true",
        help="with --output: as the headless command has them (no copy of the writes)",
    )
    ns = ap.parse_args()
    tracer = None
    if ns.mode == "traced":
        from asyncplay.child.channel import Channel
        from asyncplay.child.tracer import Tracer

        tracer = Tracer(Channel(os.open(os.devnull, os.O_WRONLY)), time.perf_counter())
        tracer.step_records = ns.records
        if ns.output:
            from asyncplay.child import output

            tracer.helper = output.install(tracer, attribute=not ns.headless)
        installing = time.process_time()
        tracer.install(asyncio)
        installed = time.process_time() - installing

    async def tiny() -> None:
        for _ in range(ns.sleeps):
            await asyncio.sleep(0)

    async def program() -> None:
        coros = [tiny() for _ in range(ns.tasks)]
        if ns.creation:
            gathered = functools.reduce(lambda _a, _b: asyncio.gather(*coros), [0, 0])
        else:
            gathered = asyncio.gather(*coros)
        await gathered

    start = time.process_time()
    asyncio.run(program())
    if tracer is not None:
        tracer.flush()
        if tracer.helper is not None:
            tracer.helper.stop()
    took = f"{ns.mode}: {ns.tasks:,} tasks, {time.process_time() - start:.3f} s CPU"
    if tracer is not None:  # (the tracer's install, on asyncio already imported)
        took += f"; the install {1e3 * installed:.2f} ms"
    print(took, file=sys.stderr)


if __name__ == "__main__":
    main()
