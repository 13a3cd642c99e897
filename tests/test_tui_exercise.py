"""The playground on an exercise: its text beside the code, the verdicts after a run
(``2/4 checks pass``), F11 checking under the virtual clock, Enter on a verdict going to
its task and line; and a snapshot of the exercise layout at 80x24.

The run is a recording of the concurrent_fetch exercise's starting code (virtual clock),
played back through the app's session factory: deterministic, nothing spawned.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Static, Tabs
from tui_helpers import wait_drawn, wait_ended, wait_for

from asyncplay import snippets, storage
from asyncplay.runner.spec import RunSpec
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.exercise_control import code_start
from asyncplay.tui.services.replay_session import ReplaySession, load_events

EVENTS = load_events(Path(__file__).parent / "data" / "concurrent_fetch_events.jsonl")


pytestmark = pytest.mark.usefixtures("home")


def exercise_app(specs: list[RunSpec] | None = None, text: str | None = None) -> AsyncplayApp:
    found = snippets.find_bundled("concurrent_fetch")
    assert found is not None and found.checks
    factory = ReplaySession.factory(EVENTS, None)

    async def start(spec: RunSpec):  # noqa: ANN202
        if specs is not None:
            specs.append(spec)
        return await factory(spec)

    return AsyncplayApp(
        storage.Autosave(
            text=text if text is not None else found.path.read_text(encoding="utf-8"),
            snippet="concurrent_fetch",
        ),
        session_factory=start,
        clock=lambda: 0.0,
        note="a copy of snippet concurrent_fetch",
        autosave=False,
    )


def score(app: AsyncplayApp) -> str:
    return str(app.query_one("#exercise-score", Static).render())


async def test_the_exercise_opens_beside_its_code_and_is_judged_after_a_run() -> None:
    app = exercise_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_drawn(pilot)
        assert app.current_view() == "exercise"
        assert app.query_one("#tab-exercise").display
        text = app.editor.text
        assert app.editor.cursor_location[0] == code_start(text) > 10  # on the code
        assert score(app) == "4 checks: F5 runs the program, F11 checks it"
        await pilot.press("f5")
        await wait_ended(pilot)
        await wait_for(pilot, lambda: app.verdicts is not None)
        assert score(app) == "2/4 checks pass · Enter on one goes there"
        assert [v.passed for v in app.verdicts or []] == [False, False, True, True]
        assert app.verdicts[0].reason.startswith("took 3.0 s - the 3 fetch tasks ran one after")
        assert "2/4 checks pass" in app.status_note()


async def test_enter_on_a_failed_verdict_goes_to_its_task_and_line() -> None:
    app = exercise_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_drawn(pilot)
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.verdicts is not None)
        options = app.query_one("#exercise-verdicts", OptionList)
        options.focus()
        await wait_drawn(pilot)
        assert options.highlighted == 0  # the first failed one
        await pilot.press("enter")
        verdict = (app.verdicts or [])[0]
        assert verdict.task is not None and verdict.line
        await wait_for(pilot, lambda: app.selected_task == verdict.task)
        assert app.editor.cursor_location[0] == verdict.line - 1
        assert app.focused is app.editor
        # the task table follows: its chosen row is the verdict's task (fetch-1)
        assert app.model is not None and app.model.tasks[verdict.task].name == "fetch-1"
        assert app.tasks.selected_task() == verdict.task
        # the timeline's cursor goes to the moment the reason is about, on that task's lane
        # (placed there: the await graph shows that moment)
        assert verdict.t is not None
        assert app.timeline.cursor_task == verdict.task
        assert app.timeline.cursor_time == verdict.t and app.timeline.cursor_placed
        # the second failed verdict points at another moment: Enter on it moves the cursor
        options.focus()
        await pilot.press("down", "enter")
        second = (app.verdicts or [])[1]
        assert not second.passed and second.t is not None
        await wait_for(pilot, lambda: app.timeline.cursor_time == second.t)
        assert app.timeline.cursor_task == second.task


async def test_f11_checks_under_the_virtual_clock() -> None:
    specs: list[RunSpec] = []
    app = exercise_app(specs)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_drawn(pilot)
        await pilot.press("f11")
        await wait_for(pilot, lambda: app.verdicts is not None)
        assert specs[-1].clock == "virtual"
        assert app.current_view() == "exercise"
        await pilot.press("f5")  # F5 runs with the settings' clock (real by default)
        await wait_for(pilot, lambda: len(specs) == 2)
        assert specs[-1].clock == app.settings.run_options()["clock"]


async def test_f5_after_an_f11_that_could_not_start_uses_the_settings_clock(tmp_path) -> None:
    """F11's virtual clock belongs to F11's start: when that start fails (here the Python of
    the settings does not exist), the next F5 runs with the settings' clock."""
    specs: list[RunSpec] = []
    app = exercise_app(specs)
    app.settings = dataclasses.replace(app.settings, python=str(tmp_path / "no-python"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_drawn(pilot)
        await pilot.press("f11")
        await wait_for(pilot, lambda: "could not start the run" in app.status_note())
        assert "no such interpreter" in app.status_note() and specs == []
        app.settings = dataclasses.replace(app.settings, python=None)
        await pilot.press("f5")
        await wait_for(pilot, lambda: len(specs) == 1)
        assert app.settings.clock == "real" and specs[0].clock == "real"
        await wait_ended(pilot)


async def test_f2_opens_a_bundled_exercise_as_an_exercise() -> None:
    """F2 lists the exercises; Enter on one opens a copy under the name `asyncplay check`
    takes, its text in the Exercise view and the editor on its code."""
    from asyncplay.tui.screens.snippet_browser import SnippetBrowser

    app = exercise_app(text="import asyncio\nprint(1)\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_drawn(pilot)
        assert app.current_view() == "output"
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, SnippetBrowser))
        await pilot.press(*"semaphore_b", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SnippetBrowser))
        found = snippets.find_exercise("semaphore_bound")
        assert found is not None
        assert app.buffer.snippet == "semaphore_bound"
        assert app.editor.text == found.path.read_text(encoding="utf-8")
        await wait_for(pilot, lambda: app.current_view() == "exercise")
        assert app.exercise_checks and "a copy of exercise semaphore_bound" in app.status_note()


async def test_a_buffer_without_checks_has_no_exercise_tab() -> None:
    app = exercise_app(text="import asyncio\nprint(1)\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_drawn(pilot)
        tabs = app.query_one("#pane-tabs", Tabs)
        assert not app.query_one("#tab-exercise").display
        assert tabs.active == "tab-output"
        await pilot.press("f11")
        await wait_drawn(pilot)
        assert "no checks here" in app.status_note()


async def test_a_malformed_check_is_said_in_the_exercise_view() -> None:
    found = snippets.find_bundled("concurrent_fetch")
    assert found is not None
    text = found.path.read_text(encoding="utf-8").replace(
        "    every task finishes\n", "    every task finishes quickly\n"
    )
    app = exercise_app(text=text)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_drawn(pilot)
        assert app.exercise_error is not None and app.exercise_error.startswith("line 17: ")
        await pilot.press("f11")
        await wait_drawn(pilot)
        assert "line 17: not a check" in app.status_note()


def test_snapshot_of_the_exercise_after_a_run_at_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        app: AsyncplayApp = pilot.app  # type: ignore[assignment]
        app.editor.cursor_blink = False
        await wait_for(pilot, lambda: app.editor.highlighter.lexed >= 1)
        # the editor opens scrolled to the code (after the exercise's docstring)
        await wait_for(pilot, lambda: app.editor.scroll_offset.y == code_start(app.editor.text))
        await pilot.press("f5")
        await wait_ended(pilot)
        await wait_for(pilot, lambda: app.verdicts is not None)
        await wait_drawn(pilot)

    assert snap_compare(exercise_app(), terminal_size=(80, 24), run_before=run_before)
