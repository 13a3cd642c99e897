"""Write docs/timeline.svg: the app at 120x40 after the showcase run, timeline and graph open.

    python docs/make_screenshots.py [--size 120x40] [--out docs/timeline.svg] [--text]

The run is the recorded one the tests use (tests/data/showcase_events.jsonl, recorded from
tests/data/showcase.py), played back with a frozen clock in an empty data directory, so
the picture is the same on every machine. ``--text`` also prints the screen as plain text
(the README's fenced capture).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def shoot(size: tuple[int, int], out: Path, text: bool) -> None:
    from asyncplay import storage
    from asyncplay.tui.app import AsyncplayApp
    from asyncplay.tui.replay_session import ReplaySession, load_events

    data = ROOT / "tests" / "data"
    events = load_events(data / "showcase_events.jsonl")
    source = (data / "showcase.py").read_text(encoding="utf-8")
    app = AsyncplayApp(
        storage.Autosave(text=source, snippet="showcase"),
        session_factory=ReplaySession.factory(events, until=None),
        clock=lambda: 0.0,
        note="a copy of showcase",
        autosave=False,
    )
    async with app.run_test(size=size) as pilot:
        app.editor.cursor_blink = False
        while not app.editor.highlighter.lexed:
            await pilot.pause(0.05)
        await pilot.press("f5")
        while app.model is None or app.model.status != "ended":
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        await pilot.press("f4")
        await pilot.pause(0.2)
        parser = next(t.id for t in app.model.tasks.values() if t.name == "parser")
        app.timeline.select_task(parser)
        await pilot.press("right_square_bracket", "right_square_bracket")  # its blocking step
        await pilot.pause(0.4)
        app.save_screenshot(filename=out.name, path=str(out.parent))
        if text:
            print(screen_text(app))


def screen_text(app) -> str:  # noqa: ANN001
    """The screen as plain text, trailing blanks dropped: what ``export_screenshot`` draws
    (the compositor's full update through a recording console), without the SVG."""
    from rich.console import Console

    console = Console(width=app.size.width, height=app.size.height, record=True, file=io.StringIO())
    console.print(app.screen._compositor.render_update(full=True))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="120x40")
    ap.add_argument("--out", default=str(ROOT / "docs" / "timeline.svg"))
    ap.add_argument("--text", action="store_true", help="also print the screen as text")
    ns = ap.parse_args()
    width, height = (int(n) for n in ns.size.split("x"))
    with tempfile.TemporaryDirectory() as home:
        os.environ["ASYNCPLAY_HOME"] = home
        os.environ.pop("NO_COLOR", None)
        asyncio.run(shoot((width, height), Path(ns.out), ns.text))
    print(f"wrote {ns.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
