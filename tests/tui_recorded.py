"""Recorded runs the TUI tests play through the app's session factory (deterministic, no
process), and what they read of the screen: a traceback wider than any pane, the breakfast
tasks with names alike."""

from __future__ import annotations

from streams import Stream
from textual.pilot import Pilot
from tui_helpers import wait_for

from asyncplay import storage
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.panes.output import OutputPane
from asyncplay.tui.services.replay_session import ReplaySession

LAST = "RuntimeError: uncaught in task"


def traceback_run() -> list[dict]:
    """Forty lines of output, then a traceback with a line wider than any pane."""
    s = Stream()
    s.task(1, 0.0, "main", line=4)
    s.output(0.005, "".join(f"line {i}\n" for i in range(40)), 1)
    deep = "/home/student/" + "a-rather-long-folder-name/" * 4 + "prog.py"
    s.events.append(
        {
            "event": "output",
            "t": 0.01,
            "stream": "stderr",
            "task": None,
            "text": "Traceback (most recent call last):\n"
            f'  File "{deep}", line 12, in <module>\n'
            "    asyncio.run(main())\n"
            f"{LAST}\n",
        }
    )
    return s.end(0.02, 1)


def replay_app(
    events: list[dict],
    text: str = "print(1)\n",
    name: str = "x",
    until: float | None = None,
    note: str | None = None,
) -> AsyncplayApp:
    """The app on a recorded run of ``text`` (no file of its own: the title names no
    temporary path), its clock frozen; with ``until`` the run goes on after that (until
    stopped); ``note`` the one-off note at the start (a snippet's "a copy of ...")."""
    if until is not None:
        events = [*events, {"event": "output", "t": until + 1, "stream": "stdout", "text": ""}]
    return AsyncplayApp(
        storage.Autosave(text=text, snippet=name),
        session_factory=ReplaySession.factory(events, until),
        clock=lambda: 0.0,
        note=note,
        autosave=False,
    )


def on_screen(pilot: Pilot, pane: OutputPane, text: str) -> bool:
    """``text``'s row is in the pane's view and nothing (a scrollbar) is drawn over it."""
    for row in range(pane.row_count):
        line = pane.line_at(row)
        if line is not None and line.text == text:
            break
    else:
        return False
    y = row - pane.scroll_offset.y
    if not 0 <= y < pane.scrollable_content_region.height:
        return False
    region = pane.scrollable_content_region
    widget, _ = pilot.app.screen.get_widget_at(region.x + 2, region.y + y)
    return widget is pane


async def run_to_end(pilot: Pilot) -> AsyncplayApp:
    app: AsyncplayApp = pilot.app  # type: ignore[assignment]
    await pilot.press("f5")
    await wait_for(pilot, lambda: app.model is not None and app.model.status == "ended")
    await wait_for(pilot, lambda: app.output.scroll_offset.y == app.output.max_scroll_y)
    await pilot.pause()
    return app


def breakfast_run(long: bool = False) -> list[dict]:
    """kettle-task and toaster-task, and two consumers that print (issue 14's names)."""
    s = Stream()
    s.task(1, 0.0, "main", line=30)
    names = ("kettle-task", "toaster-task", "consumer-1", "consumer-2")
    if long:  # alike but for their ends
        names = tuple(f"a-name-far-too-long-to-show-whole-{name}" for name in names)
    for tid, name in enumerate(names, 2):
        s.task(tid, 0.001, "boil_water_for_the_tea", name=name, parent=1, line=20)
    for tid, _name in enumerate(names, 2):
        s.step(tid, 0.002 * tid, 0.0001, "sleep(1)", line=22)
        s.output(0.002 * tid + 0.0001, f"hello from task {tid}\n", tid)
    return s.events  # still running: the tasks are live


def table_names(app: AsyncplayApp) -> list[str]:
    table = app.tasks
    region = table.scrollable_content_region
    rows = [table.render_line(y).text for y in range(1, min(region.height, table.row_count + 1))]
    return [row[: table.widths["name"]].rstrip() for row in rows]


def gutter_names(app: AsyncplayApp) -> list[str]:
    pane = app.output
    rows = [pane.render_line(y).text for y in range(pane.visible_rows)]
    return [row[: pane.task_column].rstrip() for row in rows if row[: pane.task_column].strip()]


def clocked_app(
    text: str = "print(1)\n", note: str | None = None, snippet: str = "sequential", **kw
) -> AsyncplayApp:
    """The app with a clock the test moves, ``app.test_clock[0]`` (one-off notes last
    NOTE_SECONDS of it); ``kw`` goes to the app (a ``session_factory``)."""
    now = [1000.0]
    app = AsyncplayApp(
        storage.Autosave(text=text, snippet=snippet),
        clock=lambda: now[0],
        note=note,
        autosave=False,
        **kw,
    )
    app.test_clock = now  # type: ignore[attr-defined]
    return app
