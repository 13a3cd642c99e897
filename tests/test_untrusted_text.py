"""Program-made text never drives the terminal in a headless view (issue 12, item 9).

Task and coroutine names, exception text, wait labels and the program's own file name
carry OSC 52 (set the clipboard), OSC 0 (set the title), CSI sequences, an 8-bit CSI and a
bidi override. Every headless view (summary, warnings, --timeline, --graph, replay --print)
shows them made visible (``\\e``, ``\\u202e``), never raw; the program's own output stays
byte for byte.
"""

from __future__ import annotations

import pytest

from tests.helpers import asyncplay

PROGRAM = r"""
import asyncio
import sys

EVIL = [
    "clip\x1b]52;c;aGVsbG8=\x07",
    "title\x1b]0;pwned\x07",
    "csi\x1b[2J\x1b[31mred",
    "bidi\u202egnp.exe",
    "c1\x9b31m",
]


class Boom(Exception):
    pass


async def fail():
    raise Boom("message \x1b]0;exc\x07 \u202e")


async def waiter(ev):
    await ev.wait()


waiter.__qualname__ = "coro\x1b]52;c;Y29ybw==\x07"


async def main():
    sys.stdout.write("\x1b[1mbold\x1b[0m\n")
    ts = [asyncio.create_task(asyncio.sleep(0.01), name=n) for n in EVIL]
    asyncio.create_task(waiter(asyncio.Event()), name="wait\x1b]0;w\x07")  # cut off
    asyncio.create_task(fail(), name="fail\x1b]0;f\x07")  # never retrieved
    await asyncio.gather(*ts)
    await asyncio.create_task(asyncio.sleep(0.02), name="awaited\x1b]0;a\x07")


asyncio.run(main())
"""

NAME = "prog\x1b]0;file\x07.py"
RAW = (b"\x1b", "\u202e".encode(), "\x9b".encode())


def _clean(stderr: bytes) -> None:
    """asyncplay's own text: everything from its summary on (before it, the program's own
    stderr holds asyncio's traceback of the failed task, raw as python prints it)."""
    start = stderr.index("── ".encode())
    assert b"Traceback" in stderr[:start] or start == 0
    for raw in RAW:
        assert raw not in stderr[start:], (raw, stderr.decode(errors="replace"))


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    # Wide enough that no line is cut or warning wrapped: the texts are looked for whole.
    monkeypatch.setenv("COLUMNS", "400")
    (tmp_path / NAME).write_text(PROGRAM, encoding="utf-8")
    r = asyncplay("run", "--timeline", "--graph", "--record", "r.jsonl", NAME, cwd=tmp_path)
    return tmp_path, r


def test_every_headless_view_of_a_run_shows_escapes_made_visible(recorded) -> None:
    _tmp, r = recorded
    assert r.stdout == b"\x1b[1mbold\x1b[0m\n"  # the program's own bytes, untouched
    _clean(r.stderr)
    err = r.stderr.decode()
    for shown in (
        "clip\\e]52;c;aGVsbG8=\\x07",  # summary and timeline lane
        "csi\\e[2J\\e[31mred",
        "bidi\\u202egnp.exe",
        "c1\\x9b31m",
        "coro\\e]52;c;Y29ybw==\\x07",  # the coroutine
        "prog\\e]0;file\\x07.py:",  # the program's file name
        "failed with Boom: message \\e]0;exc\\x07 \\u202e",  # a warning: exception text
        "awaited\\e]0;a\\x07",  # a wait label (main awaited that task)
        "── await graph",
        "── warnings",
    ):
        assert shown in err, (shown, err)


@pytest.mark.parametrize("view", [(), ("--timeline",), ("--graph",), ("--quiet", "--timeline")])
def test_replay_print_shows_escapes_made_visible(recorded, view) -> None:
    tmp, run = recorded
    assert run.returncode == 0, run.stderr
    r = asyncplay("replay", "--print", "r.jsonl", *view, cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"\x1b[1mbold\x1b[0m\n"
    _clean(r.stderr)
    assert "\\e]" in r.stderr.decode()


EVIL = "x\x1b]52;c;aGk=\x07\x1b]0;t\x07\x1b[2J\u202e\x9b1m"


def _evil_model():
    from asyncplay.model import build
    from tests.streams import Stream

    s = Stream(target=f"/p/{EVIL}.py")
    s.task(1, 0.0, EVIL, name=EVIL)
    s.task(2, 0.001, EVIL, name=f"b{EVIL}", parent=1)
    s.step(1, 0.002, 0.001, f"b{EVIL}", line=3)  # waits on task 2 by name
    s.step(2, 0.003, 0.001, EVIL, line=4)
    s.warn("deadlock", 1.0, task=1, tasks=[1, 2], cycle=True, message=f"stuck {EVIL}")
    s.warn("slow_step", 1.0, task=2, duration=0.5, message=f"held by {EVIL}")
    s.events.append({"event": "cancel_source", "t": 1, "id": 2, "cause": EVIL, "by": 1})
    s.done(2, 1.1, "failed", exc=EVIL)
    s.events.append({"event": "protocol_error", "t": 1.2, "message": f"forged {EVIL}"})
    return build(s.end(1.5))


def test_graph_timeline_and_summary_functions_never_return_a_raw_escape() -> None:
    """The views' own functions (the deadlock snapshot's graph too), whatever the caller."""
    from asyncplay.views import graph, summary, timeline

    model = _evil_model()
    texts = {
        "graph": graph.graph_text(model, all_tasks=True),
        "summary": summary.summary(model, all_tasks=True),
        "timeline": timeline.timeline_text(model, 100, all_tasks=True),
    }
    coloured = timeline.timeline_text(model, 100, all_tasks=True, colour=True)
    texts["timeline in colour, less its own SGR"] = __import__("re").sub(
        r"\x1b\[[0-9;]*m", "", coloured
    )
    assert "deadlock" in texts["graph"] and "\\e]52" in texts["graph"]
    for what, text in texts.items():
        assert "\\e]" in text, what  # the names are there, made visible
        for raw in ("\x1b", "\u202e", "\x9b", "\x07"):
            assert raw not in text, (what, raw, text)
