"""The playground's side of lessons and exercises: the text beside the code, an exercise's
checks, their verdicts after each run, F11 to check on demand, and Enter on a verdict going
where it points.

A mixin of :class:`~asyncplay.tui.app.AsyncplayApp` (as ``RunControl`` is). One mechanism
for both: a buffer whose docstring is a lesson's (``snippets.parse_metadata``: a title, the
explanation, ``What to look for:``) opens with the editor on its code and its text in the
Lesson view (the Exercise view when it has ``Checks:``), so at 80x24 the code is on screen.
The text is read from the editor when a buffer opens and when a run starts; a run that ends
is judged once, on the tick (``views.checks.evaluate``), and the Exercise view and the
status bar say the score. A run of a buffer with checks that can never go on (``stuck``
deadlock) is stopped at once, as ``asyncplay check`` does; F11 runs under the virtual
clock, as ``asyncplay check`` does.
"""

from __future__ import annotations

import ast
import asyncio
from typing import TYPE_CHECKING

from textual.css.query import NoMatches
from textual.widgets import Tab, Tabs

from asyncplay import snippets
from asyncplay.views import checks as vc
from asyncplay.views.gutter_marks import same_file

if TYPE_CHECKING:
    from asyncplay.model import RunModel
    from asyncplay.runner.spec import RunSpec
    from asyncplay.tui.panes.exercise import ExercisePane

__all__ = [
    "ExerciseControl",
    "code_start",
    "lesson_label",
    "lesson_of",
]


def code_start(text: str) -> int:
    """The first line (0-based) after the module docstring: where the code begins."""
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError):
        return 0
    body = module.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        lines = text.splitlines()
        row = body[0].end_lineno or 0
        while row < len(lines) - 1 and not lines[row].strip():
            row += 1  # the blank lines after it too: the code's first line at the top
        return min(row, max(0, len(lines) - 1))
    return 0


def lesson_of(text: str) -> snippets.SnippetMeta | None:
    """The lesson's (or exercise's) docstring of ``text``, or None for other programs."""
    try:
        return snippets.parse_metadata(text, "the buffer")
    except snippets.SnippetError:
        return None


def lesson_label(meta: snippets.SnippetMeta | None) -> str:
    """The view's tab: ``Exercise`` for a docstring with checks, else ``Lesson``."""
    return "Exercise" if meta is not None and meta.checks else "Lesson"


class ExerciseControl:
    """Mixin: ``exercise_checks`` is None for a buffer that is no exercise."""

    def _exercise_init(self) -> None:
        self.lesson: snippets.SnippetMeta | None = None  # the buffer's docstring, a lesson's
        self.exercise_checks: list[vc.Check] | None = None
        self.exercise_error: str | None = None  # a malformed check, said in the view
        self.verdicts: list[vc.Verdict] | None = None
        self._judged: RunModel | None = None
        self._exercise_text: str | None = None
        self._check_run = False  # the next run is F11's: the virtual clock

    @property
    def exercise_pane(self) -> ExercisePane:
        from asyncplay.tui.panes.exercise import ExercisePane

        return self.query_one("#exercise", ExercisePane)  # type: ignore[attr-defined]

    def refresh_exercise(self) -> None:
        """Read the editor's text for a lesson and its checks (only when it changed): the
        Lesson tab (Exercise, with checks) is shown for one, hidden otherwise."""
        text = self.editor.text  # type: ignore[attr-defined]
        if text == self._exercise_text:
            return
        self._exercise_text = text
        meta = lesson_of(text)
        checks: list[vc.Check] | None = None
        self.exercise_error = None
        if meta is not None and meta.checks:
            try:
                checks = vc.parse(meta.checks)
            except vc.CheckError as exc:
                checks, self.exercise_error = [], str(exc)
        was = self.lesson is not None
        self.lesson = meta
        self.exercise_checks = checks
        tabs = self.query_one("#pane-tabs", Tabs)  # type: ignore[attr-defined]
        if meta is None:
            tabs.hide("tab-exercise")
            if was and self.current_view() == "exercise":  # type: ignore[attr-defined]
                self._show_pane("output")  # type: ignore[attr-defined]
            return
        tabs.query_one("#tab-exercise", Tab).label = lesson_label(meta)
        tabs.show("tab-exercise")
        body = snippets.reflow(meta.explanation)
        if self.exercise_error:
            body = f"{self.exercise_error}\n\n{body}"
        self.verdicts = None
        self.exercise_pane.show_exercise(
            meta.title,
            body,
            [t for _n, t in meta.checks] if checks is not None else None,
            snippets.reflow(meta.look_for),
        )
        if not was:  # it just became a lesson or an exercise: its text beside the code
            self._show_pane("exercise")  # type: ignore[attr-defined]

    def open_on_code(self, cursor: tuple[int, int]) -> None:
        """A lesson or an exercise opened at its start: the editor on its code (the text is
        in its own view), scrolled so the code starts at the top. A kept cursor stays."""
        if self.lesson is None or tuple(cursor) != (0, 0):
            return
        row = code_start(self.editor.text)  # type: ignore[attr-defined]
        self.editor.move_cursor((row, 0))  # type: ignore[attr-defined]
        self.call_after_refresh(self.editor.scroll_to, y=row, animate=False)  # type: ignore[attr-defined]

    def lesson_run_starts(self) -> None:
        """A run of a lesson shows its output (on a small screen the lesson's text gave it
        its place); an exercise's view stays, for the verdicts."""
        if self.exercise_checks is None and self.current_view() == "exercise":  # type: ignore[attr-defined]
            self._show_pane("output")  # type: ignore[attr-defined]

    def action_lesson(self) -> None:
        """The lesson's or exercise's text (and the verdicts), from the palette."""
        self.refresh_exercise()
        if self.lesson is None:
            self.say("no lesson here: a lesson's docstring has a title and 'What to look for:'")  # type: ignore[attr-defined]
            return
        self._show_pane("exercise")  # type: ignore[attr-defined]

    def take_check_run(self) -> bool:
        """Whether the run starting now is F11's; asked once per start, first thing, so a
        start that fails does not hand the virtual clock on to the next F5."""
        checking, self._check_run = self._check_run, False
        return checking

    def exercise_spec(self, spec: RunSpec, checking: bool) -> RunSpec:
        """F11's run is under the virtual clock, as ``asyncplay check`` runs it."""
        if checking:
            spec.clock = "virtual"  # one of CLOCKS: what RunSpec checks
        return spec

    def ends_stuck_runs(self) -> bool:
        return bool(self.exercise_checks)

    def sync_exercise(self) -> None:
        """On the tick: a run that has ended is judged, once."""
        model: RunModel | None = self.model  # type: ignore[attr-defined]
        if (
            model is None
            or model.status != "ended"
            or model is self._judged
            or not self.exercise_checks
        ):
            return
        self._judged = model
        self.verdicts = vc.evaluate(model, self.exercise_checks)
        try:
            self.exercise_pane.show_verdicts(self.verdicts)
        except NoMatches:
            return
        passed = sum(v.passed for v in self.verdicts)
        self.say(f"{passed}/{len(self.verdicts)} checks pass")  # type: ignore[attr-defined]

    def action_check(self) -> None:
        """F11: run the exercise's checks now (the virtual clock), then show them."""
        self.refresh_exercise()
        if self.exercise_checks is None:
            self.say("no checks here: an exercise's docstring has a 'Checks:' field")  # type: ignore[attr-defined]
            return
        if self.exercise_error:
            self.say(self.exercise_error)  # type: ignore[attr-defined]
            return
        self._check_run = True
        self._show_pane("exercise")  # type: ignore[attr-defined]
        self.start_run()  # type: ignore[attr-defined]

    def on_exercise_pane_verdict_chosen(self, message: object) -> None:
        """Enter on a verdict: its task chosen in the table, timeline and graph, the
        timeline's cursor at the moment the reason is about (the graph shows that moment),
        and the editor at its line (the line of the program the reason names)."""
        index = getattr(message, "index", -1)
        if self.verdicts is None or not 0 <= index < len(self.verdicts):
            return
        v = self.verdicts[index]
        if v.task is not None:
            self.choose_task(v.task, self.exercise_pane)  # type: ignore[attr-defined]
        if v.t is not None:  # the timeline's cursor at the moment the reason is about
            self.timeline.show_moment(v.task, v.t)  # type: ignore[attr-defined]
        if v.line and (v.file is None or same_file(v.file, self.program)):  # type: ignore[attr-defined]
            self.jump_to(v.line)  # type: ignore[attr-defined]
        elif v.task is not None:
            self.choose_task(v.task, self.exercise_pane, jump=True)  # type: ignore[attr-defined]
        if v.task is None and not v.line:
            self.say(f"{v.check.text}: nothing to point at in this run")  # type: ignore[attr-defined]


async def stop_stuck(session: object) -> None:
    """End a run stuck in a deadlock (it could never go on)."""
    stop = getattr(session, "stop", None)
    if stop is not None and getattr(session, "running", False):
        await stop(0.0)


def spawn_stop(session: object) -> asyncio.Task[None]:
    return asyncio.create_task(stop_stuck(session), name="asyncplay-stop-stuck")
