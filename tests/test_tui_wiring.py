"""The secondary screens as reached from the main app: keys, results, files on disk."""

from __future__ import annotations

import pytest

from asyncplay import snippets, storage, unsaved
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.exercise_control import code_start
from asyncplay.tui.launch import first_snippet, opening
from asyncplay.tui.panes.find_bar import GotoLineScreen
from asyncplay.tui.screens.file_dialogs import OpenFileScreen, SaveAsScreen
from asyncplay.tui.screens.help import HelpScreen
from asyncplay.tui.screens.settings import SettingsScreen
from asyncplay.tui.screens.snippet_browser import SnippetBrowser

pytestmark = pytest.mark.usefixtures("home")


def bundled_app(name: str = "gather") -> AsyncplayApp:
    found = snippets.find_bundled(name)
    return AsyncplayApp(storage.Autosave(text=found.path.read_text(), snippet=name))


async def test_ctrl_s_on_a_bundled_snippet_asks_for_a_name(home, tmp_path, monkeypatch):
    """A student keeps their work where they started: Save as proposes the current
    directory, not the data folder."""
    monkeypatch.chdir(tmp_path)
    original = (snippets.bundled_dir() / "gather.py").read_bytes()
    app = bundled_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("end", "#")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SaveAsScreen)
        assert app.screen.folder == tmp_path
        await pilot.press("ctrl+a", "ctrl+k", *"mine", "enter")
        await pilot.pause()
        target = tmp_path / "mine.py"
        assert target.read_text() == app.editor.text
        assert app.buffer.path == str(target.resolve()) and app.buffer.snippet is None
        assert not app.dirty
        # ctrl+s now saves to that file without asking.
        await pilot.press("x", "ctrl+s")
        await pilot.pause()
        assert target.read_text() == app.editor.text and "#x" in app.editor.text
    assert (snippets.bundled_dir() / "gather.py").read_bytes() == original


async def test_help_settings_and_goto_line_from_their_keys(home):
    app = bundled_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        rows = dict((does, key) for key, does in app.screen.bindings)
        assert rows["Run"] == "f5,ctrl+r,ctrl+j" and rows["Stop"] == "f6,ctrl+t"
        await pilot.press("escape")
        await pilot.press("f9")
        assert isinstance(app.screen, SettingsScreen)
        # ctrl+s belongs to the dialog while it is open, not to the editor's save
        await pilot.press("ctrl+a", "ctrl+k", "7", "ctrl+s")
        await pilot.pause()
        assert app.screen is app.screen_stack[0]
        assert app.settings.timeout == 7
        assert storage.load_settings().timeout == 7
        spec = app.make_spec()
        assert spec.limits.timeout == 7
        assert (spec.sandbox, spec.clock) == (app.settings.sandbox, app.settings.clock)
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, GotoLineScreen)
        await pilot.press("ctrl+a", "ctrl+k", "2", "0", "enter")
        await pilot.pause()
        assert app.editor.cursor_location == (19, 0)


async def test_snippet_browser_opens_a_copy(home):
    app = bundled_app("sequential")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2")
        assert isinstance(app.screen, SnippetBrowser)
        await pilot.press(*"gath", "enter")
        await pilot.pause()
        assert app.buffer.snippet == "gather" and app.buffer.path is None
        assert unsaved.load_entry("snippet:sequential") is None  # nothing was edited
        # a lesson opens with the cursor on its code, after the docstring (in its own view)
        code = code_start(app.editor.text)
        assert code > 0 and app.editor.cursor_location == (code, 0)
        await pilot.press("x", "f2", *"chain", "enter")  # edited, then another snippet
        await pilot.pause()
        kept = unsaved.load_entry("snippet:gather")
        assert kept.first_line == code + 1 and kept.first_text.startswith("x")
        assert storage.load_autosave().snippet == "chain"


async def test_open_file_and_find(tmp_path, home):
    (tmp_path / "prog.py").write_text("alpha = 1\nbeta = 2\nalpha += beta\n")
    app = bundled_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, OpenFileScreen)
        await pilot.press(*"prog.py", "enter")
        await pilot.pause()
        assert app.buffer.path == str((tmp_path / "prog.py").resolve())
        assert app.editor.text.startswith("alpha = 1")
        await pilot.press("ctrl+f", *"beta")
        await pilot.pause()
        assert app.editor.selected_text == "beta"
        await pilot.press("escape")
        await pilot.press("f3")
        assert app.editor.selection.start == (2, 9)


def test_opening_first_use_restore_file_and_snippet(tmp_path, home):
    buffer, note = opening(None)
    assert buffer.snippet == snippets.COURSE[0] == first_snippet().snippet
    assert "welcome" in note
    storage.save_autosave(
        storage.Autosave(text="x = 1\n", snippet="gather", cursor=(0, 3), dirty=True)
    )
    buffer, note = opening(None)
    assert (buffer.text, buffer.cursor, buffer.snippet) == ("x = 1\n", (0, 3), "gather")
    assert note.startswith("restored your last buffer (copy of snippet gather, unsaved edits)")
    buffer, note = opening("gather")  # the edited copy comes back too
    assert buffer.text == "x = 1\n"
    new = tmp_path / "new.py"
    buffer, note = opening(str(new))
    assert buffer.text == "" and buffer.path == str(new) and "ctrl+s creates it" in note
    for bad, needle in (
        ("nosuch", "no file or snippet named 'nosuch'"),
        (str(tmp_path), "is a directory"),
        ("nodir/x.py", "no such directory"),
    ):
        with pytest.raises(ValueError, match=needle):
            opening(bad)


async def test_restored_buffer_says_so_and_keeps_the_cursor(home):
    storage.save_autosave(
        storage.Autosave(text="a\nbb\nccc\n", snippet="gather", cursor=(2, 2), dirty=True)
    )
    buffer, note = opening(None)
    app = AsyncplayApp(buffer, note=note)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.editor.cursor_location == (2, 2)
        assert "restored your last buffer" in app.status.plain


def test_app_keys_do_not_collide_with_the_editor_or_input() -> None:
    from textual.widgets import Input, TextArea

    from asyncplay.tui.panes.editor import CodeEditor

    def keys(bindings) -> set[str]:
        return {k.strip() for b in bindings for k in b.key.split(",")}

    app_keys = keys(AsyncplayApp.BINDINGS)
    # focus stays Textual's: Escape is the app's only in playback (leaving it); else the
    # binding skips and the key goes on (test_tui_playback: Escape still leaves the editor)
    assert [b.action for b in AsyncplayApp.BINDINGS if b.key == "escape"] == ["leave_playback"]
    app_keys -= {"escape"}
    assert not app_keys & {"tab", "escape"}
    assert not any(k.startswith("alt+") for k in app_keys)  # split over slow links
    # ctrl+c is the app's: it copies a selection itself, else stops the run (issue 14)
    assert not (app_keys - {"ctrl+c"}) & keys(CodeEditor.BINDINGS)
    assert not (app_keys - {"ctrl+c"}) & keys(Input.BINDINGS)
    assert keys(TextArea.BINDINGS) - keys(CodeEditor.BINDINGS) == {"f6", "f7"}


@pytest.mark.parametrize(
    "args, needle",
    [
        (["a.py", "b.py"], "the editor opens one FILE or snippet NAME, not 2"),
        (["gather"], "the editor needs a terminal"),
        (["nodir/x.py"], "no such directory"),
    ],
)
def test_editor_usage_errors_are_one_line_and_exit_2(tmp_path, args, needle) -> None:
    from helpers import asyncplay

    r = asyncplay(*args, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines
