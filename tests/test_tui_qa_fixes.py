"""The playground's fixes after a new user's session over tmux: each test failed before."""

from __future__ import annotations

import textwrap

import pytest
from tui_helpers import make_app, record_notifications, wait_ended, wait_for

from asyncplay import storage, unsaved
from asyncplay.tui import ending_words as ending
from asyncplay.tui.screens.settings import NUMBER_FIELDS

SLEEPER = textwrap.dedent(
    """\
    import asyncio

    async def main():
        await asyncio.sleep(30)

    asyncio.run(main())
    """
)


pytestmark = pytest.mark.usefixtures("home")


# -- the end of a run, in the playground's words ---------------------------------------

TIMEOUT_END = {
    "exit_code": 124,
    "reason": "timeout",
    "by": "asyncplay",
    "message": "asyncplay stopped the program after 1.05 s: it reached the wall-clock "
    "limit (--timeout 1 s); raise it with --timeout",
}


def test_the_limit_is_worded_for_the_playground() -> None:
    assert ending.status_text(TIMEOUT_END, {"timeout": 1.5}, 1.05) == (
        "exit 124 - timeout 1.5 s - F9 to raise"
    )
    said = ending.sentence(TIMEOUT_END)
    assert said is not None and "--" not in said
    assert "1.05 s" in said and "(1 s)" in said and "'Time limit (s)' in Settings (F9)" in said
    exited = {"exit_code": 1, "reason": "exited", "by": "program", "message": "exited"}
    assert ending.sentence(exited) is None
    assert ending.status_text(exited, {}, 0.5) == "exit 1 - 0.50s"


def test_a_replayed_limit_is_worded_without_advice() -> None:
    replayed = {**TIMEOUT_END, "replayed": True}
    assert (
        ending.status_text(replayed, {"timeout": 1.5}, 1.05) == "exit 124 - timeout 1.5 s reached"
    )
    said = ending.sentence(replayed)
    assert said == (
        "asyncplay: stopped the program after 1.05 s: it reached the wall-clock limit (1 s)"
    )


def test_the_settings_labels_are_the_settings_screens() -> None:
    labels = {name: label for name, label, _whole in NUMBER_FIELDS}
    for name, label in ending._LABELS.items():
        assert labels[name] == label


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_a_limit_is_readable_at_the_end_of_the_output(tmp_path, size):
    settings = storage.Settings(timeout=1.0)
    app = make_app(SLEEPER, str(tmp_path / "sleeper.py"), settings=settings)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        status = app.status.plain
        assert status.startswith("exit 124 - timeout 1 s - F9 to raise"), status
        if size[0] >= 160:
            assert "sandbox" in status
        rows = [app.output.line_at(r) for r in range(app.output.row_count)]
        tail = " ".join(r.text for r in rows[-3:] if r is not None)
        assert "raise 'Time limit (s)' in Settings (F9)" in tail
        assert rows[-1] is not None and rows[-1].stream == "asyncplay"
        assert all(len(r.text) <= app.output.size.width for r in rows[-2:] if r is not None)


# -- a line without its newline yet ------------------------------------------------------

PARTIAL = textwrap.dedent(
    """\
    import asyncio

    async def dots():
        await asyncio.sleep(0.1)
        print("partial...", end="", flush=True)
        await asyncio.sleep(5)

    async def boom():
        await asyncio.sleep(0.5)
        raise ValueError("boom")

    async def main():
        await asyncio.gather(dots(), boom())

    asyncio.run(main())
    """
)


async def test_a_partial_line_is_drawn_where_it_was_printed(tmp_path):
    app = make_app(PARTIAL, str(tmp_path / "partial.py"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        rows = [app.output.line_at(r) for r in range(app.output.row_count)]
        texts = [r.text for r in rows if r is not None]
        assert texts[0] == "partial..." and texts[1].startswith("Traceback"), texts
        assert texts.count("partial...") == 1


def test_a_carriage_return_overwrites_like_a_terminal() -> None:
    from asyncplay.tui.panes.output import overwrite_returns

    assert overwrite_returns("10%\r50%\r100%") == "100%"
    assert overwrite_returns("12345\rab") == "ab345"
    assert overwrite_returns("windows line\r") == "windows line"
    assert overwrite_returns("plain") == "plain"


async def test_a_progress_bar_shows_its_latest_state(tmp_path):
    program = 'import sys\nfor i in range(4):\n    sys.stdout.write(f"\\r{i * 25}%")\nprint()\n'
    app = make_app(program, str(tmp_path / "bar.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        strip = app.output._row_strip(0, app.output.rich_style)
        assert strip.text.rstrip().endswith("75%") and "?" not in strip.text


# -- moving around -----------------------------------------------------------------------


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


# -- a readable output pane ----------------------------------------------------------------

FAILING = textwrap.dedent(
    """\
    import asyncio

    async def worker(n):
        await asyncio.sleep(0.05)
        raise ValueError(f"worker {n} failed " + "with a long message " * 10)

    async def main():
        await asyncio.gather(worker(1), worker(2))

    asyncio.run(main())
    """
)


async def test_output_gets_the_larger_share_and_long_lines_scroll(tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-" * 3)
    deep.mkdir()
    app = make_app(FAILING, str(deep / "fails.py"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        pane = app.output
        assert pane.size.width > app.tasks.size.width
        visible = [pane.render_line(y).text for y in range(pane.size.height)]
        shown = [row for row in visible if 'File "fails.py", line 5' in row]
        assert shown, visible  # the program's file by its name: the line number fits
        assert any(pane.location(r) == 5 for r in range(pane.row_count))  # still jumps
        pane.focus()
        await pilot.press("right")
        await pilot.pause()
        assert pane.scroll_offset.x > 0
        await pilot.press("left")
        await pilot.pause()
        assert pane.scroll_offset.x == 0


# -- errors that come only as stderr text ---------------------------------------------------


def test_the_last_traceback_points_at_its_innermost_line_of_the_program() -> None:
    from asyncplay.model import OutputLine
    from asyncplay.views.traceback_lines import last_error_line

    def err(*texts: str) -> list[OutputLine]:
        return [OutputLine("stderr", t, None, 0.0) for t in texts]

    syntax = err('  File "/p/x.py", line 2', "    def f(:", "          ^", "SyntaxError: x")
    assert last_error_line(syntax, "/p/x.py") == 2
    assert last_error_line(syntax, "/p/other.py") is None
    chained = err(
        "Traceback (most recent call last):",
        '  File "/p/x.py", line 9, in <module>',
        '  File "/p/x.py", line 4, in f',
        "ValueError: first",
        "Traceback (most recent call last):",
        '  File "/p/x.py", line 12, in <module>',
        '  File "/usr/lib/python3/asyncio/runners.py", line 44, in run',
        "KeyError: last",
    )
    assert last_error_line(chained, "/p/x.py") == 12
    only_stdlib = err("Traceback (most recent call last):", '  File "/lib/a.py", line 1', "E")
    assert last_error_line(chained + only_stdlib, "/p/x.py") is None


async def test_a_syntax_error_is_marked_in_the_gutter(tmp_path):
    app = make_app("import asyncio\ndef f(:\n    pass\n", str(tmp_path / "syn.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        assert any("SyntaxError" in line.text for line in app.model.output)
        assert app.editor.marks.get(1) == "error"


# -- files the editor must not open ----------------------------------------------------------


def _editor_command(tmp_path, target: str):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASYNCPLAY_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [sys.executable, "-m", "asyncplay", target],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("kind", ["device", "fifo", "huge"])
def test_the_editor_refuses_what_is_not_a_program_file(tmp_path, kind) -> None:
    import os

    target = {"device": "/dev/zero", "fifo": "fifo.py", "huge": "huge.py"}[kind]
    if kind == "fifo":
        os.mkfifo(tmp_path / "fifo.py")
    if kind == "huge":
        (tmp_path / "huge.py").write_text("#" * (5 * 1024 * 1024))
    done = _editor_command(tmp_path, target)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and target in lines[0], done.stderr
    assert "regular file" in lines[0] or "too big" in lines[0]


async def test_the_open_dialog_path_refuses_a_fifo(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.py")
    app = make_app("keep me\n")
    said = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_path(tmp_path / "pipe.py")
        await pilot.pause()
        assert app.editor.text == "keep me\n"
        assert any("not a regular file" in m for m in said), said


async def test_a_task_stopped_by_a_limit_shows_cut_off(tmp_path):
    settings = storage.Settings(timeout=1.0)
    app = make_app(SLEEPER, str(tmp_path / "sleeper.py"), settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        main = next(t for t in app.model.tasks.values() if t.coro == "main")
        from asyncplay.tui.panes.task_table import row_values

        assert row_values(main, app.model.now)[2] == "cut off"
        assert "cut off" in app.tasks.render_line(1).text + app.tasks.render_line(2).text


# -- a data folder that cannot be used --------------------------------------------------------


async def test_an_unusable_data_folder_warns_and_quit_asks_twice(tmp_path, monkeypatch):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ASYNCPLAY_HOME", str(blocker))
    app = make_app("print(1)\n", str(tmp_path / "p.py"), settings=storage.Settings())
    said = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "NOT AUTOSAVED" in app.status.plain
        assert any("cannot be kept" in m for m in said), said
        app.editor.focus()
        await pilot.press("x")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running  # the first ctrl+q only warns
        assert any("Ctrl+Q again" in m for m in said), said
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running


async def test_quit_with_a_usable_folder_needs_one_key(tmp_path, home):
    app = make_app("print(1)\n", str(tmp_path / "p.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        assert "NOT AUTOSAVED" not in app.status.plain
        app.editor.focus()
        await pilot.press("x", "ctrl+q")
        await pilot.pause()
    assert not app.is_running
    assert storage.load_autosave().text == "xprint(1)\n"


async def test_opening_another_file_says_where_the_edits_went(tmp_path, home):
    other = tmp_path / "other.py"
    other.write_text("print('other')\n")
    app = make_app("print(1)\n", str(tmp_path / "p.py"))
    said = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        app.editor.focus()
        await pilot.press("x")
        app.open_path(other)
        await pilot.pause()
        assert app.editor.text == "print('other')\n"
        kept = unsaved.load_entry(f"file:{(tmp_path / 'p.py').resolve()}")
        assert kept.buffer.text == "xprint(1)\n"
        assert any("p.py are kept" in m for m in said), said
        app.open_path(tmp_path / "p.py")  # and reopening it brings them back
        await pilot.pause()
        assert app.editor.text == "xprint(1)\n" and app.dirty


async def test_opening_another_file_keeps_edits_it_cannot_put_aside(tmp_path, monkeypatch):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ASYNCPLAY_HOME", str(blocker))
    other = tmp_path / "other.py"
    other.write_text("print('other')\n")
    app = make_app("print(1)\n", str(tmp_path / "p.py"), settings=storage.Settings())
    said = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        app.editor.focus()
        await pilot.press("x")
        app.open_path(other)
        await pilot.pause()
        assert app.editor.text == "xprint(1)\n"  # not switched: the edits would be lost
        assert any("Not opened" in m for m in said), said
