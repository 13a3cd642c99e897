"""Pilot tests of the main screen with real runs: run, stop, rerun, tasks, jump, stdin."""

from __future__ import annotations

import textwrap

import pytest
from tui_helpers import make_app, record_notifications, wait_drawn, wait_ended, wait_for
from tui_recorded import table_names

from asyncplay import storage

GATHER = textwrap.dedent(
    """\
    import asyncio

    async def worker(n):
        print(f"worker {n} start")
        await asyncio.sleep(0.05 * n)
        print(f"worker {n} done")
        return n

    async def main():
        tasks = [asyncio.create_task(worker(n), name=f"w{n}") for n in (1, 2, 3)]
        print(await asyncio.gather(*tasks))

    asyncio.run(main())
    """
)

RUNAWAY = textwrap.dedent(
    """\
    import asyncio

    async def main():
        n = 0
        while True:
            n += 1
            print("tick", n)
            await asyncio.sleep(0.01)

    asyncio.run(main())
    """
)


pytestmark = pytest.mark.usefixtures("home")


async def test_run_shows_output_tasks_and_marks(tmp_path):
    app = make_app(GATHER, str(tmp_path / "g.py"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        texts = [line.text for line in app.model.output]
        assert texts[-1] == "[1, 2, 3]"
        assert "worker 3 done" in texts
        names = {app.tasks.get_cell(str(t), "name") for t in app.tasks._rows}
        assert {"w1", "w2", "w3"} <= names
        assert app.status.plain.startswith("exit 0")
        # Task creation lines are marked in the gutter (line 10 creates the workers).
        assert app.editor.marks.get(9) in ("created", "selected")
        # The autosave was written before the run.
        assert storage.load_autosave().text == GATHER


async def test_ctrl_j_and_ctrl_r_run_and_the_run_button(tmp_path):
    app = make_app('print("hello")\n', str(tmp_path / "h.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("ctrl+j", "ctrl+r"):
            await pilot.press(key)
            await wait_ended(pilot)
            assert [line.text for line in app.model.output] == ["hello"]
            app.model = None
        await pilot.click("#run-button")
        await wait_ended(pilot)
        assert [line.text for line in app.model.output] == ["hello"]
        assert app.editor.text == 'print("hello")\n'  # no key reached the buffer


async def test_stop_a_runaway_and_rerun_while_running(tmp_path):
    app = make_app(RUNAWAY, str(tmp_path / "r.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not None and len(app.model.output) > 3)
        first = app.session
        first_model = app.model
        await pilot.press("f5")  # rerun: the old one is stopped first
        await wait_for(pilot, lambda: app.model is not first_model and app.session is not None)
        assert not first.running
        assert first_model.end["reason"] == "stopped"
        await wait_for(pilot, lambda: len(app.model.output) > 3)
        await pilot.press("ctrl+t")
        await wait_ended(pilot)
        assert app.model.end["reason"] == "stopped"
        assert app.model.exit_code == 130
        assert "stopped" in app.status.plain


async def test_quit_while_running_saves_and_leaves_nothing(tmp_path, home):
    app = make_app(RUNAWAY, str(tmp_path / "r.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not None and len(app.model.output) > 0)
        await pilot.press("end", "#")
        pid = app.session.pid
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, 15)
    assert _gone(pid)
    saved = storage.load_autosave()
    assert saved.text.startswith("import asyncio#\n")
    assert saved.dirty
    # the conftest fixture proves no process of the run is left


async def test_hang_up_saves_and_kills(tmp_path):
    app = make_app(RUNAWAY, str(tmp_path / "r.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not None and len(app.model.output) > 0)
        pid = app.session.pid
        await pilot.press("x")
        app.hang_up()
        await wait_for(pilot, lambda: not app.is_running, 15)
    assert storage.load_autosave().text.startswith("x")
    assert _gone(pid)


def _gone(pid: int) -> bool:
    """The process no longer runs (reaped, or a zombie waiting for its parent)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def test_jump_from_a_traceback_line_to_the_editor(tmp_path):
    text = "import asyncio\n\n\nasync def main():\n    1 / 0\n\nasyncio.run(main())\n"
    app = make_app(text, str(tmp_path / "t.py"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        pane = app.output
        rows = [pane.location(i) for i in range(pane.row_count)]
        assert 5 in rows and 7 in rows
        pane.focus()
        pane.cursor = rows.index(5)
        await pilot.press("enter")
        await pilot.pause()
        assert app.editor.cursor_location == (4, 0)
        assert app.focused is app.editor
        assert app.editor.marks.get(4) == "error"


async def test_select_a_task_marks_its_line_and_filters_output(tmp_path):
    app = make_app(GATHER, str(tmp_path / "g.py"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        table = app.tasks
        table.focus()
        table.move_cursor(row=table_names(app).index("w2"))  # its row as drawn
        await wait_drawn(pilot)
        tid = app.selected_task
        assert app.model.tasks[tid].name == "w2"
        await pilot.press("f8")
        await wait_drawn(pilot)
        lines = [app.output.line_at(i) for i in range(app.output.row_count)]
        shown = [line.text for line in lines if line is not None]
        assert shown == ["worker 2 start", "worker 2 done"]
        await pilot.press("f8")
        await wait_drawn(pilot)
        assert app.output.row_count == len(app.model.output)
        await pilot.press("f7")  # back to... the table keeps its selection
        table.focus()
        await pilot.press("enter")  # jump to where the task is (its last line)
        await wait_drawn(pilot)
        assert app.editor.cursor_location[0] + 1 == app.model.tasks[tid].wait_line


async def test_stdin_lines_and_end_of_file(tmp_path):
    text = "import sys\nname = input('name? ')\nprint('hello', name)\nprint('rest', repr(sys.stdin.read()))\n"
    app = make_app(text, str(tmp_path / "i.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.session is not None)
        # The prompt has no newline yet: it shows anyway.
        await wait_for(pilot, lambda: app.output.row_count == 1)
        assert app.output.line_at(0).text == "name? "
        app.query_one("#stdin").focus()
        await pilot.press("B", "o", "b", "enter")
        await wait_for(pilot, lambda: any("hello Bob" in x.text for x in app.model.output))
        await pilot.press("x", "enter", "ctrl+d")
        await wait_ended(pilot)
        # what was typed is echoed in its place (as a terminal shows it), EOF as ^D
        lines = [(line.stream, line.text) for line in app.model.output]
        assert lines == [
            ("stdout", "name? "),
            ("stdin", "Bob"),
            ("stdout", "hello Bob"),
            ("stdin", "x"),
            ("stdin", "^D"),
            ("stdout", "rest 'x\\n'"),
        ], lines


async def test_editor_indents_and_dedents():
    app = make_app("")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"def f():", "enter", *"x = (", "enter")
        assert app.editor.text == "def f():\n    x = (\n        "
        await pilot.press("backspace")
        assert app.editor.text == "def f():\n    x = (\n    "
        await pilot.press("ctrl+z")
        await pilot.press("tab")
        assert app.editor.text.endswith("    ")


async def test_save_writes_the_file_and_keeps_its_mode(tmp_path):
    target = tmp_path / "mine.py"
    target.write_text("a = 1\n")
    target.chmod(0o644)
    app = make_app("a = 1\n", str(target))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("end", "2")
        assert app.dirty
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert target.read_text() == "a = 12\n"
        assert target.stat().st_mode & 0o777 == 0o644
        assert not app.dirty


async def test_small_terminal_shows_everything_as_tabs(tmp_path):
    app = make_app(GATHER, str(tmp_path / "g.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.screen.has_class("-narrow")
        for sel in ("#editor", "#output", "#stdin", "#status", "#run-button", "#pane-tabs"):
            assert app.query_one(sel).region.height >= 1, sel
        assert (
            app.query_one("#tasks").display is False or app.query_one("#tasks").region.height == 0
        )
        await pilot.press("f7")
        await pilot.pause()
        assert app.query_one("#tasks").region.height >= 3
        assert app.query_one("#output").region.height == 0
    app = make_app(GATHER, str(tmp_path / "g.py"))
    async with app.run_test(size=(160, 48)) as pilot:
        assert app.screen.has_class("-very-wide")
        assert app.query_one("#tasks").region.height >= 5
        assert app.query_one("#output").region.height >= 5


async def test_every_action_is_in_the_command_palette():
    app = make_app("")
    async with app.run_test(size=(80, 24)):
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for action in (
            "Run",
            "Stop",
            "Save",
            "Save as",
            "Open file",
            "Snippets",
            "Settings",
            "Help",
            "Find",
            "Go to line",
            "Copy output",
            "Copy selection",
        ):
            assert action in titles


async def test_a_crashing_view_does_not_lose_the_buffer(home):
    app = make_app("precious = 1\n")
    said = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:

        def boom(now: float) -> None:
            raise RuntimeError("view bug")

        app.tasks.sync = boom  # type: ignore[method-assign]
        await pilot.press("end", "0")
        await wait_for(pilot, lambda: any("view bug" in m for m in said))  # a tick failed
        # the edit's own debounced autosave (a view's failure triggers none)
        await wait_for(pilot, lambda: storage.load_autosave() is not None)
        assert app.is_running
    assert storage.load_autosave().text == "precious = 10\n"


async def test_a_view_that_raises_is_off_for_the_run_the_others_go_on(home, monkeypatch):
    """One view's bug: its traceback is told once, the other views keep up with the run,
    and nothing is written because of it (it used to autosave on every tick)."""
    from pathlib import Path

    import asyncplay.tui.buffers as buffers
    from asyncplay.tui.services.replay_session import ReplaySession, load_events

    writes: list[str] = []
    real_persist = buffers.persist
    monkeypatch.setattr(
        buffers, "persist", lambda b, c: writes.append(b.text) or real_persist(b, c)
    )
    events = load_events(Path(__file__).parent / "data" / "gather_events.jsonl")
    app = make_app(GATHER, str(home.parent / "g.py"), session_factory=ReplaySession.factory(events))
    told = record_notifications(app)
    calls = {"tasks": 0, "output": 0}
    async with app.run_test(size=(120, 40)) as pilot:
        output_sync = app.output.sync

        def boom(now: float) -> None:
            if app.model is None:  # the idle ticks before F5: no run, nothing to break
                return
            calls["tasks"] += 1
            raise RuntimeError("view bug")

        def counted() -> None:
            calls["output"] += 1
            output_sync()

        app.tasks.sync = boom  # type: ignore[method-assign]
        app.output.sync = counted  # type: ignore[method-assign]
        await pilot.press("f5")
        await wait_ended(pilot)
        seen = calls["output"]
        await wait_for(pilot, lambda: calls["output"] >= seen + 15)  # a second of ticks
        assert app.output.row_count > 0  # the output went on
        assert app.status.plain.startswith("exit 0")  # and so did the status bar
        assert calls["tasks"] == 1  # off for the rest of the run
        bugs = [m for m in told if "Traceback" in m]
        assert len(bugs) == 1 and "tasks view" in bugs[0] and "RuntimeError: view bug" in bugs[0]
        assert len(writes) == 1  # the run's own save before it started; no storm
        await pilot.press("f5")  # a new run: the view gets its chance again
        await wait_for(pilot, lambda: calls["tasks"] == 2)
        await wait_for(pilot, lambda: len([m for m in told if "Traceback" in m]) == 2)


async def test_text_the_editor_no_longer_shows_is_never_autosaved(home, monkeypatch):
    """An editor that cannot be read, with an edit its buffer has not taken: the save
    refuses (and says why) rather than write the older text over newer work. Once the
    app has closed, the text the editor showed last is what is saved."""
    import asyncplay.tui.buffers as buffers
    from asyncplay.tui.panes.editor import CodeEditor

    monkeypatch.setattr(buffers, "AUTOSAVE_DELAY", 60.0)
    monkeypatch.setattr(buffers, "AUTOSAVE_MAX_WAIT", 60.0)
    app = make_app("x = 1\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("end", "2")
        await wait_for(pilot, lambda: app.editor.text == "x = 12\n")
        await pilot.pause()
        readable = CodeEditor.text

        def unreadable(editor: CodeEditor) -> str:
            raise RuntimeError("the editor is broken")

        monkeypatch.setattr(CodeEditor, "text", property(unreadable))
        assert app.save_autosave() is False
        assert "cannot be read" in (app.autosave_error or "")
        assert storage.load_autosave() is None  # not "x = 1": that is not what is shown
        monkeypatch.setattr(CodeEditor, "text", readable)
        await pilot.press("3")
        await wait_for(pilot, lambda: app.editor.text == "x = 123\n")
    assert app.save_autosave()  # the app closed: the editor's last text, not the buffer's
    assert storage.load_autosave().text == "x = 123\n"


async def test_autosave_soon_after_the_last_edit(home, monkeypatch):
    import asyncplay.tui.buffers as buffers

    monkeypatch.setattr(buffers, "AUTOSAVE_DELAY", 0.3)
    app = make_app("x = 1\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("end", "2")
        assert storage.load_autosave() is None  # not per keystroke (debounced)
        await wait_for(pilot, lambda: storage.load_autosave() is not None, 10)
        saved = storage.load_autosave()
        assert saved.text == "x = 12\n" and saved.cursor == (0, 6) and saved.dirty


async def test_no_color_and_themes(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app("print(1)\n", settings=storage.Settings(theme="nord"))
    async with app.run_test(size=(80, 24)):
        assert app.no_color
        assert app.theme == "nord"


async def test_a_broken_session_thread_ends_the_run_cleanly(tmp_path, monkeypatch):
    import asyncplay.tui.services.session_thread as st

    def broken(batch):
        raise RuntimeError("decoder bug")

    monkeypatch.setattr(st, "coalesce", broken)
    app = make_app(RUNAWAY, str(tmp_path / "r.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        assert app.model.end["reason"] == "crashed"
        # 80 columns: the status line has the sentence's start, the output all of it
        assert app.status.plain.startswith("exit 70 - asyncplay lost track of the run")
        assert "lost track of the run (RuntimeError: decoder bug)" in app.output.text()
        await pilot.press("x")  # still editing
        assert app.editor.text.startswith("x")


async def test_asyncplay_warnings_follow_the_output_and_jump(tmp_path):
    text = (
        "import asyncio\n"
        "\n"
        "async def boom():\n"
        "    raise ValueError('nobody looks at me')\n"
        "\n"
        "async def main():\n"
        "    asyncio.create_task(boom())\n"
        "    await asyncio.sleep(0.1)\n"
        "\n"
        "asyncio.run(main())\n"
    )
    app = make_app(text, str(tmp_path / "w.py"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        pane = app.output
        rows = [pane.line_at(i) for i in range(pane.row_count)]
        warned = [i for i, line in enumerate(rows) if line.stream == "asyncplay"]
        assert warned, [line.text for line in rows]
        assert "w.py:4" in rows[warned[0]].text
        assert pane.location(warned[0]) == 4
        assert app.editor.marks.get(3) in ("warning", "error")


async def test_focus_keys_arriving_together_each_count():
    from textual import events

    app = make_app("x\n")
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(2):  # one terminal read: no pause between them
            app.post_message(events.Key("ctrl+n", None))
        await wait_for(pilot, lambda: app.focused.id == "stdin")


async def test_copy_output_and_selection_go_to_the_clipboard(tmp_path):
    app = make_app('print("one")\nprint("two")\n', str(tmp_path / "c.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        app.output.focus()
        await pilot.press("a")
        assert app.clipboard == "one\ntwo"
        await pilot.press("up", "y")  # the cursor line
        assert app.clipboard == "one"
        app.editor.focus()
        await pilot.press("shift+end")
        app.action_copy_selection()
        assert app.clipboard == 'print("one")'


async def test_a_run_that_cannot_start_says_why(tmp_path):
    async def refuse(spec):
        raise OSError("no such interpreter: /nowhere/python")

    app = make_app("print(1)\n", str(tmp_path / "p.py"), session_factory=refuse)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: "could not start" in app.status.plain)
        assert app.model is None and app.session is None
        assert "no such interpreter" in app.status.plain
        assert not app.status.plain.startswith("running")
