"""Opening files: what is not a program file is refused, the edits of the file left are
kept aside and said so, and a data folder that cannot be used is warned about (quit asks
twice, another file is not opened over edits that cannot be kept); another file opened
clears the last run's views, or marks whose output it is while that run goes on."""

from __future__ import annotations

import pytest
from tui_helpers import make_app, record_notifications, wait_for
from tui_recorded import breakfast_run, gutter_names, replay_app, run_to_end, traceback_run

from asyncplay import storage, unsaved

pytestmark = pytest.mark.usefixtures("home")


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


# -- another file opened: the last run's views are cleared, or marked while it goes on -------


async def test_opening_another_file_clears_the_last_runs_views(tmp_path) -> None:
    other = tmp_path / "other.py"
    other.write_text("print('other')\n")
    app = replay_app(traceback_run())
    async with app.run_test(size=(80, 24)) as pilot:
        await run_to_end(pilot)
        assert app.output.row_count > 40
        app.open_path(other)
        await wait_for(pilot, lambda: app.output.row_count == 0)
        assert app.model is None and app.tasks.row_count == 0
        assert app.editor.text == "print('other')\n"
        await wait_for(pilot, lambda: app.status.plain.startswith("ready"))


async def test_opening_another_file_during_a_run_marks_whose_output_it_is(tmp_path) -> None:
    other = tmp_path / "other.py"
    other.write_text("print('other')\n")
    app = replay_app(breakfast_run(), until=5.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: len(gutter_names(app)) == 4)
        app.open_path(other)
        pane = app.output
        await wait_for(pilot, lambda: "output of the run of x.py" in pane.render_line(0).text)
        assert app.session is not None and app.session.running  # the run goes on
        assert "hello from task 2" in pane.text()
