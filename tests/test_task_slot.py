"""A traced task carries its record (``cancels.RECORD_SLOT``), which the step hook reads
at each step instead of looking it up by id (``child/step_hook.py``): every step still
lands on its own task's record, every task is registered once, on every installed
CPython 3.10-3.15.

The probe installs a ``Tracer`` (step records and figures both) over a temporary file,
runs tasks made every way a program makes them (``gather``, ``create_task``, a task
factory's plain ``asyncio.Task``, the traced class called by the program itself, whose
slot nobody set) and prints, per coroutine, the tasks created and the steps each one got
in the step records and in the figures.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from pythons import SUPPORTED_VERSIONS, python_or_skip

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import asyncio, json, os, tempfile, time
from asyncplay import decoder
from asyncplay.child.cancels import RECORD_SLOT
from asyncplay.child.channel import Channel
from asyncplay.child.tracer import Tracer

out = tempfile.TemporaryFile()
tracer = Tracer(Channel(out.fileno()), time.perf_counter())
tracer.step_records = "both"
tracer.install(asyncio)
facts = {}


async def gathered(n):
    for _ in range(n):
        await asyncio.sleep(0)


async def created(n):
    for _ in range(n):
        await asyncio.sleep(0)


async def by_factory(n):
    for _ in range(n):
        await asyncio.sleep(0)


async def by_class(n):
    for _ in range(n):
        await asyncio.sleep(0)


async def main():
    loop = asyncio.get_running_loop()
    kids = [asyncio.create_task(created(i % 4)) for i in range(30)]
    recs = [tracer.tasks[id(t)] for t in kids]
    facts["slot_is_record"] = all(getattr(t, RECORD_SLOT) is r for t, r in zip(kids, recs))
    # the traced class called by the program itself: no record in its slot yet
    cls = type(kids[0])
    own = [cls(by_class(i % 4)) for i in range(10)]
    facts["own_slot_empty"] = not any(hasattr(t, RECORD_SLOT) for t in own)
    loop.set_task_factory(lambda loop, coro, **kw: asyncio.Task(coro, loop=loop, **kw))
    kids += [asyncio.create_task(by_factory(i % 4)) for i in range(20)]
    loop.set_task_factory(None)
    await asyncio.sleep(0)  # every task's first step: the program's own got a record
    pending = [t for t in own if not t.done()]
    facts["own_slot_set"] = len(pending) == 7 and all(
        getattr(t, RECORD_SLOT) is tracer.tasks[id(t)] for t in pending
    )
    await asyncio.gather(*(gathered(i % 4) for i in range(40)), *kids, *own)
    # a finished task (still held here) no longer holds its record: it is let go
    facts["record_let_go"] = all(getattr(t, RECORD_SLOT) is None for t in kids[:30])


asyncio.run(main())
tracer.flush()
out.seek(0)
events = decoder.Decoder().feed(out.read())
coro_of, created_n, steps, figures = {}, {}, {}, {}
for e in events:
    if e["event"] == "task_created":
        coro_of[e["id"]] = e["coro"]
        created_n[e["coro"]] = created_n.get(e["coro"], 0) + 1
    elif e["event"] == "steps":
        for row in e["steps"]:
            steps[row[0]] = steps.get(row[0], 0) + 1
    elif e["event"] == "figures":
        for row in e["tasks"]:
            figures[row[0]] = row[1]
facts["created"] = created_n
per = {}
for tid, coro in coro_of.items():
    per.setdefault(coro, []).append([steps.get(tid, 0), figures.get(tid, 0)])
facts["steps"] = {coro: sorted(map(tuple, v)) for coro, v in per.items()}
print(json.dumps(facts))
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_every_step_lands_on_its_own_tasks_record(version: str, tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run(
        [python_or_skip(version), str(probe)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    facts = json.loads(r.stdout)
    assert facts["slot_is_record"] and facts["own_slot_empty"] and facts["own_slot_set"]
    assert facts["record_let_go"]  # a finished task held by the program: not its record
    # each task registered once, whichever way it was made
    counts = {"gathered": 40, "created": 30, "by_factory": 20, "by_class": 10, "main": 1}
    assert {c: n for c, n in facts["created"].items() if c in counts} == counts
    # a task awaiting sleep(0) n times takes n + 1 steps: in its step records and in its
    # figures alike (a step counted on another task's record shows here)
    for coro, total in counts.items():
        if coro == "main":
            continue
        want = sorted((i % 4 + 1, i % 4 + 1) for i in range(total))
        assert [tuple(x) for x in facts["steps"][coro]] == want, coro


TAMPER = """\
import asyncio

async def w(how):
    t = asyncio.current_task()
    if how == "object":
        t._asyncplay_record = object()
    elif how == "none":
        t._asyncplay_record = None
    else:
        del t._asyncplay_record
    await asyncio.sleep(0)
    print("after", how)
    await asyncio.sleep(0)

async def main():
    for how in ("object", "none", "del"):
        await asyncio.create_task(w(how), name=how)
    print("main end")

asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_a_program_that_writes_the_slot_loses_nothing(version: str, tmp_path: Path) -> None:
    """The slot is visible to the program (``dir(task)``): one that writes it (an object,
    None) or deletes it still runs as under python and each of its steps is counted on
    its own task (found by id): an object there made every later step of the task fail
    in the runtime and the program lost its step ("Task was destroyed but it is
    pending!", status 1); None left its steps uncounted."""
    (tmp_path / "tamper.py").write_text(TAMPER)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run(
        [python_or_skip(version), "-m", "asyncplay", "run", "--sandbox", "none", "--json"]
        + ["tamper.py"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    events = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    names = {
        e["id"]: e["name"] for e in events if e.get("event") in ("task_created", "task_renamed")
    }
    text = "".join(e["text"] for e in events if e.get("event") == "output")
    assert text == "after object\nafter none\nafter del\nmain end\n"
    assert not [e for e in events if e.get("event") == "warning"], r.stdout[-3000:]
    steps: dict[str, int] = {}
    for e in events:
        if e.get("event") == "steps":
            for row in e["steps"]:
                steps[names[row[0]]] = steps.get(names[row[0]], 0) + 1
    assert {n: steps.get(n) for n in ("object", "none", "del")} == {
        "object": 3,
        "none": 3,
        "del": 3,
    }
    done = {names[e["id"]]: e["state"] for e in events if e.get("event") == "task_done"}
    assert {n: done.get(n) for n in ("object", "none", "del")} == dict.fromkeys(
        ("object", "none", "del"), "done"
    )
