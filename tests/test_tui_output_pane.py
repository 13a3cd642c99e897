"""The Output pane: a line without its newline yet, carriage returns, the pane's share of
the screen and long lines that scroll."""

from __future__ import annotations

import textwrap

import pytest
from tui_helpers import make_app, wait_ended

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
