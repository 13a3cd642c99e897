"""The explanation modals: one warning (or cancellation) explained, and a run's warnings.

API (for the app)::

    from asyncplay.views.explain import explain, explain_cancel
    self.push_screen(ExplainScreen(explain(warning, model), program), self._goto)
    self.push_screen(WarningsScreen(model, program), self._goto)

Both dismiss with the 1-based line to move the editor to (``g`` or the "Go to line N"
button), or None (Escape or ``q``). ``program`` is the absolute path of the edited
program: going to a line is offered only when the explanation's file is that program.
The screens render ``asyncplay.views.explain``'s text; they decide nothing about the run.
"""

from __future__ import annotations

import os

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from asyncplay.model import RunModel
from asyncplay.views.explain import Explanation, explain, short_name

__all__ = ["ExplainScreen", "WarningsScreen", "warning_rows"]

MAX_ROWS = 2_000  # rows listed; a run that warned more says how many were left out


def _same_program(file: str | None, program: str | None) -> bool:
    if program is None:
        return True
    return bool(file) and os.path.abspath(file or "") == os.path.abspath(program)


class ExplainScreen(ModalScreen["int | None"]):
    """One explanation: what happened, why, the usual fix and a small example."""

    DEFAULT_CSS = """
    ExplainScreen { align: center middle; }
    ExplainScreen > Vertical {
        width: 90%;
        max-width: 92;
        height: auto;
        max-height: 90%;
        border: round $warning;
        border-title-style: bold;
        background: $surface;
    }
    ExplainScreen VerticalScroll { height: auto; padding: 0 1; }
    ExplainScreen .explain-head { text-style: bold; color: $accent; margin-top: 1; }
    ExplainScreen #explain-example { margin-top: 1; padding: 0 1; background: $boost; }
    ExplainScreen Horizontal {
        dock: bottom;
        height: 1;
        align-horizontal: right;
        padding: 0 1;
    }
    ExplainScreen Button { margin-left: 2; }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("g", "go", "Go to the line"),
    ]

    def __init__(self, explanation: Explanation, program: str | None = None) -> None:
        super().__init__()
        self.explanation = explanation
        ex = explanation
        self.line = ex.line if ex.line is not None and _same_program(ex.file, program) else None

    def compose(self) -> ComposeResult:
        ex = self.explanation
        with Vertical() as box:
            box.border_title = ex.title
            with VerticalScroll(id="explain-body"):
                yield Static(Text(ex.what), id="explain-what")
                yield Label("Why", classes="explain-head")
                yield Static(Text(ex.why), id="explain-why")
                yield Label("The usual fix", classes="explain-head")
                yield Static(Text(ex.fix), id="explain-fix")
                if ex.example:
                    yield Static(self._code(ex.example), id="explain-example")
            with Horizontal():
                if self.line is not None:
                    yield Button(f"Go to line {self.line}", id="explain-go", compact=True)
                yield Button("Close", id="explain-close", compact=True)

    def _code(self, code: str) -> Syntax:
        dark = getattr(self.app.current_theme, "dark", True)
        theme = "monokai" if dark else "default"
        return Syntax(code, "python", theme=theme, background_color="default", word_wrap=True)

    def on_mount(self) -> None:
        self.query_one("#explain-body").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "explain-go":
            self.action_go()
        else:
            self.action_close()

    def action_go(self) -> None:
        if self.line is not None:
            self.dismiss(self.line)

    def action_close(self) -> None:
        self.dismiss(None)


def warning_rows(model: RunModel | None) -> list[tuple[dict, int]]:
    """The run's warnings once each with how often they came: repeats of one kind at one
    line fold (a busy loop can block the loop a thousand times at one ``time.sleep``)."""
    if model is None:
        return []
    rows: dict[tuple, list] = {}
    for w in model.warnings:
        key: tuple = (w.get("kind"), w.get("file"), w.get("line"))
        if w.get("kind") != "slow_step":
            key += (w.get("message"),)
        try:
            row = rows.get(key)
        except TypeError:  # a forged, unhashable value: its own row
            row, key = None, (id(w),)
        if row is None:
            rows[key] = [w, 1]
        else:
            row[1] += 1
    return [(w, n) for w, n in rows.values()]


def _row_text(warning: dict, count: int) -> Text:
    kind = short_name(warning.get("kind"))
    if count > 1:
        kind += f" x{count}"
    line = warning.get("line")
    where = f"{line}" if isinstance(line, int) and not isinstance(line, bool) else ""
    message = warning.get("message")
    message = " ".join(message.split()) if isinstance(message, str) else ""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(f" {kind[:22]:<22} ", style="bold")
    text.append(f"{where:>5}  ", style="cyan")
    text.append(message[:300])
    return text


class WarningsScreen(ModalScreen["int | None"]):
    """The run's warnings, one line each; Enter explains the one under the cursor."""

    DEFAULT_CSS = """
    WarningsScreen { align: center middle; }
    WarningsScreen > Vertical {
        width: 90%;
        max-width: 120;
        height: auto;
        max-height: 90%;
        border: round $warning;
        border-title-style: bold;
        background: $surface;
    }
    WarningsScreen OptionList {
        height: auto;
        max-height: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    WarningsScreen #warnings-empty { padding: 1 2; }
    WarningsScreen .warnings-hint { color: $text-muted; padding: 0 1; }
    WarningsScreen .warnings-head { text-style: bold underline; padding: 0 1; }
    """

    BINDINGS = [Binding("escape,q", "close", "Close")]

    def __init__(self, model: RunModel | None, program: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.program = program
        self.rows = warning_rows(model)

    def compose(self) -> ComposeResult:
        total = len(self.model.warnings) if self.model is not None else 0
        with Vertical() as box:
            box.border_title = f"Warnings of this run ({total})" if total else "Warnings"
            if not self.rows:
                yield Static("This run had no warnings.", id="warnings-empty")
                yield Label("Esc closes", classes="warnings-hint")
                return
            options = [
                Option(_row_text(w, n), id=str(i)) for i, (w, n) in enumerate(self.rows[:MAX_ROWS])
            ]
            yield Label(f"{'kind':<22} {'line':>5}  message", classes="warnings-head")
            yield OptionList(*options, id="warnings-list", compact=True)
            left = len(self.rows) - MAX_ROWS
            more = f" - {left} more not listed" if left > 0 else ""
            yield Label(f"Enter explains - Esc closes{more}", classes="warnings-hint")

    def on_mount(self) -> None:
        if self.rows:
            listing = self.query_one(OptionList)
            listing.highlighted = 0
            listing.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.open(event.option_index)

    def open(self, index: int) -> None:
        """Explain row ``index``; going to a line there closes this list too."""
        warning = self.rows[index][0]
        screen = ExplainScreen(explain(warning, self.model), self.program)
        self.app.push_screen(screen, self._explained)

    def _explained(self, line: int | None) -> None:
        if line is not None:
            self.dismiss(line)

    def action_close(self) -> None:
        self.dismiss(None)
