"""The status line: run state, elapsed time, how the run ended, Python and sandbox."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from asyncplay.model import RunModel
from asyncplay.tui.ending import status_text

STATE_STYLE = {"running": "bold green", "stopping": "bold yellow", "ended": "bold"}


def describe(
    model: RunModel | None,
    elapsed: float,
    python: str,
    sandbox: str | None,
    note: str | None = None,
    stopping: bool = False,
) -> Text:
    """The status text; pure, so tests and snapshots see exactly what users see."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if model is None:
        text.append("ready", style="bold")
    elif model.status == "ended" and model.end is not None:
        # A few words (the full sentence ends the Output pane: 80 columns cannot hold it).
        end = model.end
        code = end.get("exit_code")
        head, _, rest = status_text(end, model.limits, model.now).partition(" - ")
        text.append(head, style="bold green" if code == 0 else "bold red")
        if rest:
            text.append(f" - {rest}")
    else:
        state = "stopping" if stopping else "running"
        text.append(state, style=STATE_STYLE[state])
        text.append(f" {elapsed:.1f}s")
        if model.tasks:
            user = sum(1 for t in model.tasks.values() if not t.internal and not t.finished)
            text.append(f" - {user} live task{'s' if user != 1 else ''}")
        else:
            text.append(" - no task seen yet")
        if model.waiting_for_input:  # the program blocks reading stdin (the runtime says)
            text.append(" - waits for input: Ctrl+L to type", style="bold yellow")
    # The note (what the buffer is, or a one-off like "restored ...") comes before the
    # fixed facts: at 80 columns the end of the line is what gets cut.
    if note:
        text.append("  |  ")
        text.append(note, style="italic")
    text.append("  |  ")
    text.append(f"Python {model.python if model and model.python else python}")
    if sandbox:
        text.append(f"  |  sandbox {sandbox}")
    return text


class StatusBar(Static):
    """Updated on the app's tick; only repaints when its text changed."""

    DEFAULT_CSS = """
    StatusBar { width: 1fr; height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._last = ""

    def show(self, text: Text) -> None:
        if text.plain != self._last:
            self._last = text.plain
            self.update(text)

    @property
    def plain(self) -> str:
        return self._last
