"""Keys in the order they were typed: the one module using Textual's private binding check.

Textual 8.2 runs a focused widget's own key handler (TextArea and Input insert printable
characters there) as soon as the key reaches the widget, but runs the widget's *bindings*
(backspace, arrows, home/end, ...) only when the Key event has bubbled, one message-queue hop
per DOM level, back up to the App (``App._on_key`` -> ``App._check_bindings``). The App's
queue already holds the rest of a burst (over SSH keys arrive many to a read), so every
character typed after a Backspace is inserted before that Backspace runs: ``abc BS BS xy BS z``
became ``abc``; ``ab Left x`` became ``abx`` + Left.

The fix: a text widget runs the binding for a non-printable key itself, in its own handler,
with the very check the App would have made on the bubble, and stops the event. Same
bindings, same chain (focused widget up to the App), no queue hop. ``App._check_bindings`` is
private: ``tests/test_tui_keyfix.py`` fails loudly if it moves or changes its signature.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget
from textual.widgets import Input

#: The private Textual name this module relies on (checked by a test).
PRIVATE_CHECK = "_check_bindings"


async def run_binding_now(widget: Widget, event: events.Key) -> bool:
    """Run the binding ``event`` would reach after bubbling, now; True if one ran.

    Printable keys are left alone: the widget inserts them itself (that is Textual's order
    too: a printable key a text widget consumes never reaches an App binding).
    """
    if event.is_printable:
        return False
    check = getattr(widget.app, PRIVATE_CHECK)
    if await check(event.key):
        event.stop()
        event.prevent_default()
        return True
    return False


class InOrderInput(Input):
    """An Input whose backspace/arrows/home/end run in typing order (see module doc)."""

    async def _on_key(self, event: events.Key) -> None:
        if await run_binding_now(self, event):
            return
        await super()._on_key(event)
