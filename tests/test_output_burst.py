"""A program that prints every way at once, run for real: nothing lost, every line its
task's, in the order printed across stdout and stderr.

Many tasks printing at every step (lines finished in a later step), a thread printing,
a line of 300,000 characters, bytes that are not UTF-8 written through
``sys.stdout.buffer``, ``print(..., flush=True)`` against stderr, the program's own
``sys.stdout.flush()``; with Python's default buffering and under ``PYTHONUNBUFFERED``
(each write its own record). One ``--json`` run each, compared with plain python.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import ROOT

PROGRAM = r"""
import asyncio, os, sys, threading

async def worker(n):
    for i in range(150):
        print(f"w{n} {i}")
        if i % 40 == 0:
            print(f"w{n} twice {i}")
            print(f"w{n} err {i}", file=sys.stderr)
        await asyncio.sleep(0)

def from_thread():
    for i in range(100):
        print("thread", i)

async def main():
    print("start", flush=True)
    print("err 1", file=sys.stderr)
    print("open", end="")
    await asyncio.sleep(0)
    print(" then closed")
    await asyncio.gather(*(asyncio.create_task(worker(n), name=f"w{n}") for n in range(6)))
    sys.stdout.flush()  # mixing text and bytes wants a flush, as under python
    sys.stdout.buffer.write(b"junk \xff\xfe\xc3 end\n")
    sys.stdout.buffer.flush()
    os.write(1, b"after the buffer's flush\n")
    print("printed", flush=True)
    os.write(1, b"after a flushed print\n")
    print("x" * 300_000)
    t = threading.Thread(target=from_thread)
    t.start()
    t.join()
    print("flushed", flush=True)
    print("err 2", file=sys.stderr)
    sys.stdout.write("tail without newline")
    sys.stdout.flush()
    print(" and its end")
    print("err 3", file=sys.stderr)

asyncio.run(main())
"""


def _lines(events: list[dict]) -> list[tuple[str, str, int | None]]:
    """(stream, line, the task that started it), in the order the events came."""
    names: dict[int, str] = {}
    open_: dict[str, list] = {}
    out: list[tuple[str, str, int | None]] = []
    for e in events:
        if e["event"] in ("task_created", "task_renamed"):
            names[e["id"]] = e["name"]
        if e["event"] != "output":
            continue
        stream, task = e["stream"], names.get(e["task"])
        for piece in e["text"].split("\n")[:-1] + [None]:  # None: what follows the last \n
            if piece is None:
                rest = e["text"].rsplit("\n", 1)[-1]
                if rest:
                    open_.setdefault(stream, ["", task])[0] += rest
                break
            head = open_.pop(stream, None)
            if head is None:
                out.append((stream, piece, task))
            else:
                out.append((stream, head[0] + piece, head[1]))
    out += [(s, text, task) for s, (text, task) in open_.items()]
    return out


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_everything_printed_arrives_whole_attributed_and_in_order(tmp_path, unbuffered) -> None:
    (tmp_path / "p.py").write_text(PROGRAM)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    run = subprocess.run(
        [sys.executable, "-m", "asyncplay", "run", "--json", "--sandbox", "none", "p.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
    )
    plain = subprocess.run(
        [sys.executable, "p.py"], cwd=tmp_path, env=env, capture_output=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    import json

    events = [json.loads(line) for line in run.stdout.decode().splitlines()]
    lines = _lines(events)
    for stream in ("stdout", "stderr"):  # nothing lost, nothing added, bytes as python wrote
        got = "".join(e["text"] for e in events if e["event"] == "output" and e["stream"] == stream)
        assert got == getattr(plain, stream).decode("utf-8", "replace"), stream
    for stream, text, task in lines:
        if text.startswith("after"):
            assert task is None, text  # os.write: no task's write through sys.stdout
        elif text.startswith("w") and text[1].isdigit():
            assert task == text.split()[0], (text, task)  # the worker's own line
        elif text.startswith("thread"):
            assert task in ("Task-1", None), (text, task)  # whichever step ran meanwhile
        else:
            assert task == "Task-1", (stream, text[:40], task)
    said = [(s, t if len(t) < 100 else "x...") for s, t, _task in lines]
    order = [said.index(x) for x in [
        ("stdout", "start"),
        ("stderr", "err 1"),
        ("stdout", "open then closed"),
        ("stdout", "w0 0"),
        ("stdout", "x..."),
        ("stdout", "flushed"),
        ("stderr", "err 2"),
        ("stdout", "tail without newline and its end"),
        ("stderr", "err 3"),
    ]]  # fmt: skip
    assert order == sorted(order)
    for n in range(6):  # each worker's lines in its own order, its open lines closed
        mine = [(s, t) for s, t, task in lines if task == f"w{n}"]
        assert mine[:4] == [
            ("stdout", f"w{n} 0"),
            ("stdout", f"w{n} twice 0"),
            ("stderr", f"w{n} err 0"),
            ("stdout", f"w{n} 1"),
        ]
        assert len(mine) == 150 + 4 * 2


def test_a_parent_behind_the_run_reads_on_while_its_pipes_hold_bytes(tmp_path) -> None:
    """After the program's end a busy parent may still be far behind: it reads on while a
    pipe holds bytes (a fixed grace after the end lost the last lines and the channel's
    bye), stops at once when the pipes are closed, and after the grace when a leftover
    holds them open with nothing in them."""
    from types import SimpleNamespace

    from asyncplay.runner import core as core_mod
    from asyncplay.runner.spec import RunSpec

    core = core_mod.SessionCore(RunSpec(source="pass", path=str(tmp_path / "p.py")))
    pipes = [os.pipe() for _ in range(3)]
    files = [os.fdopen(r, "rb", buffering=0) for r, _w in pipes]
    try:
        core.proc = SimpleNamespace(stdout=files[0], stderr=files[1])
        core.channel_r = files[2].fileno()
        clock = [100.0]
        core.now = lambda: clock[0]  # type: ignore[method-assign]
        assert not core.drained_enough(3)  # still running
        core.exited_at = 100.0
        assert core.drained_enough(0)  # every pipe closed: done at once
        assert not core.drained_enough(3)  # within the grace
        os.write(pipes[2][1], b"the last records")
        clock[0] += core_mod.DRAIN_GRACE + 5
        assert not core.drained_enough(3)  # past the grace, but bytes wait in the channel
        os.read(pipes[2][0], 100)
        assert core.drained_enough(3)  # a leftover holds the pipes open, empty
        os.write(pipes[0][1], b"more")
        clock[0] = 100.0 + core_mod.DRAIN_MAX + 1
        assert core.drained_enough(3)  # bounded all the same
    finally:
        for f in files:
            f.close()
        for _r, w in pipes:
            os.close(w)


FLOOD = r"""
import asyncio

async def small(name):
    for i in range(20):
        print(f"{name} {i}")
        await asyncio.sleep(0)

async def flood():
    await asyncio.sleep(0)
    print("flood " + "y" * 3_000_000)
    print("flood over")

async def main():
    await asyncio.gather(
        asyncio.create_task(small("a"), name="a"),
        asyncio.create_task(small("b"), name="b"),
        asyncio.create_task(flood(), name="flood"),
    )

asyncio.run(main())
"""


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_a_step_printing_megabytes_leaves_the_lines_before_it_their_tasks(
    tmp_path, unbuffered
) -> None:
    """A step writes 3 MB in one print while the records of the steps before it still wait
    in the child's channel buffer (sent every FLUSH_INTERVAL): the parent holds at most
    MAX_HELD of a pipe for its records, so those earlier lines went out unattributed. The
    records are now sent before a stream runs AHEAD of them. (The flood's own head still
    comes before its record can: it may be nobody's, never another task's.)"""
    import json

    (tmp_path / "p.py").write_text(FLOOD)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    run = subprocess.run(
        [sys.executable, "-m", "asyncplay", "run", "--json", "--sandbox", "none", "p.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    lines = _lines([json.loads(line) for line in run.stdout.decode().splitlines()])
    assert len(lines) == 42
    for _stream, text, task in lines:
        who = text.split(" ")[0]
        if who == "flood" or int(text.split(" ")[1]) >= 2:
            # The flood and what came after it: nobody's at worst, never another task's
            # (lines behind the flood wait for records sent after it, under the hold).
            assert task in (who, None), (text[:20], task)
        else:  # printed before the flood: their records went before it
            assert task == who, (text, task)
