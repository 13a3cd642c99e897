"""The concurrency views wired into the app: F4 timeline, the await graph, explanations.

Runs are recorded event streams played through the app's session factory (nothing is
spawned), on the program they were recorded from (``tests/data/showcase.py``: named tasks,
a blocking step, a timeout, a cancel, a coroutine never awaited, a task cut off).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_helpers import make_app, wait_drawn, wait_ended, wait_for

from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.panes.editor import CodeEditor
from asyncplay.tui.panes.timeline import TimelinePane
from asyncplay.tui.services.replay_session import ReplaySession, load_events

pytestmark = pytest.mark.usefixtures("home")

DATA = Path(__file__).parent / "data"
SHOWCASE = (DATA / "showcase.py").read_text(encoding="utf-8")
EVENTS = load_events(DATA / "showcase_events.jsonl")
NAMES = ("Task-1", "heartbeat", "parser", "users", "orders", "stuck")


def showcase_app(tmp_path: Path, until: float | None = None) -> AsyncplayApp:
    path = tmp_path / "showcase.py"
    path.write_text(SHOWCASE, encoding="utf-8")
    return make_app(
        SHOWCASE,
        path=str(path),
        session_factory=ReplaySession.factory(EVENTS, until),
        autosave=False,
    )


async def ran(pilot: Pilot) -> AsyncplayApp:
    app: AsyncplayApp = pilot.app  # type: ignore[assignment]
    await pilot.press("f5")
    await wait_ended(pilot)
    return app


def lines(widget) -> list[str]:  # noqa: ANN001
    return [widget.render_line(y).text for y in range(widget.size.height)]


def side_classes(app: AsyncplayApp) -> set[str]:
    return {c for c in app.query_one("#side").classes if c.startswith("-")}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_f4_shows_every_named_task_as_a_lane_with_its_steps(tmp_path, size) -> None:
    app = showcase_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await ran(pilot)
        await pilot.press("f4")
        await wait_drawn(pilot)
        assert "-show-timeline" in side_classes(app)
        assert app.focused is app.timeline
        assert app.timeline.display and app.timeline.size.height >= 8
        assert not app.query_one("#output-box").display and not app.tasks.display
        assert app.graph.display == (size[0] >= 110)  # beside the timeline when there is room
        drawn = lines(app.timeline)
        for name in NAMES:
            lane = next((line for line in drawn if line.lstrip().startswith(name)), None)
            assert lane is not None, (name, drawn)
            assert "█" in lane or "▌" in lane, lane  # its steps, beside its name
        await pilot.press("f4")  # and back
        await wait_drawn(pilot)
        assert "-show-output" in side_classes(app) and app.focused is app.editor
        assert app.query_one("#output-box").display and not app.timeline.display


async def test_f7_switches_timeline_and_graph_on_a_small_screen(tmp_path) -> None:
    app = showcase_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ran(pilot)
        await pilot.press("f4", "f7")
        await wait_drawn(pilot)
        assert "-show-graph" in side_classes(app)
        assert app.graph.display and not app.timeline.display
        await pilot.press("f7")
        await wait_drawn(pilot)
        assert "-show-timeline" in side_classes(app)
        await pilot.press("f4", "f7")  # back in the output: F7 goes to the tasks again
        await wait_drawn(pilot)
        assert "-show-tasks" in side_classes(app) and app.tasks.display


async def test_tabs_reach_every_view_and_f12_saves_as(tmp_path) -> None:
    from asyncplay.tui.screens.file_dialogs import SaveAsScreen

    app = showcase_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ran(pilot)
        for view in ("graph", "timeline", "tasks", "output"):
            await pilot.click(f"#tab-{view}")
            await wait_drawn(pilot)
            assert f"-show-{view}" in side_classes(app)
        await pilot.press("f12")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveAsScreen))
        assert isinstance(app.screen, SaveAsScreen)


async def test_a_task_chosen_in_one_view_is_chosen_in_the_others(tmp_path) -> None:
    app = showcase_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await ran(pilot)
        await pilot.press("f4")
        await wait_drawn(pilot)
        await pilot.press("down", "down")
        await wait_drawn(pilot)
        chosen = app.timeline.cursor_task
        assert chosen is not None and app.selected_task == chosen
        assert app.tasks.selected_task() == chosen  # the table follows, hidden or not
        # ... and the other way: a row of the table moves the timeline's cursor.
        users = next(t.id for t in app.model.tasks.values() if t.name == "users")
        app.tasks.move_cursor(app.tasks._order.index(users))
        await wait_drawn(pilot)
        assert app.selected_task == users and app.timeline.cursor_task == users
        # The editor's gutter marks the selected task's line.
        marked = {line for line, kinds in app.editor.marks.items() if "selected" in kinds}
        assert marked


async def test_enter_on_a_step_goes_to_its_line(tmp_path) -> None:
    app = showcase_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ran(pilot)
        await pilot.press("f4")
        parser = next(t for t in app.model.tasks.values() if t.name == "parser")
        app.timeline.select_task(parser.id)
        await pilot.press("right_square_bracket")  # its first step
        await wait_drawn(pilot)
        await pilot.press("enter")
        await wait_drawn(pilot)
        assert app.focused is app.editor
        row = app.editor.cursor_location[0] + 1
        assert row in {s[6] for s in parser.spans} | {parser.line}, row
        assert SHOWCASE.splitlines()[row - 1].strip()  # a real line of the program


async def test_one_internal_toggle_for_every_view(tmp_path) -> None:
    app = showcase_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ran(pilot)
        await pilot.press("f4", "i")
        await wait_drawn(pilot)
        assert app.timeline.show_internal and app.tasks.show_internal
        assert app.graph.show_internal
        await pilot.press("f4", "ctrl+n", "ctrl+n", "ctrl+n")  # editor -> output -> stdin -> tasks
        assert app.focused is app.tasks
        await pilot.press("i")
        await wait_drawn(pilot)
        assert not app.timeline.show_internal and not app.graph.show_internal


async def test_the_graph_shows_the_timeline_cursor_moment_until_fit(tmp_path) -> None:
    app = showcase_app(tmp_path, until=0.6)  # still running: parser blocked, fetches waiting
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not None and len(app.model.tasks) >= 5)
        await pilot.press("f4")
        await wait_drawn(pilot)
        assert app.moment is None and app.graph.moment is None  # live
        # The cursor stays at now (the app's program time, past the last event while
        # the run is held): [ puts it on the task's last step, before that event.
        await pilot.press("left_square_bracket")
        await wait_drawn(pilot)
        assert app.moment is not None and app.moment == app.timeline.cursor_time
        assert app.graph.moment == app.moment
        assert "(cursor)" in app.graph.render_line(0).text
        await pilot.press("0")  # fit and follow: live again
        await wait_drawn(pilot)
        assert app.moment is None and app.graph.moment is None
        await pilot.press("f6")
        await wait_ended(pilot)


async def test_shift_f1_explains_the_warning_at_the_editors_line_or_lists_them(tmp_path) -> None:
    from asyncplay.tui.screens.explain import ExplainScreen, WarningsScreen

    app = showcase_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ran(pilot)
        slow = next(w for w in app.model.warnings if w["kind"] == "slow_step")
        app.editor.move_to((slow["line"] - 1, 0))
        app.editor.focus()
        await pilot.press("shift+f1")
        await wait_for(pilot, lambda: isinstance(app.screen, ExplainScreen))
        assert isinstance(app.screen, ExplainScreen)
        await pilot.press("escape")
        app.editor.move_to((0, 0))  # the docstring: no warning there
        await pilot.press("shift+f1")
        await wait_for(pilot, lambda: isinstance(app.screen, WarningsScreen))
        assert isinstance(app.screen, WarningsScreen)
        await pilot.press("escape")
        await wait_drawn(pilot)
        assert app.screen is app.screen_stack[0]


async def test_a_click_on_a_marked_gutter_or_a_timeline_warning_explains_it(tmp_path) -> None:
    from asyncplay.tui.screens.explain import ExplainScreen

    app = showcase_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ran(pilot)
        never = next(w for w in app.model.warnings if w["kind"] == "never_awaited")
        app.editor.post_message(CodeEditor.GutterClicked(never["line"], frozenset({"warning"})))
        await wait_for(pilot, lambda: isinstance(app.screen, ExplainScreen))
        assert isinstance(app.screen, ExplainScreen)
        assert "never awaited" in app.screen.explanation.title.lower()
        await pilot.press("g")  # go to its line
        await wait_drawn(pilot)
        assert app.editor.cursor_location[0] + 1 == never["line"]
        cut = next(w for w in app.model.warnings if w["kind"] == "cut_off")
        app.timeline.post_message(TimelinePane.WarningChosen(cut))
        await wait_for(pilot, lambda: isinstance(app.screen, ExplainScreen))
        assert isinstance(app.screen, ExplainScreen)
        await pilot.press("escape")


async def test_help_lists_the_timeline_graph_and_gutter(tmp_path) -> None:
    from asyncplay.tui.screens.help import HelpScreen

    app = showcase_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert isinstance(app.screen, HelpScreen)
        titles = [title for title, _left, _rows in app.screen.sections]
        assert any("Timeline" in t for t in titles) and any("graph" in t for t in titles)
        assert "F4" in app.screen.intro and "Shift+F1 explains" in app.screen.intro
        assert "F10 steps" in app.screen.intro and "GNOME Terminal" in app.screen.intro
        assert any("Stepping" in t for t in titles)
        keys = dict(app.screen.bindings)
        assert any("Timeline" in d for d in keys.values())


async def test_the_timeline_is_live_while_the_run_goes(tmp_path) -> None:
    app = showcase_app(tmp_path, until=0.3)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4", "f5")
        await wait_for(pilot, lambda: app.timeline.lane_count >= 4)
        await wait_drawn(pilot)
        assert any(line.lstrip().startswith("users") for line in lines(app.timeline))
        await pilot.press("f6")
        await wait_ended(pilot)


async def test_a_cursor_move_right_after_a_fit_still_picks_the_moment(tmp_path) -> None:
    app = showcase_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await ran(pilot)
        await pilot.press("f4", "0")  # a fit that moves nothing
        await wait_drawn(pilot)
        assert app.moment is None
        await pilot.press("left")
        await wait_drawn(pilot)
        assert app.moment is not None and app.moment == app.timeline.cursor_time


async def test_shift_f1_on_a_cancelled_task_says_who_cancelled_it(tmp_path) -> None:
    from asyncplay.tui.screens.explain import ExplainScreen

    app = showcase_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ran(pilot)
        stuck = next(t for t in app.model.tasks.values() if t.name == "stuck")
        await pilot.press("f4")
        app.timeline.select_task(stuck.id)
        await pilot.press("shift+f1")
        await wait_for(pilot, lambda: isinstance(app.screen, ExplainScreen))
        assert isinstance(app.screen, ExplainScreen)
        assert app.screen.explanation.kind == "cancel:cancel", app.screen.explanation
        assert "Task-1" in app.screen.explanation.what
        await pilot.press("escape")
        app.tasks.select_task(stuck.id)  # the same from the task table
        app.set_focus(app.tasks)
        await pilot.press("f4", "shift+f1")  # F4 back: the table's view; focus moved to the editor
        await wait_drawn(pilot)
        assert not isinstance(app.screen, ExplainScreen)  # the editor's line has no warning
        await pilot.press("escape")
        app.set_focus(app.tasks)
        await pilot.press("shift+f1")
        await wait_for(pilot, lambda: isinstance(app.screen, ExplainScreen))
        assert isinstance(app.screen, ExplainScreen)
        assert app.screen.explanation.kind == "cancel:cancel"


async def test_the_table_shows_a_row_chosen_while_it_was_hidden(tmp_path) -> None:
    events = [dict(ev) for ev in EVENTS]
    last = max(ev.get("id", 0) for ev in events if ev.get("event") == "task_created")
    t_end = max(ev.get("t", 0.0) for ev in events)
    extra = [
        {"event": "task_created", "t": t_end, "id": last + n, "name": f"extra-{n}",
         "coro": "fetch", "parent": 1, "internal": False, "file": "{PROGRAM}", "line": 8}
        for n in range(1, 41)
    ]  # fmt: skip
    end = next(i for i, ev in enumerate(events) if ev.get("event") == "summary")
    events[end:end] = extra
    path = tmp_path / "showcase.py"
    path.write_text(SHOWCASE, encoding="utf-8")
    app = make_app(
        SHOWCASE, path=str(path), session_factory=ReplaySession.factory(events), autosave=False
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await ran(pilot)
        await pilot.press("f4", "end")  # the last lane: a task far below the table's fold
        await wait_drawn(pilot)
        chosen = app.timeline.cursor_task
        assert chosen == last + 40 and app.tasks.selected_task() == chosen
        await pilot.press("f4", "f7")  # back, then the Tasks tab
        await wait_drawn(pilot)
        table = app.tasks
        top = table.scroll_offset.y
        assert top <= table.cursor_row < top + table.size.height - 1, (top, table.cursor_row)


async def test_the_palettes_await_graph_focuses_the_graph(tmp_path) -> None:
    app = showcase_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ran(pilot)
        app.action_graph()
        await wait_drawn(pilot)
        assert app.focused is app.graph and "-show-graph" in side_classes(app)
        assert app.timeline.display  # its pair, beside it


async def test_the_views_count_program_time_under_a_slow_clock(tmp_path) -> None:
    wall = [100.0]
    slow = [dict(ev) for ev in EVENTS]
    for ev in slow:
        if ev.get("event") == "hello":
            ev["speed"] = 0.25
    path = tmp_path / "showcase.py"
    path.write_text(SHOWCASE, encoding="utf-8")
    app = make_app(
        SHOWCASE,
        path=str(path),
        session_factory=ReplaySession.factory(slow, until=0.5),
        autosave=False,
        clock=lambda: wall[0],
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not None and app.model.now > 0.4)
        await wait_drawn(pilot)
        before = app.run_time()
        assert abs(before - app.model.now) < 1e-9  # no wall time has passed
        wall[0] += 4.0  # four seconds of the wall at speed 0.25: one second of the program
        assert abs(app.run_time() - (app.model.now + 1.0)) < 1e-6
        await pilot.press("f6")
        await wait_ended(pilot)
        assert app.run_time() == app.model.now  # frozen at the end, on the program's clock


async def test_graph_and_timeline_say_line_n_whatever_run_start_calls_the_program(
    tmp_path,
) -> None:
    events = [dict(ev) for ev in EVENTS]
    for ev in events:
        if ev.get("event") == "run_start":
            ev["target"] = "somewhere/else.py"  # as a recording made in another folder
    path = tmp_path / "showcase.py"
    path.write_text(SHOWCASE, encoding="utf-8")
    app = make_app(
        SHOWCASE,
        path=str(path),
        session_factory=ReplaySession.factory(events, until=0.5),
        autosave=False,
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not None and app.model.now > 0.4)
        await pilot.press("f4")
        await wait_for(pilot, lambda: app.graph.row_count >= 2)
        rows = [app.graph.render_line(y).text for y in range(app.graph.size.height)]
        assert any("line " in row for row in rows), rows
        assert not any("showcase.py:" in row for row in rows), rows
        users = next(t.id for t in app.model.tasks.values() if t.name == "users")
        app.timeline.select_task(users)
        await pilot.press("right_square_bracket")  # its first step: the lines it ran between
        await wait_drawn(pilot)
        assert "line" in app.timeline.detail() and ".py:" not in app.timeline.detail()
        await pilot.press("f6")
        await wait_ended(pilot)
