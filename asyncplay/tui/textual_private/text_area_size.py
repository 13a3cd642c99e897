"""A keystroke in the editor without a layout of the whole screen: the one module touching
TextArea's private ``_refresh_size``.

After every edit Textual's TextArea sets its ``virtual_size`` (the longest line's width,
the line count) in ``_refresh_size``. ``virtual_size`` is a reactive that asks for a
layout when it changes, and Textual lays out the whole screen for it: every pane arranged
again and the editor drawn whole, 15-40 ms with a run's views on screen, for each letter
typed at the end of a line (the line got one cell longer). Here the new size is set
without a layout when nothing on screen depends on it: no scrollbar is shown on the axis
that changed, and none will be (the content still fits, a scrollbar's width to spare);
the editor is repainted. Otherwise (a scrollbar's thumb moves, one comes or goes) it is
Textual's own ``_refresh_size``, layout and all.

``_refresh_size`` is private: Textual is pinned to the minor range this was tested on, and
``tests/test_tui_editor_size.py`` fails loudly if it moves or stops setting the size.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.geometry import Size
from textual.widgets import TextArea

__all__ = ["PRIVATE_NAMES", "refresh_size"]

#: The private TextArea name this module relies on (checked by a test).
PRIVATE_NAMES = ("_refresh_size",)


def refresh_size(area: TextArea, textual_refresh: Callable[[], None]) -> bool:
    """``area``'s virtual size after an edit, set without a layout when no scrollbar
    depends on it; else ``textual_refresh()`` (Textual's, with its layout). True when it
    was set quietly."""
    if area.soft_wrap or not area.container_size:
        textual_refresh()
        return False
    width, height = area.document.get_size(area.indent_width)
    new = Size(width + area.gutter_width + 1, height)  # +1: the cursor after a line's end
    old = area.virtual_size
    room_w, room_h = area.container_size
    styles = area.styles
    width_quiet = new.width == old.width or (
        not area.show_horizontal_scrollbar
        and max(new.width, old.width) <= room_w - styles.scrollbar_size_vertical
    )
    height_quiet = new.height == old.height or (
        not area.show_vertical_scrollbar
        and max(new.height, old.height) <= room_h - styles.scrollbar_size_horizontal
    )
    if not (width_quiet and height_quiet):
        textual_refresh()
        return False
    if new != old:
        area.set_reactive(TextArea.virtual_size, new)
        area.refresh()
    return True
