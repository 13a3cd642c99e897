"""The playground's objects view (issue #15): the program's queues, locks and executor
jobs beside the tasks; Enter on a waiter goes to its task, on an object to its line."""

from __future__ import annotations

from tui_helpers import FedSession, make_app, wait_ended, wait_for

from asyncplay.tui.panes.objects import NO_OBJECTS

PROGRAM = """import asyncio, time

async def holder(sem):
    async with sem:
        await asyncio.sleep(0.05)

async def main():
    sem = asyncio.Semaphore(1)
    q = asyncio.Queue(maxsize=1)
    await asyncio.gather(holder(sem), holder(sem))
    q.put_nowait(1)
    await asyncio.to_thread(time.sleep, 0.01)

asyncio.run(main())
"""


def _rows(app) -> list[str]:
    pane = app.objects
    return [str(pane.get_option_at_index(i).prompt) for i in range(pane.option_count)]


async def test_a_real_run_shows_each_object_and_the_jobs(tmp_path) -> None:
    app = make_app(PROGRAM, str(tmp_path / "o.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        app.action_objects()
        await wait_for(pilot, lambda: app.objects.option_count >= 4)
        rows = _rows(app)
        assert rows[0].startswith("Semaphore(1) sem (o.py:8): free · 2 acquired, peak 1 waiting")
        assert rows[1].startswith("Queue q (o.py:9): 1/1 items full · peak 1, 1 in, 0 out")
        assert rows[2].startswith("Executor jobs: pool default: 1 job(s), 1 thread(s)")
        assert "time.sleep in default/asyncio_0: ran" in rows[3] and "main" in rows[3]
        assert app.objects.display and not app.tasks.display  # 80 columns: one view


def _events(program: str) -> list[dict]:
    return [
        {"event": "run_start", "t": 0.0, "target": program},
        {"event": "task_created", "t": 0.0, "id": 1, "name": "main", "coro": "main",
         "parent": None, "internal": False, "file": program, "line": 9},
        {"event": "task_created", "t": 0.01, "id": 2, "name": "slowpoke", "coro": "work",
         "parent": 1, "internal": False, "file": program, "line": 5},
        {"event": "primitive", "t": 0.01, "id": 1, "kind": "Lock", "name": "lock",
         "file": program, "line": 7},
        {"event": "primitive_state", "t": 0.02, "id": 1, "acquisitions": 1, "holders": [1],
         "waiters": [[2, "acquire"]], "max_waiters": 1, "longest_wait": 0.01, "held": 0.01},
    ]  # fmt: skip


async def test_enter_on_a_waiter_goes_to_its_task_and_on_the_object_to_its_line(tmp_path):
    path = str(tmp_path / "l.py")
    session = FedSession()
    app = make_app("\n" * 20, path, session_factory=FedSession.factory(session))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not None)
        session.feed(*_events(path))
        app.action_objects()
        await wait_for(pilot, lambda: app.objects.option_count == 3)
        rows = _rows(app)
        assert rows[0].startswith("Lock lock (l.py:7): held · 1 acquired, peak 1 waiting")
        assert rows[1:] == ["    holder   main", "    waiting 1. slowpoke (acquire)"]
        app.objects.highlighted = 2
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.selected_task == 2)
        assert app.tasks.display and not app.objects.display  # the task table came up
        app.action_objects()
        await pilot.pause()
        app.objects.highlighted = 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.editor.cursor_location[0] == 6)
        session.feed({"event": "run_end", "t": 0.1, "exit_code": 0, "reason": "exited"})
        await wait_ended(pilot)


async def test_no_objects_says_so(tmp_path) -> None:
    app = make_app("print('hi')\n", str(tmp_path / "p.py"))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        app.action_objects()
        await wait_for(pilot, lambda: app.objects.option_count == 1)
        assert _rows(app) == [NO_OBJECTS]
        assert app.objects.display and app.tasks.display  # wide: beside the task table
        assert not app.query_one("#output-box").display


def _blocked(program: str) -> list[dict]:
    """slowpoke waits on the lock main holds: its wait at line 6, still going."""
    steps = {"event": "steps", "t": 0.03, "steps": [
        [1, 0.0, 0.001, "sleep(5)", program, 10],
        [2, 0.02, 0.001, "Lock.acquire()", program, 6],
    ]}  # fmt: skip
    return [*_events(program), steps]


async def test_enter_on_a_task_waiting_on_an_object_goes_to_that_object(tmp_path) -> None:
    """Enter on slowpoke (waiting on the lock) in the task table, the await graph and the
    timeline (on its wait still going): the Objects view, the lock's row chosen. Enter on
    main (waiting on a sleep): its line, as for any task."""
    path = str(tmp_path / "l.py")
    session = FedSession()
    app = make_app("\n" * 20, path, session_factory=FedSession.factory(session))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not None)
        session.feed(*_blocked(path))
        await wait_for(pilot, lambda: app.model is not None and app.model.tasks.get(2) is not None
                       and app.model.tasks[2].wait_line == 6)  # fmt: skip

        async def back_to(view: str) -> None:
            app._show_pane(view)
            await pilot.pause()

        # the task table
        await back_to("tasks")
        app.set_focus(app.tasks)
        app.tasks.select_task(2)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_view() == "objects")
        assert app.objects.highlighted == 0 and _rows(app)[0].startswith("Lock lock (l.py:7)")
        assert app.focused is app.objects and app.selected_task == 2
        # Enter there on the waiter: back to the task (as before)
        app.objects.highlighted = 2
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_view() == "tasks")

        # the await graph (now)
        app.action_graph()
        await pilot.pause()
        app.graph.select_task(2)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_view() == "objects")
        assert app.objects.highlighted == 0

        # the timeline, on slowpoke's lane at now: its wait still going
        app.objects.highlighted = 1
        app.action_timeline()
        await pilot.pause()
        app.timeline.select_task(2)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_view() == "objects")
        assert app.objects.highlighted == 0
        # ... but not from its earlier moment (before the wait began): its line there
        app.action_timeline()
        await pilot.pause()
        app.timeline.show_moment(2, 0.0201)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.focused is app.editor)
        assert app.current_view() == "timeline"

        # main waits on a sleep, no object: Enter in the table goes to its line
        await back_to("tasks")
        app.set_focus(app.tasks)
        app.tasks.select_task(1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.editor.cursor_location[0] == 9)
        assert app.current_view() == "tasks"
        session.feed({"event": "run_end", "t": 0.1, "exit_code": 0, "reason": "exited"})
        await wait_ended(pilot)
