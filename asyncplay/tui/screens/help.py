"""The F1 help screen: the app's real keys, what the task table's columns mean, where files live.

API (for the app)::

    self.push_screen(HelpScreen(help_bindings(self), intro=moving_around(self)))  # F1

``HelpScreen(bindings, columns=TASK_COLUMNS)`` takes ``(key, description)`` pairs, so the
help never drifts from the app's bindings: :func:`help_bindings` collects them from the
screen that is active when F1 is pressed (the app's, the screen's and the focused widgets'
bindings that have a description, widget-internal cursor keys left out). Pass the task
table's real ``(column, meaning)`` pairs as ``columns`` if they differ from the default.
``files_note`` defaults to where :mod:`asyncplay.storage` keeps the user's files.
``intro`` (from :func:`moving_around`) says how to reach each pane, from the app's own keys.
``sections`` are more ``(title, "Key" or "Mark", [(key, description), ...])`` tables: the keys of the views
that are not focused now (timeline, graph) and the gutter's marks.
Escape, F1 or q close it; arrows, PageUp/PageDown scroll it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from asyncplay import storage

__all__ = [
    "TASK_COLUMNS",
    "HelpScreen",
    "format_key",
    "help_bindings",
    "keys_for",
    "moving_around",
]

#: The task table's columns and what each one means.
TASK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Task", "The task's name (asyncio's Task-N unless the program named it)."),
    ("Coroutine", "The coroutine function the task runs."),
    (
        "State",
        "running (has the loop now), waiting (suspended on an await), done, "
        "cancelled, or failed (ended with an exception).",
    ),
    ("Awaits", "What a waiting task is suspended on: a sleep, another task, a future, a lock."),
    ("Line", "The line of your program the task is at now (or ended at)."),
    ("Steps", "How many times the loop resumed the task."),
    ("Running", "Time the task spent actually running (holding the loop)."),
    ("Lifetime", "Time from the task's creation to its end (or to now)."),
)

#: Textual's universal keys: explained once in the help's opening line instead.
_UNIVERSAL = frozenset(
    {"app.focus_next", "app.focus_previous", "focus_next", "focus_previous", "command_palette"}
)
_INTRO = "Ctrl+P opens the command palette: every action is there, by name."


def keys_for(bindings: Iterable[Binding], action: str) -> str | None:
    """How the keys bound to ``action`` are shown (``Ctrl+N``), or None if it has none."""
    keys = [b.key for b in bindings if isinstance(b, Binding) and b.action == action]
    return format_key(",".join(keys)) if keys else None


def moving_around(app: App) -> str:
    """How to reach each pane and what Enter does there, from the real bindings.

    Tab indents in the editor (and moves on in the other panes), so the help must not
    promise that Tab moves between panes.
    """
    from asyncplay.tui.panes.output import OutputPane
    from asyncplay.tui.panes.task_table import TaskTable

    own = list(getattr(app, "BINDINGS", []))

    def key(action: str, bindings: Iterable[Binding] = own, default: str = "?") -> str:
        return keys_for(bindings, action) or default

    parts = [
        f"{key('next_pane')} moves the focus on: editor, output, stdin line, task table "
        "(or, with the timeline shown, editor, timeline, graph; in the editor Tab indents "
        "and Esc moves on; elsewhere Tab moves on too).",
        f"{key('focus_stdin')} goes straight to the stdin line: type a line, Enter sends it "
        "to the program's input().",
        f"{key('switch_pane')} switches between Output and Tasks (or Timeline and Graph) "
        "when they are tabs.",
        f"{key('timeline')} shows the timeline (one lane per task: who ran when) and the "
        "await graph beside it on a wide screen; again goes back to the output. "
        f"{key('explain')} explains a warning (the one at the editor's line, or under the "
        "timeline's cursor, else pick one from the run's list).",
        f"{key('step')} steps the event loop: with no run, it starts the run paused; paused, "
        f"it runs one task step; running, it pauses ({key('run')} continues). "
        f"{key('toggle_breakpoint')} in the editor (b in a task view) sets a breakpoint. "
        "GNOME Terminal takes F10 for its menu unless 'Enable the menu accelerator key' "
        "is off in its Preferences.",
        f"In the output, Up/Down pick a line; {key('jump', OutputPane.BINDINGS)} on a "
        'traceback\'s File "...", line N (or a warning) jumps there in the editor.',
        f"In the task table, Up/Down select a task (its line gets > in the editor's "
        f"gutter); {key('choose', TaskTable.BINDINGS)} jumps to it, "
        f"{key('filter_output')} shows only its output.",
        _INTRO,
    ]
    return "\n".join(parts)


_NAMES = {
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "escape": "Esc",
    "enter": "Enter",
    "space": "Space",
    "delete": "Del",
    "backspace": "Backspace",
    "tab": "Tab",
}


def format_key(key: str) -> str:
    """``"ctrl+r"`` -> ``"Ctrl+R"``, ``"f5"`` -> ``"F5"``, ``"f3,shift+f3"`` -> ``"F3 / Shift+F3"``."""
    shown = []
    for chord in key.split(","):
        if len(chord.strip()) == 1:  # a plain letter key is typed as shown: e, not E
            shown.append(chord.strip())
            continue
        parts = chord.strip().split("+")
        words = [_NAMES.get(p, p.upper() if len(p) <= 3 else p.capitalize()) for p in parts]
        words = [w.capitalize() if w in ("CTRL", "SHIFT") else w for w in words]
        shown.append("+".join(words))
    return " / ".join(shown)


def help_bindings(app: App, screen: Screen | None = None) -> list[tuple[str, str]]:
    """The ``(key, description)`` pairs active on ``screen`` (default: the app's current one).

    Takes the bindings of the app and the screen, and the shown bindings of focused widgets
    (so an editor's dozens of cursor keys stay out); one row per action, keys joined.
    """
    screen = screen or app.screen
    rows: dict[tuple[str, str], tuple[list[str], str]] = {}
    for key, active in screen.active_bindings.items():
        binding: Binding = active.binding
        if not binding.description or binding.system or binding.action in _UNIVERSAL:
            continue
        if not (binding.show or isinstance(active.node, (App, Screen))):
            continue
        keys, _ = rows.setdefault((binding.action, binding.description), ([], binding.description))
        display = binding.key_display or key
        if display not in keys:
            keys.append(display)
    return [(",".join(keys), description) for keys, description in rows.values()]


def _files_note() -> str:
    """Where the user's files are kept, or why that is unknown."""
    try:
        home = storage.data_dir()
    except OSError as exc:
        return f"The data folder cannot be created: {exc}"
    return (
        f"Kept in {home} (private to you: folders 0700, files 0600).\n"
        f"  {storage.AUTOSAVE_FILE}  the buffer as you left it, restored at start\n"
        f"  {storage.SETTINGS_FILE}  limits, Python, theme, sandbox, network, clock\n"
        f"  {storage.SNIPPETS_DIR}/  your snippets (save-as puts them here)\n"
        f"Set {storage.HOME_ENV} to keep them elsewhere."
    )


class HelpScreen(ModalScreen[None]):
    """A scrollable modal listing the keys and the task table's columns."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > Vertical {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: round $accent;
        background: $surface;
    }
    HelpScreen VerticalScroll {
        height: 1fr;
        padding: 0 1;
    }
    HelpScreen .help-title {
        text-style: bold;
        margin-top: 1;
    }
    HelpScreen .help-hint {
        color: $text-muted;
        dock: bottom;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape,f1,q", "close", "Close help"),
    ]

    def __init__(
        self,
        bindings: Sequence[tuple[str, str]],
        columns: Iterable[tuple[str, str]] = TASK_COLUMNS,
        *,
        files_note: str | None = None,
        intro: str = _INTRO,
        sections: Sequence[tuple[str, str, Sequence[tuple[str, str]]]] = (),
    ) -> None:
        super().__init__()
        self.intro = intro
        self.sections = [(title, left, list(rows)) for title, left, rows in sections]
        self.bindings = list(bindings)
        self.columns = list(columns)
        self.files_note = files_note if files_note is not None else _files_note()

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll(id="help-body"):
                yield Static(Text(self.intro), id="help-intro")
                yield Label("Keys", classes="help-title")
                yield Static(self._table(self.bindings, "Key", "Does"), id="help-keys")
                yield Label("Task table columns", classes="help-title")
                yield Static(self._table(self.columns, "Column", "Means"), id="help-columns")
                for n, (title, left, rows) in enumerate(self.sections):
                    yield Label(title, classes="help-title")
                    yield Static(
                        self._table(rows, left, "Means" if left == "Mark" else "Does"),
                        id=f"help-section-{n}",
                    )
                if self.files_note:
                    yield Label("Your files", classes="help-title")
                    yield Static(Text(self.files_note), id="help-files")
            yield Label("Esc closes - arrows and PgUp/PgDn scroll", classes="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    @staticmethod
    def _table(rows: Iterable[tuple[str, str]], left: str, right: str) -> Table:
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column(left, style="bold", no_wrap=True, ratio=None)
        table.add_column(right, ratio=1)
        for key, text in rows:
            table.add_row(Text(format_key(key) if left == "Key" else key), Text(text))
        return table

    def action_close(self) -> None:
        self.dismiss(None)
