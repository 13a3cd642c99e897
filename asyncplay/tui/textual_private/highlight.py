"""Pygments highlighting for Textual's TextArea: the one module touching its private map.

TextArea highlights publicly only through tree-sitter. It renders from a private map,
``_highlights``: line index -> ``[(start byte, end byte or None, highlight name)]``, which
it rebuilds in ``_build_highlight_map`` after every edit. We replace that method: an edit
keeps the old map (stale for a moment) and schedules a re-lex after a short pause in
typing; the lexing runs in a thread on a snapshot of the text, so even a 2,000-line buffer
never makes a keystroke wait. Textual is pinned to the minor range this was tested on, and
``tests/test_tui_highlight.py`` fails loudly if any of these private names move.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import TYPE_CHECKING

from pygments.lexers.python import PythonLexer
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    String,
    _TokenType,
)

if TYPE_CHECKING:
    from textual.widgets import TextArea

#: The private TextArea attributes this module relies on (checked by a test).
PRIVATE_NAMES = ("_highlights", "_build_highlight_map", "_line_cache")

DEBOUNCE = 0.25  # seconds of quiet typing before the buffer is lexed again

Highlight = tuple[int, "int | None", str]

# Most specific first: the first token type the token is a child of wins.
_NAMES: tuple[tuple[_TokenType, str], ...] = (
    (String.Doc, "string.documentation"),
    (String, "string"),
    (Comment, "comment"),
    (Keyword.Constant, "boolean"),
    (Keyword.Namespace, "include"),
    (Keyword, "keyword"),
    (Operator.Word, "keyword.operator"),
    (Operator, "operator"),
    (Number.Float, "float"),
    (Number, "number"),
    (Name.Builtin.Pseudo, "variable.builtin"),
    (Name.Builtin, "function.call"),
    (Name.Exception, "type.builtin"),
    (Name.Function, "function"),
    (Name.Class, "class"),
    (Name.Decorator, "function"),
)


def highlight_name(token: _TokenType) -> str | None:
    """The TextArea theme's highlight name for a Pygments token type (None: plain)."""
    for parent, name in _NAMES:
        if token in parent:
            return name
    return None


def lex(text: str) -> dict[int, list[Highlight]]:
    """The highlight map of ``text``: per line, (start byte, end byte, name) ranges.

    Columns are UTF-8 byte offsets, as TextArea expects: tree-sitter counts bytes.
    """
    lines: dict[int, list[Highlight]] = defaultdict(list)
    row = 0
    col = 0  # byte column in the current row
    cache: dict[_TokenType, str | None] = {}
    lexer = PythonLexer(stripnl=False, ensurenl=False)
    for token, value in lexer.get_tokens(text):
        name = cache.get(token, "")
        if name == "":
            name = cache[token] = highlight_name(token)
        parts = value.split("\n")
        for i, part in enumerate(parts):
            if i:
                row += 1
                col = 0
            width = len(part) if part.isascii() else len(part.encode("utf-8"))
            if name is not None and width:
                spans = lines[row]
                if spans and spans[-1][1] == col and spans[-1][2] == name:
                    spans[-1] = (spans[-1][0], col + width, name)  # one span per string
                else:
                    spans.append((col, col + width, name))
            col += width
    return lines


class PygmentsHighlighter:
    """Keeps one TextArea's private highlight map fed from Pygments."""

    def __init__(self, text_area: TextArea, debounce: float = DEBOUNCE) -> None:
        self.text_area = text_area
        self.debounce = debounce
        self.generation = 0  # bumped on every edit: results for older text are dropped
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self.lexed = 0  # how many times a result was applied (tests, bench)
        text_area._build_highlight_map = self._on_edit  # type: ignore[method-assign]

    def _on_edit(self) -> None:
        """Replaces TextArea._build_highlight_map: keep the old map, re-lex soon."""
        self.text_area._line_cache.clear()
        self.generation += 1
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(self.debounce, self._start)

    def _start(self) -> None:
        self._timer = None
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(self.relex())

    async def relex(self) -> None:
        """Lex the current text in a thread; apply the result if no edit came meanwhile."""
        generation = self.generation
        text = self.text_area.text
        result = await asyncio.to_thread(lex, text)
        if generation == self.generation:
            self.apply(result)

    def apply(self, result: dict[int, list[Highlight]]) -> None:
        ta = self.text_area
        highlights = ta._highlights
        highlights.clear()
        highlights.update(result)
        ta._line_cache.clear()
        ta.refresh()
        self.lexed += 1

    def relex_now(self) -> None:
        """Lex synchronously (tests, and anything that must not paint plain text once)."""
        self.generation += 1
        self.apply(lex(self.text_area.text))

    def relex_soon(self) -> None:
        """Lex a new document at once, in the thread: the first paint does not wait for it."""
        self.generation += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._start()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()


__all__ = ["DEBOUNCE", "PRIVATE_NAMES", "PygmentsHighlighter", "highlight_name", "lex"]
