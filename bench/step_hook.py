"""The step hook alone: ``Handle._run`` called N times on a fake task step, hooked (a
``Tracer`` of the mode given, over a channel to /dev/null, the runtime's stdout layers
in) or asyncio's own (``--orig``). The helper threads are stopped and no flush falls due,
so an instruction count is the hook's and nothing else's:

    valgrind --tool=callgrind python bench/step_hook.py figures --calls 60000
    valgrind --tool=callgrind python bench/step_hook.py figures --calls 10000

(the difference over 50,000 calls, minus the same with ``--orig``, is the hook's cost a
step. The fake task carries its record as the traced Task class's do; ``--by-id``: a
task of another class, a task factory's, found by id; ``PYTHONHASHSEED=0``, and the checkout's bytecode compiled: docs/performance.md).
Without valgrind it prints the CPU time a call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from asyncio import events


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: the step hook alone, per call")
    ap.add_argument("mode", choices=["steps", "figures", "both"])
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--orig", action="store_true", help="asyncio's own Handle._run")
    ap.add_argument(
        "--by-id",
        action="store_true",
        help="a task of another class (a task factory's): its record looked up by id",
    )
    ns = ap.parse_args()
    import asyncplay.child.channel as channel_mod
    from asyncplay.child import output, step_hook
    from asyncplay.child.tracer import Tracer

    orig = events.Handle._run
    channel_mod.FLUSH_INTERVAL = 1e9  # no flush falls due while it counts
    tracer = Tracer(channel_mod.Channel(os.open(os.devnull, os.O_WRONLY)), time.perf_counter())
    tracer.step_records = ns.mode
    tracer.helper = output.install(tracer)
    tracer.install(asyncio)
    tracer.channel.flush_due = float("inf")
    tracer.helper.stop()
    if tracer.watchdog is not None:
        tracer.watchdog.stop()

    class FakeTask:
        # As the traced Task class: the record in a slot (cancels.RECORD_SLOT)
        __slots__ = ("_asyncplay_record", "__weakref__")
        _fut_waiter = None

        def done(self) -> bool:
            return False

        def get_name(self) -> str:
            return "t"

        def get_coro(self) -> None:
            return None

    class FakeStep:  # stands for a C task's TaskStepMethWrapper
        def __init__(self, task: FakeTask) -> None:
            self.__self__ = task

        def __call__(self) -> None:
            pass

    step_hook._step_type = FakeStep
    if not ns.by_id:  # asyncio's tasks in a run are the traced class: the record on it
        tracer.named_tasks = FakeTask
        step_hook.set_traced_task(FakeTask)
    task = FakeTask()
    tracer.register(task, None, None)
    loop = asyncio.new_event_loop()
    loop._ready.append(None)  # work is ready: the hook does not flush for a wait
    handle = events.Handle(FakeStep(task), (), loop)
    run = orig if ns.orig else events.Handle._run
    start = time.process_time()
    for _ in range(ns.calls):
        run(handle)
    took = time.process_time() - start
    which = "asyncio's own" if ns.orig else f"hooked ({ns.mode})"
    print(f"{which}: {took / ns.calls * 1e9:.0f} ns a call", file=sys.stderr)


if __name__ == "__main__":
    main()
