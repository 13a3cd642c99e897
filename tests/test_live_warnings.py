"""``asyncplay run`` tells each warning on stderr when it happens, not only at the end."""

from __future__ import annotations

import pytest
from helpers import asyncplay

CYCLE = """\
import asyncio, os, sys

async def a():
    await b_task

async def b():
    await a_task

async def main():
    global a_task, b_task
    print("partial", end="", file=sys.stderr, flush=True)
    a_task = asyncio.create_task(a(), name="A")
    b_task = asyncio.create_task(b(), name="B")
    await asyncio.sleep(1.5)  # a long wait: the runtime looks for cycles
    print("after the sleep", file=sys.stderr, flush=True)
    os._exit(0)  # cancelling a cycle recurses for ever, in plain python too

asyncio.run(main())
"""


# A loaded machine can make any step slow: only the deadlock is looked for here.
NO_SLOW = ("--slow-step", "60000")


@pytest.fixture
def cycle(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    (tmp_path / "cycle.py").write_text(CYCLE)
    return tmp_path


def test_a_deadlock_is_told_when_it_happens_on_a_line_of_its_own(cycle) -> None:
    r = asyncplay("run", "--graph", *NO_SLOW, "cycle.py", cwd=cycle)
    err = r.stderr.decode()
    assert r.returncode == 0, err
    live = err.index("asyncplay: cycle.py:4: deadlock")
    # told at once: before what the program printed 1.5 s later, and not inside the
    # program's unfinished line, which it leaves as it was
    assert live < err.index("after the sleep") < err.index("── tasks")
    assert err.startswith("partial\nasyncplay: cycle.py:4: deadlock")
    assert "\nafter the sleep\n" in err
    # the await graph of that moment follows it, and the words are not said twice
    head = err.index("── await graph at the deadlock warning", live)
    assert head < err.index("after the sleep")
    assert err[head:].splitlines()[1].startswith("Task-1 (main)")
    # fitted to the terminal: every line of asyncplay's own within 60 columns
    ours = err[live : err.index("after the sleep")].splitlines()
    assert len(ours) > 3 and max(len(line) for line in ours) <= 60, ours
    # the summary still lists it, and the graph at the end still has the moment
    summary = err[err.index("── warnings") :]
    assert "cycle.py:4: deadlock" in summary
    assert summary.count("── await graph at the deadlock warning") == 1


def test_quiet_drops_the_words_but_not_the_graph_asked_for(cycle) -> None:
    r = asyncplay("run", "--quiet", *NO_SLOW, "cycle.py", cwd=cycle)
    assert r.returncode == 0 and r.stderr == b"partialafter the sleep\n", r.stderr
    r = asyncplay("run", "--quiet", "--graph", *NO_SLOW, "cycle.py", cwd=cycle)
    err = r.stderr.decode()
    assert "asyncplay: " not in err and "deadlock: " in err
    assert err.index("── await graph at the deadlock warning") < err.index("after the sleep")


def test_json_has_them_as_events_only(cycle) -> None:
    r = asyncplay("run", "--json", "--graph", *NO_SLOW, "cycle.py", cwd=cycle)
    assert [w["kind"] for w in r.kinds("warning")] == ["deadlock", "channel_lost"]
    assert b"asyncplay: cycle.py" not in r.stderr


def test_each_distinct_warning_once_live_and_a_slow_step_with_its_real_length(tmp_path) -> None:
    (tmp_path / "busy.py").write_text(
        "import asyncio, time\n"
        "async def main():\n"
        "    for _ in range(5):\n"
        "        time.sleep(0.15)\n"
        "        await asyncio.sleep(0)\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "busy.py", cwd=tmp_path)
    err = r.stderr.decode()
    summary = err[err.index("── warnings") :]
    # five slow steps; each line they were held at told once live, the summary counts
    live = [line for line in err.splitlines() if line.startswith("asyncplay: busy.py:")]
    listed = [line for line in summary.splitlines() if line.startswith("busy.py:")]
    assert len(live) == len(listed) < 5 and "times)" in summary, err
    assert "asyncplay: busy.py:4: Task-1 held the event loop" in err
