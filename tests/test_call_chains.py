"""3.14+: the coroutine chain inside each waiting task (``call_chain``, from CPython's
``asyncio.capture_call_graph``): sent by the child, checked by the decoder, kept by the
model, shown by the await graph and the timeline's detail; absent before 3.14."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import PROGRAMS, asyncplay
from made_once import json_runs
from pythons import python_or_skip
from streams import Stream

from asyncplay import decoder as D
from asyncplay import protocol as P
from asyncplay.model import build
from asyncplay.views import graph, task_story

CHAIN = """\
import asyncio


async def leaf(q):
    return await q.get()


async def middle(q):
    return await leaf(q)


async def main():
    q = asyncio.Queue()
    t = asyncio.create_task(middle(q), name="consumer")
    await asyncio.sleep(0.3)
    q.put_nowait(1)
    print(await t)
    t2 = asyncio.create_task(middle(q), name="second")
    await asyncio.sleep(0.3)
    q.put_nowait(2)
    print(await t2)


asyncio.run(main())
"""


class _Any:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, int) and other > 0


ANY = _Any()  # a line number, whichever: asyncio's own lines move between releases


# ---- the decoder ----------------------------------------------------------------------


def _decode(chain: object) -> list[dict]:
    hello = P.pack_json({"event": "hello", "t": 0.0, "version": 1})
    record = P.pack_json({"event": "call_chain", "t": 0.5, "id": 2, "chain": chain})
    return D.Decoder().feed(hello + record)


def test_the_decoder_passes_a_well_formed_chain() -> None:
    chain = [["main", "/p/x.py", 12], ["Queue.get", None, 0]]
    events = _decode(chain)
    assert events[-1] == {"event": "call_chain", "t": 0.5, "id": 2, "chain": chain}


@pytest.mark.parametrize(
    "chain",
    [
        "main",  # not a list
        [["main", "/p/x.py"]],  # not three fields
        [("main", "/p/x.py", 1, 2)],
        [[7, "/p/x.py", 1]],  # a name that is not text
        [["main", 7, 1]],  # a file that is neither text nor null
        [["main", "/p/x.py", -1]],  # a line out of u32
        [["main", "/p/x.py", 2**32]],
        [["main", "/p/x.py", True]],  # a bool is not a line
        [["main", "/p/x.py", 1.5]],
        [["m" * (P.MAX_CHAIN_TEXT + 1), "/p/x.py", 1]],
        [["main", "/p/x.py", 1]] * (P.MAX_CHAIN + 1),
    ],
)
def test_the_decoder_refuses_a_forged_chain(chain: object) -> None:
    assert [e["event"] for e in _decode(chain)] == ["hello", "protocol_error"]


# ---- the model and the views -------------------------------------------------------------


def _waiting_consumer() -> Stream:
    s = Stream().task(1, 0.0, "main").task(2, 0.0, "middle", name="consumer", parent=1)
    s.step(1, 0.0, 0.001, "sleep(5)", 15).step(2, 0.01, 0.001, "Queue.get()", 5)
    s.events.append(
        {
            "event": "call_chain",
            "t": 0.02,
            "id": 2,
            "chain": [
                ["middle", "/p/x.py", 9],
                ["leaf", "/p/x.py", 5],
                ["Queue.get", "/usr/lib/python3.14/asyncio/queues.py", 186],
            ],
        }
    )
    return s


def test_the_graph_shows_the_chain_of_a_waiting_task() -> None:
    m = build(_waiting_consumer().events)
    assert m.tasks[2].chain == [
        ("middle", "/p/x.py", 9),
        ("leaf", "/p/x.py", 5),
        ("Queue.get", "/usr/lib/python3.14/asyncio/queues.py", 186),
    ]
    assert m.tasks[1].chain is None  # none sent: the graph says nothing more of it
    lines = graph.render(m, cwd="/p", ascii_only=True)
    i = lines.index("consumer (middle) at x.py:5, awaiting Queue.get()")
    assert lines[i + 1] == (
        "     coroutines: middle (x.py:9) > leaf (x.py:5) > Queue.get (queues.py:186)"
    )
    assert sum("coroutines:" in line for line in lines) == 1


def test_the_timeline_detail_says_the_chain_of_the_wait_it_is_in_now() -> None:
    m = build(_waiting_consumer().events)
    info = m.tasks[2]
    text = task_story.detail_line(m, info, 0.015, 0.001, program="/p/x.py")
    assert "waiting on Queue.get()" in text
    assert text.endswith("in middle (line 9) > leaf (line 5) > Queue.get (queues.py:186)")


def test_a_chain_is_not_shown_once_the_task_moved_on() -> None:
    s = _waiting_consumer()
    s.step(2, 0.1, 0.001, "Event.wait()", 7)  # waits elsewhere: no chain captured yet
    m = build(s.events)
    assert m.tasks[2].chain and task_story.chain_text(m.tasks[2], lambda f, ln: "") == ""
    assert not any("coroutines:" in line for line in graph.render(m, all_tasks=True))
    assert not task_story.detail_line(m, m.tasks[2], 0.2, 0.001).count(" > ")
    s.step(2, 0.2, 0.001, None, 0).done(2, 0.2)  # and once it has ended
    m = build(s.events)
    assert task_story.chain_text(m.tasks[2], lambda f, ln: "") == ""


# ---- real runs ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["3.14", "3.15"])
def test_a_run_sends_each_waiting_task_s_chain(version: str, tmp_path: Path) -> None:
    (tmp_path / "chain.py").write_text(CHAIN)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), "chain.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    names = {e["id"]: e["name"] for e in r.kinds("task_created")}
    chains: dict[str, list] = {}
    for e in r.kinds("call_chain"):
        chains.setdefault(names[e["id"]], []).append(
            [(name, Path(file).name if file else None, line) for name, file, line in e["chain"]]
        )
    prog = str(tmp_path / "chain.py")
    assert all(f == prog for e in r.kinds("call_chain") for _n, f, _l in e["chain"][:1])
    # Outermost first, the asyncio call it waits in last, with the lines of each frame.
    assert chains["consumer"] == [
        [("middle", "chain.py", 9), ("leaf", "chain.py", 5), ("Queue.get", "queues.py", ANY)]
    ]
    assert chains["second"] == chains["consumer"]  # a task of its own: sent for it too
    # main waited 0.3 s at two lines (its other waits, on a task already done, last less
    # than a capture's interval: they may or may not be seen).
    firsts = {c[0] for c in chains["Task-1"]}
    assert {("main", "chain.py", 15), ("main", "chain.py", 19)} <= firsts
    assert [("main", "chain.py", 15), ("sleep", "tasks.py", ANY)] in chains["Task-1"]
    assert r.program_stdout == "1\n2\n"


@pytest.mark.parametrize("version", ["3.14"])
def test_the_graph_of_a_run_shows_the_chain(version: str, tmp_path: Path) -> None:
    # The program ends while the consumer waits: the graph at the end shows its chain.
    prog = "import os\n" + CHAIN.replace("    q.put_nowait(1)\n", "    os._exit(0)\n", 1)
    (tmp_path / "chain.py").write_text(prog)
    r = asyncplay("run", "--graph", "--python", python_or_skip(version), "chain.py", cwd=tmp_path)
    out = (r.stdout + r.stderr).decode()  # (the summary and the graph: stderr)
    assert "consumer (middle) at chain.py:6, awaiting Queue.get()" in out, out
    assert "coroutines: middle (chain.py:10) > leaf (chain.py:6) > Queue.get (queues.py:" in out


@pytest.mark.parametrize("version", ["3.14", "3.15"])
def test_a_cycle_of_tasks_has_its_chains(version: str, session_dir: Path) -> None:
    """A deadlock (tasks awaiting each other in a ring): 3.14's capture_call_graph recurses
    for ever through the awaiters of such a ring; the runtime's own walk does not. (The
    session's run: test_concurrency_engine.py checks its deadlock warning.)"""
    prog = PROGRAMS / "deadlock_cycle.py"
    python_or_skip(version)
    r = json_runs(session_dir, prog)[version]
    assert r.returncode == 0, r.stderr[-2000:]
    assert [w["kind"] for w in r.kinds("warning")] == ["deadlock", "channel_lost"]  # os._exit
    names = {e["id"]: e["name"] for e in r.kinds("task_created")}
    got = {names[e["id"]]: e["chain"] for e in r.kinds("call_chain")}
    for ring in ("ring-a", "ring-b", "ring-c"):
        assert got[ring] == [["link", str(prog), 11]]  # the await of the next task


@pytest.mark.parametrize("version", ["3.10", "3.13"])
def test_before_3_14_nothing_is_sent(version: str, tmp_path: Path) -> None:
    (tmp_path / "chain.py").write_text(CHAIN)
    r = asyncplay("run", "--json", "--python", python_or_skip(version), "chain.py", cwd=tmp_path)
    assert r.returncode == 0 and r.program_stdout == "1\n2\n"
    assert r.kinds("call_chain") == []
