"""A line-API view's scrolling extent changed without a layout of the whole screen.

The output pane, the task table, the timeline and the graph draw their own lines
(``render_line``) over a ``virtual_size``: how far they scroll. Textual treats a new
virtual size as a new layout: every pane on the screen arranged again and drawn again,
15-40 ms with a run's views on screen, and it came a tick at a time while a run adds
tasks or lines. Only public Textual API here (``set_reactive``, the scrollbars'
``window_virtual_size``, which a layout would set to the same).
"""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView

__all__ = ["set_virtual_size"]


def _bar_shown(overflow: str, extent: int, room: int, bar: int) -> bool | None:
    """Whether a scrollbar shows for ``extent`` in ``room`` (None: too near to say, the
    other scrollbar's width could decide it)."""
    if overflow in ("scroll", "hidden"):
        return overflow == "scroll"
    if room - bar < extent <= room:
        return None
    return extent > room


def set_virtual_size(view: ScrollView, size: Size) -> None:
    """``view.virtual_size = size`` without a layout of the whole screen when the
    scrollbars stay as they are: Textual lays every pane out again for a new virtual
    size (15-40 ms with a run's views on screen), a tick at a time while a run adds tasks
    or lines. A line-API view's virtual size is only its scrolling extent: set quietly,
    the shown scrollbars told their new extent (what the layout would tell them), the
    view repainted. A scrollbar that would come or go takes Textual's layout."""
    old = view.virtual_size
    if size == old:
        return
    room_w, room_h = view.container_size
    styles = view.styles
    bar_w, bar_h = styles.scrollbar_size_vertical, styles.scrollbar_size_horizontal
    shown = (view.show_horizontal_scrollbar, view.show_vertical_scrollbar)
    would = (
        _bar_shown(styles.overflow_x, size.width, room_w, bar_w),
        _bar_shown(styles.overflow_y, size.height, room_h, bar_h),
    )
    if not room_w or not room_h or would != shown:
        view.virtual_size = size
        return
    view.set_reactive(ScrollView.virtual_size, size)
    if shown[1]:
        view.vertical_scrollbar.window_virtual_size = size.height
    if shown[0]:
        view.horizontal_scrollbar.window_virtual_size = size.width
    view.refresh()
