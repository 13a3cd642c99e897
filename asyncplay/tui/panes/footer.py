"""The footer: Textual's, but what does not fit is left out whole, least useful first.

Textual's footer lays every shown key in a row and lets the terminal's edge cut the last
one mid-word (``f4 Timelin▏`` at 80 columns). Here the keys are ranked: the app's first
few (``first``: quit, run, stop, help), then the keys of the focused pane (the stdin
line's EOF, the find bar's), then the app's others in the order given, the command
palette's key last (Ctrl+P works all the same). Keys that do not fit are dropped.

Textual's footer yields ``FooterKey`` widgets, a class it does not export: they are told
by what each carries (``action``, ``key_display``, ``description``); a test pins this.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

__all__ = ["FitFooter", "key_width"]


def _is_key(widget: Widget) -> bool:
    return all(hasattr(widget, name) for name in ("action", "key_display", "description"))


def key_width(key: Widget, compact: bool) -> int:
    """Cells a key takes in the footer: `` f5 Run `` (compact: ``f5 Run`` and a gap)."""
    display, description = str(key.key_display), str(key.description or "")  # type: ignore[attr-defined]
    label = cell_len(display) + cell_len(description)
    return label + 2 if compact else label + 3


class FitFooter(Footer):
    """``order``: the app's shown actions, most useful first; the first ``first`` of them
    go before the focused pane's own keys."""

    def __init__(self, order: Iterable[str], first: int = 4, **kwargs) -> None:
        super().__init__(**kwargs)
        self.order = tuple(order)
        self.first = first

    def rank(self, action: str) -> int:
        if action not in self.order:
            return self.first  # the focused pane's own keys
        index = self.order.index(action)
        return index if index < self.first else index + 1

    def compose(self) -> ComposeResult:
        items: list[Widget] = list(super().compose())
        keys = [w for w in items if _is_key(w)]
        if len(keys) != len(items):  # grouped keys (none in asyncplay): Textual's way
            yield from items
            return
        room = self.size.width
        kept: set[int] = set()
        ranked = sorted(
            (k for k in keys if not k.has_class("-command-palette")),
            key=lambda k: self.rank(str(k.action)),  # type: ignore[attr-defined]
        )
        palette = [k for k in keys if k.has_class("-command-palette")]
        for key in ranked + palette:
            width = key_width(key, self.compact)
            if key.has_class("-command-palette"):
                width += 1  # its left border
            if width <= room:
                room -= width
                kept.add(id(key))
        for key in keys:
            if id(key) in kept:
                yield key
