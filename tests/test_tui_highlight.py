"""Pygments highlighting through TextArea's private highlight map, and the gutter marks.

If Textual renames or reshapes ``_highlights`` / ``_build_highlight_map`` / ``_line_cache``,
the first test fails with a message that says where to look.
"""

from __future__ import annotations

import inspect
import time

import pytest
from textual.app import App, ComposeResult
from textual.widgets import TextArea
from tui_helpers import wait_for

from asyncplay.tui.panes.editor import CodeEditor
from asyncplay.tui.textual_private import highlight
from asyncplay.tui.textual_private.highlight import PRIVATE_NAMES, highlight_name, lex


def test_the_private_textarea_hook_is_where_we_expect() -> None:
    area = TextArea("x = 1\n")
    for name in PRIVATE_NAMES:
        assert hasattr(area, name), (
            f"TextArea.{name} is gone: asyncplay/tui/textual_private/highlight.py overrides it; "
            "re-check Textual's _text_area.py and the pinned version"
        )
    assert isinstance(area._highlights, dict)
    # The renderer reads (start byte, end byte|None, name) triples per line.
    source = inspect.getsource(TextArea._render_line)
    assert "self._highlights" in source and "byte_to_codepoint" in source, (
        "TextArea._render_line no longer reads _highlights by byte column"
    )
    # Edits call the hook we replace.
    assert "self._build_highlight_map()" in inspect.getsource(TextArea.edit)


def test_lex_names_and_byte_columns() -> None:
    text = 'async def main():\n    s = "héllo"  # note\n    return 1.5\n'
    got = lex(text)
    names = {(row, text_name) for row, spans in got.items() for *_, text_name in spans}
    assert (0, "keyword") in names and (0, "function") in names
    assert (1, "string") in names and (1, "comment") in names
    assert (2, "float") in names
    line = text.splitlines()[1].encode()
    (start, end, _) = next(s for s in got[1] if s[2] == "string")
    assert line[start:end] == '"héllo"'.encode()  # bytes, not characters
    (start, end, _) = next(s for s in got[1] if s[2] == "comment")
    assert line[start:end] == b"# note"


def test_multiline_strings_cover_every_row() -> None:
    got = lex('x = """a\nb\nc"""\n')
    assert [name for *_, name in got[1]] == ["string"]
    assert got[2][0][:2] == (0, 4)


def test_every_name_exists_in_textual_themes() -> None:
    from textual._text_area_theme import TextAreaTheme

    styles = TextAreaTheme.get_builtin_theme("monokai").syntax_styles
    for _token, name in highlight._NAMES:
        assert name in styles, name
    assert highlight_name(highlight.Keyword) == "keyword"


class EditorApp(App):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield CodeEditor(self.text, id="ed")


async def test_highlights_follow_typing_after_a_pause() -> None:
    app = EditorApp("x = 1\n")
    async with app.run_test(size=(80, 24)) as pilot:
        ed = app.query_one(CodeEditor)
        ed.highlighter.debounce = 1.0
        await wait_for(pilot, lambda: ed.highlighter.lexed)  # lexed on mount, in the thread
        assert ed._highlights
        lexed = ed.highlighter.lexed
        await pilot.press(*"# hi")
        assert ed.highlighter.lexed == lexed  # not per keystroke
        await wait_for(pilot, lambda: ed.highlighter.lexed > lexed)
        assert ed.highlighter.lexed == lexed + 1  # once, after the pause
        assert "comment" in {name for *_, name in ed._highlights[0]}


async def test_typing_in_a_2000_line_buffer_does_not_lex_per_key() -> None:
    text = "".join(f"async def f{i}(x):\n    return await g(x, '{i}')\n" for i in range(1000))
    app = EditorApp(text)
    async with app.run_test(size=(80, 24)) as pilot:
        ed = app.query_one(CodeEditor)
        ed.highlighter.debounce = 5.0  # a slow machine must not turn pauses into re-lexes
        lexed = ed.highlighter.lexed
        t0 = time.perf_counter()
        await pilot.press(*"abcdefghij")
        elapsed = time.perf_counter() - t0
        assert ed.highlighter.lexed == lexed
        assert ed.text.startswith("abcdefghij")
        # Generous bound (shared machine): a full lex of this buffer per key would be slower.
        t1 = time.perf_counter()
        lex(text)
        one_lex = time.perf_counter() - t1
        assert elapsed < max(5.0, 10 * one_lex)


async def test_gutter_marks_draw_over_the_line_numbers() -> None:
    app = EditorApp("a = 1\nb = 2\nc = 3\n")
    async with app.run_test(size=(40, 10)) as pilot:
        ed = app.query_one(CodeEditor)
        ed.set_marks({1: {"created"}, 2: {"created", "error"}})
        await pilot.pause()
        row1 = "".join(seg.text for seg in ed.render_line(1))
        row2 = "".join(seg.text for seg in ed.render_line(2))
        row0 = "".join(seg.text for seg in ed.render_line(0))
        assert row1.startswith("2+ b = 2") or row1.lstrip().startswith("2+")
        assert "x" in row2[: ed.gutter_width]
        assert "+" not in row0[: ed.gutter_width] and "x" not in row0[: ed.gutter_width]


@pytest.mark.parametrize("line", ["", "    ", "x"])
def test_lex_handles_small_inputs(line: str) -> None:
    lex(line)
