"""Keys typed in a burst are applied in typing order (tui/keyfix.py).

A terminal read delivers many keys at once; the driver posts them all to the App before the
first is handled. Posting Key events back to back without a pause is exactly that.
"""

from __future__ import annotations

import inspect

import pytest
from textual import events
from textual.app import App
from textual.widget import Widget
from textual.widgets import Input, Select
from tui_helpers import wait_for

from asyncplay import storage
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.screens.settings import SettingsScreen
from asyncplay.tui.textual_private import key_order as keyfix

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
        await wait_for(pilot, lambda: app.editor.text == "axz\nax\nqb")
        assert app.editor.text == "axz\nax\nqb"


async def test_settings_field_applies_a_burst_in_order():
    app = AsyncplayApp(storage.Autosave(text="x\n"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        field = app.screen.query_one("#f-timeout", Input)
        field.value = "3"
        field.focus()
        await pilot.pause()
        burst(app, "end backspace backspace 1 2")
        await wait_for(pilot, lambda: field.value == "12")
        assert field.value == "12"


def test_the_private_forward_is_where_we_expect() -> None:
    forward = getattr(Widget, keyfix.PRIVATE_FORWARD, None)
    assert forward is not None, "Textual moved Widget._forward_event: update tui/keyfix.py"
    assert list(inspect.signature(forward).parameters) == ["self", "event"]


KEY_CHARS = {"tab": "\t", "backspace": "\x7f", "enter": "\r", "full_stop": ".", "space": " "}


def burst_keys(app: App, keys: str) -> None:
    """Like ``burst``, with Tab and the full stop (key names as ``pilot.press`` takes them)."""
    for key in keys.split():
        app.post_message(events.Key(key, key if len(key) == 1 else KEY_CHARS.get(key)))


def fields(app: App) -> dict[str, object]:
    """What a dialog holds: every Input's and Select's value, and where the focus is."""
    values: dict[str, object] = {w.id or "?": w.value for w in app.screen.query(Input)}
    values |= {w.id or "?": w.value for w in app.screen.query(Select)}
    values["focus"] = app.focused.id if app.focused is not None else None
    return values


async def test_settings_tab_burst_lands_in_the_field_tabbed_to() -> None:
    """QA: ``Tab x5 End BS 0 . 2 5`` in one read put 0.25 in Time limit (or Memory) and
    emptied Clock speed: the App had routed the whole burst to the first field."""
    app = AsyncplayApp(storage.Autosave(text="x\n"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f9")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.pause()
        before = fields(app)
        expected = before | {"f-speed": "0.25", "focus": "f-speed"}
        burst_keys(app, "tab tab tab tab tab end backspace 0 full_stop 2 5")
        await wait_for(pilot, lambda: fields(app) == expected)
        after = fields(app)
        assert after == expected


def state_of(app: App) -> dict[str, object]:
    state = fields(app)
    state["editor"] = (app.editor.text[:40], app.editor.cursor_location)  # type: ignore[attr-defined]
    return state


async def run_keys(
    keys: str, *, opener: str, at_once: bool, expect: dict[str, object] | None = None
) -> dict[str, object]:
    """The dialog's state after ``keys``: one at a time (each handled before the next is
    sent), or in one burst, waited on until the state is ``expect`` (the slow typing's)."""
    app = AsyncplayApp(storage.Autosave(text="a = 1\n" * 30))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(opener)  # the dialog (or the find bar) takes the focus
        await wait_for(pilot, lambda: app.focused is not None and app.focused is not app.editor)
        await pilot.pause()
        if at_once:
            burst_keys(app, keys)
            if expect is not None:
                await wait_for(pilot, lambda: state_of(app) == expect)
            await pilot.pause()  # and nothing after it changes the state again
        else:
            for key in keys.split():
                await pilot.press(key)
                await pilot.pause()
        return state_of(app)


@pytest.mark.parametrize(
    ("opener", "keys"),
    [
        # Settings: every field, the Selects, the Buttons and the scroll area, round to the top
        ("f9", "tab " * 15 + "5 tab 6 shift+tab 3"),
        ("f9", "shift+tab 3 tab tab tab tab tab tab tab tab 7 shift+tab 9"),
        ("f12", "end backspace backspace 1 2 left tab 3"),  # Save as: one field
        ("ctrl+g", "end backspace backspace 1 2 tab 5"),  # Go to line: one field
        ("ctrl+f", "a space tab b"),  # Find bar: Tab leaves for the next pane
    ],
)
async def test_a_burst_in_a_dialog_lands_like_slow_typing(opener: str, keys: str) -> None:
    slow = await run_keys(keys, opener=opener, at_once=False)
    fast = await run_keys(keys, opener=opener, at_once=True, expect=slow)
    assert fast == slow
