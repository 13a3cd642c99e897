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

Focus has the same race. The App picks each key's widget (the focused one) when it takes the
key off its queue, but a Tab moves focus only when the focused Input handles it, in the
Input's own queue, by which time the App has routed the rest of the burst to that same
Input: ``Tab Tab End BS 0.25`` typed ``0.25`` into the first field (Settings, F9). So a key
that reaches such a widget after focus has left it is passed on to the widget focused now
(``Widget._forward_event``, private too, tested the same way). Every key of a burst travels
that chain in order, so each lands where focus is after the keys typed before it. The chain
holds as long as each focus stop is an ``InOrderKeys`` leaf (Input, Select, Button here); a
container must not be a focus stop (it would take keys bubbling from its children).

Not covered (the App routes keys before these take effect; only the App could wait): focus
moved by ``Widget.focus()``, which Textual defers to the App's queue (a Select's menu opening
on Enter, a dialog or the find bar focusing its field on open), and an Enter whose
``Submitted`` message closes a dialog: keys typed right after those may be lost.
"""

from __future__ import annotations

from typing import cast

from textual import events
from textual.widget import Widget
from textual.widgets import Button, Input, Select

#: The private Textual name this module relies on (checked by a test).
PRIVATE_CHECK = "_check_bindings"
PRIVATE_FORWARD = "_forward_event"


def pass_on(widget: Widget, event: events.Key) -> bool:
    """Hand ``event`` to the focused widget if focus left ``widget``; True if it did.

    The key was routed here before an earlier key of the burst moved focus (see the module
    doc): it belongs to the widget focused now, and goes there behind the keys passed on
    before it, so the order holds.
    """
    target = widget.app.focused
    if target is None or not widget.is_attached:
        return False
    if target is widget or widget in target.ancestors:
        return False  # focused here, or a key bubbling up from the focused child
    event.stop()
    event.prevent_default()
    getattr(target, PRIVATE_FORWARD)(events.Key(event.key, event.character))
    return True


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


class InOrderKeys:
    """Mixin for a focusable widget: its keys take effect in typing order (module doc).

    A key that arrives after focus left is passed on; a key that is not text runs its
    binding here, not after a bubble. List it before the widget class:
    ``class InOrderSelect(InOrderKeys, Select[str])``.
    """

    async def _on_key(self, event: events.Key) -> None:
        widget = cast(Widget, self)
        if pass_on(widget, event) or await run_binding_now(widget, event):
            return
        await super()._on_key(event)  # type: ignore[misc]


class InOrderInput(InOrderKeys, Input):
    """An Input whose keys, backspace/arrows/home/end and those after a Tab included, take
    effect in typing order (see module doc)."""


class InOrderSelect(InOrderKeys, Select[str]):
    """A Select that passes on keys typed after a Tab in the same burst."""


class InOrderButton(InOrderKeys, Button):
    """A Button that passes on keys typed after a Tab in the same burst."""
