"""Stepping the real command in a pseudo-terminal (tmux), on CPython 3.10, 3.11 and 3.13.

One playground per Python does it all (a run is the expensive part): F10 starts the
program paused; each F10 runs one task step, which prints exactly its own line (the
Output pane says which task printed it, and it is the task the status line named
``next:`` before the step) and nothing more while paused; then a breakpoint on a line
(Ctrl+B) pauses the next run there, before the line has run; and two F10s in one burst
start the run paused and step it once (the second, pressed while the run starts, is kept).
"""

from __future__ import annotations

import re
import shlex

import pytest
from conftest import descendants
from pythons import find_pythons
from test_tui_pty import Tmux, others, wait_gone

from asyncplay import storage

PROGRAM = """import asyncio


async def cook(what, n):
    for i in range(n):
        print(f"{what} {i}")
        await asyncio.sleep(0)


async def main():
    print("main start")
    a = asyncio.create_task(cook("toast", 2), name="toaster")
    b = asyncio.create_task(cook("tea", 2), name="kettle")
    await asyncio.gather(a, b)
    print("main end")


asyncio.run(main())
"""
PRINT_LINE = 6  # print(f"{what} {i}")
PRINTED = re.compile(r"^(\S+)\s+(main start|main end|toast \d|tea \d)\s*$")
NEXT = re.compile(r"paused - next: (\S+)")
#: One Python for each way the child steps (about 10 s of a core each): 3.10 (sys.settrace
#: for line breakpoints, a step hook without co_qualname), 3.11 (settrace, co_qualname) and
#: 3.13 (sys.monitoring, child/line_breaks.py, from 3.12). 3.12 takes 3.13's path in every
#: version test of child/ (line_breaks, stepping, tracer, task_creation); what differs in
#: asyncio itself from one version to the next is stepped on every installed Python by
#: tests/test_stepping_engine.py (each step, its pause, the line breakpoints), without tmux.
VERSIONS = ("3.10", "3.11", "3.13")


def printed(screen: str) -> list[tuple[str, str]]:
    """The Output pane's lines of the program: (the task that printed it, the line)."""
    found = []
    _, _, below = screen.partition("Output  Tasks")  # the pane, under its tabs (80x24)
    for line in below.splitlines()[1:]:
        m = PRINTED.match(line.strip())
        if m:
            found.append((m.group(1), m.group(2)))
    return found


def wait_until(term: Tmux, cond, what: str, timeout: float = 60) -> str:
    import time

    deadline = time.monotonic() + timeout
    while True:
        screen = term.screen()
        if cond(screen):
            return screen
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never came; the screen:\n{screen}")
        time.sleep(0.1)


@pytest.mark.parametrize("version", VERSIONS)
def test_stepping_the_real_command(version: str, tmp_path, monkeypatch) -> None:
    python = find_pythons().get(version)
    if python is None:
        pytest.skip(f"no CPython {version} here")
    monkeypatch.setenv("ASYNCPLAY_HOME", str(tmp_path / "home"))
    storage.save_settings(storage.Settings(python=python))
    program = tmp_path / "kitchen" / "breakfast.py"  # a project folder: no note on home
    program.parent.mkdir()
    program.write_text(PROGRAM)
    term = Tmux(tmp_path)  # 80x24
    try:
        # Started in its project folder, not in HOME (tmp_path): no "read-only working
        # directory" notice over the status line for ten seconds at each run.
        pid = term.start(str(program), prefix=f"cd {shlex.quote(str(program.parent))};")
        term.wait_screen("async def cook")
        server = {p for p, _s, cmd in descendants() if "tmux" in cmd}
        term.keys("F10")
        screen = term.wait_screen("paused - next: Task-1 (main)", timeout=60)
        assert printed(screen) == []  # started paused: no task step has run
        seen: list[tuple[str, str]] = []
        last_next = "Task-1"
        for _ in range(40):  # each F10: one step; the run ends after about ten
            term.keys("F10")

            def moved(s: str, before: str = last_next, count: int = len(seen)) -> bool:
                m = NEXT.search(s)
                return (
                    "exit 0" in s
                    or (m is not None and m.group(1) != before)
                    or len(printed(s)) > count
                )

            screen = wait_until(term, moved, f"the step after next: {last_next}")
            now = printed(screen)
            new = now[len(seen) :]
            assert now[: len(seen)] == seen, screen  # nothing printed before it changed
            assert len(new) <= 1, screen  # one step prints what that task step prints
            for task, _line in new:
                assert task == last_next, screen  # the task named next: is the one that ran
            seen = now
            if "exit 0" in screen:
                break
            m = NEXT.search(screen)
            if m is None:  # the step's pause not drawn yet (the output came first)
                screen = wait_until(term, lambda s: NEXT.search(s) or "exit 0" in s, "pause")
                m = NEXT.search(screen)
                if m is None:
                    break
            last_next = m.group(1)
        else:
            raise AssertionError(f"the run never ended; the screen:\n{screen}")
        assert [line for _task, line in seen] == [
            "main start",
            "toast 0",
            "tea 0",
            "toast 1",
            "tea 1",
            "main end",
        ]

        term.keys("S-F1")  # explain, a terminal's Shift+F1: this run has nothing to explain
        term.wait_screen("no warnings")
        term.keys("C-Home", *["Down"] * (PRINT_LINE - 1))  # to the print line
        term.keys("C-b")  # and a breakpoint on it
        term.wait_screen(f"breakpoint at line {PRINT_LINE}")
        assert f" {PRINT_LINE}●" in term.wait_screen(f" {PRINT_LINE}●")  # its gutter mark
        term.keys("F5")
        term.wait_screen(f"breakpoint on line {PRINT_LINE}", timeout=60)
        screen = term.wait_screen(f"paused - next: toaster (cook) at line {PRINT_LINE}")
        assert [line for _t, line in printed(screen)] == ["main start"]  # not printed yet
        term.keys("F5")  # continue: the kettle reaches it next, after the toaster printed
        screen = wait_until(
            term, lambda s: "paused - next: kettle" in s, "the kettle at the breakpoint"
        )
        assert [line for _t, line in printed(screen)] == ["main start", "toast 0"]
        term.keys("F6")
        term.wait_screen("stopped", timeout=30)
        term.keys("C-b")  # the breakpoint off again (the cursor is still on its line)
        wait_until(term, lambda s: f" {PRINT_LINE}●" not in s, "the breakpoint's mark gone")
        term.keys("F10", "F10")  # one burst: start paused, and a step while it starts
        screen = wait_until(
            term,
            lambda s: "paused - next: toaster" in s and printed(s) == [("Task-1", "main start")],
            "the start's pause, then main's step",
        )
        term.keys("F6")
        term.wait_screen("stopped", timeout=30)
        term.keys("C-q")
        wait_gone(pid)
        assert others(server) == []
    finally:
        term.kill_server()
