"""Keys typed in a burst are applied in typing order (tui/keyfix.py).

A terminal read delivers many keys at once; the driver posts them all to the App before the
first is handled. Posting Key events back to back without a pause is exactly that.
"""

from __future__ import annotations

import inspect

import pytest
from textual import events
from textual.app import App
from textual.widgets import Input

from asyncplay import storage
from asyncplay.tui import keyfix
from asyncplay.tui.app import AsyncplayApp

pytestmark = pytest.mark.usefixtures("home")


def burst(app: App, keys: str) -> None:
    """One terminal read's worth of keys: posted together, no pause between them."""
    for key in keys.split():
        char = key if len(key) == 1 else {"backspace": "\x7f", "enter": "\r"}.get(key)
        app.post_message(events.Key(key, char))


def test_the_private_binding_check_is_where_we_expect() -> None:
    check = getattr(App, keyfix.PRIVATE_CHECK, None)
    assert check is not None, "Textual moved App._check_bindings: update tui/keyfix.py"
    assert inspect.iscoroutinefunction(check)
    assert list(inspect.signature(check).parameters)[:3] == ["self", "key", "priority"]


async def test_editor_applies_a_burst_with_backspaces_and_arrows_in_order():
    app = AsyncplayApp(storage.Autosave(text=""))
    async with app.run_test(size=(80, 24)) as pilot:
        app.editor.focus()
        await pilot.pause()
        burst(app, "a b c backspace backspace x y backspace z enter a b left x enter q")
        await pilot.pause(0.3)
        assert app.editor.text == "axz\nax\nqb"


async def test_settings_field_applies_a_burst_in_order():
    app = AsyncplayApp(storage.Autosave(text="x\n"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f9")
        await pilot.pause(0.2)
        field = app.screen.query_one("#f-timeout", Input)
        field.value = "3"
        field.focus()
        await pilot.pause()
        burst(app, "end backspace backspace 1 2")
        await pilot.pause(0.3)
        assert field.value == "12"
