"""The app's keys and its command palette come from one table (``tui/commands.py``)."""

from __future__ import annotations

import pytest
from textual.binding import Binding
from tui_helpers import make_app

from asyncplay.tui import commands
from asyncplay.tui.app import AsyncplayApp

pytestmark = pytest.mark.usefixtures("home")

# Bindings that are deliberately not palette commands (and why): adding a binding to the
# table without a palette title fails here until it is named below.
KEY_ONLY = {
    "find_next": "F3 repeats the find bar's search: nothing to pick in a list",
    "find_previous": "likewise, backwards",
    "focus_stdin": "a focus move, like Tab",
    "interrupt": "ctrl+c: Stop is in the palette",
    "leave_playback": "Escape: the palette has no use for it (it closes the palette)",
    "quit": "Textual's own Quit is in the palette",
}


def palette_commands(app: AsyncplayApp) -> dict[str, object]:
    """The app's own palette commands (Textual's system ones left out): title -> command."""
    textual_own = {c.title for c in super(AsyncplayApp, app).get_system_commands(app.screen)}
    return {c.title: c for c in app.get_system_commands(app.screen) if c.title not in textual_own}


def test_the_bindings_are_the_tables() -> None:
    rows = {c.action: c for c in commands.COMMANDS}
    assert len(rows) == len(commands.COMMANDS)  # one row per action
    bound = [b for b in AsyncplayApp.BINDINGS if isinstance(b, Binding)]
    assert len(bound) == len(AsyncplayApp.BINDINGS)
    assert {b.action for b in bound} == {c.action for c in commands.COMMANDS if c.keys}
    for binding in bound:
        row = rows[binding.action]
        assert binding.priority  # the editor's keys must not shadow the app's
        assert (binding.key, binding.description, binding.show) == (
            row.keys,
            row.description,
            row.show,
        )


def test_step_is_f10_and_explain_a_key_no_text_widget_binds() -> None:
    """F10 steps (the debuggers' key); explain moved to Shift+F1, which neither TextArea
    nor Input binds (a terminal's Shift+F1 reaching it: test_tui_stepping_pty.py)."""

    from textual.widgets import Input, TextArea

    rows = {c.action: c for c in commands.COMMANDS}
    assert rows["step"].keys == "f10"
    widget_keys = {
        key
        for cls in (TextArea, Input)
        for binding in cls.BINDINGS
        if isinstance(binding, Binding)
        for key in binding.key.split(",")
    }
    for action in ("explain", "toggle_breakpoint", "step"):
        keys = str(rows[action].keys).split(",")
        assert not set(keys) & widget_keys, action
        assert not any(k == "f10" for k in keys) or action == "step"


async def test_every_palette_command_has_its_row_and_every_binding_its_command() -> None:
    app = make_app("")
    async with app.run_test(size=(80, 24)):
        shown = palette_commands(app)
        rows = {c.title: c for c in commands.COMMANDS if c.title is not None}
        assert set(shown) == set(rows)  # nothing in the palette but the table's
        for title, command in shown.items():
            row = rows[title]
            callback = command.callback
            assert getattr(callback, "__name__", "") == f"action_{row.action}"
            assert getattr(callback, "__self__", None) is app
            if row.keys:  # the palette says the command's keys
                assert command.help.endswith(f"({commands.key_words(row.keys)})")
        for binding in AsyncplayApp.BINDINGS:
            row = next(c for c in commands.COMMANDS if c.action == binding.action)
            assert (row.title is not None) != (binding.action in KEY_ONLY), binding.action
        for action in KEY_ONLY:  # each exception is still a binding
            assert any(b.action == action for b in AsyncplayApp.BINDINGS)


async def test_a_row_added_to_the_table_is_a_key_and_a_palette_command(monkeypatch) -> None:
    extra = commands.Command("copy_output", "f11", "Copy", "Copy all output", "Via OSC 52")
    table = (*[c for c in commands.COMMANDS if c.action != "copy_output"], extra)
    monkeypatch.setattr(commands, "COMMANDS", table)
    assert any(b.key == "f11" for b in commands.bindings(table))
    app = make_app("")
    async with app.run_test(size=(80, 24)):
        shown = palette_commands(app)
        assert shown["Copy all output"].help == "Via OSC 52 (F11)"
        assert "Copy output" not in shown


def test_key_words() -> None:
    assert commands.key_words("f5,ctrl+r,ctrl+j") == "F5, ctrl+r, ctrl+j"
    assert commands.key_words("shift+f3") == "shift+f3"
