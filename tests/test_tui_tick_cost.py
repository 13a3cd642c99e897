"""The playground's tick stays cheap under load: a slow await graph is rebuilt in a worker
thread while the fold waits (the model never changes under the worker), the result is
swapped in on the UI's loop, a failure there still turns the view off with its one
notification; the status bar's text changing every tick never lays the screen out again.

Counted, not timed: what runs where, and what the tick asks Textual to do.
"""

from __future__ import annotations

import threading

import pytest
from streams import Stream
from tui_helpers import FedSession, record_notifications, wait_for

from asyncplay import storage
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.panes import graph as graph_pane
from asyncplay.tui.services.view_builds import ViewBuilds

pytestmark = pytest.mark.usefixtures("home")


def fed_app(session: FedSession) -> AsyncplayApp:
    return AsyncplayApp(
        storage.Autosave(text="print(1)\n", snippet="builds"),
        session_factory=FedSession.factory(session),
        autosave=False,
    )


def gather(n: int) -> Stream:
    """main gathers ``n`` workers, each asleep: a graph of ``n + 1`` rows."""
    s = Stream()
    s.task(1, 0.0, "main", line=9)
    for tid in range(2, n + 2):
        s.task(tid, 0.001, "worker", name=f"w{tid}", parent=1, line=4)
    s.step(1, 0.002, 0.0001, f"gather({n})", line=10)
    for tid in range(2, n + 2):
        s.step(tid, 0.003, 0.0001, f"sleep({tid})", line=5)
    return s


async def test_a_slow_graph_is_built_in_a_worker_while_the_fold_waits(monkeypatch) -> None:
    session = FedSession()
    app = fed_app(session)
    gate = threading.Event()
    threads: list[threading.Thread] = []
    real_build = graph_pane.build

    def held_build(*args):  # noqa: ANN002, ANN202
        threads.append(threading.current_thread())
        if threading.current_thread() is not threading.main_thread():
            assert gate.wait(30), "the test never let the build finish"
        return real_build(*args)

    monkeypatch.setattr(graph_pane, "build", held_build)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.session is session)
        app.action_graph()
        graph = app.graph
        graph.slow_build = 0.0  # every rebuild counts as slow: each goes to the worker
        session.feed(*gather(20).events)
        await wait_for(pilot, lambda: app.view_builds.busy)
        assert threads[-1] is not threading.main_thread()
        tasks, rebuilds = len(app.model.tasks), graph.rebuilds
        # Events that come while the worker reads the model wait: the fold holds them.
        session.feed(*Stream().task(99, 0.5, "late", name="late", parent=1).events[2:])
        await wait_for(pilot, lambda: session.queue.empty())  # taken by the fold...
        for _ in range(5):  # ... and held over several ticks
            await pilot.pause(0.1)
        assert len(app.model.tasks) == tasks and graph.rebuilds == rebuilds
        gate.set()
        await wait_for(pilot, lambda: 99 in app.model.tasks)
        await wait_for(pilot, lambda: graph.rebuilds > rebuilds)
        # The rows built in the worker, for the model as it stood while the fold waited.
        names = {row[3] for row in graph.rows}
        assert {"Task-1", "w2", "w21"} <= names and "late" not in names
        assert app.view_builds.builds >= 1


async def test_a_failed_build_in_the_worker_turns_the_graph_off_once(monkeypatch) -> None:
    session = FedSession()
    app = fed_app(session)
    said = record_notifications(app)
    real_build = graph_pane.build

    def broken(*args):  # noqa: ANN002, ANN202
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("the graph broke in the worker")
        return real_build(*args)

    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.session is session)
        app.action_graph()
        app.graph.slow_build = 0.0
        monkeypatch.setattr(graph_pane, "build", broken)
        session.feed(*gather(3).events)
        await wait_for(pilot, lambda: "graph" in app.failed_views)
        assert sum("the graph view is off" in text for text in said) == 1
        assert "tasks" not in app.failed_views  # the others go on
        session.feed(*Stream().task(50, 0.5, "more", parent=1).events[2:])
        await wait_for(pilot, lambda: app.tasks.row_count == 5)


async def test_view_builds_runs_one_build_at_a_time_and_not_when_off() -> None:
    from asyncplay.model import RunModel

    builds = ViewBuilds()
    model = RunModel()
    gate = threading.Event()
    got: list[tuple[object, object]] = []
    try:
        assert builds.submit(
            model, lambda: gate.wait(30) and "built", lambda r, e: got.append((r, e))
        )
        assert builds.busy
        assert not builds.submit(model, lambda: "second", lambda r, e: got.append((r, e)))
        gate.set()
        await builds.idle()
        assert not builds.busy
        await wait_loop(lambda: got)
        assert got == [("built", None)]
        builds.enabled = False  # playback changes its model here: nothing in the worker
        assert not builds.submit(model, lambda: "off", lambda r, e: got.append((r, e)))
        assert builds.builds == 1
    finally:
        builds.close()


async def wait_loop(cond, rounds: int = 2000) -> None:  # noqa: ANN001
    import asyncio

    for _ in range(rounds):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


async def test_the_status_bar_repaints_every_tick_without_laying_the_screen_out() -> None:
    session = FedSession()
    now = [100.0]
    app = AsyncplayApp(
        storage.Autosave(text="print(1)\n", snippet="status"),
        session_factory=FedSession.factory(session),
        clock=lambda: now[0],
        autosave=False,
    )
    async with app.run_test(size=(120, 30)) as pilot:
        status = app.status
        layouts: list[bool] = []
        real_refresh = status.refresh

        def refresh(*args, layout: bool = False, **kwargs):  # noqa: ANN002, ANN003, ANN202
            layouts.append(layout)
            return real_refresh(*args, layout=layout, **kwargs)

        status.refresh = refresh  # type: ignore[method-assign]
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.session is session)
        session.feed(*gather(2).events)
        seen = set()
        for _ in range(5):  # the run's clock goes on: the bar says so every tick
            now[0] += 1.0
            await wait_for(pilot, lambda: status.plain not in seen)
            seen.add(status.plain)
        assert len(layouts) >= 5
        assert not any(layouts), "the status bar asked for a layout of the screen"


def test_the_live_count_looks_at_every_task_only_when_it_may_have_changed(monkeypatch) -> None:
    from asyncplay.model import apply
    from asyncplay.tui.panes import status_bar

    looks: list[int] = []
    real = status_bar.live_tasks

    def counted(model):  # noqa: ANN001, ANN202
        looks.append(len(model.tasks))
        return real(model)

    monkeypatch.setattr(status_bar, "live_tasks", counted)
    clock = [100.0]
    monkeypatch.setattr(status_bar.time, "monotonic", lambda: clock[0])
    from asyncplay.model import RunModel

    m = RunModel()
    for ev in gather(1_000).events:
        apply(m, ev)
    count = status_bar.LiveCount()
    assert count(m) == 1_001 and len(looks) == 1
    for step in range(20):  # the run steps every tick: the count is kept a while
        apply(
            m,
            {"event": "steps", "t": 1 + step, "steps": [[2, 1 + step, 1e-4, "sleep(1)", None, 0]]},
        )
        assert count(m) == 1_001
    assert len(looks) == 1
    apply(m, {"event": "task_done", "t": 30.0, "id": 5, "state": "done", "result": "None"})
    apply(m, {"event": "steps", "t": 30, "steps": [[3, 30, 1e-4, "sleep(1)", None, 0]]})
    clock[0] += status_bar.LiveCount.every  # a quarter second on: counted again
    assert count(m) == 1_000 and len(looks) == 2
    apply(m, {"event": "task_created", "t": 31.0, "id": 5000, "name": "n", "coro": "c"})
    assert count(m) == 1_001 and len(looks) == 3  # a new task: at once
    assert "1001 live tasks" in status_bar.status_line(m, 1.0, "3.11", None, live=count(m)).plain


async def test_rows_added_tick_after_tick_lay_nothing_out_and_the_scrollbar_follows() -> None:
    session = FedSession()
    app = fed_app(session)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.session is session)
        table = app.tasks
        s = Stream()
        for tid in range(1, 101):  # more rows than the table shows: its scrollbar's thumb
            s.task(tid, tid * 1e-3, "worker", name=f"w{tid}")
        session.feed(*s.events)
        await wait_for(pilot, lambda: table.row_count == 100)
        await pilot.pause()
        layouts: list[bool] = []
        real = table.refresh

        def refresh(*regions, layout: bool = False, **kwargs):  # noqa: ANN002, ANN003, ANN202
            layouts.append(layout)
            return real(*regions, layout=layout, **kwargs)

        table.refresh = refresh  # type: ignore[method-assign]
        for batch in range(5):  # the run adds tasks tick after tick
            first = 101 + batch * 50
            more = Stream()
            for tid in range(first, first + 50):
                more.task(tid, tid * 1e-3, "worker", name=f"w{tid}")
            session.feed(*more.events[2:])
            await wait_for(pilot, lambda first=first: table.row_count == first + 49)
            bar = table.vertical_scrollbar
            assert bar.window_virtual_size == table.virtual_size.height == first + 50
        assert layouts and not any(layouts), "the table asked for a layout of the screen"
        assert (
            table.max_scroll_y == table.virtual_size.height - table.scrollable_content_region.height
        )
        table.focus()  # the last rows are there to scroll to
        await pilot.press("end")
        await wait_for(pilot, lambda: table.selected_task() == 350)
        assert any(table.render_line(y).text.startswith("w350") for y in range(table.size.height))


def test_a_model_is_settled_before_a_worker_reads_it() -> None:
    from asyncplay.model import RunModel, apply
    from asyncplay.tui.services.view_builds import settle

    m = RunModel()
    for ev in gather(3).events:
        apply(m, ev)
    apply(m, {"event": "output", "t": 0.5, "stream": "stdout", "text": "a\nb\n", "task": 2})
    log = m.output_log  # the output, built lazily when read
    assert log.pending  # nothing read yet
    settle(m)
    # Nothing is left for a read to build: a read in the worker and one on the UI thread
    # at once write nothing.
    assert not log.pending
    assert [line.text for line in m.output] == ["a", "b"]
