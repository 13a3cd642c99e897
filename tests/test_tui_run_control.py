"""Stopping a run from the keys: Ctrl+C interrupts a run as in a terminal (SIGINT first),
copies a selection instead, says how to quit when idle, and waits for a run still starting."""

from __future__ import annotations

import asyncio

import pytest
from tui_helpers import wait_for
from tui_recorded import breakfast_run, replay_app

from asyncplay import storage
from asyncplay.tui.app import AsyncplayApp

pytestmark = pytest.mark.usefixtures("home")


async def test_ctrl_c_stops_a_run_copies_a_selection_and_says_how_to_quit_when_idle() -> None:
    from textual.widgets.text_area import Selection

    app = replay_app(breakfast_run(), text="print('hello')\n", until=5.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+c")  # idle: how to quit, and no quitting
        await wait_for(pilot, lambda: "Ctrl+Q quits" in app.status.plain)
        assert app.is_running
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.session is not None and app.model.tasks)
        app.editor.focus()
        app.editor.selection = Selection((0, 0), (0, 5))
        await pilot.press("ctrl+c")  # a selection in the editor: copied, the run goes on
        await wait_for(pilot, lambda: app.clipboard == "print")
        await pilot.pause()
        assert app.model.status == "running" and app.session.running
        app.editor.selection = Selection((0, 0), (0, 0))
        await pilot.press("ctrl+c")  # no selection: the run is interrupted (as F6 does)
        await wait_for(pilot, lambda: app.model.status == "ended")
        assert app.model.end["reason"] == "stopped"
        assert app.is_running  # the playground itself stays


async def test_ctrl_c_interrupts_a_real_run_with_sigint_first(tmp_path) -> None:
    from tui_helpers import make_app, wait_ended

    program = "import asyncio\n\nprint('started', flush=True)\nasyncio.run(asyncio.sleep(60))\n"
    app = make_app(program, str(tmp_path / "sleeps.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: "started" in app.output.text())
        await pilot.press("ctrl+c")
        await wait_ended(pilot)
        assert app.model.end["reason"] == "stopped"
        assert "KeyboardInterrupt" in app.output.text()  # as a terminal's Ctrl+C does


async def test_ctrl_c_right_after_f5_stops_the_run_once_it_has_started() -> None:
    from tui_helpers import FedSession

    session = FedSession()
    gate = asyncio.Event()

    async def slow_start(spec) -> FedSession:
        await gate.wait()  # the run is being started (a sandbox takes a moment)
        return session

    app = AsyncplayApp(
        storage.Autosave(text="print(1)\n", snippet="x"),
        session_factory=slow_start,
        clock=lambda: 0.0,
        autosave=False,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5", "ctrl+c")
        assert app.session is None
        gate.set()
        await wait_for(pilot, lambda: not session.running)  # stopped as soon as it started
