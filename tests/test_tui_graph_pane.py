"""The await graph pane: the tree drawn, the moment it shows, cycles, keys and messages.

The pane is mounted alone in a tiny app and fed models built from hand-written streams.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.style import Style
from streams import Stream, gather_run
from textual.app import App, ComposeResult

from asyncplay.model import RunModel, apply, build
from asyncplay.tui.panes import graph as graph_pane
from asyncplay.tui.panes.graph import GraphPane
from asyncplay.tui.panes.task_view import TaskView
from asyncplay.tui.services.replay_session import load_events


class PaneApp(App):
    """The pane alone, recording what it posts."""

    def __init__(self) -> None:
        super().__init__()
        self.chosen: list[GraphPane.TaskChosen] = []
        self.toggled: list[bool] = []

    def compose(self) -> ComposeResult:
        pane = GraphPane(id="graph")
        pane.slow_build = float("inf")  # a loaded machine must not space rebuilds out here
        yield pane

    @property
    def pane(self) -> GraphPane:
        return self.query_one(GraphPane)

    def on_graph_pane_task_chosen(self, message: GraphPane.TaskChosen) -> None:
        self.chosen.append(message)

    def on_task_view_internal_toggled(self, message: TaskView.InternalToggled) -> None:
        self.toggled.append(message.show_internal)


def lines(pane: GraphPane) -> list[str]:
    return [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]


def until(events: list[dict], t: float) -> list[dict]:
    """The stream as the app had it at run time ``t`` (the run still going)."""
    return [ev for ev in events if ev.get("t", 0.0) <= t and ev["event"] != "run_end"]


def cycle_run(end: bool = True) -> list[dict]:
    """main gathers A; A and B await each other; the runtime says so at 1 s."""
    s = Stream().task(1, 0.0, "main")
    s.task(2, 0.0, "a", name="A", parent=1).task(3, 0.0, "b", name="B", parent=1)
    s.step(1, 0.0, 0.001, "gather(1)", 17)
    s.step(2, 0.01, 0.001, "B", 4).step(3, 0.02, 0.001, "A", 7)
    s.warn("deadlock", 1.0, task=2, tasks=[2, 3], cycle=True, line=4)
    return s.end(2.0) if end else s.events


def style_of(pane: GraphPane, y: int, text: str) -> Style:
    for segment in pane.render_line(y):
        if text in segment.text:
            return segment.style or Style()
    raise AssertionError(f"{text!r} not on line {y}: {pane.render_line(y).text!r}")


async def test_no_run_says_how_to_start_one() -> None:
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.pane.show(None)
        app.pane.sync(0.0)
        await pilot.pause()
        assert lines(app.pane)[:2] == ["Await graph", graph_pane.NO_RUN]


async def test_live_gather_tree_with_guides_and_lines() -> None:
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.pane.show(build(until(gather_run(), 1.5)))
        app.pane.sync(1.5)
        await pilot.pause()
        assert lines(app.pane)[:4] == [
            "Await graph · live, 1.50 s · 3 tasks",
            "Task-1  awaits gather(3)  line 35",
            "├─ worker-A  awaits sleep(2)  line 22",
            "└─ worker-B  awaits sleep(3)  line 22",
        ]  # worker-C finished at 1.0 s: not drawn
        assert style_of(app.pane, 2, "sleep(2)").color.name == "cyan"


async def test_the_timeline_cursor_moment_then_back_to_live() -> None:
    model = build(gather_run())
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.pane
        pane.show(model)
        pane.sync(3.01, 0.5)
        await pilot.pause()
        text = lines(pane)
        assert text[0] == "Await graph · 0.50 s (cursor) · 4 tasks"
        assert "└─ worker-C  awaits sleep(1)  line 22" in text
        pane.sync(3.01, 0.0006)  # main's first step ran from 0.5 ms to 0.9 ms
        await pilot.pause()
        assert lines(pane)[1] == "Task-1  ▶ running  (created at line 40)"
        assert style_of(pane, 1, "running").color.name == "green"
        pane.sync(3.01, 0.0006, label="at step 1 of Task-1")
        await pilot.pause()
        assert lines(pane)[0] == "Await graph · at step 1 of Task-1 · 1 task"
        pane.sync(3.01, None)  # live again: the run ended, every task finished
        await pilot.pause()
        assert lines(pane)[1] == graph_pane.ALL_FINISHED


async def test_a_deadlock_cycle_is_marked_in_red_and_in_words() -> None:
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.pane
        pane.show(build(cycle_run(end=False)))
        pane.sync(1.5)
        await pilot.pause()
        text = lines(pane)
        assert text[1:5] == [
            "Task-1  awaits gather(1)  line 17",
            "└─ A  awaits B  line 4  ⟲ cycle",
            "   └─ B  awaits A  line 7  ⟲ cycle",
            "      └─ A  again: the cycle closes here  ⟲ cycle",
        ]
        name = style_of(pane, 2, "A")
        assert name.color.name == "red" and name.bold
        assert style_of(pane, 1, "Task-1").color.name != "red"  # main is not in the cycle


async def test_after_the_run_the_last_deadlock_is_shown() -> None:
    s = Stream().task(1, 0.0, "main")
    s.task(2, 0.0, "a", name="A", parent=1).task(3, 0.0, "b", name="B", parent=1)
    s.step(1, 0.0, 0.001, "gather(2)", 17)
    s.step(2, 0.01, 0.001, "B", 4).step(3, 0.02, 0.001, "A", 7)
    s.warn("deadlock", 2.0, task=2, tasks=[2, 3], cycle=True, line=4)
    for tid in (2, 3, 1):  # then a signal handler cancelled everything
        s.done(tid, 2.5, state="cancelled")
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.pane.show(build(s.end(3.0)))
        app.pane.sync(3.0)
        await pilot.pause()
        text = lines(app.pane)
        assert text[0].startswith("Await graph · deadlock at 2.00 s")
        assert text[1:6] == [
            "Task-1  awaits gather(2)  line 17",
            "├─ A  awaits B  line 4  ⟲ cycle",
            "│  └─ B  awaits A  line 7  ⟲ cycle",
            "│     └─ A  again: the cycle closes here  ⟲ cycle",
            "└─ B  (drawn above)  ⟲ cycle",
        ]


async def test_nothing_waiting_at_a_moment_is_said() -> None:
    s = Stream().task(1, 0.5, "main").step(1, 0.5, 0.1).done(1, 0.6)
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.pane.show(build(s.end(1.0)))
        app.pane.sync(1.0, 0.2)  # before main was created
        await pilot.pause()
        assert lines(app.pane)[1] == graph_pane.NOTHING_WAITING


async def test_cursor_keys_post_task_chosen_and_enter_jumps_to_the_wait_line() -> None:
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.pane
        pane.show(build(until(gather_run(), 0.5)))
        pane.sync(0.5)
        pane.focus()
        await pilot.pause()
        assert pane.selected_task() == 1
        await pilot.press("down")
        await pilot.pause()
        assert [(m.task, m.jump) for m in app.chosen] == [(2, False)]
        assert pane.render_line(2).text.startswith("├─ worker-A")
        assert style_of(pane, 2, "worker-A").reverse  # the cursor, focused
        assert list(pane.render_line(2))[-1].style.reverse  # the bar spans the pane
        await pilot.press("enter")
        await pilot.pause()
        last = app.chosen[-1]
        assert (last.task, last.jump, last.line, last.file) == (2, True, 22, "/p/x.py")
        await pilot.press("end")
        await pilot.press("up")
        await pilot.press("home")
        await pilot.press("pagedown")
        await pilot.pause()
        assert [m.task for m in app.chosen[2:]] == [4, 3, 1, 4]
        await pilot.press("up", "up", "up", "up")  # stops at the first row
        await pilot.pause()
        assert pane.selected_task() == 1 and app.chosen[-1].task == 1


async def test_select_task_moves_the_cursor_silently_and_survives_rebuilds() -> None:
    events = gather_run()
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.pane
        pane.show(build(until(events, 0.5)))
        pane.sync(0.5)
        await pilot.pause()
        pane.select_task(4)
        await pilot.pause()
        assert pane.selected_task() == 4 and app.chosen == []
        pane.select_task(99)  # not drawn: the cursor stays
        assert pane.selected_task() == 4
        pane.select_task(3)
        pane.show(build(until(events, 1.5)))  # a new model: the cursor goes to the top
        pane.sync(1.5)
        assert pane.selected_task() == 1
        pane.select_task(3)
        model = pane.model
        assert isinstance(model, RunModel)
        for ev in events:  # the run goes on: worker-C ends, B keeps its row under the cursor
            if 1.5 < ev.get("t", 0) <= 2.5 and ev["event"] != "run_end":
                apply(model, ev)
        pane.sync(2.5)
        await pilot.pause()
        assert pane.selected_task() == 3
        assert pane.render_line(pane.cursor_row + 1).text.startswith("└─ worker-B")


async def test_click_selects_and_a_second_click_jumps() -> None:
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.pane
        pane.show(build(until(gather_run(), 0.5)))
        pane.sync(0.5)
        await pilot.pause()
        await pilot.click(GraphPane, offset=(5, 3))
        await pilot.pause()
        assert pane.selected_task() == 3 and (app.chosen[-1].task, app.chosen[-1].jump) == (
            3,
            False,
        )
        await pilot.click(GraphPane, offset=(5, 3))
        await pilot.pause()
        assert (app.chosen[-1].task, app.chosen[-1].jump) == (3, True)


async def test_i_toggles_internal_tasks_and_says_so() -> None:
    s = Stream().task(1, 0.0, "main").step(1, 0.0, 0.001, "sleep(5)", 3)
    s.task(2, 0.0, "BaseEventLoop.shutdown_asyncgens", name="shutdown", internal=True)
    s.step(2, 0.0, 0.001, "future", 0)
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.pane
        pane.show(build(s.events))
        pane.sync(0.1)
        pane.focus()
        await pilot.pause()
        assert "shutdown" not in "\n".join(lines(pane))
        await pilot.press("i")
        await pilot.pause()
        assert app.toggled == [True] and pane.show_internal
        assert "shutdown  awaits future" in "\n".join(lines(pane))
        pane.set_internal(False)  # the app applies the toggle: no message back
        await pilot.pause()
        assert app.toggled == [True] and "shutdown" not in "\n".join(lines(pane))


async def test_rows_are_rebuilt_only_when_the_inputs_change() -> None:
    model = build(until(gather_run(), 0.5))
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.pane
        pane.show(model)
        pane.sync(0.5)
        before = pane.rebuilds
        for tick in range(5):
            pane.sync(0.5 + tick / 15)  # the clock moves, the model does not
        assert pane.rebuilds == before
        assert lines(pane)[0].startswith("Await graph · live, 0.77 s")
        model.steps += 1  # what an applied steps event does
        pane.sync(0.9)
        assert pane.rebuilds == before + 1
        pane.sync(0.9, 0.3)
        assert pane.rebuilds == before + 2
        await pilot.pause()


async def test_ten_thousand_alike_tasks_fold_and_select_into_their_row() -> None:
    s = Stream().task(1, 0.0, "main").step(1, 0.0, 0.001, "gather(10001)", 9)
    for i in range(2, 10002):
        s.task(i, 0.0, "sleeper", parent=1).step(i, 0.0, 0.0, "sleep(1)", 4)
    s.task(10002, 0.0, "odd", parent=1).step(10002, 0.0, 0.0, "Event.wait()", 6)
    app = PaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.pane
        pane.show(build(s.events))
        pane.sync(0.1)
        await pilot.pause()
        assert lines(pane)[1:4] == [
            "Task-1  awaits gather(10001)  line 9",
            "├─ 10000 tasks (sleeper)  awaits sleep(1)  line 4",
            "└─ Task-10002  awaits Event.wait()  line 6",
        ]
        pane.select_task(5000)
        assert pane.cursor_row == 1 and pane.selected_task() == 2


async def test_many_distinct_tasks_scroll_with_the_cursor() -> None:
    s = Stream().task(1, 0.0, "main").step(1, 0.0, 0.001, "gather(3000)", 9)
    for i in range(2, 3002):
        s.task(i, 0.0, "w", parent=1).step(i, 0.0, 0.0, f"sleep({i})", 4)
    app = PaneApp()
    async with app.run_test(size=(80, 12)) as pilot:
        pane = app.pane
        pane.show(build(s.events))
        pane.sync(0.1)
        pane.focus()
        await pilot.pause()
        assert pane.row_count == 3001
        await pilot.press("end")
        await pilot.pause()
        assert pane.selected_task() == 3001
        assert lines(pane)[-1].startswith("└─ Task-3001  awaits sleep(3001)")
        pane.select_task(1500)
        await pilot.pause()
        assert any(line.startswith("├─ Task-1500 ") for line in lines(pane)[1:])


async def test_a_chain_3000_deep_tiny_sizes_and_long_names_do_not_break() -> None:
    s = Stream()
    for i in range(1, 3001):
        s.task(i, 0.0, "link", name="λ" * 300 if i == 2 else None, parent=i - 1 or None)
        s.step(
            i, 0.0, 0.0, (("λ" * 300) if i == 1 else f"Task-{i + 1}") if i < 3000 else "sleep(1)", 3
        )
    app = PaneApp()
    async with app.run_test(size=(20, 5)) as pilot:
        pane = app.pane
        pane.show(build(s.events))
        pane.sync(0.1)
        pane.focus()
        await pilot.pause()
        assert pane.row_count == 51  # MAX_DEPTH levels, then "deeper than"
        assert all(len(line) <= 20 for line in lines(pane))
        assert lines(pane)[2].startswith("└─ λλλ")
        long_row = pane.rows[1]
        assert long_row[3].endswith("…") and len(long_row[3]) == graph_pane.MAX_NAME
        await pilot.press("end", "pageup", "down", "home")
        await pilot.pause()
        assert pane.selected_task() == 1
        assert pane.rows[-1][4].startswith("… deeper than 50 levels")


async def test_readable_at_80x24_and_160x48() -> None:
    for size in ((80, 24), (160, 48)):
        app = PaneApp()
        async with app.run_test(size=size) as pilot:
            app.pane.show(build(cycle_run()))
            app.pane.sync(2.0, 1.5)
            await pilot.pause()
            text = lines(app.pane)
            assert text[0] == ("Await graph · 1.50 s (cursor) · 3 tasks · deadlocked since 1.00 s")
            assert len(text) == size[1]


async def test_a_slow_graph_follows_a_live_run_spaced_out_but_a_new_moment_at_once() -> None:
    model = build(until(gather_run(), 0.5))
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.pane
        pane.show(model)
        pane.sync(0.5)
        pane.slow_build = graph_pane.SLOW_BUILD
        pane._cost = 10.0  # as if the last rebuild took 10 s: the next is due in 100 s
        before = pane.rebuilds
        model.steps += 1
        pane.sync(0.6)
        assert pane.rebuilds == before  # spaced out
        pane.sync(0.6, 0.3)  # a moment chosen on the timeline: drawn at once
        assert pane.rebuilds == before + 1
        pane._cost = 10.0
        model.steps += 1
        model.status = "ended"  # the run's end: drawn at once
        pane.sync(0.7, 0.3)
        assert pane.rebuilds == before + 2
        await pilot.pause()


async def test_a_slow_graph_waits_for_a_held_cursor_to_rest(monkeypatch) -> None:
    model = build(cycle_run())
    clock = [1000.0]
    monkeypatch.setattr(graph_pane.time, "perf_counter", lambda: clock[0])
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.pane
        pane.show(model)
        pane.sync(2.0)
        pane.slow_build = graph_pane.SLOW_BUILD
        rebuild = pane._rebuild

        def slow_rebuild() -> None:  # 50 ms a rebuild, as with 10,000 tasks
            clock[0] += 0.05
            rebuild()

        pane._rebuild = slow_rebuild  # type: ignore[method-assign]
        pane._cost = 0.05
        before = pane.rebuilds
        pane.sync(2.0, 0.5)  # one step of the cursor: at once
        assert pane.rebuilds == before + 1 and pane.shown.t == 0.5
        for n in range(1, 6):  # the key held down: a new moment every tick
            clock[0] += 0.066
            pane.sync(2.0, 0.5 + n * 0.1)
        assert pane.rebuilds == before + 1  # none while it moves
        clock[0] += 0.066
        pane.sync(2.0, 1.0)  # it rested one tick: not yet
        assert pane.rebuilds == before + 1
        clock[0] += graph_pane.SETTLE
        pane.sync(2.0, 1.0)  # rested long enough: the graph catches up
        assert pane.rebuilds == before + 2 and pane.shown.t == 1.0
        assert "1.00 s" in pane.render_line(0).text
        await pilot.pause()


# ---- pictures: the recorded gather at a moment, a deadlock after the run ----------------

RECORDED = load_events(Path(__file__).parent / "data" / "gather_events.jsonl")


class ShownApp(PaneApp):
    """The pane showing ``model`` at ``moment``, its cursor on ``task``."""

    def __init__(self, model: RunModel, now: float, moment: float | None, task: int) -> None:
        super().__init__()
        self._args = (model, now, moment, task)

    def on_mount(self) -> None:
        model, now, moment, task = self._args
        self.pane.show(model)
        self.pane.sync(now, moment)
        self.pane.select_task(task)
        self.pane.focus()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_snapshot_of_the_recorded_gather_at_a_moment(snap_compare, size) -> None:
    app = ShownApp(build(RECORDED), 4.0, 1.5, task=3)
    assert snap_compare(app, terminal_size=size)


def test_snapshot_of_a_deadlock_after_the_run(snap_compare) -> None:
    app = ShownApp(build(cycle_run()), 2.0, None, task=2)
    assert snap_compare(app, terminal_size=(80, 24))


async def test_a_stall_is_marked_deadlocked_once_warned() -> None:
    s = Stream().task(1, 0.0, "main").step(1, 0.0, 0.001, "Queue.get()", 3)
    s.warn("deadlock", 1.0, task=1, tasks=[1], cycle=False, line=3)
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.pane
        pane.show(build(s.events))
        pane.sync(1.2, 0.5)  # before the warning: just waiting
        await pilot.pause()
        assert lines(pane)[1] == "Task-1  awaits Queue.get()  line 3"
        pane.sync(1.2)
        await pilot.pause()
        assert lines(pane)[1] == "Task-1  awaits Queue.get()  line 3  ✖ deadlocked"
        assert style_of(pane, 1, "deadlocked").color.name == "red"


# ---- QA of issue #7: the program's file in a replay, a narrow pane, running rows, names ---


async def test_the_program_given_to_show_makes_its_lines_read_line_n() -> None:
    """A replay's run_start names the program as it was recorded (``x.py``, relative)
    while its events use the absolute path: the app's program decides, not the target."""
    events = gather_run()
    events[0]["target"] = "x.py"
    model = build(until(events, 1.5))
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.pane.show(model)  # the old call still works: the target decides
        app.pane.sync(1.5)
        await pilot.pause()
        assert lines(app.pane)[1] == "Task-1  awaits gather(3)  x.py:35"
        app.pane.show(model, program="/p/x.py")
        app.pane.sync(1.5)
        await pilot.pause()
        assert lines(app.pane)[1] == "Task-1  awaits gather(3)  line 35"
        assert lines(app.pane)[2] == "├─ worker-A  awaits sleep(2)  line 22"


async def test_a_running_row_says_the_line_it_resumed_from() -> None:
    """The timeline's step shows where the step stopped; the graph's running row says
    ``(from line 22)``, where it resumed, so the two do not seem to disagree."""
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.pane.show(build(gather_run()))
        app.pane.sync(3.01, 2.00205)  # worker-A's last step: 2.002 to 2.0021
        await pilot.pause()
        assert "├─ worker-A  ▶ running  (from line 22)" in lines(app.pane)


@pytest.mark.parametrize("width", [45, 30])
async def test_a_narrow_pane_keeps_its_title_and_wraps_its_messages(width: int) -> None:
    app = PaneApp()
    async with app.run_test(size=(width, 10)) as pilot:
        pane = app.pane
        pane.show(build(gather_run()))
        pane.sync(3.01, None)  # the run ended, every task finished
        await pilot.pause()
        text = lines(pane)
        said = " ".join(line for line in text[1:] if line)
        assert said == graph_pane.ALL_FINISHED
        assert pane.virtual_size.width <= width  # nothing to scroll sideways for
        pane.sync(3.01, 0.5)
        await pilot.pause()
        title = lines(pane)[0]
        if width >= 45:
            assert title == "Await graph · 0.50 s (cursor) · 4 tasks"
        else:
            assert title.startswith("Await graph · 0.50 s") and title.endswith("…")
        pane.show(None)
        await pilot.pause()
        assert " ".join(x for x in lines(pane)[1:] if x) == graph_pane.NO_RUN


async def test_control_and_bidi_characters_are_never_drawn_and_wide_names_align() -> None:
    s = Stream().task(1, 0.0, "main", name="main\u202eevil")
    s.task(2, 0.0, "w", name="作業者-甲", parent=1).task(3, 0.0, "w", name="x\x1b[31mred", parent=1)
    s.step(1, 0.0, 0.001, "gather(2)", 5).step(2, 0.0, 0.001, "sleep(1)", 6)
    s.step(3, 0.0, 0.001, "作業者-甲\u2066", 7)
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.pane.show(build(s.events))
        app.pane.sync(0.5)
        await pilot.pause()
        text = lines(app.pane)
        drawn = "".join(text)
        assert "\u202e" not in drawn and "\x1b" not in drawn and "\u2066" not in drawn
        assert text[1] == "main?evil  awaits gather(2)  line 5"
        assert "x?[31mred  awaits 作業者-甲?  line 7" in drawn
        for y, row in enumerate(app.pane.rows):  # widths in cells: 作 takes two
            assert graph_pane._row_width(row) == cell_len(text[y + 1])
        assert app.pane.virtual_size.width == max(map(graph_pane._row_width, app.pane.rows)) + 1


def test_the_end_message_is_worded_from_the_model() -> None:
    """No task at all (a plain script, a SyntaxError), failed or cancelled tasks, or all
    finished: "every task finished" only for the last."""
    plain = build(Stream().end(0.1, 0))
    assert graph_pane.finished_text(plain, False) == (
        "No task: the program ended (exit 0) without reaching asyncio.run."
    )
    syntax = build(Stream().end(0.1, 1))
    assert "No task: the program ended (exit 1)" in graph_pane.finished_text(syntax, False)
    s = Stream()
    s.task(1, 0.0, "main", line=40).task(2, 0.01, "helper", parent=1, line=30)
    s.task(3, 0.01, "shutdown_asyncgens", internal=True)
    s.done(1, 0.5, "failed", exc="ValueError").done(2, 0.51, "cancelled").done(3, 0.52, "failed")
    crash = build(s.end(0.6, 1))
    assert graph_pane.finished_text(crash, False) == (
        "The run ended: no task waits any more (1 failed, 1 cancelled)."
    )
    assert "(2 failed, 1 cancelled)" in graph_pane.finished_text(crash, True)
    assert graph_pane.finished_text(build(gather_run()), False) == graph_pane.ALL_FINISHED


async def test_a_run_without_a_task_does_not_say_every_task_finished() -> None:
    app = PaneApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.pane.show(build(Stream().end(0.1, 0)))
        app.pane.sync(0.1)
        await pilot.pause()
        said = " ".join(line for line in lines(app.pane)[1:] if line)
        assert said == "No task: the program ended (exit 0) without reaching asyncio.run."
