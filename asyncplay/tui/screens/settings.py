"""The settings screen: run limits, interpreter, theme, sandbox, network and clock, saved.

API (for the app)::

    def done(new: Settings | None) -> None:
        if new is not None:
            self.settings = new            # already saved by the screen; theme already applied
    self.push_screen(SettingsScreen(self.settings), done)     # bound to F9

``SettingsScreen(settings)`` dismisses with the new :class:`~asyncplay.storage.Settings`
(after writing it with :func:`~asyncplay.storage.save_settings`) or ``None`` on Escape.
Numbers are checked as they are typed (an inline message beside the field); the Python
field is probed by the service the app hands in (``prober``: ``tui/services/python_probe.py``,
a thread worker, never on the UI thread; the answer comes back as a ``PythonProbed``
message): a screen starts no process. Choosing a theme previews it at once; Escape puts the old theme back.
Enter in a field or ``ctrl+s`` saves. The lab policy's ceilings (docs/sandbox.md) are shown
beside their fields, a value above one is refused, and only the sandbox and network modes it
allows are offered. Note: an App-level ``priority=True`` binding fires
even while a modal screen is up, so the app must yield its priority keys (ctrl+s, F1, ...)
when ``self.screen.is_modal`` (e.g. ``check_action`` returning False), or they win here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select

from asyncplay import policy, storage
from asyncplay.limits import CLOCKS
from asyncplay.storage import Settings
from asyncplay.tui.textual_private.key_order import InOrderButton, InOrderInput, InOrderSelect

__all__ = [
    "CHOICE_NOTES",
    "NUMBER_FIELDS",
    "POLICY_KEYS",
    "POLICY_NAMES",
    "SettingsScreen",
    "above_ceiling",
    "ceiling_note",
    "parse_number",
    "show_number",
]

#: (setting, label, whole number?) for each numeric field, in screen order.
NUMBER_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("timeout", "Time limit (s)", False),
    ("cpu", "CPU time (s)", False),
    ("memory_mib", "Memory (MiB)", True),
    ("output_mib", "Output (MiB)", False),
    ("procs", "Processes", True),
    ("speed", "Clock speed (x)", False),
    ("slow_step_ms", "Slow step (ms)", True),
)

#: What each choice means, shown beside the field.
CHOICE_NOTES = {
    "auto": "the strongest layer available",
    "bwrap": "bubblewrap: own file system view",
    "rlimit": "resource limits only",
    "none": "no sandbox: limits by the session",
    "on": "internet yes, host services no",
    "host": "the machine's network, as python",
    "off": "loopback only",
    "real": "sleeps take real time",
    "virtual": "jumps over idle waits",
}
_PROBE_DELAY = 0.4  # seconds of no typing before the Python field is probed
#: setting -> the lab policy's key for it (``memory_mib`` -> ``memory``).
POLICY_KEYS = {attr: key for key, (attr, _unit, _whole) in policy.LIMITS.items()}

#: the lab policy's key -> how a refused run names the setting behind it.
POLICY_NAMES = {
    **{
        POLICY_KEYS[field]: f"the {label} setting"
        for field, label, _whole in NUMBER_FIELDS
        if field in POLICY_KEYS
    },
    "sandbox": "the Sandbox setting",
    "network": "the Network setting",
}


def _policy() -> policy.Policy:
    try:
        return policy.load()
    except policy.PolicyError:
        # The editor does not start on such a policy (asyncplay/cli/__init__.py) and the session refuses every
        # run; a policy that broke since shows no ceilings here rather than crash the screen.
        return policy.Policy()


def ceiling_note(pol: policy.Policy, name: str) -> str:
    """``at most 2048 (lab policy)`` for a setting the policy caps, else nothing."""
    key = POLICY_KEYS.get(name)
    top = pol.ceiling(key) if key else None
    return f"at most {show_number(top)} (lab policy)" if top is not None else ""


def above_ceiling(pol: policy.Policy, name: str, value: float) -> str | None:
    """The one-line reason ``value`` is refused for setting ``name`` (naming the ceiling and
    its file), or None."""
    key = POLICY_KEYS.get(name)
    if key is None:
        return None
    label = next(label for field, label, _whole in NUMBER_FIELDS if field == name)
    try:
        pol.check(key, value, label)
    except policy.PolicyDenied as exc:
        return str(exc)
    return None


def show_number(value: float) -> str:
    """``30.0`` -> ``"30"``, ``2.5`` -> ``"2.5"``: what a person would type."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def parse_number(text: str, whole: bool) -> int | float | str:
    """The value typed in a numeric field, or a one-line reason it is not usable."""
    text = text.strip()
    if not text:
        return "required"
    try:
        value: int | float = int(text) if whole else float(text)
    except ValueError:
        return "a whole number, e.g. 64" if whole else "a number, e.g. 2.5"
    if value != value or value in (float("inf"), float("-inf")):
        return "a finite number"
    if value <= 0:
        return "must be above 0"
    return value


class _Fields(VerticalScroll, can_focus=False):
    """The scrolling list of fields. Not a Tab stop: focusing a field scrolls it into view,
    and a container taking focus would hold the keys typed after it (tui/keyfix.py)."""


class Prober(Protocol):
    """What probes a ``--python`` for the screen (``PythonProbe``): ``answer(ok, note)`` is
    called later, from another thread."""

    def ask(self, node: DOMNode, text: str, answer: Callable[[bool, str], None]) -> None: ...


OWN_PYTHON = ".".join(map(str, sys.version_info[:3]))  # asyncplay's own: nothing to probe


class SettingsScreen(ModalScreen[Settings | None]):
    """Edit :class:`Settings`; dismisses with the saved settings or None."""

    DEFAULT_CSS = """
    SettingsScreen {
        align: center middle;
    }
    SettingsScreen > Vertical {
        width: 78;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    SettingsScreen VerticalScroll {
        height: auto;
        max-height: 16;
    }
    SettingsScreen .row {
        height: 1;
    }
    SettingsScreen .row > Label.name {
        width: 17;
    }
    SettingsScreen .row > Input, SettingsScreen .row > Select {
        width: 28;
    }
    SettingsScreen .row > Label.note {
        width: 1fr;
        padding-left: 1;
        color: $text-muted;
    }
    SettingsScreen .row > Label.note.-error {
        color: $text-error;
    }
    SettingsScreen #settings-error {
        color: $text-error;
        height: auto;
    }
    SettingsScreen #buttons {
        height: 1;
        margin-top: 1;
    }
    SettingsScreen #buttons Button {
        margin-right: 2;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save settings"),
    ]

    class PythonProbed(Message):
        """The answer about the Python field's ``text``, from the prober's thread."""

        def __init__(self, text: str, ok: bool, note: str) -> None:
            super().__init__()
            self.text, self.ok, self.note = text, ok, note

    def __init__(self, settings: Settings, prober: Prober | None = None) -> None:
        super().__init__()
        self.original = settings
        self.prober = prober  # None: no Python can be checked (nor saved) here
        self._old_theme: str | None = None
        self._probe_timer: Timer | None = None
        # python text -> resolved label ("CPython 3.12.1") or the reason it is unusable
        self._probes: dict[str, tuple[bool, str]] = {}
        self._save_pending = False
        self.policy = _policy()

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        s = self.original
        with Vertical():
            yield Label("[b]Settings[/b]  (Tab moves, Enter or ctrl+s saves, Esc cancels)")
            with _Fields(id="fields"):
                for name, label, _whole in NUMBER_FIELDS:
                    with Horizontal(classes="row"):
                        yield Label(label, classes="name")
                        yield InOrderInput(
                            show_number(getattr(s, name)), id=f"f-{name}", compact=True
                        )
                        yield Label(ceiling_note(self.policy, name), classes="note", id=f"n-{name}")
                with Horizontal(classes="row"):
                    yield Label("Python", classes="name")
                    yield InOrderInput(
                        s.python or "",
                        placeholder=f"this one ({OWN_PYTHON})",
                        id="f-python",
                        compact=True,
                    )
                    yield Label("", classes="note", id="n-python")
                with Horizontal(classes="row"):
                    yield Label("Theme", classes="name")
                    themes = sorted(self.app.available_themes)
                    theme = s.theme if s.theme in themes else self.app.theme
                    yield InOrderSelect(
                        [(t, t) for t in themes],
                        value=theme,
                        allow_blank=False,
                        id="f-theme",
                        compact=True,
                    )
                    yield Label("", classes="note", id="n-theme")
                for name, label in (("sandbox", "Sandbox"), ("network", "Network")):
                    with Horizontal(classes="row"):
                        yield Label(label, classes="name")
                        modes = self.policy.modes(name)  # only what the lab policy allows
                        value = getattr(s, name)
                        if value not in modes:
                            value = self.policy.default(name, value)
                        yield InOrderSelect(
                            [(v, v) for v in modes],
                            value=value,
                            allow_blank=False,
                            id=f"f-{name}",
                            compact=True,
                        )
                        yield Label(CHOICE_NOTES[str(value)], classes="note", id=f"n-{name}")
                with Horizontal(classes="row"):
                    yield Label("Clock", classes="name")
                    yield InOrderSelect(
                        [(v, v) for v in CLOCKS],
                        value=s.clock,
                        allow_blank=False,
                        id="f-clock",
                        compact=True,
                    )
                    yield Label(CHOICE_NOTES[s.clock], classes="note", id="n-clock")
            yield Label("", id="settings-error")
            with Horizontal(id="buttons"):
                yield InOrderButton("Save", variant="primary", id="save", compact=True)
                yield InOrderButton("Cancel", id="cancel", compact=True)
                yield InOrderButton("Default limits", id="defaults", compact=True)

    def on_mount(self) -> None:
        self._old_theme = self.app.theme
        self.query_one("#f-timeout", Input).focus()
        if self.original.python:
            self._start_probe(self.original.python)

    # -- live validation ---------------------------------------------------------------

    def _note(self, name: str, text: str, error: bool = False) -> None:
        note = self.query_one(f"#n-{name}", Label)
        note.update(text)
        note.set_class(error, "-error")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        name = (event.input.id or "")[2:]
        if name == "python":
            self._python_changed(event.value.strip())
            return
        for field, _label, whole in NUMBER_FIELDS:
            if field == name:
                value = parse_number(event.value, whole)
                if isinstance(value, str):
                    self._note(name, value, error=True)
                else:  # (the note is short: the line at saving names the file)
                    above = above_ceiling(self.policy, name, value) is not None
                    self._note(name, ceiling_note(self.policy, name), error=above)

    def _python_changed(self, text: str) -> None:
        if self._probe_timer is not None:
            self._probe_timer.stop()
            self._probe_timer = None
        if not text:
            self._note("python", f"asyncplay's own ({OWN_PYTHON})")
            return
        if text in self._probes:
            self._show_probe(text)
            return
        self._note("python", "checking...")
        self._probe_timer = self.set_timer(_PROBE_DELAY, lambda: self._start_probe(text))

    def _start_probe(self, text: str) -> None:
        self._probe_timer = None
        if text in self._probes:
            self._show_probe(text)
            return
        self._note("python", "checking...")
        self._probe(text)

    def _probe(self, text: str) -> None:
        """Ask the prober (it runs the interpreter off the UI's path); the answer comes
        back as a :class:`PythonProbed` message."""
        if self.prober is None:
            self.post_message(self.PythonProbed(text, False, "cannot be checked here"))
            return

        def answer(ok: bool, note: str) -> None:  # from the prober's thread
            self.post_message(self.PythonProbed(text, ok, note))

        self.prober.ask(self, text, answer)

    def on_settings_screen_python_probed(self, message: SettingsScreen.PythonProbed) -> None:
        message.stop()
        self._probe_done(message.text, (message.ok, message.note))

    def _probe_done(self, text: str, result: tuple[bool, str]) -> None:
        self._probes[text] = result
        if not self.is_attached:
            return
        if self._python_text() == text:
            self._show_probe(text)
            if self._save_pending:
                self._save_pending = False
                if result[0]:
                    self.action_save()
                else:
                    self.query_one("#f-python", Input).focus()

    def _show_probe(self, text: str) -> None:
        ok, note = self._probes[text]
        self._note("python", note, error=not ok)

    def _python_text(self) -> str:
        return self.query_one("#f-python", Input).value.strip()

    @on(Select.Changed, "#f-sandbox, #f-network, #f-clock")
    def _choice_changed(self, event: Select.Changed) -> None:
        event.stop()
        name = (event.select.id or "")[2:]
        self._note(name, CHOICE_NOTES.get(str(event.value), ""))

    @on(Select.Changed, "#f-theme")
    def _theme_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str) and event.value in self.app.available_themes:
            self.app.theme = event.value  # preview; Escape restores the old one

    # -- save and cancel ---------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    @on(Button.Pressed, "#defaults")
    def _defaults_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.reset_limits()

    def reset_limits(self) -> None:
        """Put the defaults back in every field but Python and theme (personal choices)."""
        defaults = storage.default_settings()
        for name, _label, _whole in NUMBER_FIELDS:
            self.query_one(f"#f-{name}", Input).value = show_number(getattr(defaults, name))
        self.query_one("#f-sandbox", Select).value = defaults.sandbox
        self.query_one("#f-network", Select).value = defaults.network
        self.query_one("#f-clock", Select).value = defaults.clock

    def collect(self) -> Settings | None:
        """The settings on screen, or None after marking every invalid field."""
        values: dict[str, object] = {}
        first_bad: Input | None = None
        above: str | None = None
        for name, _label, whole in NUMBER_FIELDS:
            field = self.query_one(f"#f-{name}", Input)
            value = parse_number(field.value, whole)
            refused = None if isinstance(value, str) else above_ceiling(self.policy, name, value)
            if isinstance(value, str):
                self._note(name, value, error=True)
                first_bad = first_bad or field
            elif refused is not None:
                self._note(name, ceiling_note(self.policy, name), error=True)
                first_bad = first_bad or field
                above = above or refused
            else:
                values[name] = value
        if first_bad is not None:
            first_bad.focus()
            self.query_one("#settings-error", Label).update(
                above or "Fix the fields marked in red."
            )
            return None
        for name in ("theme", "sandbox", "network", "clock"):
            values[name] = self.query_one(f"#f-{name}", Select).value
        values["python"] = self._python_text() or None
        return replace(self.original, **values)  # type: ignore[arg-type]

    def action_save(self) -> None:
        settings = self.collect()
        if settings is None:
            return
        python = settings.python
        if python is not None:
            probe = self._probes.get(python)
            if probe is None:
                self._save_pending = True
                if self._probe_timer is not None:
                    self._probe_timer.stop()
                self._start_probe(python)
                return
            if not probe[0]:
                self.query_one("#f-python", Input).focus()
                self.query_one("#settings-error", Label).update("Python: " + probe[1])
                return
        try:
            storage.save_settings(settings)
        except (OSError, ValueError) as exc:
            self.query_one("#settings-error", Label).update(f"Could not save settings: {exc}")
            return
        self.dismiss(settings)

    def action_cancel(self) -> None:
        if self._old_theme is not None and self.app.theme != self._old_theme:
            self.app.theme = self._old_theme
        self.dismiss(None)
