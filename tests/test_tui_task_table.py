"""The task table: a task's times written as the summary writes them, names whole where there
is room and cut in their middle where not (names alike stay apart), a spinning task running
with a growing time (in the timeline too)."""

from __future__ import annotations

import pytest
from streams import Stream
from tui_helpers import wait_for
from tui_recorded import breakfast_run, clocked_app, gutter_names, replay_app, table_names

from asyncplay import storage
from asyncplay.tui.app import AsyncplayApp

pytestmark = pytest.mark.usefixtures("home")


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


async def test_a_spinning_task_is_running_with_a_growing_time_in_the_table_and_timeline() -> None:
    from tui_helpers import FedSession

    from asyncplay.views.timeline import RUN, UNICODE, WAIT

    session = FedSession()
    app = clocked_app(snippet="spin", session_factory=FedSession.factory(session))
    now = app.test_clock  # type: ignore[attr-defined]
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


async def test_a_selection_among_10000_rows_draws_only_the_rows_the_cursor_left_and_reached() -> (
    None
):
    from tui_helpers import FedSession

    session = FedSession()
    app = AsyncplayApp(
        storage.Autosave(text="print(1)\n", snippet="many"),
        session_factory=FedSession.factory(session),
        autosave=False,
    )
    s = Stream()
    for tid in range(1, 10_001):
        s.task(tid, tid * 1e-5, "worker", name=f"w{tid}")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.session is session)
        session.feed(*s.end(0.5))
        await wait_for(pilot, lambda: app.model.status == "ended" and app.tasks.row_count == 10_000)
        table = app.tasks
        table.focus()
        await pilot.pause()
        drawn: list[int] = []
        real = table.render_line

        def render_line(y: int):  # noqa: ANN202
            drawn.append(y)
            return real(y)

        table.render_line = render_line  # type: ignore[method-assign]
        for key in ("down", "down", "up"):
            drawn.clear()
            await pilot.press(key)
            await pilot.pause()
            assert 0 < len(set(drawn)) <= 2, (key, sorted(set(drawn)))
        assert table.selected_task() == 2 and app.selected_task == 2
        # Chosen elsewhere (the timeline, the graph): found by its id, drawn in view.
        app.choose_task(9_000, None)
        await wait_for(pilot, lambda: table.selected_task() == 9_000)


@pytest.mark.parametrize("view", ["TaskTable", "TimelinePane", "GraphPane"])
def test_every_task_view_defines_what_the_shared_keys_call(view: str) -> None:
    """The keys TaskView binds (up/down/page/home/end, ``b``, ``i``) call hooks each view
    defines; one left to the base would raise NotImplementedError at a keypress."""
    from asyncplay.tui.panes import graph, task_table, timeline
    from asyncplay.tui.panes.task_view import TaskView

    cls = {
        "TaskTable": task_table.TaskTable,
        "TimelinePane": timeline.TimelinePane,
        "GraphPane": graph.GraphPane,
    }[view]
    assert issubclass(cls, TaskView)
    for hook in ("action_move", "action_page", "action_edge", "set_internal"):
        assert callable(getattr(cls, hook, None)), hook
        assert getattr(cls, hook) is not getattr(TaskView, hook, None), hook
    assert cls.task_under_cursor is not TaskView.task_under_cursor
