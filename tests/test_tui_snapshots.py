"""Snapshots of the main screen at 80x24 and 160x48, during and after the gather snippet.

Deterministic: the run is a recorded event list played back through the app's session
factory, the clock is frozen (elapsed time comes from the events), the cursor does not
blink and the settings come from an empty data directory. Update the pictures with
``pytest tests/test_tui_snapshots.py --snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_helpers import wait_for

from asyncplay import snippets, storage
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.replay_session import ReplaySession, load_events

EVENTS = load_events(Path(__file__).parent / "data" / "gather_events.jsonl")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ASYNCPLAY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NO_COLOR", raising=False)


def gather_app(until: float | None) -> AsyncplayApp:
    text = snippets.find_bundled("gather").path.read_text(encoding="utf-8")
    return AsyncplayApp(
        storage.Autosave(text=text, snippet="gather", cursor=(34, 4)),
        session_factory=ReplaySession.factory(EVENTS, until),
        clock=lambda: 0.0,
        note="a copy of snippet gather",
        autosave=False,
    )


def prepare(select_task: bool):
    async def run_before(pilot: Pilot) -> None:
        app: AsyncplayApp = pilot.app  # type: ignore[assignment]
        app.editor.cursor_blink = False
        await wait_for(pilot, lambda: app.editor.highlighter.lexed >= 1)
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not None and app.model.tasks)
        await pilot.pause(0.3)  # a few ticks
        if select_task:
            app.tasks.move_cursor(2)  # worker-B: its line is marked in the gutter
        await pilot.pause(0.2)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_gather_during_the_run(snap_compare, size) -> None:
    assert snap_compare(gather_app(until=1.5), terminal_size=size, run_before=prepare(True))


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_gather_after_the_run(snap_compare, size) -> None:
    assert snap_compare(gather_app(until=None), terminal_size=size, run_before=prepare(False))


def test_gather_after_the_run_task_tab_at_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await prepare(False)(pilot)
        await pilot.press("f7")
        await pilot.pause(0.2)

    assert snap_compare(gather_app(until=None), terminal_size=(80, 24), run_before=run_before)
