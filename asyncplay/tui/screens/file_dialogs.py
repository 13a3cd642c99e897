"""Open-file and save-as dialogs that work at 80x24 with the keyboard alone.

API (for the app)::

    self.push_screen(OpenFileScreen(start=Path.cwd()), on_open)    # ctrl+o: Path | None
    self.push_screen(SaveAsScreen(name="gather"), on_save_as)      # F12: Path | None

``OpenFileScreen(start=None)``: a path field with the matching entries of its folder listed
below (a file with unsaved edits kept is marked, and a line says how many buffers have
some: F2 lists them all), as in a shell: Tab completes (a unique match, else the common prefix), Up/Down pick an
entry, Enter opens the file or enters the folder, ``../`` goes up, Escape cancels. Relative
paths are taken from ``start`` (default: the current directory). Dismisses with an existing,
readable file's absolute path; reading and decoding it is the caller's job.

``SaveAsScreen(name="", folder=None)``: a file name, saved into ``folder`` (default
:func:`asyncplay.storage.user_snippets_dir`) unless it is a path; ``.py`` is added when the
name has no suffix. Refuses the bundled snippets' folder (they are never modified), asks
before replacing an existing file (Enter again), and dismisses with the absolute target path.
The caller writes the file (:func:`asyncplay.storage.write_atomic`).
"""

from __future__ import annotations

import os
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from asyncplay import snippets, storage, unsaved
from asyncplay.tui.textual_private.key_order import InOrderInput

__all__ = ["MAX_LISTED", "OpenFileScreen", "SaveAsScreen", "list_completions", "tilde"]

MAX_LISTED = 500  # entries shown for one folder; typing narrows the rest
MAX_OPEN_BYTES = 4 * 1024 * 1024  # an editor buffer, not a log viewer


def tilde(path: Path) -> str:
    """``path`` with the home directory shortened to ``~`` for display."""
    home = str(Path.home())
    text = str(path)
    if text == home or text.startswith(home + os.sep):
        return "~" + text[len(home) :]
    return text


def _common_prefix(names: list[str]) -> str:
    """The characters every name starts with (``os.path.commonprefix``, deprecated in
    3.15, without the path meaning it never had)."""
    if not names:
        return ""
    low, high = min(names), max(names)
    n = 0
    while n < len(low) and low[n] == high[n]:
        n += 1
    return low[:n]


def _split(value: str, base: Path) -> tuple[Path, str, str]:
    """(folder to list, the typed folder part, the name prefix) of a path field's value."""
    head, _sep, prefix = value.rpartition(os.sep)
    typed_dir = head + os.sep if _sep else ""
    folder = Path(os.path.expanduser(typed_dir or ".")) if typed_dir != os.sep else Path(os.sep)
    if not folder.is_absolute():
        folder = base / folder
    return folder, typed_dir, prefix


def list_completions(value: str, base: Path) -> list[str]:
    """Entries of the folder ``value`` points into that start with its last part.

    Folders come first and end with ``/``; hidden entries only when the prefix starts
    with a dot; the match ignores case. At most :data:`MAX_LISTED` entries.
    """
    folder, _typed, prefix = _split(value, base)
    lowered = prefix.lower()
    dirs: list[str] = []
    files: list[str] = []
    try:
        with os.scandir(folder) as scan:
            for entry in scan:
                name = entry.name
                if name.startswith(".") and not prefix.startswith("."):
                    continue
                if not name.lower().startswith(lowered):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                (dirs if is_dir else files).append(name + os.sep if is_dir else name)
    except OSError:
        return []
    listed = sorted(dirs, key=str.lower) + sorted(files, key=str.lower)
    if not prefix or "..".startswith(prefix):
        listed.insert(0, ".." + os.sep)
    return listed[:MAX_LISTED]


class _PathInput(InOrderInput):
    """An Input whose Tab completes instead of moving focus."""

    BINDINGS = [Binding("tab", "screen.complete", "Complete", show=False)]


_DIALOG_CSS = """
{name} {{
    align: center middle;
}}
{name} > Vertical {{
    width: 76;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    border: round $accent;
    background: $surface;
    padding: 0 1;
}}
{name} Label {{
    width: 100%;
}}
{name} Label.error {{
    color: $text-error;
    height: auto;
}}
{name} Label.hint {{
    color: $text-muted;
}}
"""


class OpenFileScreen(ModalScreen[Path | None]):
    """Choose an existing file to open; dismisses with its absolute Path or None."""

    DEFAULT_CSS = (
        _DIALOG_CSS.format(name="OpenFileScreen")
        + """
    OpenFileScreen OptionList {
        height: 12;
        border: none;
    }
    """
    )

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Next entry", show=False),
        Binding("up", "move(-1)", "Previous entry", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
    ]

    def __init__(self, start: Path | None = None) -> None:
        super().__init__()
        self.base = Path(start) if start is not None else Path.cwd()
        self.listed: list[str] = []
        self.kept: set[str] = set()  # keys of the buffers with unsaved edits kept
        self._picked = False  # the user moved the highlight: Enter takes that entry

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Open file (from {tilde(self.base)})")
            yield _PathInput(placeholder="path, e.g. examples/demo.py", id="path", compact=True)
            yield OptionList(id="entries")
            yield Label("", classes="error", id="open-error")
            yield Label("", classes="hint", id="open-unsaved")
            yield Label("Tab completes, Up/Down pick, Enter opens, Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#entries", OptionList).can_focus = False
        self.kept = {e.key for e in unsaved.list_entries()}
        note = self.query_one("#open-unsaved", Label)
        note.display = bool(self.kept)
        if self.kept:
            note.update(
                f"{len(self.kept)} buffer(s) with unsaved edits, kept: F2 lists them all; "
                "opening a file marked * brings its edits back"
            )
        self._relist()
        self.query_one("#path", Input).focus()

    @property
    def path_input(self) -> Input:
        return self.query_one("#path", Input)

    def _relist(self) -> None:
        entries = self.query_one("#entries", OptionList)
        self.listed = list_completions(self.path_input.value, self.base)
        folder = _split(self.path_input.value, self.base)[0]
        entries.clear_options()
        entries.add_options([Option(self._shown(folder, name)) for name in self.listed])
        entries.highlighted = None
        self._picked = False

    def _shown(self, folder: Path, name: str) -> str:
        """The entry as listed: ``name *  (unsaved edits)`` when some are kept for it."""
        if not self.kept or name.endswith(os.sep):
            return name
        key = unsaved.key_of(storage.Autosave("", path=str(folder / name)))
        return f"{name} *  (unsaved edits)" if key in self.kept else name

    def _set_value(self, value: str) -> None:
        field = self.path_input
        field.value = value
        field.cursor_position = len(value)

    @on(Input.Changed, "#path")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#open-error", Label).update("")
        self._relist()

    def action_move(self, delta: int) -> None:
        entries = self.query_one("#entries", OptionList)
        if not self.listed:
            return
        current = entries.highlighted
        index = (0 if delta > 0 else len(self.listed) - 1) if current is None else current + delta
        entries.highlighted = max(0, min(index, len(self.listed) - 1))
        self._picked = True

    def action_complete(self) -> None:
        """Tab: take the highlighted entry, the only match, or the matches' common prefix."""
        value = self.path_input.value
        _folder, typed_dir, prefix = _split(value, self.base)
        entries = self.query_one("#entries", OptionList)
        candidates = [n for n in self.listed if n != ".." + os.sep or prefix]
        if self._picked and entries.highlighted is not None:
            choice = self.listed[entries.highlighted]
        elif len(candidates) == 1:
            choice = candidates[0]
        else:
            common = _common_prefix(candidates)
            if len(common) > len(prefix):
                self._set_value(typed_dir + common)
            return
        self._set_value(typed_dir + choice)

    @on(Input.Submitted, "#path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value
        entries = self.query_one("#entries", OptionList)
        if self._picked and entries.highlighted is not None:
            _folder, typed_dir, _prefix = _split(value, self.base)
            value = typed_dir + self.listed[entries.highlighted]
        self._choose(value)

    @on(OptionList.OptionSelected, "#entries")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        _folder, typed_dir, _prefix = _split(self.path_input.value, self.base)
        self._choose(typed_dir + self.listed[event.option_index])

    def _choose(self, value: str) -> None:
        error = self.query_one("#open-error", Label)
        if not value.strip():
            error.update("Type a file name (Tab completes).")
            return
        path = Path(os.path.expanduser(value))
        if not path.is_absolute():
            path = self.base / path
        path = Path(os.path.abspath(path))
        if path.is_dir():
            shown = value if value.endswith(os.sep) else value + os.sep
            self._set_value(shown)
            return
        if not path.exists():
            error.update(f"No such file: {tilde(path)}")
            return
        if not path.is_file():
            error.update(f"Not a regular file: {tilde(path)}")
            return
        if not os.access(path, os.R_OK):
            error.update(f"Not readable (permission denied): {tilde(path)}")
            return
        size = path.stat().st_size
        if size > MAX_OPEN_BYTES:
            error.update(f"Too large to edit: {size // (1024 * 1024)} MiB (limit 4 MiB)")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SaveAsScreen(ModalScreen[Path | None]):
    """Ask for a file name to save under; dismisses with the absolute target or None."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="SaveAsScreen")

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, name: str = "", folder: Path | None = None) -> None:
        super().__init__()
        self.initial = name
        self.folder = Path(folder) if folder is not None else _snippets_or_cwd()
        self._confirm: Path | None = None  # the existing file Enter again will replace

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Save as (in {tilde(self.folder)}, or a path):")
            yield InOrderInput(
                self.initial, placeholder="name, e.g. my_gather", id="name", compact=True
            )
            yield Label("", classes="error", id="save-error")
            yield Label("Enter saves (.py is added), Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def target(self, text: str) -> Path | str:
        """The file ``text`` names, or a one-line reason it cannot be saved there."""
        text = text.strip()
        if not text:
            return "Type a name for the file."
        if "\0" in text:
            return "A file name cannot contain a NUL character."
        path = Path(os.path.expanduser(text))
        if not path.is_absolute():
            path = self.folder / path
        if text.endswith(os.sep) or path.is_dir():
            return f"{tilde(path)} is a folder: add a file name."
        if not path.suffix:
            path = path.with_name(path.name + ".py")
        path = Path(os.path.abspath(path))
        if _inside(path, snippets.bundled_dir()):
            return "Bundled snippets are read-only: choose another name or folder."
        if not path.parent.is_dir():
            return f"No such folder: {tilde(path.parent)}"
        if path.is_dir():
            return f"{tilde(path)} is a folder: add a file name."
        return path

    @on(Input.Changed, "#name")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._confirm = None
        self.query_one("#save-error", Label).update("")

    @on(Input.Submitted, "#name")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self.query_one("#save-error", Label)
        target = self.target(event.value)
        if isinstance(target, str):
            error.update(target)
            return
        if target.exists() and self._confirm != target:
            self._confirm = target
            error.update(f"{tilde(target)} exists: Enter again to replace it.")
            return
        self.dismiss(target)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _snippets_or_cwd() -> Path:
    """The user's snippets folder; the current one if that cannot be made (a data folder
    that is a file, a symlink where ``snippets/`` should be): saving must still work."""
    try:
        return storage.user_snippets_dir()
    except OSError:
        return Path.cwd()


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (following symlinks) is in ``folder``."""
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True
