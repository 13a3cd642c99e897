"""Snapshots of the main screen at 80x24 and 160x48: the gather snippet, and the timeline
and the await graph (F4) of the showcase and deadlock recordings.

Deterministic: the run is a recorded event list played back through the app's session
factory, the clock is frozen (elapsed time comes from the events), the cursor does not
blink and the settings come from an empty data directory. Update the pictures with
``pytest tests/test_tui_snapshots.py --snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_helpers import wait_drawn, wait_ended, wait_for
from tui_recorded import replay_app

from asyncplay import snippets, storage
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.services.replay_session import ReplaySession, load_events

EVENTS = load_events(Path(__file__).parent / "data" / "gather_events.jsonl")


pytestmark = pytest.mark.usefixtures("home")


def gather_app(until: float | None) -> AsyncplayApp:
    text = snippets.find_bundled("gather").path.read_text(encoding="utf-8")
    return AsyncplayApp(
        storage.Autosave(text=text, snippet="gather", cursor=(34, 4)),
        session_factory=ReplaySession.factory(EVENTS, until),
        clock=lambda: 0.0,
        note="a copy of snippet gather",
        autosave=False,
    )


def held_at(until: float) -> float:
    """The time of the last event a run held at ``until`` has delivered."""
    return max(ev.get("t", 0.0) for ev in EVENTS if ev.get("t", 0.0) <= until)


def prepare(select_task: bool, until: float | None):
    async def run_before(pilot: Pilot) -> None:
        app: AsyncplayApp = pilot.app  # type: ignore[assignment]
        app.editor.cursor_blink = False
        await wait_for(pilot, lambda: app.editor.highlighter.lexed >= 1)
        await pilot.press("f5")
        if until is None:
            await wait_ended(pilot)
        else:  # every event up to the hold is in the model, and the views drew it
            await wait_for(pilot, lambda: app.model is not None and app.model.now >= held_at(until))
            await wait_drawn(pilot)
        if select_task:
            app.tasks.move_cursor(2)  # worker-B: its line is marked in the gutter
        await wait_drawn(pilot)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_gather_during_the_run(snap_compare, size) -> None:
    assert snap_compare(gather_app(until=1.5), terminal_size=size, run_before=prepare(True, 1.5))


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_gather_after_the_run(snap_compare, size) -> None:
    assert snap_compare(gather_app(until=None), terminal_size=size, run_before=prepare(False, None))


def test_gather_after_the_run_task_tab_at_80x24(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await prepare(False, None)(pilot)
        await pilot.press("f7")
        await wait_drawn(pilot)

    assert snap_compare(gather_app(until=None), terminal_size=(80, 24), run_before=run_before)


# ---- the timeline and the await graph (F4), on the showcase and the deadlock recordings ----

DATA = Path(__file__).parent / "data"
SHOWCASE = (DATA / "showcase.py").read_text(encoding="utf-8")
SHOWCASE_EVENTS = load_events(DATA / "showcase_events.jsonl")
DEADLOCK = (Path(__file__).parent / "programs" / "deadlock_cycle.py").read_text(encoding="utf-8")
DEADLOCK_EVENTS = load_events(DATA / "deadlock_events.jsonl")


def recorded_app(text: str, name: str, events: list[dict]) -> AsyncplayApp:
    return replay_app(events, text, name, note=f"a copy of {name}")


async def run_and_open_timeline(pilot: Pilot) -> AsyncplayApp:
    """F5, wait for the run's end, F4: the timeline (and the graph where there is room)."""
    app: AsyncplayApp = pilot.app  # type: ignore[assignment]
    app.editor.cursor_blink = False
    await wait_for(pilot, lambda: app.editor.highlighter.lexed >= 1)
    await pilot.press("f5")
    await wait_ended(pilot)
    await pilot.press("f4")
    await wait_drawn(pilot)
    return app


def task_named(app: AsyncplayApp, name: str) -> int:
    assert app.model is not None
    return next(t.id for t in app.model.tasks.values() if t.name == name)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_timeline_of_the_showcase_with_the_cursor_on_a_step(snap_compare, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        app = await run_and_open_timeline(pilot)
        app.timeline.select_task(task_named(app, "parser"))
        await pilot.press("right_square_bracket")  # onto parser's first step
        await wait_drawn(pilot)
        assert "parser" in app.timeline.detail()

    app = recorded_app(SHOWCASE, "showcase", SHOWCASE_EVENTS)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def open_graph(size: tuple[int, int]):
    """F4, and on a small screen F7 to the Graph tab; on a wide one the graph is beside."""

    async def run_before(pilot: Pilot) -> None:
        app = await run_and_open_timeline(pilot)
        if size[0] < 110:
            await pilot.press("f7")
            await wait_drawn(pilot)
            assert app.graph.display and not app.timeline.display
        else:
            assert app.graph.display and app.timeline.display

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_await_graph_of_the_deadlock_with_its_cycle(snap_compare, size) -> None:
    app = recorded_app(DEADLOCK, "deadlock_cycle", DEADLOCK_EVENTS)
    assert snap_compare(app, terminal_size=size, run_before=open_graph(size))


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_await_graph_of_the_showcase_at_half_a_second(snap_compare, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        app = await run_and_open_timeline(pilot)
        app.timeline.select_task(task_named(app, "parser"))
        await pilot.press("right_square_bracket")  # a step: the cursor is placed
        for _ in range(400):  # then a column at a time to about 0.5 s
            t = app.timeline.cursor_time
            assert t is not None
            if 0.4 <= t <= 0.5:
                break
            await pilot.press("left" if t > 0.5 else "right")
        await wait_drawn(pilot)
        assert app.moment is not None and 0.3 < app.moment <= 0.5
        if size[0] < 110:
            await pilot.press("f7")
            await wait_drawn(pilot)
        assert app.graph.moment == app.moment

    app = recorded_app(SHOWCASE, "showcase", SHOWCASE_EVENTS)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
