"""A run whose program dies without its last records (``os._exit``, SIGKILL, a limit's
kill) shows its tasks' figures as of the last ones the child sent (every 0.2 s, 0.8 s with
20,000 tasks): the summary, ``--json``'s summary and the playground's output say so in
one line, with the time of those figures (``views/summary.stale_figures``; the model
keeps that time and whether the child's ``bye`` came, ``run_end``'s ``bye``). A run that
ended by itself never says it."""

from __future__ import annotations

import re
import textwrap

import pytest
from helpers import asyncplay
from tui_helpers import make_app, wait_ended

from asyncplay.model import build
from asyncplay.views import summary

NOTE = "before it sent its last"

# Tasks stepping every 10 ms (their figures go at every flush of the channel), then the
# program ends from inside a task: ENDING is replaced by how.
PROGRAM = textwrap.dedent(
    """\
    import asyncio, os, signal, sys

    async def spin():
        while True:
            await asyncio.sleep(0.01)

    async def ender():
        await asyncio.sleep(0.5)
        ENDING

    async def main():
        spinners = [asyncio.create_task(spin(), name=f"spin-{i}") for i in range(5)]
        await asyncio.create_task(ender(), name="ender")

    asyncio.run(main())
    """
)
ENDINGS = {
    "os._exit": ("os._exit(3)", 3),
    "SIGKILL": ("os.kill(os.getpid(), signal.SIGKILL)", 137),
    "normal": ("sys.exit(0)", 0),
    "exception": ("raise RuntimeError('no')", 1),
}


def _program(tmp_path, ending: str) -> str:
    path = tmp_path / "prog.py"
    path.write_text(PROGRAM.replace("ENDING", ENDINGS[ending][0]))
    return str(path)


def _seconds(text: str) -> float:
    """A time as ``seconds_text`` wrote it (``1.23 s``, ``45.6 ms``, ``12 µs``, ``0 s``)."""
    number, unit = text.split()
    return float(number) * {"s": 1, "ms": 1e-3, "µs": 1e-6}[unit]


@pytest.mark.parametrize("ending", ["os._exit", "SIGKILL"])
def test_a_killed_run_says_how_old_its_figures_are(tmp_path, ending: str) -> None:
    """The headless summary (figures mode: ``F`` records)."""
    r = asyncplay("run", _program(tmp_path, ending))
    err = r.stderr.decode()
    assert r.returncode == ENDINGS[ending][1], err
    notes = [line for line in err.splitlines() if NOTE in line]
    assert len(notes) == 1, err
    t = _seconds(re.fullmatch(r"figures as of t=(.+?) \(the program .*\)", notes[0]).group(1))
    # The spinners stepped from the start and their figures went at every flush: the
    # last came after the first steps, and before the end the closing line tells (both
    # clocks start when the program may: the child's ran 30-40 ms ahead before).
    ended = float(re.search(r"after (\d+\.\d+) s", err).group(1))
    assert 0 < t <= ended + 0.005, err
    assert "spin-0" in err and err.index("spin-0") < err.index(notes[0]), err


@pytest.mark.parametrize("ending", ["os._exit", "SIGKILL"])
def test_a_killed_runs_json_summary_says_how_old_its_figures_are(tmp_path, ending) -> None:
    """``--json`` (steps mode: the last ``steps`` batch's time)."""
    r = asyncplay("run", "--json", _program(tmp_path, ending))
    assert r.returncode == ENDINGS[ending][1], r.stderr
    (s,) = r.kinds("summary")
    (end,) = r.kinds("run_end")
    assert end["bye"] is False
    # The latest step end the steps received hold (the F record's ``t`` in figures mode),
    # no later than the run's end as the model has it (the summary's ``t``).
    ends = [start + dur for e in r.kinds("steps") for _id, start, dur, *_ in e["steps"]]
    assert s["figures_as_of"] == max(ends)
    assert 0 < s["figures_as_of"] <= s["t"], (s, end)
    assert NOTE in s["figures_note"] and "\n" not in s["figures_note"]


@pytest.mark.parametrize("ending", ["normal", "exception"])
def test_a_run_that_ended_by_itself_never_says_it(tmp_path, ending: str) -> None:
    prog = _program(tmp_path, ending)
    r = asyncplay("run", prog)
    assert r.returncode == ENDINGS[ending][1] and "spin-0" in r.stderr.decode()
    assert NOTE not in r.stderr.decode()
    r = asyncplay("run", "--json", prog)
    (s,) = r.kinds("summary")
    assert r.kinds("run_end")[0]["bye"] is True
    assert s["figures_as_of"] is None and s["figures_note"] is None


def _events(bye: object) -> list[dict]:
    end = {"event": "run_end", "t": 0.9, "exit_code": 3, "reason": "exited", "by": "program"}
    if bye is not None:
        end["bye"] = bye
    return [
        {"event": "run_start", "t": 0.0},
        {"event": "task_created", "t": 0.01, "id": 1, "name": "Task-1", "coro": "main"},
        {
            "event": "figures",
            "t": 0.42,
            "tasks": [[1, 3, 0.001, 0.0005, 0.01, 0.42, "x", "x", "p.py", 3]],
        },  # fmt: skip
        end,
    ]


def test_the_model_keeps_whether_the_end_came_and_the_view_the_figures_time() -> None:
    killed = build(_events(False))
    assert killed.said_bye is False
    assert summary.stale_figures(killed) == (
        0.42,
        "figures as of t=420.0 ms (the program was killed, or left by os._exit, "
        "before it sent its last)",
    )
    assert summary.stale_figures(killed)[1] in summary.summary(killed).splitlines()
    # The program said its end, or a recording from before run_end had "bye": no line.
    for bye in (True, None):
        assert summary.stale_figures(build(_events(bye))) is None
        assert NOTE not in summary.summary(build(_events(bye)))


@pytest.mark.usefixtures("home")
async def test_the_playground_says_it_before_the_ending(tmp_path) -> None:
    app = make_app(PROGRAM.replace("ENDING", ENDINGS["SIGKILL"][0]), str(tmp_path / "p.py"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        rows = [app.output.line_at(r) for r in range(app.output.row_count)]
        said = " ".join(r.text for r in rows if r is not None and r.stream == "asyncplay")
        assert "asyncplay: figures as of t=" in said and NOTE in said, said
