"""Warnings in the TUI: gutter marks for every kind, warnings_at, and the explain screens."""

from __future__ import annotations

from asyncplay.model import RunModel, apply, build
from asyncplay.views.gutter_marks import GUTTER, WARNING, RunMarks, warning_lines, warnings_at
from tests.streams import Stream

P = "/p/x.py"


def run() -> RunModel:
    """main (1); w (2) and v (3) await each other at lines 12 and 13; s (4) sleeps at 20."""
    s = Stream(P)
    s.task(1, 0.0, "main", name="main", line=40)
    s.task(2, 0.01, "ring", name="w", parent=1, line=30)
    s.task(3, 0.02, "ring", name="v", parent=1, line=31)
    s.task(4, 0.03, "work", name="s", parent=1, line=32)
    s.step(2, 0.05, 0.001, "v", line=12)
    s.step(3, 0.06, 0.001, "w", line=13)
    s.step(4, 0.07, 0.001, "sleep(9)", line=20)
    return build(s.events)


def warn(m: RunModel, kind: str, line: int | None = 7, **kw) -> dict:
    ev = {"event": "warning", "t": 1.0, "kind": kind, "message": kind, "task": None}
    ev.update({"file": P if line else None, "line": line})
    ev.update(kw)
    apply(m, ev)
    return m.warnings[-1]


def test_every_kind_with_a_line_is_marked_there() -> None:
    m = run()
    kinds = ["never_awaited", "exception_never_retrieved", "destroyed_pending", "cut_off"]
    kinds += ["slow_step", "loop_error", "untraceable_loop", "brand_new"]
    for n, kind in enumerate(kinds):
        warn(m, kind, line=50 + n, task=4)
    marks = RunMarks(m, P).update(None)
    assert marks is not None
    for n in range(len(kinds)):
        assert WARNING in marks[50 + n - 1], kinds[n]
    # Another file's line is not this program's.
    other = run()
    warn(other, "slow_step", line=5, file="/elsewhere.py")
    assert warning_lines(other, other.warnings[0], P) == []


def test_a_deadlock_is_marked_where_each_of_its_tasks_waited() -> None:
    m = run()
    ev = warn(m, "deadlock", line=12, task=2, tasks=[2, 3], cycle=True)
    # The run goes on: w is cancelled at shutdown and last stands at another line.
    apply(m, {"event": "steps", "t": 2.0, "steps": [[2, 1.9, 0.001, "x", P, 25]]})
    assert warning_lines(m, ev, P) == [12, 13]  # the moment of the warning, not now
    marks = RunMarks(m, P).update(None)
    assert marks is not None and WARNING in marks[11] and WARNING in marks[12]
    assert WARNING not in marks.get(24, set())
    # A stall naming tasks (no line of its own): where each waits now.
    stall = {"kind": "deadlock", "tasks": [3, 4, 99, "x", [1]], "cycle": False}
    assert warning_lines(m, stall, P) == [13, 20]


def test_task_warnings_without_a_line_fall_back_to_the_tasks_line() -> None:
    m = run()
    cut = warn(m, "cut_off", line=None, task=4)
    assert warning_lines(m, cut, P) == [20]
    slow = warn(m, "slow_step", line=None, task=4)
    assert warning_lines(m, slow, P) == []  # held the loop somewhere unknown: no guess
    forged = warn(m, "cut_off", line="9", task=[4])
    assert warning_lines(m, forged, P) == []


def test_warnings_at_a_line() -> None:
    m = run()
    slow = warn(m, "slow_step", line=20, task=4, duration=0.5)
    dead = warn(m, "deadlock", line=12, task=2, tasks=[2, 3, 4], cycle=False)
    assert warnings_at(m, P, 20) == [slow, dead]
    assert warnings_at(m, P, 13) == [dead]
    assert warnings_at(m, P, 14) == []
    assert warnings_at(m, "/p/../p/x.py", 12) == [dead]  # the same file, spelled otherwise
    assert warnings_at(None, P, 12) == [] and warnings_at(m, None, 12) == []


def test_the_gutter_legend_covers_every_mark_kind() -> None:
    kinds = [kind for kind, _glyph, _style, _meaning in GUTTER]
    assert kinds == ["created", "warning", "error", "selected", "breakpoint", "next"]
    glyphs = [glyph for _kind, glyph, _style, _meaning in GUTTER]
    assert len(set(glyphs)) == len(glyphs) and all(len(g) == 1 for g in glyphs)
    assert all(meaning for *_rest, meaning in GUTTER)


# ---- the screens ---------------------------------------------------------------------------

from rich.text import Text  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.widgets import Button, OptionList, Static  # noqa: E402

from asyncplay.tui.panes.editor import CodeEditor  # noqa: E402
from asyncplay.tui.panes.task_table import TaskTable, row_values  # noqa: E402
from asyncplay.tui.screens.explain import ExplainScreen, WarningsScreen, warning_rows  # noqa: E402
from asyncplay.views.explain import explain  # noqa: E402

UNSET = object()


class Host(App):
    """Pushes one screen at start and keeps what it was dismissed with."""

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.first = screen
        self.result: object = UNSET

    def on_mount(self) -> None:
        self.push_screen(self.first, self.done)

    def done(self, result: object) -> None:
        self.result = result


def text_of(screen: Screen, selector: str) -> str:
    content = screen.query_one(selector, Static).content
    return content.plain if isinstance(content, Text) else str(content)


async def test_explain_screen_shows_the_explanation_and_goes_to_its_line() -> None:
    m = run()
    ex = explain(warn(m, "slow_step", line=20, task=4, duration=1.25), m)
    app = Host(ExplainScreen(ex, P))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExplainScreen)
        assert screen.query_one("Vertical").border_title == "The event loop was blocked"
        assert "s held the event loop for 1.25 s" in text_of(screen, "#explain-what")
        assert "time.sleep" in text_of(screen, "#explain-why")
        assert "to_thread" in text_of(screen, "#explain-fix")
        example = screen.query_one("#explain-example", Static).content
        assert "asyncio.sleep(1)" in example.code  # rich Syntax: highlighted code
        go = screen.query_one("#explain-go", Button)
        assert str(go.label) == "Go to line 20"
        # Everything but the example's tail is on screen at 80x24, the buttons too.
        assert go.region.bottom <= 24 and go.region.width > 0
        await pilot.press("g")
        await pilot.pause()
        assert app.result == 20 and not isinstance(app.screen, ExplainScreen)


async def test_explain_screen_closes_with_escape_q_and_the_buttons() -> None:
    m = run()
    ex = explain(warn(m, "cut_off", line=9, task=4), m)
    for how in ("escape", "q", "#explain-close", "#explain-go"):
        app = Host(ExplainScreen(ex, P))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            if how.startswith("#"):
                await pilot.click(how)
            else:
                await pilot.press(how)
            await pilot.pause()
            assert app.result == (9 if how == "#explain-go" else None), how


async def test_no_go_to_line_for_another_file_or_no_line() -> None:
    m = run()
    elsewhere = explain(warn(m, "slow_step", line=5, file="/lib/other.py"), m)
    nowhere = explain(warn(m, "channel_lost", line=None), m)
    for ex in (elsewhere, nowhere):
        app = Host(ExplainScreen(ex, P))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert not app.screen.query("#explain-go")
            await pilot.press("g")  # nothing to go to: the explanation stays
            await pilot.pause()
            assert isinstance(app.screen, ExplainScreen) and app.result is UNSET


async def test_warnings_screen_empty_state() -> None:
    for model in (None, run()):
        app = Host(WarningsScreen(model, P))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert text_of(app.screen, "#warnings-empty") == "This run had no warnings."
            await pilot.press("enter", "escape")
            await pilot.pause()
            assert app.result is None


async def test_warnings_screen_lists_one_line_each_and_explains_the_chosen_one() -> None:
    m = run()
    long = "a message long enough to need more than one line at eighty columns " * 3
    warn(m, "slow_step", line=20, task=4, duration=0.5, message=long)
    warn(m, "slow_step", line=20, task=4, duration=0.7, message=long)  # folds: x2
    warn(m, "deadlock", line=12, task=2, tasks=[2, 3], cycle=True, message=long)
    warn(m, "never_awaited", line=3, message=long)
    app = Host(WarningsScreen(m, P))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        listing = app.screen.query_one(OptionList)
        assert listing.option_count == 3 and listing.has_focus
        assert listing.virtual_size.height == 3  # one line each, however long the message
        first = listing.get_option_at_index(0).prompt
        assert first.plain.startswith(" loop blocked x2") and " 20  " in first.plain
        await pilot.press("down", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExplainScreen)
        assert screen.explanation.title == "Deadlock: tasks await each other"
        assert "w awaits v awaits w" in screen.explanation.what
        await pilot.press("escape")  # back to the list, nothing chosen
        await pilot.pause()
        assert isinstance(app.screen, WarningsScreen) and app.result is UNSET
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.screen.explanation.kind == "never_awaited"  # type: ignore[attr-defined]
        await pilot.press("g")  # going to the line closes both
        await pilot.pause()
        assert app.result == 3 and not isinstance(app.screen, (ExplainScreen, WarningsScreen))


async def test_warnings_screen_at_160x48_and_tiny() -> None:
    m = run()
    for n in range(60):
        warn(m, "cut_off", line=n + 1, task=4, message=f"cut {n}")
    for size in ((160, 48), (20, 5)):
        app = Host(WarningsScreen(m, P))
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            listing = app.screen.query_one(OptionList)
            assert listing.option_count == 60
            assert app.screen.query_one("Vertical").region.bottom <= size[1]
            await pilot.press("end", "enter")
            await pilot.pause()
            assert app.screen.explanation.line == 60  # type: ignore[attr-defined]


def test_warning_rows_fold_repeats_and_survive_forged_values() -> None:
    m = run()
    a = warn(m, "slow_step", line=20, message="one")
    warn(m, "slow_step", line=20, message="two")  # slow steps fold by line
    b = warn(m, "cut_off", line=20, message="x")
    c = warn(m, "cut_off", line=20, message="y")  # other kinds by message too
    d = warn(m, "loop_error", line=[1], message={"a": 1})  # unhashable: its own row
    assert warning_rows(m) == [(a, 2), (b, 1), (c, 1), (d, 1)]
    assert warning_rows(None) == []


# ---- the gutter ----------------------------------------------------------------------------


class EditorHost(App):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.clicked: list[tuple[int, frozenset[str]]] = []

    def compose(self) -> ComposeResult:
        yield CodeEditor(self.text, id="ed")

    def on_code_editor_gutter_clicked(self, message: CodeEditor.GutterClicked) -> None:
        self.clicked.append((message.line, message.kinds))


async def test_a_click_on_a_marked_gutter_posts_its_line() -> None:
    app = EditorHost("".join(f"x{i} = {i}\n" for i in range(40)))
    async with app.run_test(size=(80, 24)) as pilot:
        ed = app.query_one(CodeEditor)
        ed.set_marks({4: {"warning", "selected"}, 30: {"created"}})
        await pilot.pause()
        assert ed.gutter_width == 4
        left, top = ed.gutter.left, ed.gutter.top  # the editor's border, if any
        await pilot.click(CodeEditor, offset=(left + 1, top + 4))
        await pilot.pause()
        assert app.clicked == [(5, frozenset({"warning", "selected"}))]
        assert ed.cursor_location[0] == 4  # TextArea still moved the cursor there
        await pilot.click(CodeEditor, offset=(left + 1, top + 3))  # unmarked line: nothing
        await pilot.click(CodeEditor, offset=(left + 10, top + 4))  # its text: nothing
        await pilot.pause()
        assert len(app.clicked) == 1
        ed.scroll_to(y=15, animate=False, immediate=True)
        await pilot.pause()
        assert ed.scroll_offset.y == 15  # line 31 (index 30) is now row 15
        await pilot.click(CodeEditor, offset=(left, top + 15))
        await pilot.pause()
        assert app.clicked[-1] == (31, frozenset({"created"}))


async def test_the_warning_glyph_stands_out() -> None:
    app = EditorHost("a = 1\nb = 2\n")
    async with app.run_test(size=(40, 10)) as pilot:
        ed = app.query_one(CodeEditor)
        ed.set_marks({1: {"warning"}})
        await pilot.pause()
        segments = [seg for seg in ed.render_line(1) if seg.text == "!"]
        assert segments, "no warning glyph"
        style = segments[0].style
        assert style is not None and style.bgcolor is not None and style.bold


# ---- the cancelled row ---------------------------------------------------------------------


class TableHost(App):
    def compose(self) -> ComposeResult:
        yield TaskTable(id="tasks")


def cancelled_run() -> RunModel:
    m = run()
    apply(
        m,
        {
            "event": "cancel_source",
            "t": 1,
            "id": 2,
            "cause": "cancel",
            "by": 1,
            "file": P,
            "line": 12,
        },
    )
    apply(m, {"event": "cancel_source", "t": 1, "id": 3, "cause": "timeout", "file": P, "line": 9})
    for tid in (2, 3, 4):
        apply(m, {"event": "task_done", "t": 2.0, "id": tid, "state": "cancelled"})
    return m


async def test_a_cancelled_row_says_who_cancelled_it() -> None:
    m = cancelled_run()
    app = TableHost()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(TaskTable)
        table.show(m)
        table.sync(m.now)
        await pilot.pause()
        assert table.get_cell(2, "awaits") == "✕ by main:12"
        assert table.get_cell(3, "awaits") == "timeout :9"
        assert table.get_cell(4, "awaits") == ""  # no source reported: nothing guessed
        assert table.get_cell(2, "state") == "cancelled"
        assert table.get_cell(2, "line") == "12" and table.get_cell(2, "name") == "w"
        drawn = "".join(seg.text for seg in table.render_line(2))
        assert "✕ by main:12" in drawn
    # The other cells are what they were before the cancel-source column existed.
    before = row_values(m.tasks[2], m.now)
    after = row_values(m.tasks[2], m.now, m)
    assert before[:3] == after[:3] and before[4:] == after[4:]
    assert before[3] == "✕ cancel() :12"  # without the model the canceller is not named
