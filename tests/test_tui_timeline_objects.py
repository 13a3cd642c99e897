"""The timeline pane's lanes that are no task: a lane per executor worker thread (the
``executor`` lesson's jobs side by side in its two threads) and, with ``q``, a lane per
queue's size (the ``queues`` lesson's ``Queue(maxsize=2)``); their detail line, ``[``/``]``
and Enter. Recorded runs of the two lessons, folded; and a snapshot of the executor
lesson's timeline at 80x24 in the app.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from timeline_host import TimelineHost, column, lane_cells, lines, shown
from tui_helpers import wait_drawn, wait_ended, wait_for
from tui_recorded import replay_app

from asyncplay import snippets
from asyncplay.model import build
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.panes.timeline import TimelinePane
from asyncplay.tui.services.replay_session import load_events
from asyncplay.views.timeline_objects import BARS

DATA = Path(__file__).resolve().parent / "data"
EXECUTOR = load_events(DATA / "executor_events.jsonl")
QUEUES = load_events(DATA / "queues_events.jsonl")


pytestmark = pytest.mark.usefixtures("home")


async def test_a_lane_per_executor_thread_its_jobs_at_the_same_time_in_each() -> None:
    m = build(EXECUTOR)
    jobs = sorted(m.executor_jobs.values(), key=lambda j: j.id)
    assert len(jobs) == 4 and {j.thread for j in jobs} == {"pool_0", "pool_1"}
    app = TimelineHost()
    async with app.run_test(size=(80, 12)) as pilot:
        pane = await shown(app, pilot, m)
        labels = [line.split("  ")[0].strip() for line in lines(pane)[1:4]]
        assert labels == ["Task-1 main", "executor pool_0", "executor pool_1"]
        for thread in ("pool_0", "pool_1"):
            cells = lane_cells(pane, f"executor {thread}")
            mine = [j for j in jobs if j.thread == thread]
            assert len(mine) == 2
            for job in mine:  # each job is drawn where it ran, from its first column
                assert job.started is not None and job.ended is not None
                first, last = column(pane, job.started), column(pane, job.ended)
                assert cells[first] == "▌"  # its start marked: back-to-back jobs apart
                assert set(cells[first + 1 : last]) == {"█"}, cells
            before = column(pane, min(j.started for j in mine)) - 1  # type: ignore[type-var]
            assert cells[: before + 1].strip() == ""  # nothing before its first job
        # the two threads ran at once: their bars share columns
        both = [
            c
            for c, (a, b) in enumerate(
                zip(
                    lane_cells(pane, "executor pool_0"),
                    lane_cells(pane, "executor pool_1"),
                    strict=True,
                )
            )
            if a == b == "█"
        ]
        assert len(both) >= 20

        # ] on a thread's lane walks its jobs' starts; the detail says the job and its task
        await pilot.press("down")
        assert pane.object_lane(pane._cursor_lane()) is not None
        await pilot.press("right_square_bracket")
        await pilot.pause()
        first = next(j for j in jobs if j.thread == "pool_0")
        assert pane.cursor_time == first.started
        detail = pane.detail()
        assert detail.startswith("executor pool_0 · blocking_job · for Task-1 main · ran 4")
        await pilot.press("right_square_bracket")
        await pilot.pause()
        second = [j for j in jobs if j.thread == "pool_0"][1]
        assert pane.cursor_time == second.started and "queued 4" in pane.detail()
        # Enter on a job: its task, the one that awaits it
        app.messages.clear()
        await pilot.press("enter")
        await pilot.pause()
        (msg,) = app.messages
        assert isinstance(msg, TimelinePane.StepChosen) and msg.task == second.task == 1
        # no task lane is taken for the object's
        assert pane.cursor_task is None


async def test_q_shows_a_lane_per_queue_its_size_as_a_bar_of_its_maxsize() -> None:
    m = build(QUEUES)
    (queue,) = [p for p in m.primitives.values() if p.is_queue]
    assert queue.maxsize == 2 and queue.peak_size == 2
    app = TimelineHost()
    async with app.run_test(size=(100, 14)) as pilot:
        pane = await shown(app, pilot, m)
        assert not any("size/2" in line for line in lines(pane))  # asked for with q
        rows = pane.lane_count
        await pilot.press("q")
        await pilot.pause()
        assert pane.lane_count == rows + 1
        cells = lane_cells(pane, "queue size/2")
        full = column(pane, 0.4)  # the producer filled it before the consumer took any
        assert cells[full] == BARS[8], cells
        assert set(cells) <= set(BARS)
        assert cells[column(pane, 0.8)] in (BARS[4], BARS[8])  # one or two in it then
        # the detail at a moment: its size then, its peak, what went through it
        await pilot.press("end")
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert pane.object_lane(pane._cursor_lane()) is not None
        assert pane.detail().startswith("queue size/2 · ")
        assert "peak 2" in pane.detail() and "6 put, 6 got" in pane.detail()
        # Enter on a queue's lane: that queue, for the Objects view
        app.messages.clear()
        await pilot.press("enter")
        await pilot.pause()
        (msg,) = app.messages
        assert isinstance(msg, TimelinePane.ObjectChosen) and msg.primitive == queue.id
        await pilot.press("q")
        await pilot.pause()
        assert pane.lane_count == rows


def executor_app() -> AsyncplayApp:
    found = snippets.find_bundled("executor")
    assert found is not None
    text = found.path.read_text(encoding="utf-8")
    return replay_app(EXECUTOR, text, "executor", note="a copy of snippet executor")


def test_snapshot_of_the_executor_lessons_timeline_at_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        app: AsyncplayApp = pilot.app  # type: ignore[assignment]
        app.editor.cursor_blink = False
        await wait_for(pilot, lambda: app.editor.highlighter.lexed >= 1)
        await pilot.press("f5")
        await wait_ended(pilot)
        await pilot.press("f4")
        await wait_drawn(pilot)
        assert app.timeline.lane_count == 3  # main and the pool's two threads
        await pilot.press("down", "right_square_bracket")  # pool_0's first job
        await wait_drawn(pilot)
        assert app.timeline.detail().startswith("executor pool_0 · blocking_job")

    assert snap_compare(executor_app(), terminal_size=(80, 24), run_before=run_before)
