"""The output pane and the task table against synthetic models: bounded work per tick."""

from __future__ import annotations

from textual.app import App, ComposeResult

from asyncplay.model import RunModel, apply
from asyncplay.tui.panes.output import OutputPane, find_location
from asyncplay.tui.panes.status_bar import status_line
from asyncplay.tui.panes.task_table import TaskTable, row_values


class Host(App):
    def __init__(self) -> None:
        super().__init__()
        self.chosen: list[tuple[int | None, bool]] = []

    def compose(self) -> ComposeResult:
        yield OutputPane(id="out")
        yield TaskTable(id="tasks")

    def on_task_table_task_chosen(self, message: TaskTable.TaskChosen) -> None:
        self.chosen.append((message.task, message.jump))


def model_with(tasks: int = 0, lines: int = 0) -> RunModel:
    m = RunModel()
    apply(m, {"event": "run_start", "t": 0.0})
    for i in range(1, tasks + 1):
        apply(
            m,
            {
                "event": "task_created",
                "t": 0.001 * i,
                "id": i,
                "name": f"t{i}",
                "coro": "work",
                "file": "/p.py",
                "line": 3,
            },
        )
    if lines:
        text = "".join(f"line {i}\n" for i in range(lines))
        apply(m, {"event": "output", "t": 1.0, "stream": "stdout", "text": text, "task": 1})
    return m


async def test_task_table_draws_only_what_is_on_screen_and_what_changed() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(TaskTable)
        m = model_with(tasks=5000)
        table.show(m)
        table.sync(m.now)
        await pilot.pause()
        assert table.row_count == 5000
        assert len(table._rows) <= table.size.height + 1  # only visible rows computed
        drawn = table.updates
        table.sync(m.now)  # nothing changed: nothing redrawn
        assert table.updates == drawn
        # One task's state changes: only its changed cells count.
        apply(m, {"event": "steps", "t": 0.5, "steps": [[2, 0.4, 0.01, "sleep(1)", "/p.py", 7]]})
        table.sync(m.now)
        changed = table.updates - drawn
        assert 1 <= changed <= 5, changed
        assert table.get_cell(2, "awaits") == "sleep(1)"
        assert table.get_cell(2, "line") == "7"
        # Rows for new tasks are appended, never rebuilt.
        order = table._order
        apply(m, {"event": "task_created", "t": 0.6, "id": 6000, "name": "late", "coro": "x"})
        table.sync(m.now)
        assert table._order is order and order[-1] == 6000
        # Internal tasks are behind a toggle.
        apply(
            m,
            {
                "event": "task_created",
                "t": 0.7,
                "id": 6001,
                "name": "shutdown",
                "coro": "BaseEventLoop.shutdown_asyncgens",
                "internal": True,
            },
        )
        table.sync(m.now)
        assert 6001 not in table._order
        table.action_toggle_internal()
        assert table._order[-1] == 6001
        table.action_toggle_internal()
        assert 6001 not in table._order


async def test_task_table_keys_choose_a_task() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(TaskTable)
        m = model_with(tasks=50)
        table.show(m)
        table.sync(m.now)
        table.focus()
        await pilot.press("down", "down", "enter", "end")
        await pilot.pause()
        assert table.selected_task() == 50
        assert (3, True) in app.chosen


def test_row_values_for_each_state() -> None:
    m = model_with(tasks=2)
    apply(m, {"event": "task_done", "t": 2.0, "id": 1, "state": "done", "result": "42"})
    apply(
        m,
        {
            "event": "task_done",
            "t": 2.5,
            "id": 2,
            "state": "failed",
            "exc_type": "ValueError",
            "exc_msg": "bad",
            "file": "/p.py",
            "line": 9,
        },
    )
    done, failed = row_values(m.tasks[1], 3.0), row_values(m.tasks[2], 3.0)
    assert done[2:4] == ("done", "= 42")
    assert failed[2:4] == ("failed", "ValueError")
    assert done[7] == "2.00s"


async def test_output_pane_is_bounded_and_says_what_it_dropped() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        m = model_with(tasks=1, lines=25_000)
        pane.show(m, "/p.py")
        await pilot.pause()
        assert pane.row_count == 10_001  # the kept lines plus the note
        first = "".join(seg.text for seg in pane._row_strip(0, pane.rich_style))
        assert "15,000 earlier lines dropped" in first
        assert pane.is_vertical_scroll_end
        last = "".join(seg.text for seg in pane._row_strip(10_000, pane.rich_style))
        assert last.startswith("t1") and last.endswith("line 24999")


def test_find_location_in_tracebacks_and_warnings() -> None:
    assert find_location('  File "/home/me/p.py", line 12, in main') == ("/home/me/p.py", 12)
    assert find_location("/home/me/p.py:7: RuntimeWarning: coroutine 'f' was never awaited") == (
        "/home/me/p.py",
        7,
    )
    assert find_location("plain output") is None


def test_status_sentences() -> None:
    m = model_with(tasks=2)
    text = status_line(m, 1.25, "3.12.1", "rlimit", "copy of snippet gather").plain
    assert text.startswith("running 1.2s - 2 live tasks  |  copy of snippet gather")
    assert text.endswith("Python 3.12.1  |  sandbox rlimit")
    apply(
        m,
        {
            "event": "run_end",
            "t": 30.0,
            "exit_code": 124,
            "reason": "timeout",
            "by": "asyncplay",
            "message": "asyncplay stopped the program after 30.00 s: "
            "it reached the wall-clock limit (--timeout 30 s); raise it with --timeout",
        },
    )
    text = status_line(m, 30.0, "3.12.1", None).plain
    # the playground's words (the full sentence ends the output: tests/test_tui_ending_words.py)
    assert text.startswith("exit 124 - timeout") and "F9 to raise" in text
    assert "--timeout" not in text
    assert status_line(None, 0, "3.12.1", None).plain.startswith("ready")


def test_coalesced_output_folds_to_the_same_model() -> None:
    from asyncplay.tui.services.session_thread import coalesce

    events = [{"event": "run_start", "t": 0.0}]
    for i in range(50):
        task = 1 if i < 30 else 2
        stream = "stderr" if i % 10 == 9 else "stdout"
        events += [
            {"event": "output", "t": i, "stream": stream, "text": f"line {i}", "task": task},
            {"event": "output", "t": i, "stream": stream, "text": "\n", "task": task},
        ]
    events.append({"event": "output", "t": 99, "stream": "stdout", "text": "tail", "task": 2})
    events.append({"event": "run_end", "t": 100.0, "exit_code": 0})
    merged = coalesce([dict(ev) for ev in events])
    assert len(merged) < len(events) // 3
    plain, joined = RunModel(), RunModel()
    for ev in events:
        apply(plain, ev)
    for ev in merged:
        apply(joined, ev)
    assert [(x.stream, x.task, x.text) for x in plain.output] == [
        (x.stream, x.task, x.text) for x in joined.output
    ]


def test_run_marks_created_warning_error_selected() -> None:
    from asyncplay.views.gutter_marks import RunMarks

    m = model_with(tasks=2)  # both created at /p.py line 3
    apply(
        m,
        {
            "event": "warning",
            "t": 1.0,
            "kind": "never_awaited",
            "message": "x",
            "task": None,
            "file": "/p.py",
            "line": 8,
        },
    )
    apply(
        m,
        {
            "event": "task_done",
            "t": 2.0,
            "id": 2,
            "state": "failed",
            "exc_type": "ValueError",
            "exc_msg": "bad",
            "file": "/p.py",
            "line": 9,
        },
    )
    apply(m, {"event": "steps", "t": 2.1, "steps": [[1, 2.0, 0.01, "sleep(1)", "/p.py", 5]]})
    marks = RunMarks(m, "/p.py")
    got = marks.update(selected=1)
    assert got == {2: {"created"}, 7: {"warning"}, 8: {"error"}, 4: {"selected"}}
    assert marks.update(selected=1) is None  # nothing changed: nothing to redraw
    assert marks.update(selected=2)[2] == {"created", "selected"}  # never suspended: creation
    assert RunMarks(m, "/other.py").update(None) == {}


async def test_a_huge_line_is_shown_cut_and_copied_whole() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(OutputPane)
        m = model_with(tasks=1)
        apply(
            m,
            {
                "event": "output",
                "t": 1.0,
                "stream": "stdout",
                "text": "x" * 1_000_000 + "\n",
                "task": 1,
            },
        )
        pane.show(m, "/p.py")
        await pilot.pause()
        shown = "".join(seg.text for seg in pane._row_strip(0, pane.rich_style))
        assert len(shown) < 2_100 and shown.endswith("(998,000 more)")
        assert len(pane.text()) == 1_000_000


def test_status_says_waits_for_input_only_while_the_program_reads_stdin() -> None:
    """A flood of output leaves a line unfinished at every tick: that is no prompt. Only
    the runtime's ``stdin`` record (the program blocks reading) makes the status say so."""
    m = model_with(tasks=1)
    apply(m, {"event": "output", "t": 0.5, "stream": "stdout", "text": "line 12 of 90", "task": 1})
    assert "waits for input" not in status_line(m, 1.0, "3.12.1", None).plain
    apply(m, {"event": "stdin", "t": 0.6, "waiting": True, "task": 1})
    assert "waits for input: Ctrl+L to type" in status_line(m, 1.0, "3.12.1", None).plain
    apply(m, {"event": "stdin", "t": 0.7, "waiting": False, "task": 1})
    assert "waits for input" not in status_line(m, 1.0, "3.12.1", None).plain
