"""Moving around with the keys: help names the real keys, Ctrl+L reaches the stdin line
(and a prompt says so), Ctrl+End/Home, and the run keys wait while a dialog is open."""

from __future__ import annotations

import pytest
from tui_helpers import make_app, wait_ended, wait_for

pytestmark = pytest.mark.usefixtures("home")


async def test_help_says_how_to_reach_each_pane_from_the_real_keys():
    from textual.widgets import Static

    from asyncplay.tui.screens.help import HelpScreen, keys_for

    app = make_app("x\n")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        intro = str(app.screen.query_one("#help-intro", Static).render())
        assert "Tab and Shift+Tab move between panes" not in intro
        assert "Tab indents" in intro
        for action in ("next_pane", "focus_stdin", "switch_pane", "filter_output"):
            key = keys_for(app.BINDINGS, action)
            assert key and key in intro, action
        assert "jumps there in the editor" in intro


async def test_ctrl_l_goes_to_the_stdin_line_even_from_the_tasks_tab():
    app = make_app("x\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f7")  # the Tasks tab at 80x24
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "stdin"
        assert app.query_one("#stdin").region.height == 1  # on screen, not behind a tab


async def test_a_prompt_waiting_for_input_says_how_to_answer(tmp_path):
    from tui_helpers import wait_for

    app = make_app('name = input("name? ")\nprint("hi", name)\n', str(tmp_path / "ask.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: "Ctrl+L to type" in app.status.plain)
        await pilot.press("ctrl+l", "B", "o", "b", "enter")
        await wait_ended(pilot)
        # the prompt's line, what was typed (echoed, as a terminal does), the answer
        lines = [(line.stream, line.text) for line in app.model.output]
        assert lines == [("stdout", "name? "), ("stdin", "Bob"), ("stdout", "hi Bob")], lines


async def test_ctrl_end_and_ctrl_home_go_to_the_ends_of_the_file():
    app = make_app("".join(f"line {i}\n" for i in range(200)) + "last")
    async with app.run_test(size=(80, 24)) as pilot:
        app.editor.focus()
        await pilot.press("ctrl+end")
        assert app.editor.cursor_location == (200, 4)
        await pilot.press("ctrl+home")
        assert app.editor.cursor_location == (0, 0)


async def test_run_keys_wait_while_a_dialog_is_open():
    from asyncplay.tui.screens.settings import SettingsScreen

    app = make_app("print(1)\n")
    runs: list[str] = []
    real_run = app.action_run

    def action_run() -> None:
        runs.append("run")
        real_run()

    app.action_run = action_run  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.press("f5", "ctrl+r")  # each key is handled before press() returns
        await pilot.pause()
        assert runs == [] and app.model is None and app.session is None
