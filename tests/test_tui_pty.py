"""End to end: the real ``asyncplay`` command in a pseudo-terminal (tmux), as a user runs it.

Each test runs its own tmux server on a private socket. The test process is a child
subreaper (conftest), so the tmux server and everything under it stay our descendants:
after the app is gone, nothing but the tmux server may be left, and the autouse fixture
re-checks that once the server is killed too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, descendants

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

PROGRAM = """import asyncio


async def worker(n):
    print(f"hello from w{n}")
    await asyncio.sleep(0.2 * n)
    return n


async def main():
    tasks = [asyncio.create_task(worker(n), name=f"w{n}") for n in (1, 2)]
    print("results", await asyncio.gather(*tasks))
    while RUNAWAY:
        await asyncio.sleep(0.05)


RUNAWAY = False
asyncio.run(main())
"""


class Tmux:
    def __init__(self, tmp: Path, width: int = 80, height: int = 24) -> None:
        self.socket = f"asyncplay-test-{os.getpid()}-{time.monotonic_ns()}"
        self.tmp = tmp
        self.size = (width, height)
        self.home = tmp / "home"

    def tmux(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=20,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"tmux {args}: {out.stderr}")
        return out.stdout

    def start(self, *argv: str, name: str = "app", prefix: str = "") -> int:
        """The real command in a new session; ``prefix``: shell words before it
        (``umask 000;``)."""
        env = {
            "ASYNCPLAY_HOME": str(self.home),
            "PYTHONPATH": str(ROOT),
            "TERM": "tmux-256color",
            "HOME": str(self.tmp),
            "PATH": os.environ.get("PATH", ""),
        }
        command = " ".join(
            [
                *([prefix] if prefix else []),
                "exec",
                "env",
                *(f"{k}={v}" for k, v in env.items()),
                sys.executable,
                "-m",
                "asyncplay",
                *argv,
            ]
        )
        width, height = self.size
        new = ("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height))
        new += ("-c", str(self.tmp), command)
        # A second session right after the last one ended can reach the server while it
        # exits (tmux ends an empty server): "server exited unexpectedly" (a clean-clone
        # CI saw it). Once that server is gone, a new one starts: try again.
        deadline = time.monotonic() + 20
        while True:
            out = subprocess.run(
                ["tmux", "-L", self.socket, "-f", "/dev/null", *new],
                capture_output=True,
                text=True,
                timeout=20,
            )
            if out.returncode == 0:
                break
            if "server exited unexpectedly" not in out.stderr or time.monotonic() > deadline:
                raise AssertionError(f"tmux {new}: {out.stderr}")
        return int(self.tmux("display-message", "-p", "-t", name, "#{pane_pid}").strip())

    def screen(self, name: str = "app") -> str:
        return self.tmux("capture-pane", "-p", "-t", name, check=False)

    def wait_screen(self, needle: str, name: str = "app", timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen(name)
            if needle in text:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared; the screen:\n{text}")
            time.sleep(0.1)

    def keys(self, *keys: str, name: str = "app") -> None:
        self.tmux("send-keys", "-t", name, *keys)

    def type(self, text: str, name: str = "app") -> None:
        self.tmux("send-keys", "-t", name, "-l", text)

    def kill_server(self) -> None:
        self.tmux("kill-server", check=False)


def wait_gone(pid: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p, state, _cmd in descendants() if p == pid]
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"the app (pid {pid}) did not exit")


def others(server_pids: set[int]) -> list[tuple[int, str, str]]:
    """Descendants of this test that are not the tmux server."""
    return [d for d in descendants() if d[0] not in server_pids and "tmux" not in d[2]]


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(tmp_path)
    yield t
    t.kill_server()


def test_open_a_file_type_run_see_output_and_tasks_quit(tmux, tmp_path) -> None:
    prog = tmp_path / "demo.py"
    prog.write_text(PROGRAM)
    pid = tmux.start("demo.py")
    tmux.wait_screen("async def worker(n):")
    tmux.type('print("typed first")')
    tmux.keys("Enter")
    tmux.wait_screen('1  print("typed first")')
    tmux.keys("F5")
    screen = tmux.wait_screen("results [1, 2]")
    assert "typed first" in screen and "hello from w1" in screen
    assert "w1" in screen  # the task column of the output
    tmux.keys("F7")  # the task table, as a tab at 80x24
    screen = tmux.wait_screen("coroutine")
    assert "w1" in screen and "w2" in screen and "done" in screen
    tmux.wait_screen("exit 0")
    tmux.keys("C-q")
    wait_gone(pid)
    assert others(set()) == [], "a process of the app or its run was left"
    assert prog.read_text() == PROGRAM  # quitting saves the buffer to the autosave only
    saved = (tmux.home / "autosave.json").read_text()
    assert "typed first" in saved


def test_hang_up_saves_the_edit_and_kills_the_run(tmux, tmp_path) -> None:
    prog = tmp_path / "forever.py"
    prog.write_text(PROGRAM.replace("RUNAWAY = False", "RUNAWAY = True"))
    pid = tmux.start("forever.py")
    tmux.wait_screen("async def worker(n):")
    tmux.type("# survives the drop")
    tmux.keys("Enter", "F5")
    tmux.wait_screen("running")
    # "running" shows as the run is asked for; its process may take a moment to appear.
    deadline = time.monotonic() + 15
    run_pids: list[int] = []
    while not run_pids and time.monotonic() < deadline:
        # Not the app: the command the shell ran forks it (tui/terminal_guard.py).
        run_pids = [p for p, _s, cmd in others(set()) if "-m asyncplay forever.py" not in cmd]
        time.sleep(0.05)
    assert run_pids, "the run's process should be alive"
    tmux.tmux("kill-session", "-t", "app")  # the terminal goes away: SIGHUP
    wait_gone(pid)
    deadline = time.monotonic() + 10
    while others(set()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert others(set()) == [], "the run outlived the terminal"
    # Coming back: the unsaved edit is there, and the playground says so: the status note,
    # the toast over it ("Unsaved edits to forever.py brought back"), or the unsaved mark.
    pid = tmux.start("forever.py", name="again")
    screen = tmux.wait_screen("# survives the drop", name="again")
    deadline = time.monotonic() + 10
    while not any(
        sign in screen  # the toast over the status line says it too
        for sign in ("restored your unsaved edits", "forever.py *", "forever.py brought")
    ):
        assert time.monotonic() < deadline, f"no sign of the restore; the screen:\n{screen}"
        time.sleep(0.1)
        screen = tmux.screen("again")
    tmux.keys("C-q", name="again")
    wait_gone(pid)


def test_a_burst_of_keys_with_backspaces_lands_in_typing_order(tmux, tmp_path) -> None:
    """One send-keys is one terminal read (as over SSH): nothing after a Backspace is lost."""
    (tmp_path / "burst.py").write_text("")
    pid = tmux.start("burst.py")
    tmux.wait_screen("burst.py")
    tmux.keys("abc", "BSpace", "BSpace", "xy", "BSpace", "z", "Enter", "ab", "Left", "x")
    screen = tmux.wait_screen("2  axb")
    assert "1  axz" in screen
    tmux.keys("C-q")
    wait_gone(pid)


NAMED = """import asyncio


async def fetch(delay):
    await asyncio.sleep(delay)
    return delay


async def main():
    first = asyncio.create_task(fetch(0.3), name="downloader")
    second = asyncio.create_task(fetch(0.2), name="parser")
    await asyncio.gather(first, second)
    async with asyncio.TaskGroup() as group:
        group.create_task(fetch(0.1), name="uploader")
    print("all done")


asyncio.run(main())
"""


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TaskGroup")
@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_f4_shows_each_named_task_lane_beside_its_name(tmp_path, size) -> None:
    """The issue's own check: run named tasks in a real terminal, F4, every lane is there."""
    term = Tmux(tmp_path, *size)
    try:
        (tmp_path / "named.py").write_text(NAMED)
        pid = term.start("named.py")
        term.wait_screen("async def fetch(delay):")
        term.keys("F5")
        term.wait_screen("exit 0")
        term.keys("F4")
        screen = term.wait_screen("uploader")
        lanes = {}
        for line in screen.splitlines():
            words = line.split()
            lane = not line.startswith(" ")  # the detail line (" Task-1 · done") is not
            if lane and words and words[0] in ("Task-1", "downloader", "parser", "uploader"):
                lanes[words[0]] = line
        assert set(lanes) == {"Task-1", "downloader", "parser", "uploader"}, screen
        for name, lane in lanes.items():
            assert "▌" in lane or "█" in lane, (name, lane)  # its steps, beside its name
        assert "sleep(0.3)" in lanes["downloader"] or size[0] < 100, lanes["downloader"]
        term.keys("C-q")
        wait_gone(pid)
        assert others(set()) == []
    finally:
        term.kill_server()


def test_a_burst_of_tabs_in_settings_lands_in_the_field_tabbed_to(tmux, tmp_path) -> None:
    """QA's repro: one send-keys ``Tab x5 End BSpace 0.25`` in Settings (F9) put 0.25 in
    the first field and emptied Clock speed."""
    (tmp_path / "x.py").write_text("print(1)\n")
    pid = tmux.start("x.py")
    tmux.wait_screen("x.py")
    tmux.keys("F9")
    tmux.wait_screen("Clock speed")
    tmux.keys("Tab", "Tab", "Tab", "Tab", "Tab", "End", "BSpace", "0", ".", "2", "5")
    screen = tmux.wait_screen("0.25")
    speed = next(line for line in screen.splitlines() if "Clock speed" in line)
    limit = next(line for line in screen.splitlines() if "Time limit" in line)
    assert "0.25" in speed and "0.25" not in limit
    assert sum("0.25" in line for line in screen.splitlines()) == 1
    tmux.keys("Escape")
    tmux.wait_screen("x.py")
    tmux.keys("C-q")
    wait_gone(pid)


# ---- at the sizes where a newcomer saw the bugs: 80x24 and 120x40 ---------------------------

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
