"""What ``asyncplay run``'s own process pays per run, apart from its figures (those are
``bench/parent_side.py``'s): the premise its collector choice rests on.

The headless command never collects garbage (``cli/__init__.py``): a collection only ever
scanned the tasks the model keeps. That holds while a run's parent makes no reference
cycle that becomes garbage, which these tests pin for the run's every kind of output.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from helpers import env

from asyncplay.exits import TIMEOUT

PROGRAM = """\
import asyncio, sys, time

async def worker(i):
    print("line", i)
    await asyncio.sleep(0.001)
    if i % 7 == 0:
        raise ValueError(i)
    if i == 11:
        time.sleep(0.15)  # a slow step: a warning, told live
    return i

async def main():
    queue, lock = asyncio.Queue(), asyncio.Lock()
    async with lock:
        await queue.put(1)
    await asyncio.gather(*(worker(i) for i in range(300)), return_exceptions=True)
    waiter = asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
    waiter.cancel()
    print("x" * 100_000, file=sys.stderr, end="")
    await asyncio.to_thread(time.sleep, 0.01)
    asyncio.create_task(asyncio.sleep(5))  # cut off by the run's end
    raise SystemExit(3)

asyncio.run(main())
"""

# Runs asyncplay twice in this process (the first imports what the run needs), then
# counts what the collector finds of the second, from its spawn on (the model is made
# then): garbage only a collection would free. (Before the spawn the sandbox's seccomp
# filter makes a few ctypes objects that are a cycle, the same few each run.)
PROBE = """
import gc, sys
from asyncplay import model
from asyncplay.cli import main
argv = sys.argv[2:]
main(argv)
gc.disable()
made = model.RunModel.__init__
def at_spawn(self, *args, **kwargs):
    gc.collect()
    gc.freeze()
    made(self, *args, **kwargs)
model.RunModel.__init__ = at_spawn
status = main(argv)
gc.set_debug(gc.DEBUG_SAVEALL)
found = gc.collect()
kinds = sorted({type(o).__qualname__ for o in gc.garbage})
with open(sys.argv[1], "w") as f:
    f.write(repr({"status": status, "found": found, "kinds": kinds[:20]}))
"""


@pytest.mark.parametrize(
    ("flags", "status"),
    [
        (["--sandbox", "none"], 3),
        ([], 3),  # the default sandbox
        (["--sandbox", "none", "--json", "--all-tasks"], 3),
        (["--sandbox", "none", "--record", "run.rec", "--trace", "trace.json"], 3),
        (["--sandbox", "none", "--timeout", "1.5"], TIMEOUT),  # a limit ends it
    ],
)
def test_a_headless_run_makes_no_garbage_only_a_collection_would_free(
    tmp_path, flags, status
) -> None:
    program = PROGRAM
    if status == TIMEOUT:  # it does it all, then waits until the limit ends it
        program = PROGRAM.replace("    raise SystemExit(3)\n", "    await asyncio.sleep(60)\n")
        assert program != PROGRAM
    (tmp_path / "p.py").write_text(program)
    out = tmp_path / "probe.txt"
    subprocess.run(
        [sys.executable, "-c", PROBE, str(out), "run", *flags, "p.py"],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    got = ast.literal_eval(out.read_text())
    assert got["status"] == status, got
    assert got["found"] == 0, got["kinds"]


# Runs asyncplay (headless) with the session's channel reads written to a file as well.
CAPTURE = """
import sys
from asyncplay.runner import core
out = open(sys.argv[1], "wb")
feed = core.SessionCore.on_channel
def on_channel(self, data):
    out.write(data)
    return feed(self, data)
core.SessionCore.on_channel = on_channel
from asyncplay.cli import main
main(["run", "--sandbox", "none", "--quiet", sys.argv[2]])
"""


def test_a_real_runs_task_records_batched_give_the_same_summary(tmp_path) -> None:
    """The headless command's batched decoder (tasks_created/tasks_done) on a real run's
    channel: the same tasks, figure for figure, and the same summary, as an event each."""
    from asyncplay.decoder import Decoder
    from asyncplay.model import TaskInfo, build
    from asyncplay.views import summary

    (tmp_path / "p.py").write_text(PROGRAM)
    channel = tmp_path / "channel.bin"
    subprocess.run(
        [sys.executable, "-c", CAPTURE, str(channel), "p.py"],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    data = channel.read_bytes()
    models = []
    for batched in (False, True):
        decoder = Decoder(batched)
        events = [
            ev for i in range(0, len(data), 65536) for ev in decoder.feed(data[i : i + 65536])
        ]
        models.append(build(events))
    each, some = models
    assert len(each.tasks) > 300 and not each.errors
    fields = [f for f in TaskInfo.__slots__ if f != "_f"]
    assert [[getattr(t, f) for f in fields] for t in each.tasks.values()] == [
        [getattr(t, f) for f in fields] for t in some.tasks.values()
    ]
    assert each.now == some.now and each.warnings == some.warnings
    for all_tasks in (False, True):
        assert summary.summary(each, all_tasks, str(tmp_path)) == summary.summary(
            some, all_tasks, str(tmp_path)
        )
    assert summary.summary_event(each) == summary.summary_event(some)
