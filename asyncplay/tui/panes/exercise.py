"""The Lesson and Exercise view: a lesson's or an exercise's text beside the code, and an
exercise's checks with their verdicts.

Renders only: the app gives it the text (title, explanation, what to look for) and, for an
exercise, its checks and, after a run, their verdicts (``views.checks``); a plain lesson has
no checks (``None``): its text alone. Enter on a verdict posts
:class:`ExercisePane.VerdictChosen` and the app goes where the verdict points (the task in
the other views, the step in the timeline, the line in the editor).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from asyncplay.views.checks import Verdict
from asyncplay.views.text_cells import clean

__all__ = ["ExercisePane", "score_line"]


def score_line(verdicts: Sequence[Verdict] | None, total: int) -> str:
    """``3/4 checks pass``, or before any run how many there are and the key."""
    if verdicts is None:
        return f"{total} check{'s' if total != 1 else ''}: F5 runs the program, F11 checks it"
    passed = sum(v.passed for v in verdicts)
    told = f"{passed}/{len(verdicts)} checks pass"
    return told if passed == len(verdicts) else f"{told} · Enter on one goes there"


class ExercisePane(Vertical):
    """The verdicts (a list to move in, Enter to go) over the exercise's text; a lesson's
    text alone."""

    DEFAULT_CSS = """
    ExercisePane { height: 1fr; }
    ExercisePane #exercise-score { height: 1; padding: 0 1; text-style: bold; }
    ExercisePane #exercise-verdicts { height: auto; max-height: 60%; border: none; padding: 0; }
    ExercisePane #exercise-text-box { height: 1fr; padding: 0 1; }
    """

    class VerdictChosen(Message):
        """Enter on a verdict: go where it points."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._checks: list[str] | None = None
        self.verdicts: list[Verdict] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="exercise-score")
        yield OptionList(id="exercise-verdicts")
        with VerticalScroll(id="exercise-text-box"):
            yield Static("", id="exercise-text")

    def show_exercise(
        self, title: str, text: str, checks: Sequence[str] | None, look_for: str = ""
    ) -> None:
        """A new lesson or exercise: its text; an exercise's checks (None for a lesson:
        no score, no list), not yet judged."""
        self._checks = list(checks) if checks is not None else None
        self.verdicts = None
        for part in ("#exercise-score", "#exercise-verdicts"):
            self.query_one(part).display = checks is not None
        body = Text(clean(title), style="bold")
        body.append("\n\n" + "\n".join(clean(line) for line in text.split("\n")))
        if look_for:
            body.append("\n\nWhat to look for: ", style="bold")
            body.append(" ".join(clean(line.strip()) for line in look_for.split("\n")))
        self.query_one("#exercise-text", Static).update(body)
        self._draw()

    def show_verdicts(self, verdicts: Sequence[Verdict] | None) -> None:
        self.verdicts = list(verdicts) if verdicts is not None else None
        self._draw()

    def _draw(self) -> None:
        if self._checks is None:  # a lesson: its text only
            return
        self.query_one("#exercise-score", Static).update(
            score_line(self.verdicts, len(self._checks))
        )
        options = self.query_one("#exercise-verdicts", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        if self.verdicts is None:
            options.add_options([Option(Text("· " + clean(c))) for c in self._checks])
            return
        rows = []
        for v in self.verdicts:
            row = Text("✓ " if v.passed else "✗ ", style="green" if v.passed else "red bold")
            row.append(clean(v.check.text))
            row.append(": " + clean(v.reason), style="" if not v.passed else "dim")
            rows.append(Option(row))
        options.add_options(rows)
        if rows:
            first_failed = next((i for i, v in enumerate(self.verdicts) if not v.passed), 0)
            options.highlighted = highlighted if highlighted is not None else first_failed

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.verdicts is not None:
            self.post_message(self.VerdictChosen(event.option_index))
