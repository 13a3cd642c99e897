"""The code editor: TextArea with Pygments colours, auto-indent and the run's line marks."""

from __future__ import annotations

from dataclasses import replace

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widgets import TextArea

from asyncplay.tui.textual_private.highlight import PygmentsHighlighter
from asyncplay.tui.textual_private.key_order import run_binding_now
from asyncplay.tui.textual_private.text_area_size import refresh_size
from asyncplay.views.gutter_marks import GUTTER

# Gutter marks (kinds and glyphs from tui/marks.py), strongest last: a line with several
# shows the last that applies.
_MARK_ORDER = tuple(kind for kind, _glyph, _style, _meaning in GUTTER)
_MARK_GLYPH = {kind: (glyph, Style.parse(style)) for kind, glyph, style, _meaning in GUTTER}

INDENT = 4
#: The line the next task resumes at while a run is paused, over the syntax colours.
PAUSED_LINE = Style(bgcolor="#5f5f00")
_OPENERS = ("(", "[", "{", ":")


def _editor_bindings() -> list:
    """TextArea's keys minus F6 and F7 (select line / select all): the app runs and stops
    on function keys, and a stray F7 must never select the whole buffer for the next
    keystroke to replace."""
    taken = {"f6", "f7"}
    out = []
    for binding in TextArea.BINDINGS:
        keys = [k for k in binding.key.split(",") if k.strip() not in taken]  # type: ignore[union-attr]
        if keys:
            out.append(replace(binding, key=",".join(keys)))  # type: ignore[arg-type]
    return out


class CodeEditor(TextArea, inherit_bindings=False):
    """A Python editor: 4-space indents, auto-indent on Enter, marks in the gutter.

    Lines never wrap, so screen row + scroll offset is the document line, which lets the
    marks be drawn over the public ``render_line`` instead of TextArea's internals.
    """

    BINDINGS = [
        *_editor_bindings(),
        # TextArea 8.2 has no whole-document keys: every editor's Ctrl+Home / Ctrl+End.
        Binding("ctrl+home", "document_edge(0)", "Start of file", show=False),
        Binding("ctrl+end", "document_edge(1)", "End of file", show=False),
    ]

    DEFAULT_CSS = """
    CodeEditor { border: none; padding: 0; }
    """

    class GutterClicked(Message):
        """A click on the gutter of a marked line: ``line`` is 1-based, ``kinds`` the
        line's marks (``tui/marks.py``: created, warning, error, selected)."""

        def __init__(self, line: int, kinds: frozenset[str]) -> None:
            super().__init__()
            self.line = line
            self.kinds = kinds

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(
            text,
            language=None,
            soft_wrap=False,
            tab_behavior="indent",
            show_line_numbers=True,
            id=id,
        )
        self.indent_width = INDENT
        self.indent_type = "spaces"
        self.marks: dict[int, str] = {}  # 0-based line -> strongest mark kind
        self.mark_kinds: dict[int, frozenset[str]] = {}  # 0-based line -> all its kinds
        self.paused_line: int | None = None  # 0-based: highlighted while a run is paused
        self.highlighter = PygmentsHighlighter(self)

    def on_mount(self) -> None:
        self.highlighter.relex_soon()

    def _refresh_size(self) -> None:
        """After an edit: no layout of the whole screen for a line one cell longer
        (``textual_private/text_area_size.py``)."""
        refresh_size(self, super()._refresh_size)

    def on_unmount(self) -> None:
        self.highlighter.close()

    def load(self, text: str, cursor: tuple[int, int] = (0, 0)) -> None:
        """Replace the whole buffer (a new file or snippet): new undo history too."""
        if text == self.text and not self.history.undo_stack:
            self.move_to(cursor)
            return
        self.load_text(text)
        self.highlighter.relex_soon()
        self.move_to(cursor)

    def move_to(self, cursor: tuple[int, int]) -> None:
        """Put the cursor at (row, column), clamped to the text, centred on screen."""
        row = min(max(cursor[0], 0), self.document.line_count - 1)
        col = min(max(cursor[1], 0), len(self.document.get_line(row)))
        self.move_cursor((row, col))
        self._centre(row)

    def _centre(self, row: int) -> None:
        """Scroll ``row`` to the middle (TextArea's own centring also scrolls sideways)."""
        height = self.scrollable_content_region.height
        if not height:  # not laid out yet: scrolling now would scroll for a 0x0 view
            self.call_after_refresh(self._centre, row)
            return
        self.scroll_to(x=0, y=max(0, row - height // 2), animate=False, immediate=True)
        self.scroll_cursor_visible()

    def set_marks(self, marks: dict[int, set[str]]) -> None:
        """Mark lines (0-based) with kinds; only redraws when the marks changed."""
        flat = {}
        for line, kinds in marks.items():
            for kind in _MARK_ORDER:
                if kind in kinds:
                    flat[line] = kind
        self.mark_kinds = {line: frozenset(kinds) for line, kinds in marks.items() if kinds}
        if flat != self.marks:
            self.marks = flat
            self.refresh()

    def set_paused_line(self, line: int | None) -> None:
        """Highlight ``line`` (0-based; None: none), where the next task resumes, and
        scroll it into view if it is not (the cursor stays where the user left it)."""
        if line == self.paused_line:
            return
        self.paused_line = line
        self.refresh()
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        if line is not None and height and not top <= line < top + height:
            self.scroll_to(y=max(0, line - height // 2), animate=False, immediate=True)

    def on_click(self, event: events.Click) -> None:
        """A click on a marked line's gutter says so (the app explains a warning there);
        TextArea has already put the cursor on that line."""
        x = event.x - self.gutter.left
        if not 0 <= x < self.gutter_width:
            return
        line = event.y - self.gutter.top + self.scroll_offset.y  # lines never wrap
        kinds = self.mark_kinds.get(line)
        if kinds and line < self.document.line_count:
            self.post_message(self.GutterClicked(line + 1, kinds))

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        line = y + self.scroll_offset.y
        if line == self.paused_line:
            strip = Strip(
                [Segment(t, (s or Style()) + PAUSED_LINE, c) for t, s, c in strip],
                strip.cell_length,
            )
        if not self.marks:
            return strip
        kind = self.marks.get(line)
        width = self.gutter_width
        if kind is None or width < 3 or line >= self.document.line_count:
            return strip
        glyph, style = _MARK_GLYPH[kind]
        mark = Strip([Segment(glyph, style)], 1)
        return Strip.join([strip.crop(0, width - 2), mark, strip.crop(width - 1)])

    async def _on_key(self, event: events.Key) -> None:
        """Enter keeps the line's indentation, one level more after ``:`` or an opener."""
        if event.key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            start, end = self.selection
            row, col = min(start, end)
            line = self.document.get_line(row)[:col]
            indent = len(line) - len(line.lstrip(" "))
            if line.rstrip().endswith(_OPENERS):
                indent = (indent // INDENT + 1) * INDENT
            self.replace("\n" + " " * indent, start, end, maintain_selection_offset=False)
            return
        if event.key == "backspace" and not self.read_only and self._dedent():
            event.stop()
            event.prevent_default()
            return
        # Tab indents and Escape leaves in TextArea's own handler; every other key that is
        # not text runs its binding here, in typing order (see tui/keyfix.py).
        if event.key not in ("tab", "escape") and await run_binding_now(self, event):
            return
        await super()._on_key(event)

    def action_document_edge(self, end: int) -> None:
        self.move_cursor(self.document.end if end else (0, 0), center=False)
        self.scroll_cursor_visible()

    def _dedent(self) -> bool:
        """Backspace in leading spaces goes back to the previous indent stop."""
        start, end = self.selection
        if start != end:
            return False
        row, col = end
        before = self.document.get_line(row)[:col]
        if col == 0 or before.strip(" "):
            return False
        stop = (col - 1) // INDENT * INDENT
        self.replace("", (row, stop), (row, col), maintain_selection_offset=False)
        return True
