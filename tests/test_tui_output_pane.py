"""The Output pane: a line without its newline yet, carriage returns, the pane's share of
the screen and long lines that scroll, the last line above the horizontal scrollbar (and its
snapshot), and what the user typed to stdin shown as input."""

from __future__ import annotations

import textwrap

import pytest
from textual.pilot import Pilot
from tui_helpers import make_app, wait_ended, wait_for
from tui_recorded import LAST, on_screen, replay_app, run_to_end, traceback_run

from asyncplay.tui.app import AsyncplayApp

pytestmark = pytest.mark.usefixtures("home")


PARTIAL = textwrap.dedent(
    """\
    import asyncio

    async def dots():
        await asyncio.sleep(0.1)
        print("partial...", end="", flush=True)
        await asyncio.sleep(5)

    async def boom():
        await asyncio.sleep(0.5)
        raise ValueError("boom")

    async def main():
        await asyncio.gather(dots(), boom())

    asyncio.run(main())
    """
)


async def test_a_partial_line_is_drawn_where_it_was_printed(tmp_path):
    app = make_app(PARTIAL, str(tmp_path / "partial.py"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        rows = [app.output.line_at(r) for r in range(app.output.row_count)]
        texts = [r.text for r in rows if r is not None]
        assert texts[0] == "partial..." and texts[1].startswith("Traceback"), texts
        assert texts.count("partial...") == 1


def test_a_carriage_return_overwrites_like_a_terminal() -> None:
    from asyncplay.tui.panes.output import overwrite_returns

    assert overwrite_returns("10%\r50%\r100%") == "100%"
    assert overwrite_returns("12345\rab") == "ab345"
    assert overwrite_returns("windows line\r") == "windows line"
    assert overwrite_returns("plain") == "plain"


async def test_a_progress_bar_shows_its_latest_state(tmp_path):
    program = 'import sys\nfor i in range(4):\n    sys.stdout.write(f"\\r{i * 25}%")\nprint()\n'
    app = make_app(program, str(tmp_path / "bar.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        strip = app.output._row_strip(0, app.output.rich_style)
        assert strip.text.rstrip().endswith("75%") and "?" not in strip.text


FAILING = textwrap.dedent(
    """\
    import asyncio

    async def worker(n):
        await asyncio.sleep(0.05)
        raise ValueError(f"worker {n} failed " + "with a long message " * 10)

    async def main():
        await asyncio.gather(worker(1), worker(2))

    asyncio.run(main())
    """
)


async def test_output_gets_the_larger_share_and_long_lines_scroll(tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-" * 3)
    deep.mkdir()
    app = make_app(FAILING, str(deep / "fails.py"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        pane = app.output
        assert pane.size.width > app.tasks.size.width
        visible = [pane.render_line(y).text for y in range(pane.size.height)]
        shown = [row for row in visible if 'File "fails.py", line 5' in row]
        assert shown, visible  # the program's file by its name: the line number fits
        assert any(pane.location(r) == 5 for r in range(pane.row_count))  # still jumps
        pane.focus()
        await pilot.press("right")
        await pilot.pause()
        assert pane.scroll_offset.x > 0
        await pilot.press("left")
        await pilot.pause()
        assert pane.scroll_offset.x == 0


# -- the last line of output above the horizontal scrollbar ----------------------------------


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40), (160, 48)])
async def test_the_last_line_shows_above_the_horizontal_scrollbar(size) -> None:
    app = replay_app(traceback_run())
    async with app.run_test(size=size) as pilot:
        await run_to_end(pilot)
        pane = app.output
        assert pane.virtual_size.width > pane.scrollable_content_region.width  # a scrollbar
        await wait_for(pilot, lambda: on_screen(pilot, pane, LAST))
        pane.focus()
        await pilot.press("home")
        await wait_for(pilot, lambda: not on_screen(pilot, pane, LAST))
        await pilot.press("end")
        await wait_for(pilot, lambda: on_screen(pilot, pane, LAST))
        await pilot.press("home")
        for _ in range(pane.row_count):
            await pilot.press("down")
        await wait_for(pilot, lambda: on_screen(pilot, pane, LAST))


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
def test_snapshot_the_traceback_ends_above_the_scrollbar(snap_compare, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        app: AsyncplayApp = pilot.app  # type: ignore[assignment]
        app.editor.cursor_blink = False
        await run_to_end(pilot)
        await wait_for(pilot, lambda: on_screen(pilot, app.output, LAST))

    assert snap_compare(replay_app(traceback_run()), terminal_size=size, run_before=run_before)


ASKS = 'name = input("What\'s your name? ")\nprint(f"Hello, {name}!")\n'


async def test_what_was_typed_shows_in_the_output_marked_as_input(tmp_path) -> None:
    from tui_helpers import make_app, wait_ended

    from asyncplay.tui.panes.output import INPUT_LABEL, INPUT_STYLE

    app = make_app(ASKS, str(tmp_path / "asks.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not None and app.model.waiting_for_input)
        await pilot.press("ctrl+l", *"Alice", "enter")
        await wait_ended(pilot)
        lines = [(line.stream, line.text) for line in app.model.output]
        assert lines == [
            ("stdout", "What's your name? "),
            ("stdin", "Alice"),
            ("stdout", "Hello, Alice!"),
        ], lines
        pane = app.output
        rows = [pane.render_line(y) for y in range(pane.visible_rows)]
        typed = next(strip for strip in rows if strip.text.rstrip().endswith("Alice"))
        assert typed.text.startswith(INPUT_LABEL)  # marked in the task column
        styles = [seg.style for seg in typed if seg.text.strip() == "Alice"]
        assert styles and styles[0].italic and INPUT_STYLE.italic  # and drawn as input


def test_headless_stdout_stays_byte_for_byte_with_input(tmp_path) -> None:
    import subprocess
    import sys

    from helpers import asyncplay

    (tmp_path / "asks.py").write_text(ASKS)
    ours = asyncplay("run", "asks.py", cwd=tmp_path, stdin=b"Alice\n")
    python = subprocess.run(
        [sys.executable, "asks.py"], cwd=tmp_path, input=b"Alice\n", capture_output=True
    )
    assert ours.stdout == python.stdout == b"What's your name? Hello, Alice!\n"
