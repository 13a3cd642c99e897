"""Typing in the editor lays the screen out again only when a scrollbar depends on it.

``textual_private/text_area_size.py`` sets TextArea's virtual size after an edit without a
layout of the whole screen when no scrollbar shows (or would show) on the axis that
changed. These tests pin the private hook (they fail loudly if Textual moves it) and count
the layouts the editor asks for (Widget.refresh's public ``layout`` flag)."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import TextArea

from asyncplay.tui.panes.editor import CodeEditor
from asyncplay.tui.textual_private.text_area_size import PRIVATE_NAMES


def test_the_private_textarea_size_hook_is_where_we_expect() -> None:
    for name in PRIVATE_NAMES:
        assert callable(getattr(TextArea, name, None)), (
            f"Textual's TextArea has no {name} any more: "
            "asyncplay/tui/textual_private/text_area_size.py must follow it"
        )


class EditorApp(App):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield CodeEditor(self.text, id="editor")


def watch_layouts(editor: CodeEditor) -> list[bool]:
    asked: list[bool] = []
    real = editor.refresh

    def refresh(*regions, layout: bool = False, **kwargs):  # noqa: ANN002, ANN003, ANN202
        asked.append(layout)
        return real(*regions, layout=layout, **kwargs)

    editor.refresh = refresh  # type: ignore[method-assign]
    return asked


async def test_typing_at_a_line_end_asks_for_no_layout_but_the_size_follows() -> None:
    app = EditorApp("import asyncio\n\nprint(1)\n")
    async with app.run_test(size=(80, 20)) as pilot:
        editor = app.query_one(CodeEditor)
        editor.focus()
        editor.move_cursor((2, 8))
        await pilot.pause()
        before = editor.virtual_size
        asked = watch_layouts(editor)
        await pilot.press(*"  # one more comment")
        await pilot.pause()
        assert editor.text.splitlines()[2] == "print(1)  # one more comment"
        assert asked and not any(asked)  # repainted, never a layout
        longest = len("print(1)  # one more comment")  # the line's end, and the cursor after it
        assert editor.virtual_size.width == editor.gutter_width + longest + 1 > before.width
        assert editor.virtual_size.height == before.height
        assert not editor.show_horizontal_scrollbar
        line = editor.render_line(2).text  # drawn as typed
        assert "# one more comment" in line


@pytest.mark.parametrize("long", [70, 200])
async def test_a_line_that_needs_a_scrollbar_lays_out_and_gets_one(long: int) -> None:
    app = EditorApp("x = 1\n")
    async with app.run_test(size=(60, 12)) as pilot:
        editor = app.query_one(CodeEditor)
        editor.focus()
        editor.move_cursor((0, 5))
        await pilot.pause()
        asked = watch_layouts(editor)
        editor.insert("0" * long)  # past the pane's width: a horizontal scrollbar
        await pilot.pause()
        assert any(asked)
        await pilot.pause()
        assert editor.show_horizontal_scrollbar
        assert editor.max_scroll_x > 0
