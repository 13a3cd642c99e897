"""How the playground says a run's end (tui/ending_words.py): the limit that stopped it, in
the words of the Settings screen, at the end of the Output, in the status line and the tasks."""

from __future__ import annotations

import textwrap

import pytest
from tui_helpers import make_app, wait_ended

from asyncplay import storage
from asyncplay.tui import ending_words as ending
from asyncplay.tui.screens.settings import NUMBER_FIELDS

pytestmark = pytest.mark.usefixtures("home")


SLEEPER = textwrap.dedent(
    """\
    import asyncio

    async def main():
        await asyncio.sleep(30)

    asyncio.run(main())
    """
)


TIMEOUT_END = {
    "exit_code": 124,
    "reason": "timeout",
    "by": "asyncplay",
    "message": "asyncplay stopped the program after 1.05 s: it reached the wall-clock "
    "limit (--timeout 1 s); raise it with --timeout",
}


def test_the_limit_is_worded_for_the_playground() -> None:
    assert ending.status_text(TIMEOUT_END, {"timeout": 1.5}, 1.05) == (
        "exit 124 - timeout 1.5 s - F9 to raise"
    )
    said = ending.sentence(TIMEOUT_END)
    assert said is not None and "--" not in said
    assert "1.05 s" in said and "(1 s)" in said and "'Time limit (s)' in Settings (F9)" in said
    exited = {"exit_code": 1, "reason": "exited", "by": "program", "message": "exited"}
    assert ending.sentence(exited) is None
    assert ending.status_text(exited, {}, 0.5) == "exit 1 - 0.50s"


def test_a_replayed_limit_is_worded_without_advice() -> None:
    replayed = {**TIMEOUT_END, "replayed": True}
    assert (
        ending.status_text(replayed, {"timeout": 1.5}, 1.05) == "exit 124 - timeout 1.5 s reached"
    )
    said = ending.sentence(replayed)
    assert said == (
        "asyncplay: stopped the program after 1.05 s: it reached the wall-clock limit (1 s)"
    )


def test_the_settings_labels_are_the_settings_screens() -> None:
    labels = {name: label for name, label, _whole in NUMBER_FIELDS}
    for name, label in ending._LABELS.items():
        assert labels[name] == label


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_a_limit_is_readable_at_the_end_of_the_output(tmp_path, size):
    settings = storage.Settings(timeout=1.0)
    app = make_app(SLEEPER, str(tmp_path / "sleeper.py"), settings=settings)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        status = app.status.plain
        assert status.startswith("exit 124 - timeout 1 s - F9 to raise"), status
        if size[0] >= 160:
            assert "sandbox" in status
        rows = [app.output.line_at(r) for r in range(app.output.row_count)]
        tail = " ".join(r.text for r in rows[-3:] if r is not None)
        assert "raise 'Time limit (s)' in Settings (F9)" in tail
        assert rows[-1] is not None and rows[-1].stream == "asyncplay"
        assert all(len(r.text) <= app.output.size.width for r in rows[-2:] if r is not None)


# Stopped by a limit that only main itself can reach (its own output): never before main
# ran, as a 1 s time limit could be on a busy machine (start-up alone took longer).
FLOODER = textwrap.dedent(
    """\
    import asyncio

    async def main():
        while True:
            print("x" * 1000)
            await asyncio.sleep(0)

    asyncio.run(main())
    """
)


async def test_a_task_stopped_by_a_limit_shows_cut_off(tmp_path):
    settings = storage.Settings(output_mib=0.25)
    app = make_app(FLOODER, str(tmp_path / "flooder.py"), settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        assert app.model.end is not None and app.model.end["reason"] == "output-limit"
        main = next(t for t in app.model.tasks.values() if t.coro == "main")
        from asyncplay.tui.panes.task_table import row_values

        assert row_values(main, app.model.now)[2] == "cut off"
        assert "cut off" in app.tasks.render_line(1).text + app.tasks.render_line(2).text
