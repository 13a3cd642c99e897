"""The stepping panel under the editor: why the run paused, the ready queue, the timers,
and what the last step did (that part stands out). Shown only while the run is paused.

It renders rows given by ``views/stepping.panel_rows``; it decides nothing.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

__all__ = ["SteppingPanel"]

#: How each kind of row is drawn: the last step's rows stand out.
ROW_STYLE = {
    "why": "bold",
    "ready": "",
    "timers": "",
    "step": "bold black on yellow",
    "printed": "black on yellow",
}


class SteppingPanel(Static):
    """``show(rows)``: ``(kind, text)`` rows, one line each (cut at the edge); no rows,
    the panel is hidden."""

    DEFAULT_CSS = """
    SteppingPanel { height: auto; max-height: 6; display: none; background: $boost;
                    padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    SteppingPanel.-paused { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.rows: list[tuple[str, str]] = []

    def show(self, rows: list[tuple[str, str]]) -> None:
        if rows == self.rows:
            return
        self.rows = list(rows)
        self.set_class(bool(rows), "-paused")
        text = Text(no_wrap=True, overflow="ellipsis")
        for n, (kind, line) in enumerate(rows):
            if n:
                text.append("\n")
            text.append(line, style=ROW_STYLE.get(kind, ""))
        self.update(text)

    @property
    def text(self) -> str:
        """What the panel says, as plain text (for tests and copying)."""
        return "\n".join(line for _kind, line in self.rows)
