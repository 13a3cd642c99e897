"""Incremental find and go-to-line for the editor, through TextArea's public API only.

API (for the app):

- ``FindBar(text_area)``: a one-line bar docked at the bottom of its parent, hidden until
  :meth:`FindBar.open` (bind ``ctrl+f``). Each keystroke selects the first match at or after
  the cursor; ``Enter``/``F3`` next, ``shift+F3`` previous (both wrap around), ``Escape``
  hides the bar and gives focus back to the editor with the match still selected. The count
  reads "3 of 12". Matching ignores case unless the query has a capital ("smart case").
  :meth:`FindBar.find_next` / :meth:`FindBar.find_previous` also work while the bar is
  hidden (bind ``F3``/``shift+F3`` on the app to them), reusing the last query.
- ``GotoLineScreen(line_count, current=1)``: a small modal asking for a line number;
  dismisses with the 1-based line (``int``) or ``None``. :func:`goto_line` then moves the
  editor's cursor there and centres it (bind ``ctrl+g``).

Neither key collides with TextArea's own bindings (it uses F5-F7, ctrl+a/e/w/d/x/c/v/u/k/z/y).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, TextArea
from textual.widgets.text_area import Selection

from asyncplay.tui.textual_private.key_order import InOrderInput

__all__ = ["FindBar", "GotoLineScreen", "find_matches", "goto_line"]

Match = tuple[int, int]  # (start, end) offsets into the text


def compile_query(query: str) -> re.Pattern[str] | None:
    """The pattern for ``query``: literal text, case-insensitive unless it has a capital."""
    if not query:
        return None
    flags = 0 if any(ch.isupper() for ch in query) else re.IGNORECASE
    return re.compile(re.escape(query), flags)


def find_matches(text: str, query: str) -> list[Match]:
    """Non-overlapping matches of ``query`` in ``text`` as (start, end) offsets."""
    pattern = compile_query(query)
    if pattern is None:
        return []
    return [m.span() for m in pattern.finditer(text)]


class _Locator:
    """Maps offsets in the editor's text to (row, column) locations and back.

    Built from the document's own lines and newline, so offsets agree with
    ``TextArea.text`` whatever line endings the file had.
    """

    def __init__(self, lines: list[str], newline: str) -> None:
        starts = [0]
        step = len(newline)
        for line in lines[:-1]:
            starts.append(starts[-1] + len(line) + step)
        self.starts = starts

    def location(self, offset: int) -> tuple[int, int]:
        row = bisect_right(self.starts, offset) - 1
        return (row, offset - self.starts[row])

    def offset(self, location: tuple[int, int]) -> int:
        row, column = location
        row = min(max(row, 0), len(self.starts) - 1)
        return self.starts[row] + column


class FindBar(Horizontal):
    """A docked, incremental find bar driving a :class:`~textual.widgets.TextArea`."""

    DEFAULT_CSS = """
    FindBar {
        dock: bottom;
        height: 1;
        display: none;
        background: $panel;
    }
    FindBar.-open {
        display: block;
    }
    FindBar > Label.find-prompt {
        width: auto;
        padding: 0 1;
    }
    FindBar > Input {
        width: 1fr;
    }
    FindBar > Label.find-count {
        width: auto;
        min-width: 12;
        padding: 0 1;
        color: $text-muted;
    }
    FindBar > Label.find-count.-none {
        color: $text-error;
    }
    """

    BINDINGS = [
        Binding("f3,down", "next", "Next match", show=True),
        Binding("shift+f3,up", "previous", "Previous match", show=True),
        Binding("escape", "close", "Close find", show=True),
    ]

    def __init__(
        self,
        text_area: TextArea,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.text_area = text_area
        self.query_text = ""
        self._matches: list[Match] = []
        self._starts: list[int] = []  # each match's start, for bisection
        self._text: str | None = None  # the editor text the matches were computed on
        self._locator: _Locator | None = None

    def compose(self) -> ComposeResult:
        yield Label("Find:", classes="find-prompt")
        yield InOrderInput(placeholder="text to find", compact=True, id="find-input")
        yield Label("", classes="find-count")

    @property
    def input(self) -> Input:
        return self.query_one("#find-input", Input)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    @property
    def count(self) -> tuple[int | None, int]:
        """(1-based number of the match the editor has selected, or None; match count)."""
        self._refresh_matches()
        return (self._selected_index(), len(self._matches))

    def _selected_index(self) -> int | None:
        """1-based number of the match equal to the editor's selection, if it is one."""
        if self._locator is None or not self._matches:
            return None
        selection = self.text_area.selection
        span = (self._locator.offset(min(selection)), self._locator.offset(max(selection)))
        index = bisect_left(self._starts, span[0])
        if index < len(self._matches) and self._matches[index] == span:
            return index + 1
        return None

    # -- opening and closing ---------------------------------------------------------

    def open(self) -> None:
        """Show the bar and focus it; a one-line selection in the editor becomes the query."""
        selected = self.text_area.selected_text
        self.add_class("-open")
        field = self.input
        if selected and "\n" not in selected:
            field.value = selected  # fires Changed: selects the match at the cursor
        field.focus()
        field.select_all()
        self._update_count()

    def action_close(self) -> None:
        self.remove_class("-open")
        self.text_area.focus()

    # -- searching ---------------------------------------------------------------------

    @on(Input.Changed, "#find-input")
    def _query_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_text = event.value
        self._text = None  # recompute for the new query
        # From the selection's start, so typing on grows the match under the cursor.
        self._select_from(min(self.text_area.selection), forward=True)

    @on(Input.Submitted, "#find-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.find_next()

    def action_next(self) -> None:
        self.find_next()

    def action_previous(self) -> None:
        self.find_previous()

    def find_next(self) -> bool:
        """Select the next match after the cursor (wrapping); False when there is none."""
        return self._select_from(max(self.text_area.selection), forward=True)

    def find_previous(self) -> bool:
        """Select the match before the selection (wrapping); False when there is none."""
        return self._select_from(min(self.text_area.selection), forward=False)

    def _refresh_matches(self) -> None:
        text = self.text_area.text
        if text == self._text:
            return
        document = self.text_area.document
        self._text = text
        self._locator = _Locator(list(document.lines), document.newline)
        self._matches = find_matches(text, self.query_text)
        self._starts = [start for start, _end in self._matches]

    def _select_from(self, location: tuple[int, int], *, forward: bool) -> bool:
        """Select the first match starting at/after (or the last before) ``location``."""
        self._refresh_matches()
        matches, locator = self._matches, self._locator
        if not matches or locator is None:
            self._update_count()
            return False
        if forward:
            # Typing keeps the match under the cursor; "next" starts after the selection.
            threshold = locator.offset(location)
            index = bisect_left(self._starts, threshold) % len(matches)
        else:
            index = bisect_left(self._starts, locator.offset(location)) - 1  # -1 wraps
        start, end = matches[index]
        self.text_area.selection = Selection(locator.location(start), locator.location(end))
        self.text_area.scroll_cursor_visible(center=True)
        self._update_count()
        return True

    def _update_count(self) -> None:
        if not self.is_mounted:
            return
        label = self.query_one(".find-count", Label)
        current, found = self.count if self.query_text else (None, 0)
        if not self.query_text:
            text = ""
        elif not found:
            text = "no matches"
        else:
            text = f"{current or '-'} of {found}"
        label.update(text)
        label.set_class(bool(self.query_text) and not found, "-none")


def goto_line(text_area: TextArea, line: int) -> None:
    """Put the cursor at the start of 1-based ``line`` (clamped) and centre it."""
    row = min(max(line, 1), text_area.document.line_count) - 1
    text_area.move_cursor((row, 0), center=True)


class GotoLineScreen(ModalScreen[int | None]):
    """Ask for a line number; dismiss with it (1-based) or None on Escape."""

    DEFAULT_CSS = """
    GotoLineScreen {
        align: center middle;
    }
    GotoLineScreen > Vertical {
        width: 40;
        height: auto;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    GotoLineScreen Label {
        width: 100%;
    }
    GotoLineScreen Label.error {
        color: $text-error;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, line_count: int, current: int = 1) -> None:
        super().__init__()
        self.line_count = max(1, line_count)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Go to line (1-{self.line_count}):")
            yield InOrderInput(value=str(self.current), compact=True, id="line-input")
            yield Label("", classes="error", id="line-error")

    def on_mount(self) -> None:
        self.query_one("#line-input", Input).focus()

    @on(Input.Submitted, "#line-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        error = self.query_one("#line-error", Label)
        if not text.isdigit():
            error.update("Type a line number, e.g. 12")
            return
        line = int(text)
        if not 1 <= line <= self.line_count:
            error.update(f"No line {line}: the file has {self.line_count}")
            return
        self.dismiss(line)

    def action_cancel(self) -> None:
        self.dismiss(None)
