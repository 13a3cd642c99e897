"""What a newcomer tripped over in the playground (issue 14): each test failed before.

Runs are recorded event streams (``tests/streams.py``) played through the app's session
factory: deterministic, no process.
"""

from __future__ import annotations

import asyncio

import pytest
from streams import Stream
from textual.pilot import Pilot
from tui_helpers import wait_for

from asyncplay import storage
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.panes.output import OutputPane
from asyncplay.tui.services.replay_session import ReplaySession

pytestmark = pytest.mark.usefixtures("home")

LAST = "RuntimeError: uncaught in task"


def traceback_run() -> list[dict]:
    """Forty lines of output, then a traceback with a line wider than any pane."""
    s = Stream()
    s.task(1, 0.0, "main", line=4)
    s.output(0.005, "".join(f"line {i}\n" for i in range(40)), 1)
    deep = "/home/student/" + "a-rather-long-folder-name/" * 4 + "prog.py"
    s.events.append(
        {
            "event": "output",
            "t": 0.01,
            "stream": "stderr",
            "task": None,
            "text": "Traceback (most recent call last):\n"
            f'  File "{deep}", line 12, in <module>\n'
            "    asyncio.run(main())\n"
            f"{LAST}\n",
        }
    )
    return s.end(0.02, 1)


def replay_app(
    events: list[dict], text: str = "print(1)\n", name: str = "x", until: float | None = None
) -> AsyncplayApp:
    """The app on a recorded run; with ``until`` the run goes on after that (until stopped)."""
    if until is not None:
        events = [*events, {"event": "output", "t": until + 1, "stream": "stdout", "text": ""}]
    return AsyncplayApp(
        storage.Autosave(text=text, snippet=name),
        session_factory=ReplaySession.factory(events, until),
        clock=lambda: 0.0,
        autosave=False,
    )


def on_screen(pilot: Pilot, pane: OutputPane, text: str) -> bool:
    """``text``'s row is in the pane's view and nothing (a scrollbar) is drawn over it."""
    for row in range(pane.row_count):
        line = pane.line_at(row)
        if line is not None and line.text == text:
            break
    else:
        return False
    y = row - pane.scroll_offset.y
    if not 0 <= y < pane.scrollable_content_region.height:
        return False
    region = pane.scrollable_content_region
    widget, _ = pilot.app.screen.get_widget_at(region.x + 2, region.y + y)
    return widget is pane


async def run_to_end(pilot: Pilot) -> AsyncplayApp:
    app: AsyncplayApp = pilot.app  # type: ignore[assignment]
    await pilot.press("f5")
    await wait_for(pilot, lambda: app.model is not None and app.model.status == "ended")
    await wait_for(pilot, lambda: app.output.scroll_offset.y == app.output.max_scroll_y)
    await pilot.pause()
    return app


# -- 1. the last line of output under the horizontal scrollbar ----------------------------


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40), (160, 48)])
async def test_the_last_line_shows_above_the_horizontal_scrollbar(size) -> None:
    app = replay_app(traceback_run())
    async with app.run_test(size=size) as pilot:
        await run_to_end(pilot)
        pane = app.output
        assert pane.virtual_size.width > pane.scrollable_content_region.width  # a scrollbar
        await wait_for(pilot, lambda: on_screen(pilot, pane, LAST))
        pane.focus()
        await pilot.press("home")
        await wait_for(pilot, lambda: not on_screen(pilot, pane, LAST))
        await pilot.press("end")
        await wait_for(pilot, lambda: on_screen(pilot, pane, LAST))
        await pilot.press("home")
        for _ in range(pane.row_count):
            await pilot.press("down")
        await wait_for(pilot, lambda: on_screen(pilot, pane, LAST))


# -- 13. one way to write a task's time --------------------------------------------------


def test_the_task_table_writes_times_as_the_summary_does() -> None:
    from asyncplay.model import build
    from asyncplay.tui.panes.task_table import KEYS, row_values
    from asyncplay.views import summary

    s = Stream()
    s.task(1, 0.0, "main")
    for i in range(3):
        s.step(1, 0.001 * i, 0.00004)  # three 40 µs steps
    s.task(2, 0.01, "slow")
    s.step(2, 0.01, 0.0123)
    m = build(s.end(2.5))
    table = {row[0]: row for row in summary.rows(m)}
    for tid, name, running in ((1, "Task-1", "120µs"), (2, "Task-2", "12.3ms")):
        cells = dict(zip(KEYS, row_values(m.tasks[tid], m.now, m), strict=True))
        assert cells["running"] == running == table[name][summary.COLUMNS.index("running")]
    assert summary.duration(2.5) == "2.50s" and summary.duration(12345.0) == "12345s"


# -- 4. names cut where there is room ------------------------------------------------------


def breakfast_run(long: bool = False) -> list[dict]:
    """kettle-task and toaster-task, and two consumers that print (issue 14's names)."""
    s = Stream()
    s.task(1, 0.0, "main", line=30)
    names = ("kettle-task", "toaster-task", "consumer-1", "consumer-2")
    if long:  # alike but for their ends
        names = tuple(f"a-name-far-too-long-to-show-whole-{name}" for name in names)
    for tid, name in enumerate(names, 2):
        s.task(tid, 0.001, "boil_water_for_the_tea", name=name, parent=1, line=20)
    for tid, _name in enumerate(names, 2):
        s.step(tid, 0.002 * tid, 0.0001, "sleep(1)", line=22)
        s.output(0.002 * tid + 0.0001, f"hello from task {tid}\n", tid)
    return s.events  # still running: the tasks are live


def table_names(app: AsyncplayApp) -> list[str]:
    table = app.tasks
    region = table.scrollable_content_region
    rows = [table.render_line(y).text for y in range(1, min(region.height, table.row_count + 1))]
    return [row[: table.widths["name"]].rstrip() for row in rows]


def gutter_names(app: AsyncplayApp) -> list[str]:
    pane = app.output
    rows = [pane.render_line(y).text for y in range(pane.visible_rows)]
    return [row[: pane.task_column].rstrip() for row in rows if row[: pane.task_column].strip()]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_names_are_whole_where_there_is_room(size) -> None:
    app = replay_app(breakfast_run(), until=5.0)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: len(app.output.text().splitlines()) == 4)
        await pilot.pause()
        if size[0] < 110:
            await pilot.press("f7")
            await pilot.pause()
            await wait_for(pilot, lambda: app.tasks.row_count == 5)
        await wait_for(pilot, lambda: "toaster-task" in table_names(app))
        names = ["Task-1", "kettle-task", "toaster-task", "consumer-1", "consumer-2"]
        assert table_names(app) == names[: len(table_names(app))]
        if size[0] < 110:
            await pilot.press("f7")
            await pilot.pause()
        await wait_for(pilot, lambda: len(gutter_names(app)) == 4)
        assert gutter_names(app) == ["kettle-task", "toaster-task", "consumer-1", "consumer-2"]


async def test_a_name_cut_keeps_its_end_so_names_alike_stay_apart() -> None:
    app = replay_app(breakfast_run(long=True), until=5.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: len(gutter_names(app)) == 4)
        await wait_for(pilot, lambda: app.tasks.row_count == 5)
        await pilot.pause()
        for names in (table_names(app)[1:], gutter_names(app)):
            assert len(set(names)) == 4, names  # all four told apart
            assert all("~" in name for name in names), names  # each cut in its middle
            assert names[0].endswith("task") and names[-1].endswith("-2"), names


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_long_names_never_push_running_and_lifetime_out_of_the_pane(size) -> None:
    """At 160x48 the table has half the screen: long names grew it past the pane, and a
    spinning task's running time was off to the right (found by a newcomer)."""
    app = replay_app(breakfast_run(long=True), until=5.0)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: len(app.output.text().splitlines()) == 4)
        if size[0] < 110:
            await pilot.press("f7")
        await wait_for(pilot, lambda: app.tasks.row_count == 5 and app.tasks.size.width > 0)
        await pilot.pause()
        table = app.tasks
        header = table.render_line(0).text
        assert len(header) == table.size.width and header.rstrip().endswith("lifetime"), header
        names = table_names(app)[1:]
        assert len(set(names)) == 4 and all("~" in name for name in names), names


# -- 9. Ctrl+C stops the run, as in a terminal ----------------------------------------------


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


# -- 7. the status line and the footer at 80 columns ----------------------------------------


def test_the_status_line_is_laid_out_for_its_width_never_cutting_a_word() -> None:
    from asyncplay.tui.panes.status_bar import status_line

    facts = ("3.11.7", "bwrap+cgroup+rlimit")
    label = "copy of snippet sequential"
    for width in (40, 59, 63, 78):
        for note, urgent in (
            (label, False),
            ("settings saved; they apply from the next run", True),
            ("a copy of snippet queues; the original stays", True),
            ("~/course/week3/a-long-folder-name/sequential.py *", False),
        ):
            line = status_line(None, 0, *facts, note, width=width, urgent=urgent).plain
            assert len(line) <= width, (width, line)
            parts = line.split(" | ")
            assert parts[0] == "ready"
            for part in parts[1:]:  # each part whole, or visibly shortened at a word
                assert (
                    part in (note, "Python 3.11.7", "py3.11.7")
                    or part.startswith(("sandbox bwrap", "..."))
                    or (part.endswith("...") and note.startswith(part[:-3]))
                ), (width, part)
            if urgent and width >= 59:
                assert note in parts  # a message is said whole where it fits
    # at 80x24 the status line is 59 cells: the facts are seen, the label keeps its end
    line = status_line(None, 0, *facts, label, width=59).plain
    assert "py3.11.7" in line and "sandbox bwrap" in line and "sequential" in line, line


def clocked_app(text: str = "print(1)\n", note: str | None = None, **kw) -> AsyncplayApp:
    """The app with a clock the test moves (one-off notes last NOTE_SECONDS of it)."""
    now = [1000.0]
    app = AsyncplayApp(
        storage.Autosave(text=text, snippet="sequential"),
        clock=lambda: now[0],
        note=note,
        autosave=False,
        **kw,
    )
    app.test_clock = now  # type: ignore[attr-defined]
    return app


async def test_at_80x24_the_status_shows_python_and_sandbox_and_the_footer_whole_keys() -> None:
    app = clocked_app(note="welcome: F5 runs snippet sequential, F1 explains")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "welcome" in app.status.plain)
        app.test_clock[0] += 60  # the welcome is over
        await wait_for(pilot, lambda: "welcome" not in app.status.plain)
        status = app.status.plain
        assert "3.11" in status or "3.1" in status, status
        assert "sandbox" in status, status
        assert len(status) <= app.status.content_region.width
        footer = app.query_one("FitFooter")
        await wait_for(pilot, lambda: len(footer.children) >= 4)
        shown = [getattr(key, "description", "") for key in footer.children]
        assert {"Quit", "Run", "Stop", "Help"} <= set(shown), shown
        for key in footer.children:  # each key whole on screen, none under the edge
            assert key.region.right <= app.size.width, (shown, key.region)


# -- 14. the welcome ends with the first run; another file's output is not left unmarked ---


async def test_the_welcome_ends_when_a_run_starts(tmp_path) -> None:
    app = clocked_app(
        note="welcome: F5 runs snippet sequential, F1 explains",
        session_factory=ReplaySession.factory(traceback_run()),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "welcome" in app.status.plain)
        await pilot.press("f5")  # well within the note's few seconds (the clock is still)
        await wait_for(pilot, lambda: app.model is not None and app.model.status == "ended")
        await wait_for(pilot, lambda: "welcome" not in app.status.plain)
        assert app.status.plain.startswith("exit 1")


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


# -- 2. a task in a CPU loop is running, live -----------------------------------------------


async def test_a_spinning_task_is_running_with_a_growing_time_in_the_table_and_timeline() -> None:
    from tui_helpers import FedSession

    from asyncplay.views.timeline import RUN, UNICODE, WAIT

    session = FedSession()
    now = [100.0]
    app = AsyncplayApp(
        storage.Autosave(text="print(1)\n", snippet="spin"),
        session_factory=FedSession.factory(session),
        clock=lambda: now[0],
        autosave=False,
    )
    s = Stream()
    s.task(1, 0.0, "main", line=9)
    s.task(2, 0.001, "spin", name="spinner", parent=1, line=4)
    s.step(1, 0.0005, 0.0003, "sleep(5)", line=10)
    s.events.append({"event": "step_open", "t": 0.1, "id": 2, "start": 0.002})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.session is session)
        session.feed(*s.events)
        table = app.tasks
        await wait_for(pilot, lambda: table.row_count == 2 and table.get_cell(2, "state"))
        await wait_for(pilot, lambda: table.get_cell(2, "state") == "running")
        assert table.get_cell(2, "steps") == "1"
        first = table.get_cell(2, "running")
        assert first == "98.0ms", first
        now[0] += 0.4  # no report yet: the step runs on, and so does its time
        await wait_for(pilot, lambda: table.get_cell(2, "running") == "498.0ms")
        session.feed({"event": "step_open", "t": 0.6, "id": 2, "start": 0.002})
        await wait_for(pilot, lambda: table.get_cell(2, "running") == "598.0ms")
        now[0] += 0.4
        await wait_for(pilot, lambda: table.get_cell(2, "running") == "998.0ms")
        assert table.get_cell(1, "state") == "waiting"
        await pilot.press("f4")
        await wait_for(pilot, lambda: app.timeline.display)

        def spinner_lane() -> str:
            rows = [app.timeline.render_line(y).text for y in range(app.timeline.size.height)]
            lane = next((r for r in rows if r.startswith("spinner")), "")
            return lane[len("spinner") :].rstrip()

        await wait_for(pilot, lambda: spinner_lane().endswith(UNICODE[RUN]))
        lane = spinner_lane().strip()
        assert UNICODE[WAIT] not in lane, lane  # running from its first step to now
        assert len(lane) > 10, lane
        # the lane is drawn to the live edge between reports too: the window grows with the
        # run's time and the open step with it (no wait line after its last report)
        now[0] += 3.0
        await wait_for(pilot, lambda: app.timeline.end >= 4)  # the window followed the run
        await pilot.pause()
        assert spinner_lane().endswith(UNICODE[RUN]) and UNICODE[WAIT] not in spinner_lane()


# -- 8. what the user types to stdin is echoed in the output -------------------------------

ASKS = 'name = input("What\'s your name? ")\nprint(f"Hello, {name}!")\n'


async def test_what_was_typed_shows_in_the_output_marked_as_input(tmp_path) -> None:
    from tui_helpers import make_app, wait_ended

    from asyncplay.tui.panes.output import INPUT_LABEL, INPUT_STYLE

    app = make_app(ASKS, str(tmp_path / "asks.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not None and app.model.waiting_for_input)
        await pilot.press("ctrl+l", *"Alice", "enter")
        await wait_ended(pilot)
        lines = [(line.stream, line.text) for line in app.model.output]
        assert lines == [
            ("stdout", "What's your name? "),
            ("stdin", "Alice"),
            ("stdout", "Hello, Alice!"),
        ], lines
        pane = app.output
        rows = [pane.render_line(y) for y in range(pane.visible_rows)]
        typed = next(strip for strip in rows if strip.text.rstrip().endswith("Alice"))
        assert typed.text.startswith(INPUT_LABEL)  # marked in the task column
        styles = [seg.style for seg in typed if seg.text.strip() == "Alice"]
        assert styles and styles[0].italic and INPUT_STYLE.italic  # and drawn as input


def test_headless_stdout_stays_byte_for_byte_with_input(tmp_path) -> None:
    import subprocess
    import sys

    from helpers import asyncplay

    (tmp_path / "asks.py").write_text(ASKS)
    ours = asyncplay("run", "asks.py", cwd=tmp_path, stdin=b"Alice\n")
    python = subprocess.run(
        [sys.executable, "asks.py"], cwd=tmp_path, input=b"Alice\n", capture_output=True
    )
    assert ours.stdout == python.stdout == b"What's your name? Hello, Alice!\n"


# -- snapshots: the end of a traceback above the scrollbar, at 80x24 and 100x30 -------------


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
def test_snapshot_the_traceback_ends_above_the_scrollbar(snap_compare, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        app: AsyncplayApp = pilot.app  # type: ignore[assignment]
        app.editor.cursor_blink = False
        await run_to_end(pilot)
        await wait_for(pilot, lambda: on_screen(pilot, app.output, LAST))

    assert snap_compare(replay_app(traceback_run()), terminal_size=size, run_before=run_before)


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


def test_at_80_columns_a_program_reading_stdin_is_still_said() -> None:
    from asyncplay.model import build
    from asyncplay.tui.panes.status_bar import status_line

    s = Stream()
    s.task(1, 0.0, "main")
    s.events.append({"event": "stdin", "t": 0.1, "waiting": True, "task": 1})
    m = build(s.events)
    line = status_line(m, 12.5, "3.11.7", "bwrap", "copy of snippet asks", width=59).plain
    assert "waits for input: Ctrl+L to type" in line and len(line) <= 59, line
    line = status_line(m, 12.5, "3.11.7", "bwrap", "copy of snippet asks", width=40).plain
    assert "Ctrl+L" in line and len(line) <= 40, line


async def test_the_status_time_never_runs_backwards_while_a_run_starts() -> None:
    """The sandbox and the interpreter took 2.8 s to start on a busy machine: the status
    counted 'running 2.8s' on the wall clock, then, at the first task (at 0.9 s on the
    program's clock), 'running 0.9s'. Before the runtime's hello it says 'starting'."""
    from tui_helpers import FedSession

    session = FedSession()
    now = [100.0]
    app = AsyncplayApp(
        storage.Autosave(text="print(1)\n", snippet="spin"),
        session_factory=FedSession.factory(session),
        clock=lambda: now[0],
        autosave=False,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.session is session)
        session.feed({"event": "run_start", "t": 0.0})
        now[0] += 2.8
        await wait_for(pilot, lambda: app.status.plain.startswith("starting 2.8s"))
        session.feed({"event": "hello", "t": 0.0, "version": 1, "python": "3.11.7"})
        await wait_for(pilot, lambda: app.status.plain.startswith("running 0.0s"))
        now[0] += 0.5
        await wait_for(pilot, lambda: app.status.plain.startswith("running 0.5s"))
        s = Stream()
        s.task(1, 0.9, "main", line=9)
        session.feed(*s.events[2:])  # the task alone: run_start and hello came above
        await wait_for(pilot, lambda: app.status.plain.startswith("running 0.9s - 1 live task"))
