"""The snippet browser: bundled snippets in course order, the bundled exercises, then the
user's, with their story.

API (for the app)::

    def opened(choice: SnippetChoice | None) -> None:
        if choice is not None:
            # choice.kind is "bundled" or "exercise" (open choice.text as an unsaved
            # copy, remember choice.name as the snippet it came from: the name
            # `asyncplay check` takes), "user" (open choice.path itself) or "unsaved"
            # (choice.buffer: kept unsaved edits to reopen).
            ...
    self.push_screen(SnippetBrowser(), opened)          # bound to F2

``SnippetBrowser(user_dir=None, current_key=None)`` lists first the unsaved work kept per
file (:mod:`asyncplay.unsaved`: the file, its age, the first changed line; Enter reopens
it with the edits, Ctrl+D discards it after asking; ``current_key`` is the buffer being
edited, which is not discarded from here), then
:func:`asyncplay.snippets.list_bundled`'s snippets in
course order, the bundled exercises (:func:`asyncplay.snippets.list_exercises`: each named as
``asyncplay check NAME`` names it, its checks in the detail) and the ``*.py`` files of
``user_dir`` (default
:func:`asyncplay.storage.user_snippets_dir`). Typing filters by name and title; Up/Down
move; the highlighted snippet's title, explanation and "what to look for" show beside the
list; Enter dismisses with a :class:`SnippetChoice` (the file's text already read); Escape
dismisses with None. A user file without the docstring format is still listed and openable.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from asyncplay import snippets, storage, unsaved
from asyncplay.snippets import reflow  # the docstring's prose, rewrapped (kept here too)

__all__ = [
    "SnippetBrowser",
    "SnippetChoice",
    "SnippetEntry",
    "ago",
    "load_entries",
    "reflow",
    "unsaved_entries",
]

Kind = Literal["unsaved", "bundled", "exercise", "user"]


@dataclass(frozen=True)
class SnippetChoice:
    """What the user picked: ``kind`` "bundled" or "exercise" (open a copy), "user" (open
    the file) or "unsaved" (``buffer``: kept unsaved edits)."""

    kind: Kind
    name: str
    path: Path
    text: str
    buffer: storage.Autosave | None = None


@dataclass(frozen=True)
class SnippetEntry:
    """One row of the browser."""

    kind: Kind
    name: str
    path: Path
    title: str
    explanation: str
    look_for: str = ""
    requires_python: tuple[int, int] | None = None
    kept: unsaved.Entry | None = None
    checks: tuple[str, ...] = ()  # an exercise's

    def matches(self, query: str) -> bool:
        query = query.strip().lower()
        return not query or query in self.name.lower() or query in self.title.lower()


def load_entries(user_dir: Path | None = None) -> list[SnippetEntry]:
    """Bundled snippets in course order, the bundled exercises by name, then the user's
    ``*.py`` files by name."""
    entries: list[SnippetEntry] = []
    directory = snippets.bundled_dir()
    for name in snippets.bundled_names():
        entries.append(_entry("bundled", directory / f"{name}.py"))
    entries.extend(_entry("exercise", path) for path in snippets.exercise_paths())
    try:
        folder = user_dir if user_dir is not None else storage.user_snippets_dir()
        files = sorted(p for p in folder.glob("*.py") if p.is_file())
    except OSError:
        files = []  # no usable data folder: the bundled ones are still there
    entries.extend(_entry("user", path) for path in files)
    return entries


def ago(seconds: float) -> str:
    """``12 s ago``, ``5 min ago``, ``3 h ago``, ``2 days ago``."""
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86_400)} days ago"


def unsaved_entries() -> list[SnippetEntry]:
    """The kept unsaved buffers, newest first, as rows: file, age, first changed line."""
    rows: list[SnippetEntry] = []
    for kept in unsaved.list_entries():
        buffer = kept.buffer
        where = buffer.path or buffer.copy_of or ""
        title = f"{ago(kept.age)} · line {kept.first_line}: {kept.first_text.strip()}"
        if buffer.path:
            what = f"Unsaved edits to {where}."
        elif buffer.copy_id:
            what = f"A separate copy of {where or buffer.snippet or 'a buffer'}, never saved."
        else:
            what = f"Unsaved edits to {unsaved.label(buffer)}."
        kept_at = time.strftime("%Y-%m-%d %H:%M", time.localtime(buffer.saved_at))
        lines = len(buffer.text.splitlines())
        shown = kept.first_text.strip() or (
            "(a blank line)" if kept.first_line <= lines else "(removed lines)"
        )
        explanation = (
            f"{what}\nKept {kept_at} ({ago(kept.age)}). First changed line "
            f"{kept.first_line}: {shown}\n\n"
            "Enter opens it with these edits (Ctrl+S then saves them). Ctrl+D discards "
            "them, after asking."
        )
        rows.append(
            SnippetEntry(
                "unsaved",
                unsaved.label(buffer),
                Path(where or os.devnull),
                title,
                explanation,
                kept=kept,
            )
        )
    return rows


def _entry(kind: Literal["bundled", "exercise", "user"], path: Path) -> SnippetEntry:
    try:
        snippet = snippets.load_snippet(path, bundled=kind != "user")
    except snippets.SnippetError as exc:
        reason = str(exc).split(": ", 1)[-1]
        return SnippetEntry(kind, path.stem, path, "(no title)", f"No description: {reason}.")
    return SnippetEntry(
        kind,
        snippet.name,
        path,
        snippet.title,
        snippet.explanation,
        snippet.look_for,
        snippet.requires_python,
        checks=tuple(text for _line, text in snippet.checks),
    )


class SnippetBrowser(ModalScreen[SnippetChoice | None]):
    """Pick a snippet to open; dismisses with a :class:`SnippetChoice` or None."""

    DEFAULT_CSS = """
    SnippetBrowser {
        align: center middle;
    }
    SnippetBrowser > Vertical {
        width: 100%;
        max-width: 120;
        height: 100%;
        max-height: 40;
        border: round $accent;
        background: $surface;
    }
    SnippetBrowser #snippet-filter {
        margin: 0 1;
    }
    SnippetBrowser Horizontal {
        height: 1fr;
    }
    SnippetBrowser OptionList {
        width: 45%;
        min-width: 36;
        height: 1fr;
        border: none;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    SnippetBrowser VerticalScroll {
        width: 1fr;
        height: 1fr;
        padding: 0 1;
    }
    SnippetBrowser Label {
        width: 100%;
    }
    SnippetBrowser #snippet-error {
        color: $text-error;
        padding: 0 1;
    }
    SnippetBrowser .hint {
        color: $text-muted;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
        Binding("ctrl+d", "discard", "Discard unsaved", show=False, priority=True),
    ]

    def __init__(self, user_dir: Path | None = None, current_key: str | None = None) -> None:
        super().__init__()
        self.user_dir = user_dir
        self.current_key = current_key
        self.entries: list[SnippetEntry] = []
        self.shown: list[SnippetEntry] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder="type to filter snippets", id="snippet-filter", compact=True)
            with Horizontal():
                yield OptionList(id="snippet-list")
                with VerticalScroll(id="snippet-detail"):
                    yield Static("", id="snippet-info")
            yield Label("", id="snippet-error")
            yield Label(
                "Enter opens (bundled ones as a copy) - Ctrl+D discards unsaved work - Esc cancels",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.entries = unsaved_entries() + load_entries(self.user_dir)
        self.query_one("#snippet-list", OptionList).can_focus = False
        self._refill("")
        self.query_one("#snippet-filter", Input).focus()

    def _refill(self, query: str) -> None:
        option_list = self.query_one("#snippet-list", OptionList)
        self.shown = [e for e in self.entries if e.matches(query)]
        options: list[Option | None] = []
        kind = None
        for index, entry in enumerate(self.shown):
            if entry.kind != kind:
                kind = entry.kind
                header = HEADERS[kind]
                options.append(Option(Text(header, style="bold"), disabled=True))
            options.append(Option(_row(entry), id=str(index)))
        option_list.clear_options()
        option_list.add_options(options)
        first = next((i for i, o in enumerate(options) if o is not None and not o.disabled), None)
        option_list.highlighted = first
        self._show_detail()

    @property
    def highlighted(self) -> SnippetEntry | None:
        option_list = self.query_one("#snippet-list", OptionList)
        if option_list.highlighted is None:
            return None
        option = option_list.get_option_at_index(option_list.highlighted)
        return None if option.id is None else self.shown[int(option.id)]

    def _show_detail(self) -> None:
        info = self.query_one("#snippet-info", Static)
        entry = self.highlighted
        if entry is None:
            info.update("No snippet matches." if self.entries else "No snippets found.")
            return
        text = Text()
        text.append(entry.title + "\n", style="bold")
        if entry.kind == "exercise":
            text.append(f"exercise {entry.name} - asyncplay check {entry.name}\n")
        elif entry.kind != "unsaved":
            where = "bundled" if entry.kind == "bundled" else entry.path
            text.append(f"{entry.name} - {where}\n")
        if entry.requires_python:
            major, minor = entry.requires_python
            text.append(f"Needs Python {major}.{minor} or newer\n", style="italic")
        text.append("\n")
        text.append(reflow(entry.explanation) + "\n")
        if entry.look_for:
            text.append("\nWhat to look for: ", style="bold")
            text.append(reflow(entry.look_for) + "\n")
        if entry.checks:
            text.append("\nChecks (F11 runs them): ", style="bold")
            text.append("".join(f"\n  · {check}" for check in entry.checks) + "\n")
        info.update(text)
        self.query_one("#snippet-detail", VerticalScroll).scroll_home(animate=False)

    @on(Input.Changed, "#snippet-filter")
    def _filter(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#snippet-error", Label).update("")
        self._refill(event.value)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_detail()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._open()

    @on(Input.Submitted, "#snippet-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._open()

    def action_move(self, delta: int) -> None:
        option_list = self.query_one("#snippet-list", OptionList)
        if option_list.option_count == 0:
            return
        index = option_list.highlighted
        step = 1 if delta > 0 else -1
        for _ in range(abs(delta)):
            candidate = (index if index is not None else -step) + step
            while 0 <= candidate < option_list.option_count and (
                option_list.get_option_at_index(candidate).disabled
            ):
                candidate += step
            if not 0 <= candidate < option_list.option_count:
                break
            index = candidate
        option_list.highlighted = index

    def _open(self) -> None:
        entry = self.highlighted
        error = self.query_one("#snippet-error", Label)
        if entry is None:
            error.update("Nothing to open: change the filter.")
            return
        if entry.kept is not None:
            buffer = entry.kept.buffer
            self.dismiss(SnippetChoice("unsaved", entry.name, entry.path, buffer.text, buffer))
            return
        try:
            text = entry.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            error.update(f"Cannot read {entry.path.name}: {exc}")
            return
        self.dismiss(SnippetChoice(entry.kind, entry.name, entry.path, text))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_discard(self) -> None:
        """Ctrl+D on kept unsaved work: asks, then forgets it for good."""
        from asyncplay.tui.screens.choice import ChoiceScreen

        entry = self.highlighted
        error = self.query_one("#snippet-error", Label)
        if entry is None or entry.kept is None:
            error.update("Ctrl+D discards unsaved work: pick one under 'Unsaved work'.")
            return
        key = entry.kept.key
        if key == self.current_key:
            error.update("That is the buffer you are editing: undo the edits, or save them.")
            return
        holder = unsaved.live_holder(key)
        if holder is not None:
            error.update(f"Open in another playground ({holder.describe()}): not discarded.")
            return
        question = (
            f"Discard the unsaved edits to {entry.kept.buffer.path or entry.name}, kept "
            f"{ago(entry.kept.age)}? They cannot be brought back."
        )

        def answered(yes: object) -> None:
            if yes is not True:
                return
            try:
                unsaved.discard(key)
            except OSError as exc:
                error.update(f"Could not discard: {exc}")
                return
            self.entries = [e for e in self.entries if e is not entry]
            self._refill(self.query_one("#snippet-filter", Input).value)
            error.update(f"Discarded the unsaved edits to {entry.name}.")

        self.app.push_screen(
            ChoiceScreen(
                "Discard unsaved edits?",
                question,
                [("y", "Discard", True), ("n", "Keep them", False)],
                cancel=False,
            ),
            answered,
        )


HEADERS = {
    "unsaved": "Unsaved work",
    "bundled": "Bundled (open as a copy)",
    "exercise": "Exercises (a copy; F11 checks it)",
    "user": "Your snippets",
}


def _row(entry: SnippetEntry) -> Text:
    row = Text(no_wrap=True, overflow="ellipsis")
    row.append(f"{entry.name:<14}", style="bold")
    row.append(" " + entry.title, style="dim")
    return row
