"""Write docs/tui.svg: the app's own screenshot of the gather snippet, just after its run.

    python docs/tui_screenshot.py [--size 120x40]

The run is the recorded one the snapshot tests use (tests/data/gather_events.jsonl),
played back, so the picture is the same on every machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def shoot(size: tuple[int, int], out: Path) -> None:
    from asyncplay import snippets, storage
    from asyncplay.tui.app import AsyncplayApp
    from asyncplay.tui.replay_session import ReplaySession, load_events

    events = load_events(ROOT / "tests" / "data" / "gather_events.jsonl")
    text = snippets.find_bundled("gather").path.read_text(encoding="utf-8")
    app = AsyncplayApp(
        storage.Autosave(text=text, snippet="gather", cursor=(34, 4)),
        session_factory=ReplaySession.factory(events, until=None),
        clock=lambda: 0.0,
        note="a copy of snippet gather",
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
        app.tasks.move_cursor(2)  # worker-B: its line is marked in the editor's gutter
        await pilot.pause(0.3)
        app.save_screenshot(filename=out.name, path=str(out.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="120x40")
    ap.add_argument("--out", default=str(ROOT / "docs" / "tui.svg"))
    ns = ap.parse_args()
    width, height = (int(n) for n in ns.size.split("x"))
    with tempfile.TemporaryDirectory() as home:
        os.environ["ASYNCPLAY_HOME"] = home
        os.environ.pop("NO_COLOR", None)
        asyncio.run(shoot((width, height), Path(ns.out)))
    print(f"wrote {ns.out}")


if __name__ == "__main__":
    main()
