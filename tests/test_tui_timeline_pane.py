"""The TUI's timeline pane in a tiny app: lanes beside names, the cursor, keys, messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.style import Style
from streams import Stream, gather_run
from timeline_host import TimelineHost, cells_of, lane_line, lines, shown

from asyncplay.model import RunModel, apply, build
from asyncplay.tui.panes.timeline import TIMELINE_HELP, TimelinePane
from asyncplay.tui.panes.timeline_lanes import fit_detail
from asyncplay.tui.services.replay_session import load_events
from asyncplay.views import graph
from asyncplay.views import timeline as tl
from asyncplay.views.task_story import detail_line

DATA = Path(__file__).resolve().parent / "data"


def detail_of(pane: TimelinePane) -> str:
    """The detail as drawn: its last line, after its first when it takes two."""
    text = lines(pane)
    two = pane._spare_line() and len(pane._detail_lines(pane._width)) == 2
    return (text[-2].rstrip() + " " + text[-1].strip()) if two else text[-1]


def style_at(pane: TimelinePane, y: int, x: int) -> Style:
    at = 0
    for segment in pane.render_line(y):
        if at <= x < at + len(segment.text):
            return segment.style
        at += len(segment.text)
    raise AssertionError((y, x))


def gather_model() -> RunModel:
    return build(load_events(DATA / "gather_events.jsonl"))


@pytest.mark.parametrize("size", [(78, 9), (160, 40)])
async def test_every_task_has_its_lane_with_its_steps_beside_its_name(size) -> None:
    app = TimelineHost()
    async with app.run_test(size=size) as pilot:
        m = gather_model()
        pane = await shown(app, pilot, m)
        text = lines(pane)
        assert text[0].startswith("time")
        assert {"1s", "2s"} <= set(text[0].replace(".0s", "s").split())  # the axis
        names = ["Task-1", "worker-A", "worker-B", "worker-C"]
        assert [line.split()[0] for line in text[1:5]] == names
        n = pane._cells
        for name in names:
            info = next(t for t in m.tasks.values() if t.name == name)
            cells = cells_of(pane, lane_line(pane, name))
            assert len(cells) == n
            for span in info.spans[:-1]:  # the last one shares its cell with the end mark
                col = tl.column(span[0], pane.start, pane.end, n)
                assert cells[col] in "▌█", (name, col, cells)
            assert cells.count("─") >= 4  # its waits
            assert "┤" in cells  # it ended
        assert "sleep(1)" in cells_of(pane, lane_line(pane, "worker-C"))  # what it waited on
        assert "gather(3)" in cells_of(pane, lane_line(pane, "Task-1"))
        assert text[-1].strip().startswith("Task-1")  # the detail line


async def test_keys_move_the_cursor_and_the_detail_line_follows() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 12)) as pilot:
        m = gather_model()
        pane = await shown(app, pilot, m)
        ids = {t.name: t.id for t in m.tasks.values()}
        # Until placed, the cursor is at now: the detail says how each task is (or ended).
        assert pane.cursor_task == ids["Task-1"] and pane.cursor_time == m.now
        assert not pane.cursor_placed and "Task-1 · returned None at 3.10 s" in detail_of(pane)
        await pilot.press("down")
        assert pane.cursor_task == ids["worker-A"] and pane.cursor_time == m.now
        assert "worker-A · returned 'A slept 2 s' at 2.09 s" in detail_of(pane)
        await pilot.press("left_square_bracket")  # back to its last step
        a = m.tasks[ids["worker-A"]]
        assert pane.cursor_time == a.spans[1][0] and pane.cursor_placed
        assert "step 2/2" in detail_of(pane) and "then returned" in detail_of(pane)
        await pilot.press("left_square_bracket")  # its first step
        assert pane.cursor_time == a.spans[0][0]
        await pilot.press("0", "right_square_bracket")  # from now, ] starts at the first
        assert pane.cursor_time == a.spans[0][0]
        detail = detail_of(pane)
        assert "worker-A · step 1/2" in detail and "then sleep(2)" in detail
        await pilot.press("right")  # into the wait
        assert "waiting on sleep(2) · since" in detail_of(pane)
        await pilot.press("right_square_bracket")
        assert "step 2/2" in detail_of(pane) and pane.cursor_time == a.spans[1][0]
        await pilot.press("left_square_bracket")
        assert "step 1/2" in detail_of(pane)
        t = pane.cursor_time
        await pilot.press("right", "right")
        assert pane.cursor_time > t
        await pilot.press("left", "left")  # back to the column it was in
        col = tl.column(t, pane.start, pane.end, pane._cells)
        assert pane.cursor_time == pytest.approx(
            tl.cell_time(col, pane.start, pane.end, pane._cells)
        )
        await pilot.press("end")
        assert pane.cursor_task == ids["worker-C"]
        await pilot.press("home")
        assert pane.cursor_task == ids["Task-1"]
        await pilot.press("pagedown")
        assert pane.cursor_task == ids["worker-C"]
        await pilot.press("up")
        assert pane.cursor_task == ids["worker-B"]


async def test_zoom_pan_fit_and_follow() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 12)) as pilot:
        m = gather_model()
        pane = await shown(app, pilot, m)
        assert pane.follow and pane.start == 0.0 and pane.end == m.now
        await pilot.press("down", "right_square_bracket", "right_square_bracket")
        t = pane.cursor_time  # worker-A's second step, at 2.09 s
        col = tl.column(t, pane.start, pane.end, pane._cells)
        await pilot.press("plus")
        assert not pane.follow
        assert pane.end - pane.start == pytest.approx(m.now / 2)
        assert pane.start <= t <= pane.end  # zoomed around the cursor
        assert abs(tl.column(t, pane.start, pane.end, pane._cells) - col) <= 1
        before = lines(pane)[0]
        await pilot.press("equals_sign")
        assert pane.end - pane.start == pytest.approx(m.now / 4)
        assert lines(pane)[0] != before  # the axis changed with it
        start = pane.start
        await pilot.press("greater_than_sign")
        assert pane.start == pytest.approx(start + m.now / 8)
        await pilot.press("less_than_sign", "less_than_sign")
        assert pane.start == pytest.approx(max(0.0, start - m.now / 8))
        await pilot.press("minus")
        assert pane.end - pane.start == pytest.approx(m.now / 2)
        # Zoomed in, the live window stays where the learner put it...
        window = (pane.start, pane.end)
        apply(m, {"event": "steps", "t": m.now + 1, "steps": []})
        pane.sync(m.now)
        assert (pane.start, pane.end) == window
        # ... until 0 (or f) fits and follows again.
        await pilot.press("0")
        assert pane.follow and (pane.start, pane.end) == (0.0, m.now)
        apply(m, {"event": "steps", "t": m.now + 1, "steps": []})
        pane.sync(m.now)
        assert pane.end == m.now
        await pilot.press("minus", "f")
        assert pane.follow


async def test_right_past_the_edge_pans_the_window() -> None:
    app = TimelineHost()
    async with app.run_test(size=(32, 6)) as pilot:
        m = gather_model()
        pane = await shown(app, pilot, m)
        await pilot.press("plus", "plus", "plus")  # around the cursor, at the run's end
        await pilot.press(*["less_than_sign"] * 16)  # back to t=0
        assert pane.start == 0.0
        end = pane.end
        await pilot.press(*["right"] * (pane._cells + 3))
        assert pane.end > end and pane.start <= pane.cursor_time <= pane.end


async def test_step_chosen_on_moves_and_enter_jumps() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 12)) as pilot:
        m = gather_model()
        pane = await shown(app, pilot, m)
        await pilot.press("down")
        await pilot.pause()
        chosen = [msg for msg in app.messages if isinstance(msg, TimelinePane.StepChosen)]
        assert chosen and chosen[-1].task == pane.cursor_task and not chosen[-1].jump
        await pilot.press("left_square_bracket")
        app.messages.clear()
        await pilot.press("left_square_bracket")  # worker-A's first step
        await pilot.pause()
        (msg,) = app.messages
        assert msg.t == pane.cursor_time and msg.line == 22 and not msg.jump
        await pilot.press("enter")
        await pilot.pause()
        last = app.messages[-1]
        assert last.jump and last.task == pane.cursor_task and last.line == 22
        app.messages.clear()
        await pilot.press("right")  # the same task, into its wait: another moment
        await pilot.pause()
        assert len(app.messages) == 1 and app.messages[0].t == pane.cursor_time
        await pilot.press("plus", "minus")  # the cursor did not move
        await pilot.pause()
        assert len(app.messages) == 1


async def test_select_task_moves_the_cursor_and_posts_nothing() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 6)) as pilot:  # room for two lanes
        s = Stream()
        for tid in range(1, 9):
            s.task(tid, tid / 10)
        pane = await shown(app, pilot, build(s.end(1.0)))
        assert not any(line.startswith("Task-8") for line in lines(pane))
        pane.select_task(8)
        await pilot.pause()
        assert pane.cursor_task == 8 and not app.messages
        assert pane.scroll_offset.y >= 4  # scrolled into view
        assert any(line.startswith("Task-8") for line in lines(pane))
        pane.select_task(999)  # unknown: nothing happens
        assert pane.cursor_task == 8


async def test_internal_tasks_hidden_until_i() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 14)) as pilot:
        m = build(gather_run())
        pane = await shown(app, pilot, m)
        assert pane.lane_count == 4 and not any("Task-5" in x for x in lines(pane))
        await pilot.press("i")
        await pilot.pause()
        assert pane.show_internal and pane.lane_count == 5
        assert any(x.startswith("Task-5") for x in lines(pane))
        toggled = [x for x in app.messages if isinstance(x, TimelinePane.InternalToggled)]
        assert [x.show_internal for x in toggled] == [True]
        pane.set_internal(False)
        assert pane.lane_count == 4


def warned_model() -> RunModel:
    s = Stream().task(1, 0.0, "main").task(2, 0.0, "slow", name="slow")
    s.step(1, 0.0, 0.001, "sleep(1)", 3)
    s.step(2, 0.2, 0.3, None, 0).done(2, 0.5)
    s.warn("slow_step", 0.35, task=2)
    s.warn("deadlock", 0.8)
    s.step(1, 1.0, 0.001).done(1, 1.0)
    return build(s.end(1.0))


async def test_warnings_are_marked_and_e_explains_them() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 10)) as pilot:
        m = warned_model()
        pane = await shown(app, pilot, m)
        text = lines(pane)
        assert text[1].startswith("warnings") and "⚠" in text[1]  # the one of no task
        slow = lane_line(pane, "slow")
        col = tl.column(0.35, pane.start, pane.end, pane._cells)
        # Inside a long step with no free cell near: the step stays, in warning colours.
        assert cells_of(pane, slow)[col] == "█"
        assert style_at(pane, 3, pane._label_width + 1 + col).bgcolor.name == "yellow"
        assert pane.warning_at_cursor() is None
        await pilot.press("e")
        await pilot.pause()
        assert not any(isinstance(x, TimelinePane.WarningChosen) for x in app.messages)
        pane.show_moment(2, 0.35)  # as a click on the cell would
        assert pane.warning_at_cursor()["kind"] == "slow_step"
        assert "slow_step" in detail_of(pane) and "e explains" in detail_of(pane)
        await pilot.press("e")
        await pilot.pause()
        chosen = [x for x in app.messages if isinstance(x, TimelinePane.WarningChosen)]
        assert chosen and chosen[-1].warning["kind"] == "slow_step"
        await pilot.press("home")  # the warnings lane
        await pilot.press("right_square_bracket")  # its next warning
        assert pane.cursor_time == 0.8
        await pilot.press("enter")
        await pilot.pause()
        assert app.messages[-1].warning["kind"] == "deadlock"


async def test_a_click_puts_the_cursor_on_a_lane_at_a_time() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 10)) as pilot:
        m = warned_model()
        pane = await shown(app, pilot, m)
        col = tl.column(0.35, pane.start, pane.end, pane._cells)
        row = 1 + 2  # the warnings lane, main, then slow
        await pilot.click(TimelinePane, offset=(pane._label_width + 1 + col, row))
        await pilot.pause()
        assert pane.cursor_task == 2 and pane.warning_at_cursor() is not None
        await pilot.click(TimelinePane, offset=(pane._label_width + 1 + col, row))
        await pilot.pause()
        assert isinstance(app.messages[-1], TimelinePane.WarningChosen)


def cancelled_model(name: str = "victim", at: float = 0.2) -> RunModel:
    s = Stream().task(1, 0.0, "main", name="main").task(2, 0.0, "victim", name=name)
    s.step(1, 0.0, 0.001, "sleep(0.2)", 3)
    s.step(2, 0.01, 0.001, "sleep(9)", 8)
    s.events.append(
        {"event": "cancel_source", "t": at, "id": 2, "cause": "cancel", "by": 1,
         "file": "/p/x.py", "line": 12}
    )  # fmt: skip
    s.step(2, at, 0.0001).done(2, at + 0.0001, "cancelled")  # CancelledError thrown in
    s.step(1, at, 0.001).done(1, 1.0)
    return build(s.end(1.0))


async def test_cancel_source_in_the_lane_and_the_detail_line() -> None:
    app = TimelineHost()
    async with app.run_test(size=(100, 8)) as pilot:
        pane = await shown(app, pilot, cancelled_model())
        lane = lane_line(pane, "victim")
        assert "✕ by main at line 12" in lane
        pane.show_moment(2, 0.9)
        assert "victim · cancelled at 200.1 ms by main at line 12" in detail_of(pane)
        await pilot.press("left_square_bracket")  # the step that took the CancelledError
        assert pane.cursor_time == 0.2
        assert "step 2/2" in detail_of(pane) and "then cancelled by main" in detail_of(pane)


async def test_cancel_source_without_room_after_the_end_goes_in_the_last_wait() -> None:
    app = TimelineHost()
    async with app.run_test(size=(60, 8)) as pilot:
        pane = await shown(app, pilot, cancelled_model(at=0.99))
        cells = cells_of(pane, lane_line(pane, "victim"))
        assert cells.rstrip().endswith("─by main at line 12 ▌✕")  # before its mark
        assert "sleep(9)" in cells  # the wait's own label stays when both fit
    for width, keeps in ((34, True), (27, False)):  # shorter: "by main", then no label
        app = TimelineHost()
        async with app.run_test(size=(width, 8)) as pilot:
            pane = await shown(app, pilot, cancelled_model(at=0.99))
            cells = cells_of(pane, lane_line(pane, "victim"))
            assert cells.rstrip().endswith("─by main ▌✕"), cells
            assert ("sleep(9)" in cells) is keeps, cells


async def test_a_click_on_the_axis_moves_the_cursor_in_time() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 8)) as pilot:
        pane = await shown(app, pilot, gather_model())
        await pilot.click(TimelinePane, offset=(pane._label_width + 1 + 30, 0))
        await pilot.pause()
        assert pane.cursor_task == 1  # the same lane
        assert pane.cursor_time == pytest.approx(
            tl.cell_time(30, pane.start, pane.end, pane._cells)
        )
        assert lines(pane)[0][pane._label_width + 1 + 30] in "▼0123456789.s┊"


async def test_virtual_clock_is_said_on_the_axis() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 8)) as pilot:
        events = gather_run()
        events[1]["clock"] = "virtual"
        pane = await shown(app, pilot, build(events))
        assert lines(pane)[0].startswith("virtual")


def many_tasks(count: int) -> RunModel:
    m = RunModel()
    apply(m, {"event": "run_start", "t": 0.0})
    for i in range(1, count + 1):
        t = i * 1e-4
        apply(m, {"event": "task_created", "t": t, "id": i, "name": f"t{i}", "coro": "c"})
        apply(m, {"event": "steps", "t": t, "steps": [[i, t, 1e-5, "sleep(1)", "/p.py", 3]]})
    return m


async def test_ten_thousand_tasks_compute_only_the_visible_lanes() -> None:
    app = TimelineHost()
    async with app.run_test(size=(100, 30)) as pilot:
        m = many_tasks(10_000)
        pane = await shown(app, pilot, m)
        assert pane.lane_count == 10_000
        visible = pane.size.height - 2
        assert 0 < pane.lanes_computed <= visible
        pane.lanes_computed = 0
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert pane.scroll_offset.y > 0
        assert 0 < pane.lanes_computed <= visible  # the lanes scrolled in, once
        pane.lanes_computed = 0
        pane.follow = False  # a fixed window: a tick recomputes only what changed
        pane.sync(m.now)
        await pilot.pause()
        assert pane.lanes_computed == 0
        top = pane.scroll_offset.y
        tid = pane._order[top + 1]
        apply(m, {"event": "steps", "t": m.now, "steps": [[tid, 0.5, 0.01, None, None, 0]]})
        pane.sync(m.now)
        await pilot.pause()
        assert pane.lanes_computed == 1
        await pilot.press("end")
        await pilot.pause()
        assert pane.cursor_task == 10_000
        assert any(line.startswith("t10000") for line in lines(pane))


async def test_no_crash_on_odd_models_and_tiny_sizes() -> None:
    long_name = "ünïcode-" + "x" * 300
    odd = Stream().task(1, 0.0, name="中文\n\x1b[31m").step(1, 0.0, 0.1, "wait(中\t)", 2).end(1)
    live = Stream().task(1, 0.0, name=long_name).step(1, 0.0, 0.1, "sleep(9)", 2)
    models: list[RunModel | None] = [None, RunModel(), build(live.events), cancelled_model()]
    models.append(build(odd))
    busy = RunModel()
    apply(busy, {"event": "task_created", "t": 0.0, "id": 1, "name": "busy", "coro": "c"})
    steps = [[1, i * 1e-4, 5e-5, "sleep(0)", "/p.py", 3] for i in range(100_000)]
    apply(busy, {"event": "steps", "t": 10.0, "steps": steps})
    models.append(busy)
    keys = ("down", "right", "right_square_bracket", "plus", "minus", "left_square_bracket")
    for size in ((20, 5), (5, 2)):
        app = TimelineHost()
        async with app.run_test(size=size) as pilot:
            for m in models:
                pane = await shown(app, pilot, m)
                lines(pane)
                await pilot.press(*keys, "less_than_sign", "0", "end", "e", "enter")
                lines(pane)
    app = TimelineHost()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = await shown(app, pilot, build(live.events))
        first = lane_line(pane, long_name[:4])
        assert "…" in first[: pane._label_width] and len(first) == 80
        assert detail_of(pane).strip().startswith(long_name[:8])
        pane.show(build(odd))
        pane.sync(1.0)
        for line in lines(pane):
            assert cell_len(line) == 80 and line.isprintable()


def test_the_help_lists_every_key() -> None:
    keys = " ".join(key for key, _words in TIMELINE_HELP)
    for key in ("up", "pageup", "home", "left", "[", "+", "-", "<", "0", "enter", "e", "i"):
        assert key in keys
    bound = {b.action for b in TimelinePane.BINDINGS}
    assert {"zoom(0.5)", "zoom(2)", "fit", "choose", "explain", "toggle_internal"} <= bound


async def test_a_live_run_grows_the_window_and_lanes_reach_now() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 8)) as pilot:
        s = Stream().task(1, 0.0, name="sleeper").step(1, 0.0, 0.001, "sleep(60)", 4)
        m = build(s.events)  # no run_end: still going, the task never ended
        apply(m, {"event": "steps", "t": 2.0, "steps": []})
        pane = await shown(app, pilot, m)
        assert pane.start == 0.0 and 2.0 <= pane.end <= 2.0 * 1.15
        cells = cells_of(pane, lane_line(pane, "sleeper")).rstrip()
        assert len(cells) >= tl.column(2.0, pane.start, pane.end, pane._cells)
        assert "sleep(60)" in cells
        assert pane.cursor_time == 2.0  # at now: what the task is doing now
        assert "sleeper · waiting on sleep(60) · since 1.0 ms" in detail_of(pane)
        axis = lines(pane)[0]
        apply(m, {"event": "steps", "t": 5.0, "steps": []})
        pane.sync(m.now)
        await pilot.pause()
        assert 5.0 <= pane.end <= 5.0 * 1.15
        assert pane.cursor_time == 5.0 and lines(pane)[0] != axis
        await pilot.press("left")  # placed: it stays there from now on
        placed = pane.cursor_time
        apply(m, {"event": "steps", "t": 7.0, "steps": []})
        pane.sync(m.now)
        assert pane.cursor_time == placed and pane.cursor_placed
        await pilot.press("0")  # fit and follow: back to now
        assert pane.cursor_time == 7.0 and not pane.cursor_placed


async def test_a_tick_redraws_the_lanes_that_changed_and_only_them() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 10)) as pilot:
        s = Stream().task(1, 0.0).task(2, 0.0).task(3, 0.0)
        s.step(1, 0.0, 0.001, "sleep(5)", 3).step(2, 0.0, 0.001, "sleep(5)", 3)
        m = build(s.end(4.0))
        pane = await shown(app, pilot, m)
        lines(pane)  # drawn once
        redrawn: list[int | None] = []
        pane.refresh_line = lambda y: redrawn.append(y)  # type: ignore[method-assign]
        pane.refresh = lambda *a, **k: redrawn.append(None)  # type: ignore[method-assign]
        pane.sync(m.now)
        assert redrawn == [pane.size.height - 1]  # nothing changed: the detail line only
        assert not pane._detail_two  # a detail of one line: the legend's line is left alone
        redrawn.clear()
        apply(m, {"event": "task_renamed", "t": 4.0, "id": 2, "name": "renamed"})
        pane.sync(m.now)
        assert redrawn == [2, pane.size.height - 1]  # Task-2's lane, the second line
        redrawn.clear()
        lines(pane)
        apply(m, {"event": "warning", "t": 2.0, "kind": "slow_step", "message": "m", "task": 3})
        pane.sync(m.now)
        assert None in redrawn  # a warning: the whole pane
        assert "⚠" in lane_line(pane, "Task-3")


async def test_the_drawn_background_follows_focus_and_theme() -> None:
    """The pane keeps its base style between lines: it must drop it when styles change."""
    app = TimelineHost()
    async with app.run_test(size=(80, 8)) as pilot:
        pane = app.query_one(TimelinePane)
        pane.show(gather_model())
        app.set_focus(None)
        await pilot.pause()

        def drawn():  # noqa: ANN202
            return list(pane.render_line(1))[-1].style.bgcolor

        assert drawn() == pane.rich_style.bgcolor
        blurred = drawn()
        pane.focus()
        await pilot.pause()
        assert drawn() == pane.rich_style.bgcolor != blurred
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        assert drawn() == pane.rich_style.bgcolor


async def test_a_hidden_pane_takes_ticks_without_work_or_errors() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.query_one(TimelinePane)
        pane.display = False  # as when another view has the screen
        await pilot.pause()
        m = many_tasks(2_000)
        pane.show(m)
        for _ in range(3):
            pane.sync(m.now)
        await pilot.pause()
        assert pane.lanes_computed == 0
        pane.display = True
        await pilot.pause()
        assert lane_line(pane, "t1") and 0 < pane.lanes_computed <= pane.size.height


async def test_the_legend_uses_a_free_line_only() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 9)) as pilot:
        pane = await shown(app, pilot, gather_model())  # 4 lanes, 7 lines for them
        assert "✕ cancelled" in lines(pane)[-2] and "╳ cut off  ⚠ warning" in lines(pane)[-2]
        s = Stream()
        for tid in range(1, 9):
            s.task(tid, tid / 10)
        pane = await shown(app, pilot, build(s.end(1.0)))  # the lanes fill the pane
        assert not any("cancelled" in line for line in lines(pane))
        assert lines(pane)[-2].startswith("Task-7")


async def test_the_apps_now_grows_the_waits_between_events() -> None:
    """While every task sleeps no event comes: the app's clock still moves the picture."""
    app = TimelineHost()
    async with app.run_test(size=(80, 8)) as pilot:
        s = Stream().task(1, 0.0, name="sleeper").step(1, 0.0, 0.001, "sleep(60)", 4)
        m = build(s.events)
        apply(m, {"event": "steps", "t": 1.0, "steps": []})
        pane = await shown(app, pilot, m)
        pane.sync(4.0)  # the app's program time: 3 s after the last event
        await pilot.pause()
        assert m.now == 1.0 and 4.0 <= pane.end <= 4.0 * 1.15 and pane.cursor_time == 4.0
        after = cells_of(pane, lane_line(pane, "sleeper")).rstrip()
        assert len(after) == tl.column(4.0, pane.start, pane.end, pane._cells) + 1
        assert "waiting on sleep(60)" in detail_of(pane)
        m.status = "ended"  # once it ended, the model's end is the end
        pane.sync(9.0)
        assert pane.end == 1.0


def ending_tasks(count: int, run_end: float = 1.5) -> RunModel:
    """``count`` tasks, the last one ending when the run does: a fit must show its end."""
    s = Stream()
    for i in range(1, count + 1):
        s.task(i, 0.0, name=f"w{i:03d}")
        s.step(i, 0.0, 0.001, "sleep(1)", 3)
        end = run_end * i / count
        s.step(i, end - 0.001, 0.001).done(i, end)
    return build(s.end(run_end))


async def test_a_fit_leaves_the_scrollbar_its_columns() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = await shown(app, pilot, ending_tasks(30))
        await pilot.pause()
        assert pane.show_vertical_scrollbar  # 30 lanes in 8 lines
        visible = pane.scrollable_content_region.width
        assert visible == pane.size.width - pane.scrollbar_size_vertical
        assert pane._label_width + 1 + pane._cells == visible  # no cell under the bar
        await pilot.press("end")
        last = cells_of(pane, lane_line(pane, "w030"))
        assert last.rstrip().endswith("┤") and len(last.rstrip()) == pane._cells
        assert lines(pane)[0].rstrip().endswith("1.5s")  # the run's end on the axis


async def test_a_warning_beside_the_step_it_would_hide_and_no_lone_step_lost() -> None:
    s = Stream().task(1, 0.0, "main", name="main").task(2, 0.0, "quick", name="quick")
    s.step(1, 0.0, 0.001, "sleep(1)", 3)
    s.step(2, 0.0, 0.001).done(2, 0.002)  # one step and its end in one cell
    s.task(3, 0.1, "w", name="warned").step(3, 0.5, 0.001, "sleep(9)", 4)
    s.warn("deadlock", 0.5, task=3)  # at the step's own moment
    s.step(1, 1.0, 0.001).done(1, 1.0)
    app = TimelineHost()
    async with app.run_test(size=(80, 8)) as pilot:
        pane = await shown(app, pilot, build(s.end(1.0)))
        assert cells_of(pane, lane_line(pane, "quick")).rstrip() == "▌┤"
        warned = cells_of(pane, lane_line(pane, "warned"))
        col = tl.column(0.5, pane.start, pane.end, pane._cells)
        assert warned[col : col + 2] == "▌⚠"  # the step, then its warning
        assert cells_of(pane, lane_line(pane, "main")).rstrip().endswith("▌┤")
        pane.show_moment(3, tl.cell_time(col, pane.start, pane.end, pane._cells))
        assert pane.warning_at_cursor() is None and "step 1/1" in detail_of(pane)
        await pilot.press("right")
        assert pane.warning_at_cursor()["kind"] == "deadlock"
        assert "deadlock" in detail_of(pane)


async def test_a_run_without_a_task_says_why_once_it_ended() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 8)) as pilot:
        live = Stream()
        m = build(live.events)
        pane = await shown(app, pilot, m)
        assert lines(pane)[1].strip() == "no tasks yet"
        for event in Stream().end(0.04)[2:]:  # the plain script exits 0
            apply(m, event)
        pane.sync(m.now)
        await pilot.pause()
        text = lines(pane)
        assert text[1].strip() == "no task: the program ended (exit 0) without reaching asyncio.run"
        assert not "".join(text[2:]).strip()  # said once: no legend, no detail line
        pane = await shown(app, pilot, build(Stream().end(0.04, exit_code=1)))  # SyntaxError
        assert "(exit 1) before asyncio.run: see the Output" in lines(pane)[1]
        stopped = Stream().end(0.5)
        stopped[-1].update(reason="stopped", by="asyncplay", message="stopped by you")
        pane = await shown(app, pilot, build(stopped))
        assert "the run ended before asyncio.run (stopped by you)" in lines(pane)[1]
        internal = Stream().task(1, 0.0, internal=True).end(0.1)
        pane = await shown(app, pilot, build(internal))
        assert "only asyncio's internal tasks (1): i shows them" in lines(pane)[1]
        assert pane.detail() == lines(pane)[1].strip()


def test_fit_detail_wraps_then_drops_the_least_important_never_the_awaited() -> None:
    parts = [("worker-0", 0), ("step 3/7", 3), ("from line 5 to 6", 1), ("ran 15 µs", 2),
             ("at 183.7 ms", 4), ("then Queue.get()", 0)]  # fmt: skip
    whole = "worker-0 · step 3/7 · from line 5 to 6 · ran 15 µs · at 183.7 ms · then Queue.get()"
    assert fit_detail(parts, 100) == [whole]
    # The moment goes first (the axis's ▼ shows it), before a second line is taken...
    one = "worker-0 · step 3/7 · from line 5 to 6 · ran 15 µs · then Queue.get()"
    assert fit_detail(parts, 74, lines=2) == fit_detail(parts, 74) == [one]
    # ...which then holds all the rest.
    assert fit_detail(parts, 60, lines=2) == [
        "worker-0 · step 3/7 · from line 5 to 6 · ran 15 µs",
        "then Queue.get()",
    ]
    # One line only: then the step count, the duration, the lines.
    assert fit_detail(parts, 60) == ["worker-0 · from line 5 to 6 · ran 15 µs · then Queue.get()"]
    assert fit_detail(parts, 30) == ["worker-0 · then Queue.get()"]
    assert fit_detail(parts, 20) == ["worker-0 · then Que~"]  # too narrow for it: cut


def _resumed_model() -> RunModel:
    s = Stream().task(1, 0.0, name="worker")
    s.step(1, 0.0, 0.001, "Queue.get()", 5).step(1, 0.1, 0.002, "Lock.acquire()", 6)
    s.step(1, 0.2, 0.001, "Lock.acquire()", 6).step(1, 0.3, 0.001).done(1, 0.301)
    return build(s.end(0.4))


@pytest.mark.parametrize(
    ("t", "says"),
    [
        (0.0, "worker · step 1/4 · from its start to line 5 · ran 1.0 ms · at 0 s · then Queue.get()"),
        (0.1, "worker · step 2/4 · from line 5 to 6 · ran 2.0 ms · at 100.0 ms · then Lock.acquire()"),
        (0.2, "worker · step 3/4 · at line 6 · ran 1.0 ms · at 200.0 ms · then Lock.acquire()"),
        (0.3, "worker · step 4/4 · from line 6 to its end · ran 1.0 ms · at 300.0 ms · then returned None"),
        (0.15, "worker · waiting on Lock.acquire() · since 102.0 ms · at line 6"),
    ],
)  # fmt: skip
def test_a_step_says_the_lines_it_ran_between(t, says) -> None:
    m = _resumed_model()
    assert detail_line(m, m.tasks[1], t, 1e-4) == says


def test_the_detail_and_the_graph_agree_on_a_running_task_line() -> None:
    m = _resumed_model()
    t = 0.101  # inside step 2: the graph says running, from the line it resumed at
    running, file, line = graph.waits_at(m, t)[1]
    assert running == graph.RUNNING and line == 5
    assert f"from line {line} to 6" in detail_line(m, m.tasks[1], t, 1e-4)


async def test_the_detail_fits_the_pane_one_line_or_two() -> None:
    s = Stream().task(1, 0.0, name="worker-0")
    s.step(1, 0.0, 0.001, "Queue.get()", 5).step(1, 0.1, 0.002, "TaskGroup.__aexit__()", 6)
    for i in range(2, 12):
        s.task(i, 0.0).step(i, 0.0, 0.001, "sleep(1)", 3)
    for size, lanes in (((75, 20), 1), ((75, 6), 11)):  # a free line above, or none
        app = TimelineHost()
        async with app.run_test(size=size) as pilot:
            m = build(s.events if lanes == 11 else s.events[:5])
            pane = await shown(app, pilot, m)
            pane.show_moment(None, 0.1)
            text = lines(pane)
            assert "then TaskGroup.__aexit__()" in text[-1]  # never cut
            if lanes == 1:
                assert text[-2].startswith(" worker-0 · step 2/2 · from line 5 to 6")
                assert "ran 2.0 ms" in text[-2]  # two lines: all of it but the moment
            else:
                assert text[-2].startswith("Task-")  # a lane, not the detail
                assert text[-1].startswith(" worker-0 ·") and "from line 5 to 6" in text[-1]


async def test_panning_and_zooming_out_stop_at_the_runs_end() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 12)) as pilot:
        m = gather_model()
        pane = await shown(app, pilot, m)
        await pilot.press("plus", "plus")
        span = pane.end - pane.start
        await pilot.press(*["greater_than_sign"] * 12)
        assert pane.end == pytest.approx(m.now)  # the run's end at the right edge, no further
        assert pane.end - pane.start == pytest.approx(span)
        await pilot.press(*["right"] * (pane._cells * 3))
        assert pane.end == pytest.approx(m.now)
        await pilot.press("minus")
        assert pane.start >= 0 and pane.end <= m.now + 1e-9
        await pilot.press(*["less_than_sign"] * 12)
        assert pane.start == 0.0


async def test_a_task_named_nothing_is_said_no_name() -> None:
    s = Stream().task(1, 0.0, "main", name="main").task(2, 0.0, "w", name="")
    s.step(1, 0.0, 0.001, "sleep(0.5)", 3).step(2, 0.01, 0.001).done(2, 0.3)
    s.step(1, 0.5, 0.001).done(1, 0.6)
    next(e for e in s.events if e.get("id") == 2)["name"] = ""  # create_task(c, name="")
    app = TimelineHost()
    async with app.run_test(size=(80, 8)) as pilot:
        pane = await shown(app, pilot, build(s.end(0.6)))
        row = next(y for y, line in enumerate(lines(pane)) if line.startswith("(no name)"))
        assert style_at(pane, row, 0).italic and style_at(pane, row, 0).dim
        pane.select_task(2)
        pane.refresh()
        assert detail_of(pane).strip().startswith("(no name) · returned None at 300.0 ms")


def _cancelled_elsewhere(file: str) -> RunModel:
    s = Stream().task(1, 0.0, "main", name="main").task(2, 0.0, "v", name="victim")
    s.step(1, 0.0, 0.001, "sleep(0.2)", 3).step(2, 0.01, 0.001, "sleep(9)", 8)
    s.events.append(
        {"event": "cancel_source", "t": 0.2, "id": 2, "cause": "timeout", "file": file, "line": 35}
    )
    s.step(2, 0.2, 0.0001).done(2, 0.2001, "cancelled")
    s.step(1, 0.2, 0.001).done(1, 1.0)
    return build(s.end(1.0))


@pytest.mark.parametrize(
    "file, program, says",
    [
        ("/home/snippets/shield.py", "/home/snippets/shield.py", "timeout at line 35"),
        ("/p/x.py", None, "timeout at line 35"),  # the run's own target
        ("/usr/lib/python3/asyncio/tasks.py", None, "timeout at tasks.py:35"),
    ],
)
async def test_a_cancel_in_the_program_says_line_n(file, program, says) -> None:
    app = TimelineHost()
    async with app.run_test(size=(100, 8)) as pilot:
        pane = app.query_one(TimelinePane)
        pane.show(_cancelled_elsewhere(file), program)
        await pilot.pause()
        assert says in lane_line(pane, "victim")
        pane.select_task(2)
        pane.refresh()
        assert f"cancelled at 200.1 ms ({says})" in detail_of(pane)


def test_the_detail_says_what_a_task_returned_or_raised() -> None:
    s = Stream().task(1, 0.0, "main", name="main")
    s.step(1, 0.0, 0.001).done(1, 0.5, "failed", exc="KeyError")
    m = build(s.end(0.5))
    assert detail_line(m, m.tasks[1], 0.6, 0.01) == "main · raised KeyError at 500.0 ms: boom"


def cut_off_model() -> RunModel:
    """A run stopped by its time limit while main waited on gather(1) of a sleeper."""
    s = Stream().task(1, 0.0, "main", name="main").task(2, 0.0, "w", name="sleeper")
    s.step(1, 0.0, 0.001, "gather(1)", 14).step(2, 0.01, 0.001, "sleep(9)", 3)
    events = s.end(2.02, exit_code=3)
    events[-1].update(reason="timeout", by="asyncplay", message="the run hit its 2 s limit")
    return build(events)


async def test_a_task_the_run_cut_off_ends_at_a_mark_and_says_so() -> None:
    app = TimelineHost()
    async with app.run_test(size=(80, 10)) as pilot:
        m = cut_off_model()
        pane = await shown(app, pilot, m)
        for name in ("main", "sleeper"):
            cells = cells_of(pane, lane_line(pane, name)).rstrip()
            assert cells.endswith("─╳"), cells  # the run's end marked, not a wait
        row = next(y for y, line in enumerate(lines(pane)) if line.startswith("sleeper"))
        x = pane._label_width + 1 + pane._cells - 1
        assert style_at(pane, row, x).color.name == "magenta"
        assert "╳ cut off" in lines(pane)[-2]  # the legend says what it means
        pane.select_task(2)
        pane.refresh()
        detail = detail_of(pane)
        assert "sleeper · cut off at 2.02 s (the run ended: timeout)" in detail
        await pilot.press("left", "left")  # before the end: what it was waiting on
        assert "waiting on sleep(9)" in detail_of(pane)


def count_lines_drawn(pane) -> list[int]:  # noqa: ANN001
    """The pane's ``render_line`` wrapped: the y of every line drawn from now on."""
    drawn: list[int] = []
    real = pane.render_line

    def render_line(y: int):  # noqa: ANN202
        drawn.append(y)
        return real(y)

    pane.render_line = render_line
    return drawn


async def test_a_cursor_move_draws_only_the_lines_it_changed_among_10000_lanes() -> None:
    app = TimelineHost()
    async with app.run_test(size=(100, 30)) as pilot:
        m = many_tasks(10_000)
        apply(m, {"event": "run_end", "t": m.now, "exit_code": 0})
        pane = await shown(app, pilot, m)
        visible = pane.size.height - 2
        await pilot.press("down")  # the cursor drawn once where it is now
        await pilot.pause()
        drawn = count_lines_drawn(pane)
        app.messages.clear()
        for key in ("down", "down", "right", "up", "left"):
            drawn.clear()
            pane.lanes_computed = 0
            await pilot.press(key)
            await pilot.pause()
            # the lanes left and reached, the axis (its ▼) and the detail's two lines
            assert 0 < len(set(drawn)) <= 5, (key, sorted(set(drawn)))
            assert pane.lanes_computed <= 2, key
        assert pane.cursor_task == 3 and pane.cursor_placed
        assert len(app.messages) == 5  # each move told the app, as before
        drawn.clear()
        await pilot.press("pagedown")  # a scroll draws the screen: every line, once
        await pilot.pause()
        assert len(set(drawn)) >= visible
