"""The program's line that created each task (``task_created``'s ``file`` and ``line``),
made every way a program makes tasks, on every installed CPython 3.10-3.15: the walk
out to that line is done once for all the tasks one ``gather`` makes (``Tracer.walk_memo``,
``task_registry._walk_from``: the walk from ``gather``'s own frame, by identity, while it
runs) and must name each task's own line all the same: two ``gather``\\ s one after the other
in one step (the second's frame may sit where the first's was), a helper that gathers
called from two lines, ``create_task`` in a loop, ``ensure_future``, a ``TaskGroup``, a
plain callback's ``gather``, and ``asyncio.wait_for``'s own task (3.10-3.11). The memo
holds a frame only for the step that made it: the step hook lets it go at the step's end.

The probe installs a ``Tracer`` over a temporary file in a plain interpreter and prints
what it saw as JSON.
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
import asyncio, json, sys, tempfile, time
from asyncplay import decoder
from asyncplay.child.channel import Channel
from asyncplay.child.tracer import Tracer

out = tempfile.TemporaryFile()
tracer = Tracer(Channel(out.fileno()), time.perf_counter())
tracer.install(asyncio)
facts = {}
TAGS = {}


async def w(tag):
    task = asyncio.current_task()
    if task.get_coro().cr_frame is sys._getframe():  # its own task (not wait_for's 3.12+)
        TAGS[task.get_name()] = tag
    await asyncio.sleep(0)


def spawn(tag):
    return asyncio.gather(*[w(tag) for _ in range(3)])  # @spawn


def in_callback(box):
    box.append(asyncio.gather(*[w("callback") for _ in range(3)]))  # @callback


async def main():
    g1 = asyncio.gather(*[w("first") for _ in range(4)])  # @first
    g2 = asyncio.gather(*[w("second") for _ in range(4)])  # @second
    facts["memo_in_step"] = tracer.walk_memo is not None
    g3 = spawn("spawn_a")  # (the line is spawn's)
    g4 = spawn("spawn_b")
    made = []
    for _ in range(3):
        made.append(asyncio.create_task(w("loop")))  # @loop
    made.append(asyncio.ensure_future(w("ensure")))  # @ensure
    g5 = asyncio.gather(w("mixed"), *made, w("mixed"))  # @mixed
    await asyncio.gather(g1, g2, g3, g4, g5)
    facts["memo_let_go"] = tracer.walk_memo is None
    box = []
    asyncio.get_running_loop().call_soon(in_callback, box)
    await asyncio.sleep(0)
    await box[0]
    if sys.version_info >= (3, 11):
        async with asyncio.TaskGroup() as tg:
            for _ in range(3):
                tg.create_task(w("group"))  # @group
    await asyncio.wait_for(w("wait_for"), 5)  # @wait_for
    g6 = asyncio.gather(*[w("after") for _ in range(2)])  # @after
    await g6


asyncio.run(main())
tracer.flush()
out.seek(0)
events = decoder.Decoder().feed(out.read())
lines = {}
for e in events:
    if e["event"] == "task_created":
        lines.setdefault(e["coro"], []).append([e["name"], e["file"], e["line"], e["internal"]])
facts["lines"] = lines
facts["tags"] = TAGS
print(json.dumps(facts))
"""


def _marks(source: str) -> dict[str, int]:
    """The line of each ``# @tag`` mark in the probe's source."""
    marks = {}
    for n, text in enumerate(source.splitlines(), 1):
        if "# @" in text:
            marks[text.split("# @", 1)[1].strip()] = n
    return marks


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_each_task_names_its_own_creating_line(version: str, tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    marks = _marks(PROBE)
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
    facts = json.loads(r.stdout.strip().splitlines()[-1])
    assert facts["memo_in_step"], "a gather's walk was not kept for the step"
    assert facts["memo_let_go"], "the walk's frame was kept past its step"
    made_at = {
        "first": marks["first"],
        "second": marks["second"],
        "spawn_a": marks["spawn"],
        "spawn_b": marks["spawn"],
        "loop": marks["loop"],
        "ensure": marks["ensure"],
        "mixed": marks["mixed"],
        "callback": marks["callback"],
        "group": marks["group"],
        "wait_for": marks["wait_for"],
        "after": marks["after"],
    }
    tags = facts["tags"]  # task name: the tag its coroutine was given
    rows = facts["lines"]["w"]
    assert len(rows) == len(tags)
    assert len({file for _name, file, _line, _internal in rows}) == 1  # the probe's file
    got = sorted((tags[name], line) for name, _file, line, _internal in rows)
    assert got == sorted((tag, made_at[tag]) for tag in tags.values())
    assert not any(internal for *_rest, internal in rows)
    counts = {tag: list(tags.values()).count(tag) for tag in made_at}
    assert counts["first"] == counts["second"] == 4
    assert counts["spawn_a"] == counts["spawn_b"] == counts["callback"] == 3
    assert counts["loop"] == 3 and counts["mixed"] == 2 and counts["after"] == 2
    assert counts["group"] == (0 if version == "3.10" else 3)
