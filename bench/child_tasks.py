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
``--send-at-end`` (with ``--records figures``): the figures sent once, at the end, as a
real run of the 20,000 tasks sends them, whatever the clock says (under valgrind it passes
50 times slower), and no slow-step warning (each sends the figures before it); it prints
that last send's CPU. ``--channel FILE`` keeps the records (a channel of known sends for
a parent's measure). ``--records figures`` is what a headless ``asyncplay run`` asks
(``steps``, the default, is the TUI's and ``--json``'s); ``--output`` also puts the runtime's stdout/stderr layers
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
    ap.add_argument(
        "--send-at-end",
        action="store_true",
        help="figures: sent once, at the end, as a real run of 20,000 tasks (0.4 s) sends "
        "them; under valgrind the run's clock passes 50 times slower, and a send every "
        "0.8 s of it (or before a slow step's warning: none) made counts that depend on it",
    )
    ap.add_argument("--channel", default=os.devnull, help="where the records go (a file)")
    ns = ap.parse_args()
    tracer = None
    if ns.mode == "traced":
        from asyncplay.child.channel import Channel
        from asyncplay.child.tracer import Tracer

        fd = os.open(ns.channel, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        tracer = Tracer(Channel(fd), time.perf_counter())
        tracer.step_records = ns.records
        if ns.send_at_end:  # (no slow-step warning either: each sends the figures first)
            tracer.slow_step = 0.0
        if ns.output:
            from asyncplay.child import output

            tracer.helper = output.install(tracer, attribute=not ns.headless)
        installing = time.process_time()
        tracer.install(asyncio)
        installed = time.process_time() - installing
        if ns.send_at_end:
            tracer.channel.held_few, tracer.channel.held_every = 0, float("inf")

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
        sent = time.thread_time()
        if ns.send_at_end:  # (as the run's ``bye`` does)
            tracer.channel.pack_held()
        sent = time.thread_time() - sent
        tracer.flush()
        if tracer.helper is not None:
            tracer.helper.stop()
    took = f"{ns.mode}: {ns.tasks:,} tasks, {time.process_time() - start:.3f} s CPU"
    if tracer is not None:  # (the tracer's install, on asyncio already imported)
        took += f"; the install {1e3 * installed:.2f} ms"
        if ns.send_at_end:
            took += f"; the figures' last send {1e3 * sent:.2f} ms CPU"
    print(took, file=sys.stderr)


if __name__ == "__main__":
    main()
