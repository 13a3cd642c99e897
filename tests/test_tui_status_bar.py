"""The status line and the footer: laid out for their width without cutting a word, Python
and the sandbox seen at 80x24, a program reading stdin said, the welcome ended by the first
run, and a time that never runs backwards while a run starts."""

from __future__ import annotations

import pytest
from streams import Stream
from tui_helpers import wait_for
from tui_recorded import clocked_app, traceback_run

from asyncplay.tui.services.replay_session import ReplaySession

pytestmark = pytest.mark.usefixtures("home")


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
    app = clocked_app(snippet="spin", session_factory=FedSession.factory(session))
    now = app.test_clock  # type: ignore[attr-defined]
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
