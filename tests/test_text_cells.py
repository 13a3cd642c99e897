"""Odd text from the program (tabs, escapes, bidi overrides, CJK, emoji, "") in fixed cells.

The names are QA's (/tmp/qa7/names.py): each used to break the task table's row (a tab or
newline split it, a wide character pushed the next columns right).
"""

from __future__ import annotations

import unicodedata

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from asyncplay.model import RunModel, apply
from asyncplay.tui.panes.output import TASK_WIDTH, OutputPane
from asyncplay.tui.panes.task_table import COLUMNS, TaskTable
from asyncplay.views.task_story import NO_NAME
from asyncplay.views.text_cells import clean, fit

NAMES = [
    "a-very-long-task-name-that-goes-on-and-on-and-on-forever-and-ever-0001",
    "下载器-任务-日本語テスト-한국어",
    "🚀rocket🔥fire🎉party",
    "ｆｕｌｌｗｉｄｔｈ名前",
    "tab\there\nnewline",
    "",
    "e\u0301\u200bzero-width\u202eRTL",
    "\x1b[31mred\x1b[0m\r\x85\x9b\u2066iso\u2069\u2028",
    "👨\u200d👩\u200d👧 family",
]
HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def hidden(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in HIDDEN]


@pytest.mark.parametrize("name", NAMES)
def test_clean_leaves_nothing_invisible_and_keeps_plain_text(name: str) -> None:
    assert hidden(clean(name)) == []
    assert hidden(clean(name, "?")) == []
    assert len(clean(name, "?")) == len(name)  # one mark per character replaced


def test_clean_escapes_read_like_python() -> None:
    assert clean("tab\there\nnl\r") == "tab\\there\\nnl\\r"
    assert clean("\x1b[1m\x7f\x85") == "\\e[1m\\x7f\\x85"
    assert clean("abc\u202eRTL\u2066") == "abc\\u202eRTL\\u2066"
    assert clean("\U000e0001") == "\\U000e0001"
    assert clean("plain, 日本語, é, 🚀") == "plain, 日本語, é, 🚀"  # nothing to do


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("width", [1, 2, 3, 9, 10, 14])
def test_fit_is_exactly_the_width_in_cells(name: str, width: int) -> None:
    for right in (False, True):
        cell = fit(clean(name), width, right)
        assert cell_len(cell) == width, (name, width, cell)


def test_fit_cuts_with_a_tilde_and_never_halves_a_wide_character() -> None:
    assert fit("abc", 5) == "abc  " and fit("abc", 5, right=True) == "  abc"
    assert fit("abcdefgh", 5) == "abcd~"
    assert fit("下载器任务", 6) == "下载~ "  # not "下载 ~" nor half of 器
    assert fit("下载器任务", 7) == "下载器~"
    assert fit("下载器任务", 6, right=True) == " 下载~"
    assert fit("", 3) == "   " and fit("abc", 0) == ""


def names_model() -> RunModel:
    m = RunModel()
    apply(m, {"event": "run_start", "t": 0.0})
    for i, name in enumerate(NAMES, 1):
        apply(
            m,
            {
                "event": "task_created",
                "t": 0.001 * i,
                "id": i,
                "name": name,
                "coro": f"co\t{name}",
                "file": "/p.py",
                "line": 3,
            },
        )
        # the model names a task created as "" Task-N (model.py); a rename to "" stays ""
        apply(m, {"event": "task_renamed", "t": 0.01 * i, "id": i, "name": name})
    steps = [[i, 0.1, 0.01, f"q.get({name})", "/p.py", 4] for i, name in enumerate(NAMES, 1)]
    apply(m, {"event": "steps", "t": 0.5, "steps": steps})
    for i in range(1, len(NAMES) + 1):
        text = f"{i}\tsays \x1b[2J\x9b2J\u202ehi\u2066\n"
        apply(m, {"event": "output", "t": 0.6, "stream": "stdout", "text": text, "task": i})
    return m


class Host(App):
    def compose(self) -> ComposeResult:
        yield TaskTable(id="tasks")
        yield OutputPane(id="out")


async def test_task_table_cells_keep_their_width_whatever_the_name() -> None:
    app = Host()
    async with app.run_test(size=(140, 40)) as pilot:  # the whole (grown) row on screen
        table = app.query_one(TaskTable)
        m = names_model()
        table.show(m)
        table.sync(m.now)
        await pilot.pause()
        # the name and coroutine columns grew to the longest names (within their bound)
        widths = [table.widths[key] + 1 for key, _label, _width in COLUMNS]
        for y in range(len(NAMES) + 1):
            strip = table.render_line(y)
            text = strip.text
            assert hidden(text) == [], (y, text)
            # one segment per cell (plus the padding to the pane's width), each its width
            cells = [seg for seg in strip if seg.text][: len(COLUMNS)]
            assert [cell_len(seg.text) for seg in cells] == widths, (y, text)
        assert table.get_cell(5, "name") == "tab\\there\\nnewline"
        assert table.get_cell(5, "coro").startswith("co\\t")
        assert table.get_cell(7, "awaits").startswith("q.get(e")
        assert hidden(table.get_cell(7, "awaits")) == []
        # the empty name: a dim placeholder, not a blank cell
        empty = [seg for seg in table.render_line(NAMES.index("") + 1) if seg.text][0]
        assert empty.text.startswith(NO_NAME) and empty.style is not None and empty.style.dim


async def test_output_pane_keeps_escapes_and_bidi_off_the_terminal() -> None:
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(OutputPane)
        m = names_model()
        pane.show(m, "/p.py")
        await pilot.pause()
        assert pane.row_count == len(NAMES)
        for row in range(len(NAMES)):
            segments = list(pane._row_strip(row, pane.rich_style))
            assert cell_len(segments[0].text) == pane.task_column  # the task column keeps its width
            text = "".join(seg.text for seg in segments)
            assert hidden(text) == [], (row, text)
            assert text.endswith("says ?[2J?2J?hi?")
        pane.set_filter(5)
        await pilot.pause()
        note = "".join(seg.text for seg in pane._row_strip(0, pane.rich_style))
        assert hidden(note) == [] and "tab\\there" in note


async def test_output_pane_scrolls_to_the_end_of_a_wide_line() -> None:
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(OutputPane)
        m = RunModel()
        apply(m, {"event": "run_start", "t": 0.0})
        line = "下载" * 100 + "\t|end"
        apply(m, {"event": "output", "t": 0.1, "stream": "stdout", "text": line + "\n"})
        pane.show(m, "/p.py")
        await pilot.pause()
        drawn = pane._row_strip(0, pane.rich_style).cell_length
        assert drawn == TASK_WIDTH + 400 + 8 + 4
        assert pane.virtual_size.width >= drawn  # the end can be scrolled into view
