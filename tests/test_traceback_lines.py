"""Errors that come only as stderr text (views/traceback_lines.py): the program's line a
traceback or a SyntaxError points at, and its mark in the editor's gutter."""

from __future__ import annotations

import pytest
from tui_helpers import make_app, wait_ended

pytestmark = pytest.mark.usefixtures("home")


def test_the_last_traceback_points_at_its_innermost_line_of_the_program() -> None:
    from asyncplay.model import OutputLine
    from asyncplay.views.traceback_lines import last_error_line

    def err(*texts: str) -> list[OutputLine]:
        return [OutputLine("stderr", t, None, 0.0) for t in texts]

    syntax = err('  File "/p/x.py", line 2', "    def f(:", "          ^", "SyntaxError: x")
    assert last_error_line(syntax, "/p/x.py") == 2
    assert last_error_line(syntax, "/p/other.py") is None
    chained = err(
        "Traceback (most recent call last):",
        '  File "/p/x.py", line 9, in <module>',
        '  File "/p/x.py", line 4, in f',
        "ValueError: first",
        "Traceback (most recent call last):",
        '  File "/p/x.py", line 12, in <module>',
        '  File "/usr/lib/python3/asyncio/runners.py", line 44, in run',
        "KeyError: last",
    )
    assert last_error_line(chained, "/p/x.py") == 12
    only_stdlib = err("Traceback (most recent call last):", '  File "/lib/a.py", line 1', "E")
    assert last_error_line(chained + only_stdlib, "/p/x.py") is None


async def test_a_syntax_error_is_marked_in_the_gutter(tmp_path):
    app = make_app("import asyncio\ndef f(:\n    pass\n", str(tmp_path / "syn.py"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot, timeout=30)
        assert any("SyntaxError" in line.text for line in app.model.output)
        assert app.editor.marks.get(1) == "error"
