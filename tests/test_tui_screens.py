"""Pilot tests of the TUI's secondary screens and widgets, each in a small host app at 80x24."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, OptionList, Select, Static, TextArea
from tui_helpers import wait_for

from asyncplay import snippets, storage
from asyncplay.storage import Settings
from asyncplay.tui.panes.find_bar import FindBar, GotoLineScreen, find_matches, goto_line
from asyncplay.tui.screens.file_dialogs import OpenFileScreen, SaveAsScreen, list_completions
from asyncplay.tui.screens.help import TASK_COLUMNS, HelpScreen, format_key, help_bindings
from asyncplay.tui.screens.settings import SettingsScreen, parse_number, show_number
from asyncplay.tui.screens.snippet_browser import SnippetBrowser, SnippetChoice, reflow

SIZE = (80, 24)
_NOT_YET = object()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("ASYNCPLAY_HOME", str(path))
    return path


class Host(App[None]):
    """Pushes one screen and records what it dismisses with."""

    BINDINGS = [Binding("ctrl+r", "noop", "Run the program"), Binding("f1", "noop", "Help")]

    def __init__(self, screen_factory: Any = None, text: str = "") -> None:
        super().__init__()
        self.screen_factory = screen_factory
        self.result: Any = _NOT_YET
        self.text = text

    def compose(self) -> ComposeResult:
        editor = TextArea(self.text, id="editor")
        yield editor
        yield FindBar(editor, id="find")

    def on_mount(self) -> None:
        if self.screen_factory is not None:
            self.push_screen(self.screen_factory(), self._done)

    def _done(self, result: Any) -> None:
        self.result = result

    def action_noop(self) -> None:
        pass


def error_text(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Label).render())


# -- find bar --------------------------------------------------------------------------

TEXT = "import asyncio\n\nasync def Main():\n    await asyncio.sleep(1)\n    main = 1\n"


def test_find_matches_smart_case() -> None:
    assert find_matches(TEXT, "main") == [(26, 30), (65, 69)]
    assert find_matches(TEXT, "Main") == [(26, 30)]
    assert find_matches(TEXT, "") == []
    assert find_matches("a.b a+b", ".") == [(1, 2)]  # literal, not a regex


async def test_find_bar_incremental_next_previous_wrap_and_close() -> None:
    app = Host(text=TEXT)
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one(TextArea)
        bar = app.query_one(FindBar)
        assert not bar.display
        editor.focus()
        bar.open()
        await pilot.pause()
        assert bar.display and isinstance(app.focused, Input)
        await pilot.press("a", "s", "y")
        assert editor.selected_text == "asy" and editor.selection.start == (0, 7)
        assert bar.count == (1, 3)
        await pilot.press("n", "c", "i", "o")  # typing on keeps the same match, growing it
        assert editor.selection == ((0, 7), (0, 14)) and bar.count == (1, 2)
        await pilot.press("enter")
        assert editor.selection == ((3, 10), (3, 17))
        assert str(bar.query_one(".find-count", Label).render()) == "2 of 2"
        await pilot.press("f3")  # wraps around to the first
        assert editor.selection.start == (0, 7)
        await pilot.press("shift+f3")  # and back, wrapping the other way
        assert editor.selection.start == (3, 10)
        await pilot.press("escape")
        assert not bar.display and app.focused is editor
        assert editor.selected_text == "asyncio"
        # F3 with the bar closed reuses the last query
        assert bar.find_next() and editor.selection.start == (0, 7)


async def test_find_bar_smart_case_no_match_and_edits() -> None:
    app = Host(text=TEXT)
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one(TextArea)
        bar = app.query_one(FindBar)
        editor.move_cursor((2, 0))
        bar.open()
        await pilot.press("m", "a", "i", "n")
        assert editor.selection == ((2, 10), (2, 14)) and bar.count == (1, 2)
        await pilot.press("down")
        assert editor.selection == ((4, 4), (4, 8))
        await pilot.press("ctrl+a", "ctrl+k")  # start over with a capital letter
        bar.input.value = ""
        await pilot.press("M")
        assert bar.count == (1, 1)
        await pilot.press("z", "z")
        count = bar.query_one(".find-count", Label)
        assert str(count.render()) == "no matches" and count.has_class("-none")
        assert not bar.find_next()
        await pilot.press("backspace", "backspace")
        editor.move_cursor((0, 0))  # moved away: no match is "current"
        assert bar.count == (None, 1)
        # the editor changes under the bar: matches are recomputed
        editor.text = "Mzz Mzz Mzz"
        assert bar.find_next() and bar.count[1] == 3


async def test_find_bar_prefills_from_selection_and_handles_crlf() -> None:
    app = Host(text="one\r\ntwo two\r\nthree two\r\n")
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one(TextArea)
        editor.selection = ((1, 0), (1, 3))  # "two"
        bar = app.query_one(FindBar)
        bar.open()
        await pilot.pause()
        assert bar.input.value == "two" and bar.count == (1, 3)
        await pilot.press("enter", "enter")
        assert editor.selection == ((2, 6), (2, 9)) and editor.selected_text == "two"


async def test_goto_line_screen() -> None:
    app = Host(lambda: GotoLineScreen(line_count=5, current=2), text=TEXT)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+a", "ctrl+k", "9", "enter")
        assert "No line 9" in error_text(app, "#line-error") and app.result is _NOT_YET
        await pilot.press("backspace", "x", "enter")
        assert "line number" in error_text(app, "#line-error")
        await pilot.press("backspace", "4", "enter")
        await pilot.pause()
        assert app.result == 4
        editor = app.query_one(TextArea)
        goto_line(editor, app.result)
        assert editor.cursor_location == (3, 0)
        goto_line(editor, 99)
        assert editor.cursor_location == (5, 0)
    app = Host(lambda: GotoLineScreen(line_count=5))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


# -- help ------------------------------------------------------------------------------


def test_format_key() -> None:
    assert format_key("ctrl+r") == "Ctrl+R"
    assert format_key("f5,ctrl+j") == "F5 / Ctrl+J"
    assert format_key("shift+f3") == "Shift+F3"
    assert format_key("escape") == "Esc"
    assert format_key("e,f10") == "e / F10" and format_key("i") == "i"  # typed as shown


async def test_help_screen_shows_the_apps_bindings_and_columns() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(TextArea).focus()
        rows = help_bindings(app)
        assert ("ctrl+r", "Run the program") in rows
        assert all("Cursor" not in description for _key, description in rows)
        assert not any(d.startswith("Focus") or d == "palette" for _k, d in rows)
        app.push_screen(HelpScreen(rows), app._done)
        await pilot.pause()
        keys = app.screen.query_one("#help-keys", Static)
        columns = app.screen.query_one("#help-columns", Static)
        assert "Run the program" in _plain(keys) and "Ctrl+R" in _plain(keys)
        for column, _meaning in TASK_COLUMNS:
            assert column in _plain(columns)
        files = _plain(app.screen.query_one("#help-files", Static))
        assert "autosave.json" in files and "0700" in files
        body = app.screen.query_one("#help-body")
        assert app.focused is body
        await pilot.press("pagedown")
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None and not isinstance(app.screen, HelpScreen)


def _plain(widget: Static) -> str:
    from rich.console import Console

    with open(os.devnull, "w") as sink:
        console = Console(width=78, record=True, file=sink)
        console.print(widget.content)
    return console.export_text()


# -- settings --------------------------------------------------------------------------


def test_show_number() -> None:
    assert [show_number(v) for v in (30.0, 2.5, 1024, 0.25)] == ["30", "2.5", "1024", "0.25"]


def test_parse_number() -> None:
    assert parse_number(" 2.5 ", whole=False) == 2.5
    assert parse_number("64", whole=True) == 64
    assert parse_number("2.5", whole=True) == "a whole number, e.g. 64"
    assert parse_number("0", whole=False) == "must be above 0"
    assert parse_number("nan", whole=False) == "a finite number"
    assert parse_number("", whole=True) == "required"


async def test_settings_validate_inline_then_save(home: Path) -> None:
    app = Host(lambda: SettingsScreen(Settings()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert app.focused is app.screen.query_one("#f-timeout")
        await pilot.press("ctrl+a", "ctrl+k", "-", "1")
        assert error_text(app, "#n-timeout") == "must be above 0"
        await pilot.press("ctrl+s")
        assert app.result is _NOT_YET
        assert "Fix the fields" in error_text(app, "#settings-error")
        await pilot.press("ctrl+a", "ctrl+k", "5")
        assert error_text(app, "#n-timeout") == ""
        await pilot.press("tab", "tab", "ctrl+a", "ctrl+k", "2", "5", "6")  # memory
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.result, Settings)
        assert app.result.timeout == 5.0 and app.result.memory_mib == 256
    assert storage.load_settings() == app.result
    assert stat.S_IMODE((home / "settings.json").stat().st_mode) == 0o600


async def test_settings_python_probe_runs_in_a_worker(home: Path) -> None:
    from asyncplay.tui.services.python_probe import PythonProbe

    app = Host(lambda: SettingsScreen(Settings(), PythonProbe()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        python = app.screen.query_one("#f-python", Input)
        python.value = str(home / "no-such-python")
        await pilot.press("ctrl+s")  # saving waits for the probe, which fails
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.result is _NOT_YET
        assert error_text(app, "#n-python") == "no such interpreter"
        assert app.focused is python
        python.value = sys.executable
        # the probe starts after a pause in typing, in a worker, and says what it found
        await wait_for(pilot, lambda: error_text(app, "#n-python").startswith("CPython 3."))
        assert error_text(app, "#n-python").startswith("CPython 3.")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.result, Settings) and app.result.python == sys.executable
    assert json.loads((home / "settings.json").read_text())["python"] == sys.executable


async def test_settings_default_limits_button(home: Path) -> None:
    custom = Settings(timeout=5, procs=3, clock="virtual", theme="nord", python=None)
    app = Host(lambda: SettingsScreen(custom))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#defaults").focus()
        await pilot.press("enter")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result == Settings(theme="nord")


async def test_settings_theme_preview_is_undone_by_escape(home: Path) -> None:
    app = Host(lambda: SettingsScreen(Settings(theme="textual-dark")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = app.theme
        app.screen.query_one("#f-theme", Select).value = "nord"
        await pilot.pause()
        assert app.theme == "nord"
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None and app.theme == before
    assert not (home / "settings.json").exists()


async def test_settings_selects_work_from_the_keyboard(home: Path) -> None:
    app = Host(lambda: SettingsScreen(Settings()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        sandbox = app.screen.query_one("#f-sandbox", Select)
        sandbox.focus()
        await pilot.press("enter", "down", "down", "enter")  # auto -> bwrap -> rlimit
        assert sandbox.value == "rlimit"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.result, Settings) and app.result.sandbox == "rlimit"


async def test_settings_screen_fits_80x24(home: Path) -> None:
    app = Host(lambda: SettingsScreen(Settings()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for widget in app.screen.query("Input, Select, Button"):
            region = widget.region
            assert region.height >= 1 and region.right <= 80 and region.bottom <= 24, widget


# -- snippet browser -------------------------------------------------------------------


async def test_snippet_browser_lists_in_course_order_filters_and_opens(home: Path) -> None:
    user = storage.user_snippets_dir()
    (user / "mine.py").write_text('"""My own\n\nMine.\n\nWhat to look for: x\n"""\n')
    (user / "scratch.py").write_text("print('no docstring')\n")
    app = Host(SnippetBrowser)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SnippetBrowser)
        names = [e.name for e in screen.shown]
        bundled = snippets.bundled_names()
        exercises = [e.name for e in snippets.list_exercises()]
        assert len(exercises) >= 10 and "concurrent_fetch" in exercises
        assert names == bundled + exercises + ["mine", "scratch"]
        assert bundled[0] == "sequential"
        info = _plain(screen.query_one("#snippet-info", Static))
        first = snippets.find_bundled("sequential")
        assert first is not None and first.title in info
        await pilot.press("down")
        assert screen.highlighted is not None and screen.highlighted.name == bundled[1]
        await pilot.press(*"gath")
        assert [e.name for e in screen.shown] == ["gather", "gather_errors"]
        await pilot.press(*(["backspace"] * 4), *"taskg")
        assert "Needs Python 3.11" in _plain(screen.query_one("#snippet-info", Static))
        await pilot.press(*(["backspace"] * 5), *"gath")
        assert screen.highlighted is not None and screen.highlighted.name == "gather"
        await pilot.press("enter")
        await pilot.pause()
        choice = app.result
        assert isinstance(choice, SnippetChoice)
        assert choice.kind == "bundled" and choice.name == "gather"
        assert choice.text == (snippets.bundled_dir() / "gather.py").read_text()


async def test_snippet_browser_lists_the_exercises_by_their_check_names(home: Path) -> None:
    """The bundled exercises under their own header, each by the name `asyncplay check`
    takes, its checks in the detail; Enter opens a copy, as an exercise."""
    app = Host(SnippetBrowser)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SnippetBrowser)
        listed = {e.name for e in screen.shown if e.kind == "exercise"}
        assert listed == {e.name for e in snippets.list_exercises()}
        await pilot.press(*"concurrent_f")
        assert [(e.kind, e.name) for e in screen.shown] == [("exercise", "concurrent_fetch")]
        options = screen.query_one("#snippet-list", OptionList)
        header = options.get_option_at_index(0)
        assert header.disabled and "Exercises" in str(header.prompt)
        info = _plain(screen.query_one("#snippet-info", Static))
        assert "asyncplay check concurrent_fetch" in info
        assert "finishes within 1.2 s" in info and "every task finishes" in info
        await pilot.press("enter")
        await pilot.pause()
        found = snippets.find_exercise("concurrent_fetch")
        assert found is not None
        assert app.result == SnippetChoice(
            "exercise", "concurrent_fetch", found.path, found.path.read_text(encoding="utf-8")
        )


async def test_snippet_browser_user_snippets_and_cancel(home: Path) -> None:
    user = storage.user_snippets_dir()
    (user / "scratch.py").write_text("print('no docstring')\n")
    app = Host(SnippetBrowser)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*"scra")
        screen = app.screen
        assert isinstance(screen, SnippetBrowser)
        assert "No description" in _plain(screen.query_one("#snippet-info", Static))
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == SnippetChoice(
            "user", "scratch", user / "scratch.py", "print('no docstring')\n"
        )
    app = Host(SnippetBrowser)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"zzzz")
        screen = app.screen
        assert isinstance(screen, SnippetBrowser) and screen.shown == []
        await pilot.press("enter")
        assert "Nothing to open" in error_text(app, "#snippet-error")
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


# -- file dialogs ----------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "examples").mkdir(parents=True)
    (root / "examples" / "demo.py").write_text("print(1)\n")
    (root / "examples" / "data.txt").write_text("x\n")
    (root / "main.py").write_text("x = 1\n")
    (root / ".hidden.py").write_text("")
    return root


def test_list_completions(tree: Path) -> None:
    assert list_completions("", tree) == ["../", "examples/", "main.py"]
    assert list_completions("EX", tree) == ["examples/"]
    assert list_completions("examples/d", tree) == ["data.txt", "demo.py"]
    assert list_completions(".h", tree) == [".hidden.py"]
    assert list_completions(f"{tree}/m", Path("/")) == ["main.py"]
    assert list_completions("nowhere/", tree) == []


async def test_open_file_completes_navigates_and_opens(tree: Path) -> None:
    app = Host(lambda: OpenFileScreen(start=tree))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OpenFileScreen)
        await pilot.press("e", "tab")  # unique match: the folder
        assert screen.path_input.value == "examples/"
        await pilot.press("d", "tab")  # two matches, no longer common prefix
        assert screen.path_input.value == "examples/d"
        await pilot.press("e", "tab")
        assert screen.path_input.value == "examples/demo.py"
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == tree / "examples" / "demo.py"


async def test_open_file_arrows_enter_folders_and_errors(tree: Path) -> None:
    app = Host(lambda: OpenFileScreen(start=tree / "examples"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OpenFileScreen)
        assert screen.listed == ["../", "data.txt", "demo.py"]
        await pilot.press("down", "enter")  # "../" enters the parent folder
        assert screen.path_input.value == "../"
        assert screen.listed == ["../", "examples/", "main.py"]
        await pilot.press(*"nope.py", "enter")
        assert "No such file" in error_text(app, "#open-error") and app.result is _NOT_YET
        await pilot.press(*(["backspace"] * 7), "up", "enter")  # the last entry: main.py
        await pilot.pause()
        assert app.result == tree / "main.py"


async def test_open_file_cancel_and_unreadable(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from asyncplay.tui.screens import file_dialogs

    secret = tree / "secret.py"
    secret.write_text("")
    real_access = os.access
    # Root reads anything, so deny by hand what a student's chmod 0 would deny.
    monkeypatch.setattr(
        file_dialogs.os, "access", lambda p, m: Path(p) != secret and real_access(p, m)
    )
    app = Host(lambda: OpenFileScreen(start=tree))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"secret.py", "enter")
        assert "Not readable" in error_text(app, "#open-error")
        assert app.result is _NOT_YET
        with open(tree / "big.py", "wb") as big:
            big.truncate(5 * 1024 * 1024)  # sparse: costs no disk
        await pilot.press("ctrl+a", "ctrl+k", *"big.py", "enter")
        assert "Too large to edit: 5 MiB" in error_text(app, "#open-error")
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


async def test_save_as_default_folder_suffix_and_overwrite(home: Path) -> None:
    folder = storage.user_snippets_dir()
    (folder / "taken.py").write_text("old\n")
    app = Host(lambda: SaveAsScreen(name="taken"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert "exists: Enter again" in error_text(app, "#save-error")
        assert app.result is _NOT_YET
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == folder / "taken.py"
    app = Host(lambda: SaveAsScreen())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert "Type a name" in error_text(app, "#save-error")
        await pilot.press(*"fresh", "enter")
        await pilot.pause()
        assert app.result == folder / "fresh.py"


async def test_save_as_refuses_bundled_missing_folder_and_cancels(home: Path) -> None:
    bundled = snippets.bundled_dir() / "gather.py"
    app = Host(lambda: SaveAsScreen(name=str(bundled)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert "read-only" in error_text(app, "#save-error")
        await pilot.press("ctrl+a", "ctrl+k", *"nodir/x.py", "enter")
        assert "No such folder" in error_text(app, "#save-error")
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None
    assert bundled.is_file()


async def test_screens_fit_80x24(home: Path, tree: Path) -> None:
    factories: list[Any] = [
        lambda: HelpScreen([("f5", "Run")] * 30),
        SnippetBrowser,
        lambda: OpenFileScreen(start=tree),
        SaveAsScreen,
        lambda: GotoLineScreen(10),
    ]
    for factory in factories:
        app = Host(factory)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen: Screen = app.screen
            for widget in screen.query("Input, OptionList, Label, VerticalScroll"):
                if any(isinstance(a, VerticalScroll) for a in widget.ancestors):
                    continue  # scrolls into view; the scroll view itself must fit
                region = widget.region
                assert region.right <= 80 and region.bottom <= 24, (factory, widget)
                if isinstance(widget, (Input, OptionList)):
                    assert region.height >= 1, (factory, widget)


def test_reflow_joins_hard_wrapped_lines_only() -> None:
    text = "One line\nwrapped.\n\nNew paragraph.\n- item one\n- item two\n    code()"
    assert reflow(text) == (
        "One line wrapped.\n\nNew paragraph.\n- item one\n- item two\n    code()"
    )
