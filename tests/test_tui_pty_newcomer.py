"""Issue 14 in a real terminal (tmux): the command a newcomer types, at the sizes where the
bugs were seen. Uses the Tmux driver of ``test_tui_pty.py``."""

from __future__ import annotations

import shutil

import pytest
from test_tui_pty import Tmux, others, wait_gone

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

BOOM = """import asyncio


async def boom():
    print("a line wider than the pane " + "=" * 120)
    raise RuntimeError("uncaught in task")


async def main():
    for i in range(30):
        print(f"line {i}")
    await asyncio.create_task(boom())


asyncio.run(main())
"""

FOOTER_WORDS = {"^q", "Quit", "f5", "Run", "f6", "Stop", "f1", "Help", "f2", "Snippets", "f4"}
FOOTER_WORDS |= {"Timeline", "f7", "Switch", "view", "^s", "Save", "^p", "palette", "▏"}


def test_at_80x24_the_traceback_ends_on_screen_and_the_bars_cut_no_word(tmp_path) -> None:
    term = Tmux(tmp_path, 80, 24)
    try:
        (tmp_path / "boom.py").write_text(BOOM)
        pid = term.start("boom.py")
        term.wait_screen("async def boom():")
        term.keys("F5")
        screen = term.wait_screen("exit 1")
        screen = term.wait_screen("RuntimeError: uncaught in task")  # the last line, seen
        rows = screen.rstrip("\n").splitlines()
        status, footer = rows[-2], rows[-1]
        assert "sandbox" in status and ("Python 3" in status or "py3" in status), status
        assert set(footer.split()) <= FOOTER_WORDS, footer  # whole keys only
        term.keys("C-q")
        wait_gone(pid)
        assert others(set()) == []
    finally:
        term.kill_server()


RUNAWAY = """import asyncio


async def main():
    print("the run", "has", "started", flush=True)
    while True:
        await asyncio.sleep(0.05)


asyncio.run(main())
"""


def test_ctrl_c_stops_the_run_and_the_playground_stays(tmp_path) -> None:
    term = Tmux(tmp_path, 80, 24)
    try:
        (tmp_path / "forever.py").write_text(RUNAWAY)
        pid = term.start("forever.py")
        term.wait_screen("async def main():")
        term.keys("F5")
        term.wait_screen("run has started")
        term.keys("C-c")
        screen = term.wait_screen("exit 130")
        assert "KeyboardInterrupt" in screen or "stopped" in screen, screen
        assert "press" not in screen.lower() or "ctrl+q to quit" not in screen.lower()
        term.keys("C-c")  # idle: it says how to quit, and stays
        term.wait_screen("Nothing is running. Ctrl+Q quits")
        term.keys("C-q")
        wait_gone(pid)
        assert others(set()) == []
    finally:
        term.kill_server()


BREAKFAST = """import asyncio


async def work(n):
    print(f"step {n}")
    await asyncio.sleep(0.3)


async def main():
    names = ["kettle-task", "toaster-task", "consumer-1", "consumer-2"]
    tasks = [asyncio.create_task(work(i), name=name) for i, name in enumerate(names)]
    await asyncio.gather(*tasks)


asyncio.run(main())
"""


def test_at_120x40_names_are_whole_in_the_table_and_the_output(tmp_path) -> None:
    term = Tmux(tmp_path, 120, 40)
    try:
        (tmp_path / "breakfast.py").write_text(BREAKFAST)
        pid = term.start("breakfast.py")
        term.wait_screen("async def work(n):")
        term.keys("F5")
        screen = term.wait_screen("exit 0")
        below = screen.split("async def main", 1)[-1]  # the panes, not the editor's text
        for name in ("kettle-task", "toaster-task", "consumer-1", "consumer-2"):
            shown = [line for line in below.splitlines() if name in line]
            assert len(shown) >= 1, (name, screen)
        output = [line for line in below.splitlines() if "step " in line]
        assert [line.split()[0] for line in output[:4]] == [
            "kettle-task",
            "toaster-task",
            "consumer-1",
            "consumer-2",
        ], output
        assert "~" not in "".join(output), output
        term.keys("C-q")
        wait_gone(pid)
        assert others(set()) == []
    finally:
        term.kill_server()
