"""What the child keeps per task (``Tracer.register``/``done``, ``child/task_record.py``),
checked inside a real traced loop on every installed CPython 3.10-3.15: the record and the
task_created/task_done records stay exact while the bookkeeping per task shrinks (one
``where`` tuple per creating line, not per task; ``create_task`` passing no arguments on
as a plain call; a traced task's ``set_name`` told when called, so its first step does
not ask its name; its end still does, for a name set past the traced class).

The probe installs a ``Tracer`` over a temporary file in a plain interpreter (the runtime
imports the standard library only) and prints what it saw as JSON.
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
import asyncio, contextvars, gc, json, os, sys, tempfile, time, weakref
from asyncplay import decoder, protocol
from asyncplay.child.channel import Channel
from asyncplay.child.task_record import FIELDS, new_record
from asyncplay.child.tracer import Tracer

out = tempfile.TemporaryFile()
tracer = Tracer(Channel(out.fileno()), time.perf_counter())
tracer.install(asyncio)
facts = {}
var = contextvars.ContextVar("var", default="outer")


async def work(n=0):
    await asyncio.sleep(0)
    return None if n == 0 else n


async def seen():
    await asyncio.sleep(0)
    return var.get()


def tracked_per_task(loop, n=1000):
    # gc-tracked objects each pending task adds: traced (1, its record) minus untraced
    gc.collect()
    gc.disable()
    try:
        counts = []
        for enabled in (False, True):
            tracer.enabled = enabled
            before = len(gc.get_objects())
            made = [loop.create_task(work()) for _ in range(n)]
            counts.append(len(gc.get_objects()) - before)
            for t in made:
                t.cancel()
            tracer.enabled = True
            del made
    finally:
        gc.enable()
    return (counts[1] - counts[0]) / n


async def main():
    loop = asyncio.get_running_loop()
    loop.create_task(work())  # the caches per code and per line filled
    facts["tracked_per_task"] = tracked_per_task(loop)
    await asyncio.sleep(0)  # (the cancelled ones end)
    facts["first_id"] = tracer.next_tid
    made = [asyncio.create_task(work()) for _ in range(40)]  # LINE_A
    made += [asyncio.ensure_future(work()) for _ in range(40)]  # LINE_B
    gathered = asyncio.gather(*(work() for _ in range(40)))  # LINE_C
    recs = [tracer.tasks[id(t)] for t in made]
    facts["where_objects"] = len({id(r.where) for r in recs})
    facts["lines"] = sorted({r.where[1] for r in recs})
    facts["tref"] = all(r.tref() is t and r() is t for r, t in zip(recs, made))
    # the record is the task's weak reference: no second object per task
    facts["is_weakref"] = all(any(w is r for w in weakref.getweakrefs(t)) for r, t in zip(recs, made))
    facts["no_dict"] = not any(hasattr(t, "__dict__") for t in made)
    # register sets the fields new_record sets (it inlines it for asyncio's own tasks)
    facts["fields"] = [
        sorted(f for f in FIELDS if hasattr(r, f)) for r in (recs[0], new_record(None, 0, "x"))
    ]
    facts["isinstance"] = all(isinstance(t, asyncio.Task) for t in made)
    ctx = contextvars.copy_context()
    ctx.run(var.set, "inner")
    named = loop.create_task(seen(), name="named")  # LINE_D
    in_ctx = loop.create_task(seen(), context=ctx) if sys.version_info >= (3, 11) else None
    late = asyncio.create_task(work(7))
    late.set_name("renamed-before-its-end")
    facts["late_id"] = tracer.tasks[id(late)].tid
    facts["told_at_once"] = [tracer.tasks[id(late)].name]
    stepped = asyncio.create_task(work(8))
    await asyncio.sleep(0)  # (its first step done)
    stepped.set_name(42)  # (asyncio makes it a str)
    facts["told_at_once"].append(tracer.tasks[id(stepped)].name)
    stepped.set_name("again")
    facts["stepped_id"] = tracer.tasks[id(stepped)].tid
    # renamed past the traced class's set_name (asyncio's own Task's, called on it):
    # not seen when called, so told at its end
    based = asyncio.create_task(work(9))
    await asyncio.sleep(0)
    type(based).__mro__[1].set_name(based, "based")
    facts["based_id"] = tracer.tasks[id(based)].tid
    await based
    await stepped
    await asyncio.gather(*made, gathered)
    facts["named"] = await named
    facts["context"] = (await in_ctx) if in_ctx is not None else "inner"
    facts["late"] = await late
    facts["left"] = len([t for t in tracer.tasks if t != id(asyncio.current_task())])
    if sys.version_info >= (3, 12):  # eager: registered before the task exists
        first_step = []

        async def eager_work():
            first_step.append(tracer.current)  # (a lock taken here holds this record)
            await asyncio.sleep(0)
            return 3

        loop.set_task_factory(asyncio.eager_task_factory)
        eager = asyncio.create_task(eager_work())  # LINE_E
        rec = tracer.tasks[id(eager)]
        same = rec is first_step[0] and rec.tref() is eager and rec() is eager
        facts["eager"] = [same, rec.where[1], await eager]
        loop.set_task_factory(None)
    else:
        facts["eager"] = [True, LINE_E, 3]
    # The traced class's own register (register_traced, create_task's common case) and
    # any other task's (register: a task factory's plain asyncio.Task) keep the same
    # figures of a task made at the same line, through gather's frames
    pair = [gathered_at(lambda lp, c, **kw: asyncio.Task(c, loop=lp, **kw)), gathered_at(None)]
    recs = [tracer.tasks[id(t)] for t in pair]
    facts["same_record"] = [
        {f: repr(getattr(r, f)) for f in FIELDS if hasattr(r, f) and f not in ("tid", "name", "fresh")}
        for r in recs
    ]
    facts["pair_names"] = [r.name == t.get_name() for r, t in zip(recs, pair)]
    facts["pair_ids"] = [r.tid for r in recs]
    facts["classes"] = [type(t) is asyncio.Task for t in pair]
    await asyncio.gather(*pair)
    odd = loop.create_task(work(), name="odd\udc80")  # (a lone surrogate: sent as "?")
    facts["odd_id"] = tracer.tasks[id(odd)].tid
    await odd


def gathered_at(factory):
    loop = asyncio.get_running_loop()
    loop.set_task_factory(factory)
    try:
        outer = asyncio.gather(work())  # LINE_F
    finally:
        loop.set_task_factory(None)
    (task,) = outer._children
    return task


asyncio.run(main())
tracer.flush()
out.seek(0)
events = decoder.Decoder().feed(out.read())
facts["created"] = [
    (e["id"], e["name"], e["coro"], e["line"], e["internal"])
    for e in events
    if e.get("event") == "task_created"
    and e["id"] >= facts["first_id"]
    and e["coro"] in ("work", "seen", "eager_work")
]
facts["pair_created"] = [
    (e["coro"], e["parent"], e["internal"], e["file"], e["line"])
    for e in events
    if e.get("event") == "task_created" and e["id"] in facts["pair_ids"]
]
facts["odd"] = [e["name"] for e in events if e.get("event") == "task_created" and e["id"] == facts["odd_id"]]
facts["renamed"] = [(e["id"], e["name"]) for e in events if e.get("event") == "task_renamed"]
facts["done"] = sorted({(e["state"], e.get("result")) for e in events if e.get("event") == "task_done"})
print(json.dumps(facts))
"""


def _line(marker: str) -> int:
    return next(i for i, text in enumerate(PROBE.splitlines(), 1) if text.endswith(marker))


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_records_per_task_stay_exact(version: str, tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE.replace("[True, LINE_E, 3]", f"[True, {_line('# LINE_E')}, 3]"))
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
    a, b, c, d, e = (_line(f"# LINE_{x}") for x in "ABCDE")
    # Tasks made at one line share one (file, line) tuple; the second line its own.
    assert facts["where_objects"] == 2 and facts["lines"] == [a, b]
    assert facts["fields"][0] == facts["fields"][1] and "cancel" in facts["fields"][0]
    assert facts["tref"] and facts["isinstance"] and facts["no_dict"] and facts["is_weakref"]
    # one object per task for the collector (the record; before: a record, a weak
    # reference and a (file, line) tuple)
    assert round(facts["tracked_per_task"], 1) == 1.0
    created = facts["created"]
    assert [line for *_, line, _internal in created[:120]] == [a] * 40 + [b] * 40 + [c] * 40
    assert not any(internal for *_, internal in created)
    # asyncio's own names (Task-N, counted by asyncio), and the one given
    assert all(name.startswith("Task-") for _, name, *_ in created[:120])
    assert (created[120][1], created[120][3]) == ("named", d)
    assert facts["named"] == "outer" and facts["context"] == "inner"  # context= passed on
    assert facts["late"] == 7
    # told once (at its end here; 3.12+ also rename the eager task, named by its id until
    # asyncio's name is known)
    assert [name for tid, name in facts["renamed"] if tid == facts["late_id"]] == [
        "renamed-before-its-end"
    ]
    # A set_name() is told when it is called (the traced Task's set_name), each one: a
    # task's end and its first step no longer ask it its name.
    assert facts["told_at_once"] == ["renamed-before-its-end", "42"]
    assert [name for tid, name in facts["renamed"] if tid == facts["stepped_id"]] == [
        "42",
        "again",
    ]
    assert [name for tid, name in facts["renamed"] if tid == facts["based_id"]] == ["based"]
    assert facts["left"] == 0  # every finished task's record let go
    assert facts["eager"] == [True, e, 3]
    # the same figures whichever way a task was registered (task_registry.register_traced)
    assert facts["classes"] == [True, False]
    same = facts["same_record"]
    assert same[0] == same[1] and same[0]["root"] == "False"
    assert facts["pair_names"] == [True, True]
    assert same[0]["where"].endswith(f", {_line('# LINE_F')})")
    pair = facts["pair_created"]
    assert len(pair) == 2 and pair[0] == pair[1] and pair[0][1] is not None
    assert pair[0][4] == _line("# LINE_F") and pair[0][2] is False
    assert facts["odd"] == ["odd?"]
    assert ["done", "None"] in facts["done"] and ["done", "7"] in facts["done"]
