"""A question with a few answers, each a key: swap-file warnings and "discard?" prompts.

``ChoiceScreen(title, text, [("r", "Open read-only", "readonly"), ...], cancel=None)``
dismisses with the chosen answer's value; Escape dismisses with ``cancel``. Keys are
plain letters (no chords: they arrive split over slow links) and every answer is also a
button, so the mouse works too.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

__all__ = ["ChoiceScreen"]


class ChoiceScreen(ModalScreen[object]):
    """Ask; dismiss with the value of the answer picked (by key or button)."""

    DEFAULT_CSS = """
    ChoiceScreen {
        align: center middle;
    }
    ChoiceScreen > Vertical {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $warning;
        background: $surface;
        padding: 0 1;
    }
    ChoiceScreen #choice-title {
        text-style: bold;
        width: 100%;
    }
    ChoiceScreen #choice-text {
        width: 100%;
        margin: 1 0;
    }
    ChoiceScreen Horizontal {
        height: auto;
    }
    ChoiceScreen Button {
        margin: 0 1 0 0;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        text: str,
        answers: list[tuple[str, str, object]],
        cancel: object = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.answers = answers
        self.cancel_value = cancel

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="choice-title")
            yield Static(self.text, id="choice-text")
            with Horizontal():
                for n, (key, label, _value) in enumerate(self.answers):
                    yield Button(f"{label} ({key})", id=f"choice-{n}", compact=True)

    def on_mount(self) -> None:
        self.query_one("#choice-0", Button).focus()

    def on_key(self, event: Key) -> None:
        for key, _label, value in self.answers:
            if event.character is not None and event.character.lower() == key:
                event.stop()
                self.dismiss(value)
                return

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        index = int((event.button.id or "choice-0").removeprefix("choice-"))
        self.dismiss(self.answers[index][2])

    def action_cancel(self) -> None:
        self.dismiss(self.cancel_value)
