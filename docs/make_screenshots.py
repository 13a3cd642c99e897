"""Write the docs' pictures: the app's own screenshots of recorded runs, at 120x40.

    python docs/make_screenshots.py [--only tui|timeline] [--size 120x40] [--text]

- ``docs/tui.svg`` (README.md, docs/playground.md): the gather snippet just after its run,
  worker-B selected (its line marked in the editor's gutter).
- ``docs/timeline.svg`` (docs/playground.md): the showcase run (``tests/data/showcase.py``)
  after F4, the timeline's cursor on ``parser``'s blocking step, the await graph beside it.

The runs are the recorded ones the tests use (``tests/data/*_events.jsonl``), played back
with a frozen clock in an empty data directory, so the pictures are the same on every
machine. ``--text`` also prints each screen as plain text (the fenced capture in
docs/playground.md).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT))


async def select_worker_b(pilot) -> None:  # noqa: ANN001
    pilot.app.tasks.move_cursor(2)  # worker-B: its line is marked in the editor's gutter
    await pilot.pause(0.3)


async def timeline_on_parser(pilot) -> None:  # noqa: ANN001
    app = pilot.app
    await pilot.press("f4")
    await pilot.pause(0.2)
    parser = next(t.id for t in app.model.tasks.values() if t.name == "parser")
    app.timeline.select_task(parser)
    await pilot.press("right_square_bracket", "right_square_bracket")  # its blocking step
    await pilot.pause(0.4)


def gather_source() -> str:
    from asyncplay import snippets

    return snippets.find_bundled("gather").path.read_text(encoding="utf-8")


# name -> (events, source, buffer's snippet name, its cursor, the status note, then what)
SHOTS: dict[str, tuple[str, Callable[[], str], str, tuple[int, int], str, Callable]] = {
    "tui": (
        "gather_events.jsonl", gather_source, "gather", (34, 4), "a copy of snippet gather",
        select_worker_b,
    ),
    "timeline": (
        "showcase_events.jsonl", lambda: (DATA / "showcase.py").read_text(encoding="utf-8"),
        "showcase", (0, 0), "a copy of showcase", timeline_on_parser,
    ),
}  # fmt: skip


async def shoot(name: str, size: tuple[int, int], out: Path, text: bool) -> None:
    from asyncplay import storage
    from asyncplay.tui.app import AsyncplayApp
    from asyncplay.tui.services.replay_session import ReplaySession, load_events

    events, source, snippet, cursor, note, then = SHOTS[name]
    then: Callable[..., Awaitable[None]]
    app = AsyncplayApp(
        storage.Autosave(text=source(), snippet=snippet, cursor=cursor),
        session_factory=ReplaySession.factory(load_events(DATA / events), until=None),
        clock=lambda: 0.0,
        note=note,
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
        await then(pilot)
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
    ap.add_argument("--only", choices=sorted(SHOTS), default=None)
    ap.add_argument("--size", default="120x40")
    ap.add_argument("--text", action="store_true", help="also print each screen as text")
    ns = ap.parse_args()
    width, height = (int(n) for n in ns.size.split("x"))
    for name in SHOTS:
        if ns.only not in (None, name):
            continue
        out = ROOT / "docs" / f"{name}.svg"
        with tempfile.TemporaryDirectory() as home:
            os.environ["ASYNCPLAY_HOME"] = home
            os.environ.pop("NO_COLOR", None)
            asyncio.run(shoot(name, (width, height), out, ns.text))
        print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
