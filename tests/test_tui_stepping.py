"""Stepping a live run in the playground: F10's decisions, the paused screen, breakpoints.

The run is a session the test feeds (``FedSession``) with the records a stepped child
sends (``paused``, ``resumed``: docs/protocol.md); the session records what the app asked
of it (``pause``, ``step``, ``resume``, ``set_breakpoints``). The real child is driven in
``test_tui_stepping_pty.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from textual.pilot import Pilot
from tui_helpers import FedSession, record_notifications, wait_drawn, wait_for

from asyncplay import storage
from asyncplay.breakpoints import Breakpoints
from asyncplay.model import RunModel, apply
from asyncplay.tui.app import AsyncplayApp
from asyncplay.views import stepping
from asyncplay.views.gutter_marks import BREAKPOINT, NEXT
from asyncplay.views.line_follow import follow_lines

pytestmark = pytest.mark.usefixtures("home")

PROGRAM = """import asyncio


async def toast_bread():
    print("toast in")
    await asyncio.sleep(0.5)
    print("toast up")


async def main():
    toaster = asyncio.create_task(toast_bread(), name="toaster-task")
    print("breakfast")
    await toaster


asyncio.run(main())
"""
PATH = "/tmp/breakfast.py"  # the name the run compiles under (no file is made)


class StepSession(FedSession):
    """A fed session that keeps what the app asked of it, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.breakpoints: list[Breakpoints] = []

    def pause(self) -> None:
        self.calls.append("pause")

    def step(self) -> None:
        self.calls.append("step")

    def resume(self) -> None:
        self.calls.append("resume")

    def set_breakpoints(self, bp: Breakpoints) -> None:
        self.calls.append("set_breakpoints")
        self.breakpoints.append(bp)


class Runs:
    """The session factory: each run's spec, and its session (made at the start)."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.specs: list = []
        self.sessions: list[StepSession] = []
        self.gate = gate

    async def __call__(self, spec) -> StepSession:
        self.specs.append(spec)
        if self.gate is not None:
            await self.gate.wait()
        session = StepSession()
        self.sessions.append(session)
        return session


def app_with(runs: Runs) -> AsyncplayApp:
    return AsyncplayApp(
        storage.Autosave(text=PROGRAM, path=PATH),
        session_factory=runs,
        clock=lambda: 0.0,
        autosave=False,
    )


@asynccontextmanager
async def playground(runs: Runs) -> AsyncIterator[tuple[AsyncplayApp, Pilot]]:
    """The playground on PROGRAM at 80x24, its runs made by ``runs``."""
    app = app_with(runs)
    async with app.run_test(size=(80, 24)) as pilot:
        yield app, pilot


async def nth_session(pilot: Pilot, runs: Runs, n: int = 1) -> StepSession:
    """Once the ``n``th run's session is made and the app drives it: that session."""
    app: AsyncplayApp = pilot.app  # type: ignore[assignment]
    await wait_for(pilot, lambda: len(runs.sessions) >= n and app.session is runs.sessions[n - 1])
    return runs.sessions[n - 1]


START = [
    {"event": "run_start", "t": 0.0, "target": PATH, "mode": "file"},
    {"event": "hello", "t": 0.0, "version": 2, "python": "3.11.7"},
    {"event": "task_created", "t": 0.001, "id": 1, "name": "Task-1", "coro": "main",
     "parent": None, "internal": False, "file": PATH, "line": 16},
]  # fmt: skip


def paused(reason: str, nxt: int | None, line: int | None, ready=(), timers=(), **kw) -> dict:
    return {
        "event": "paused",
        "t": kw.pop("t", 0.01),
        "reason": reason,
        "next": nxt,
        "file": PATH if line else None,
        "line": line,
        "ready": list(ready),
        "timers": [list(t) for t in timers],
        **kw,
    }


def main_step() -> list[dict]:
    """main's first step: creates toaster-task, prints, awaits it."""
    return [
        {"event": "resumed", "t": 0.01, "how": "step", "paused": 1.5},
        {"event": "task_created", "t": 0.011, "id": 2, "name": "toaster-task",
         "coro": "toast_bread", "parent": 1, "internal": False, "file": PATH, "line": 11},
        {"event": "output", "t": 0.012, "stream": "stdout", "text": "breakfast\n", "task": 1},
        {"event": "steps", "t": 0.013, "steps": [[1, 0.01, 0.003, "toaster-task", PATH, 13]]},
        paused("step", 2, 5, ready=[2], t=0.013),
    ]  # fmt: skip


async def started_paused(pilot, runs: Runs) -> tuple[AsyncplayApp, StepSession]:
    """F10 with no run: the run starts paused; the child says so."""
    app: AsyncplayApp = pilot.app  # type: ignore[assignment]
    await pilot.press("f10")
    session = await nth_session(pilot, runs)
    session.feed(*START, paused("start", 1, 10, ready=[1]))
    await wait_for(pilot, lambda: app.model is not None and app.model.pause is not None)
    await wait_drawn(pilot)
    return app, session


def status(app: AsyncplayApp) -> str:
    return str(app.status.render())


async def test_f10_starts_the_run_paused_and_each_f10_is_one_step() -> None:
    runs = Runs()
    async with playground(runs) as (app, pilot):
        app, session = await started_paused(pilot, runs)
        assert runs.specs[0].start_paused is True
        assert session.calls == []  # the start's pause was asked for in the spec
        assert "paused - next: Task-1 (main) at line 10" in status(app)
        assert app.editor.paused_line == 9 and app.editor.marks.get(9) == NEXT
        assert "paused at the start" in app.stepping_panel.text
        assert "ready: 1. Task-1" in app.stepping_panel.text

        await pilot.press("f10")
        assert session.calls == ["step"]
        session.feed(*main_step())
        await wait_for(pilot, lambda: app.model.pauses == 2)
        await wait_drawn(pilot)
        assert "paused - next: toaster-task (toast_bread) at line 5" in status(app)
        assert app.editor.paused_line == 4
        top = app.editor.scroll_offset.y  # the line is in view
        assert top <= 4 < top + app.editor.scrollable_content_region.height
        panel = app.stepping_panel.text
        assert "last step: Task-1 (main) ran; created toaster-task" in panel
        assert "printed: breakfast" in panel
        assert "ready: 1. toaster-task" in panel
        for view in (app.tasks, app.timeline, app.graph):  # the next task marked
            assert view.step_marks == {2: "next"}

        await pilot.press("f5")  # paused: F5 continues, it does not run again
        assert session.calls == ["step", "resume"] and len(runs.specs) == 1
        session.feed({"event": "resumed", "t": 0.02, "how": "continue", "paused": 0.5})
        await wait_for(pilot, lambda: app.model.pause is None)
        await wait_drawn(pilot)
        assert "paused" not in status(app) and app.editor.paused_line is None
        assert not app.stepping_panel.rows  # the panel goes with the pause

        await pilot.press("f10")  # running: F10 pauses before the next task step
        assert session.calls[-1] == "pause"
        await pilot.press("f6")


async def test_the_next_tasks_line_is_scrolled_into_view() -> None:
    runs = Runs()
    async with playground(runs) as (app, pilot):
        app.editor.load(PROGRAM + "\n" * 200 + "# the end\n", (210, 0))  # at the bottom
        await wait_drawn(pilot)
        assert app.editor.scroll_offset.y > 20
        app, session = await started_paused(pilot, runs)
        top = app.editor.scroll_offset.y
        assert top <= 9 < top + app.editor.scrollable_content_region.height
        assert app.editor.cursor_location == (210, 0)  # the cursor stays
        await pilot.press("f6")


async def test_f10_pressed_again_before_the_pause_is_back_is_one_more_step() -> None:
    runs = Runs()
    async with playground(runs) as (app, pilot):
        app, session = await started_paused(pilot, runs)
        await pilot.press("f10", "f10", "f10")  # three steps; only one may be on its way
        assert session.calls == ["step"]
        session.feed(*main_step())
        await wait_for(pilot, lambda: session.calls == ["step", "step"])
        session.feed(
            {"event": "resumed", "t": 0.02, "how": "step"},
            paused("step", 2, 6, ready=[2], t=0.03),
        )
        await wait_for(pilot, lambda: session.calls == ["step", "step", "step"])
        await pilot.press("f6")


async def test_f10_while_a_run_starts_pauses_it_once_there() -> None:
    runs = Runs(gate=asyncio.Event())
    async with playground(runs) as (app, pilot):
        await pilot.press("f5")  # a normal run, still starting
        await wait_for(pilot, lambda: len(runs.specs) == 1)
        await pilot.press("f10")  # pause it: kept until the session is there
        runs.gate.set()
        session = await nth_session(pilot, runs)
        assert runs.specs[0].start_paused is False
        assert session.calls == ["pause"]
        await pilot.press("f6")


async def test_a_step_pressed_while_a_paused_start_starts_is_sent_once_paused() -> None:
    runs = Runs(gate=asyncio.Event())
    async with playground(runs) as (app, pilot):
        await pilot.press("f10", "f10")  # start paused, then a step before it is there
        await wait_for(pilot, lambda: len(runs.specs) == 1)
        runs.gate.set()
        session = await nth_session(pilot, runs)
        assert runs.specs[0].start_paused is True and session.calls == []
        session.feed(*START, paused("start", 1, 10, ready=[1]))
        await wait_for(pilot, lambda: session.calls == ["step"])  # sent once it paused
        await pilot.press("f6")


async def test_two_f10s_in_one_burst_after_a_run_ended_start_paused_then_step() -> None:
    runs = Runs(gate=asyncio.Event())
    runs.gate.set()
    async with playground(runs) as (app, pilot):
        await pilot.press("f5")  # a run that ends: its session stays until the next run
        ended = await nth_session(pilot, runs)
        ended.feed(*START, {"event": "run_end", "t": 0.5, "exit_code": 0})
        await wait_for(pilot, lambda: not ended.running)
        runs.gate.clear()
        app.action_step()  # two F10s read in one burst: both handled before the run task
        app.action_step()  # has begun (the last run's session is still app.session)
        await wait_for(pilot, lambda: len(runs.specs) == 2)
        await wait_drawn(pilot)  # ticks while it starts: the step must not be forgotten
        runs.gate.set()
        session = await nth_session(pilot, runs, 2)
        assert runs.specs[1].start_paused is True and len(runs.specs) == 2
        session.feed(*START, paused("start", 1, 10, ready=[1]))
        await wait_for(pilot, lambda: session.calls == ["step"])
        await pilot.press("f6")


async def test_line_breakpoints_go_to_the_run_follow_edits_and_survive_a_rerun() -> None:
    runs = Runs()
    async with playground(runs) as (app, pilot):
        app.editor.move_to((5, 0))  # line 6: print("toast up")
        app.editor.focus()
        await pilot.press("ctrl+b")
        await wait_drawn(pilot)
        assert app.editor.marks.get(5) == BREAKPOINT
        assert app.line_breakpoints == {PATH: {6}}
        app.editor.move_to((0, 0))
        await pilot.press("enter")  # a line above: the breakpoint moves down with its line
        await wait_for(pilot, lambda: app.line_breakpoints == {PATH: {7}})
        await wait_drawn(pilot)
        assert app.editor.marks.get(6) == BREAKPOINT and 5 not in app.editor.marks

        await pilot.press("f5")
        session = await nth_session(pilot, runs)
        assert runs.specs[0].breakpoints == Breakpoints({(PATH, 7)})
        session.feed(*START)
        app.editor.move_to((3, 0))
        app.editor.focus()
        await pilot.press("ctrl+b")  # while it runs: the run gets them at once
        assert session.breakpoints[-1] == Breakpoints({(PATH, 7), (PATH, 4)})
        session.feed({"event": "run_end", "t": 0.5, "exit_code": 0, "reason": "exited"})
        await wait_for(pilot, lambda: not session.running)

        await pilot.press("f5")  # the next run has them too
        await wait_for(pilot, lambda: len(runs.specs) == 2)
        assert runs.specs[1].breakpoints == Breakpoints({(PATH, 7), (PATH, 4)})
        app.editor.move_to((6, 0))
        await pilot.press("ctrl+a", "ctrl+k")  # the line's text deleted, the line stays
        assert 7 in app.line_breakpoints[PATH]
        app.editor.move_to((6, 0))
        app.editor.focus()
        await pilot.press("ctrl+shift+k")  # the line itself deleted: its breakpoint goes
        await wait_for(pilot, lambda: app.line_breakpoints[PATH] == {4})
        await pilot.press("f6")


async def test_b_on_a_task_sets_a_breakpoint_on_its_name_for_this_run_and_the_next() -> None:
    runs = Runs()
    async with playground(runs) as (app, pilot):
        app, session = await started_paused(pilot, runs)
        await pilot.press("f10")
        session.feed(*main_step())
        await wait_for(pilot, lambda: app.model.pauses == 2)
        await pilot.press("f7")  # the task table
        app.set_focus(app.tasks)
        app.tasks.select_task(2)
        said = record_notifications(app)
        await pilot.press("e")  # explain stays e in the task views
        assert any("no warnings to explain" in n for n in said)
        await pilot.press("b")
        assert app.task_breakpoints == {"toaster-task"}
        assert session.breakpoints[-1] == Breakpoints(tasks={"toaster-task"})
        await pilot.press("b")  # again: off
        assert app.task_breakpoints == set()
        await pilot.press("b")
        session.feed({"event": "resumed", "t": 0.02, "how": "continue"})
        await wait_for(pilot, lambda: app.tasks.step_marks == {2: "breakpoint"})
        await wait_drawn(pilot)
        assert "●" in app.tasks.render_line(2).text  # toaster-task's row, under main's
        session.feed({"event": "run_end", "t": 0.5, "exit_code": 0, "reason": "exited"})
        await wait_for(pilot, lambda: not session.running)
        await pilot.press("f5")
        await wait_for(pilot, lambda: len(runs.specs) == 2)
        assert runs.specs[1].breakpoints.tasks == frozenset({"toaster-task"})
        await pilot.press("f6")


async def test_while_paused_the_run_time_stands_still() -> None:
    wall = [100.0]
    runs = Runs()
    app = app_with(runs)
    app.clock = lambda: wall[0]
    async with app.run_test(size=(80, 24)) as pilot:
        app, session = await started_paused(pilot, runs)
        at = app.run_time()
        wall[0] += 30.0  # half a minute of looking at the pause
        assert app.run_time() == at == app.model.now
        await pilot.press("f5")
        session.feed({"event": "resumed", "t": 0.01, "how": "continue", "paused": 30.0})
        await wait_for(pilot, lambda: app.model.pause is None)
        wall[0] += 0.5  # running again: the clock goes on from the pause, not 30 s later
        assert app.run_time() == pytest.approx(at + 0.5)
        await pilot.press("f6")


async def test_a_run_ending_while_a_step_is_on_its_way_leaves_nothing_owed() -> None:
    runs = Runs()
    async with playground(runs) as (app, pilot):
        app, session = await started_paused(pilot, runs)
        await pilot.press("f10", "f10")
        session.feed({"event": "run_end", "t": 0.5, "exit_code": 0, "reason": "exited"})
        await wait_for(pilot, lambda: not session.running)
        await wait_drawn(pilot)
        assert app.step_state() == "idle" and session.calls == ["step"]
        assert "paused" not in status(app)


def test_snapshot_of_a_paused_run_at_80x24(snap_compare) -> None:
    """After main's step: the pause line, the next task's line in the editor, the panel
    (the step's rows stand out), the task table with the next task marked."""
    runs = Runs()

    async def run_before(pilot) -> None:
        app, session = await started_paused(pilot, runs)
        app.editor.cursor_blink = False
        await wait_for(pilot, lambda: app.editor.highlighter.lexed >= 1)
        await pilot.press("f10")
        session.feed(*main_step())
        await wait_for(pilot, lambda: app.model.pauses == 2 and app.last_step is not None)
        await pilot.press("f7")  # the task table
        await wait_drawn(pilot)

    assert snap_compare(app_with(runs), terminal_size=(80, 24), run_before=run_before)


# ---- the pure view --------------------------------------------------------------------


def folded(*events: dict) -> RunModel:
    model = RunModel()
    for ev in (*START, *events):
        apply(model, ev)
    return model


def test_the_pause_line_names_the_next_task_its_coroutine_and_line() -> None:
    model = folded(*main_step()[1:])
    assert stepping.pause_line(model, PATH) == (
        "paused - next: toaster-task (toast_bread) at line 5"
    )
    assert stepping.pause_forms(model, PATH)[1:] == [
        "paused - next: toaster-task at line 5",
        "paused - next: toaster-task",
    ]
    assert stepping.next_line(model, PATH) == 5
    assert stepping.next_line(model, "/elsewhere.py") is None
    assert stepping.pause_line(model, "/elsewhere.py").endswith("at breakfast.py:5")
    apply(model, {"event": "resumed", "t": 0.1, "how": "continue"})
    assert stepping.pause_line(model, PATH) is None and stepping.pause_forms(model, PATH) == []


def test_no_task_ready_says_when_the_loop_wakes() -> None:
    model = folded(paused("step", None, None, timers=[(0.5, 1, "sleep(0.5)")]))
    assert stepping.pause_line(model, PATH) == (
        "paused - no task is ready (the loop waits: next timer at 500.0 ms)"
    )
    assert stepping.timer_rows(model) == ["sleep(0.5) -> Task-1 at 500.0 ms"]


def test_the_panel_lists_the_ready_queue_in_order_and_the_timers() -> None:
    model = folded(
        {"event": "task_created", "t": 0.002, "id": 3, "name": "kettle", "coro": "boil",
         "parent": 1, "internal": False, "file": PATH, "line": 3},
        paused("task", 3, 4, ready=[3, 0, 1], timers=[(1.0, None, "call_later(f)")]),
    )  # fmt: skip
    rows = dict(stepping.panel_rows(model, PATH, None))
    assert rows["why"].startswith("paused at the breakpoint on task kettle")
    assert rows["ready"] == "ready: 1. kettle, 2. a callback, 3. Task-1"
    assert rows["timers"] == "timers: call_later(f) at 1.00 s"
    assert "step" not in rows


def test_what_a_step_changed() -> None:
    model = folded(paused("start", 1, 10, ready=[1]))
    before = stepping.moment(model)
    for ev in main_step():
        apply(model, ev)
    did = stepping.changes(before, model)
    assert did.stepped == "Task-1 (main)" and did.created == ["toaster-task"]
    assert did.printed == ["breakfast"] and did.printed_count == 1
    assert did.woke == [] and did.finished == []
    before = stepping.moment(model)
    for ev in (
        {"event": "resumed", "t": 0.02, "how": "step"},
        {"event": "steps", "t": 0.03, "steps": [[2, 0.02, 0.001, None, PATH, 7]]},
        {"event": "task_done", "t": 0.03, "id": 2, "state": "done", "result": "None"},
        paused("step", 1, 13, ready=[1]),
    ):
        apply(model, ev)
    did = stepping.changes(before, model)
    assert did.stepped == "toaster-task (toast_bread)"
    assert did.finished == ["toaster-task"] and did.woke == ["Task-1"]
    assert did.printed_count == 0
    rows = dict(stepping.panel_rows(model, PATH, did))
    assert rows["step"] == (
        "last step: toaster-task (toast_bread) ran; woke Task-1; finished toaster-task; "
        "printed nothing"
    )


def test_marked_lines_follow_an_edit() -> None:
    old = ["a", "b", "c", "d"]
    assert follow_lines(old, ["x", *old], {2}) == {3}  # a line inserted above
    assert follow_lines(old, ["a", "b", "c!", "d"], {2}) == {2}  # typed on its line
    assert follow_lines(old, ["a", "b", "d"], {2}) == set()  # its line deleted
    assert follow_lines(old, ["a", "b", "d"], {3}) == {2}  # below a deleted line
    assert follow_lines(old, [], {0, 3}) == set()
