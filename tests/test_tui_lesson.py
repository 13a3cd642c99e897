"""A plain lesson in the playground: its text in the Lesson view beside the code, the editor
on the code (after the docstring), so at 80x24 both are on screen; the same mechanism as an
exercise's (tests/test_tui_exercise.py), without checks. And a snapshot of it at 80x24.

The run is the recorded gather run, played back through the app's session factory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, Tab
from tui_helpers import wait_drawn, wait_ended, wait_for

from asyncplay import snippets, storage
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.exercise_control import code_start
from asyncplay.tui.services.replay_session import ReplaySession, load_events

EVENTS = load_events(Path(__file__).parent / "data" / "gather_events.jsonl")


pytestmark = pytest.mark.usefixtures("home")


def lesson_app(name: str = "gather") -> AsyncplayApp:
    found = snippets.find_bundled(name)
    assert found is not None and not found.checks  # a plain lesson
    return AsyncplayApp(
        storage.Autosave(text=found.path.read_text(encoding="utf-8"), snippet=name),
        session_factory=ReplaySession.factory(EVENTS, None),
        clock=lambda: 0.0,
        note=f"a copy of snippet {name}",
        autosave=False,
    )


def lesson_text(app: AsyncplayApp) -> str:
    return str(app.query_one("#exercise-text", Static).render())


async def test_a_lesson_opens_with_its_code_on_screen_and_its_text_beside_it() -> None:
    app = lesson_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_drawn(pilot)
        editor = app.editor
        code = code_start(editor.text)
        assert code > 10  # gather's docstring is 14 lines: it used to fill the editor
        await wait_for(pilot, lambda: editor.scroll_offset.y == code)
        # the code's first lines are on screen in the editor, the text in the Lesson view
        assert editor.cursor_location == (code, 0)
        assert editor.size.height >= 8
        assert app.current_view() == "exercise"
        tab = app.query_one("#tab-exercise", Tab)
        assert tab.display and tab.label_text == "Lesson"
        assert app.query_one("#exercise-text-box").region.height >= 5
        assert not app.query_one("#exercise-score").display  # no checks: no score
        assert not app.query_one("#exercise-verdicts").display
        found = snippets.find_bundled("gather")
        assert found is not None
        text = lesson_text(app)
        assert text.startswith(found.title)
        assert "in the order you passed them in" in text  # the docstring's lines, rejoined
        assert "What to look for: `main` waits on gather" in text
        # Ctrl+N reaches the text (it scrolls with the keys), then back to the editor
        await pilot.press("ctrl+n")
        assert app.focused is app.query_one("#exercise-text-box")
        await pilot.press("ctrl+n")
        assert app.focused is editor
        # F5: the run's output takes the place of the text; the palette's command brings it back
        await pilot.press("f5")
        await wait_ended(pilot)
        assert app.current_view() == "output"
        await pilot.press("f11")  # no checks in a lesson
        await wait_drawn(pilot)
        assert "no checks here" in app.status_note()
        app.action_lesson()
        await wait_drawn(pilot)
        assert app.current_view() == "exercise"


async def test_another_lesson_from_f2_opens_on_its_code_and_a_plain_file_on_line_1(
    tmp_path,
) -> None:
    plain = tmp_path / "mine.py"
    plain.write_text('"""Just a docstring, no lesson."""\nprint(1)\n', encoding="utf-8")
    app = lesson_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_drawn(pilot)
        await pilot.press("f2", *"chain", "enter")
        await wait_for(pilot, lambda: app.buffer.snippet == "chain")
        code = code_start(app.editor.text)
        assert code > 0 and app.editor.cursor_location == (code, 0)
        chain = snippets.find_bundled("chain")
        assert chain is not None
        await wait_for(pilot, lambda: lesson_text(app).startswith(chain.title))
        assert app.current_view() == "exercise"
        app.open_path(plain)
        await wait_drawn(pilot)
        assert app.editor.cursor_location == (0, 0)
        assert not app.query_one("#tab-exercise").display
        assert app.current_view() == "output"


def test_snapshot_of_a_lesson_at_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        app: AsyncplayApp = pilot.app  # type: ignore[assignment]
        app.editor.cursor_blink = False
        await wait_for(pilot, lambda: app.editor.highlighter.lexed >= 1)
        await wait_for(pilot, lambda: app.editor.scroll_offset.y == code_start(app.editor.text))
        await wait_drawn(pilot)

    assert snap_compare(lesson_app(), terminal_size=(80, 24), run_before=run_before)
