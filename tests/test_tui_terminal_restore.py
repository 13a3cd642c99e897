"""A killed playground leaves the terminal as it found it (issue 12, item 7).

The real command in tmux, started from a shell: the app is SIGKILLed in the middle of its
screen; the pane must be back on the normal screen with the cursor shown and mouse tracking
off, the shell's prompt must take and echo a command, and nothing may be left running.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sys
import time

import pytest
from conftest import ROOT, descendants
from test_tui_pty import Tmux, wait_gone

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def _flags(tmux: Tmux) -> dict[str, str]:
    names = ("alternate_on", "cursor_flag", "mouse_any_flag", "mouse_sgr_flag")
    out = tmux.tmux("display-message", "-p", "-t", "sh", " ".join(f"#{{{n}}}" for n in names))
    return dict(zip(names, out.split(), strict=True))


def _wait_flag(tmux: Tmux, name: str, value: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while _flags(tmux)[name] != value:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{name} never became {value}: {_flags(tmux)}\n{tmux.screen('sh')}"
            )
        time.sleep(0.1)


@pytest.fixture
def shell(tmp_path):
    (tmp_path / "k.py").write_text("import asyncio\nasyncio.run(asyncio.sleep(0))\n")
    tmux = Tmux(tmp_path, 100, 30)
    env = {
        "ASYNCPLAY_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(ROOT),
        "TERM": "tmux-256color",
        "HOME": str(tmp_path),
        "PS1": "PROMPT$ ",
    }
    shell = "exec env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    tmux.tmux(
        "new-session", "-d", "-s", "sh", "-x", "100", "-y", "30", "-c", str(tmp_path),
        f"{shell} bash --norc --noprofile",
    )  # fmt: skip
    tmux.wait_screen("PROMPT$", name="sh")
    yield tmux
    tmux.kill_server()


def _app_pids(tmux: Tmux) -> tuple[int, int]:
    """(supervisor, app): the command the shell started, and the app it forked."""
    shell_pid = int(tmux.tmux("display-message", "-p", "-t", "sh", "#{pane_pid}").strip())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ours = [p for p, _s, cmd in descendants(shell_pid) if "-m asyncplay k.py" in cmd]
        if len(ours) >= 2:
            return ours[0], ours[1]
        time.sleep(0.1)
    raise AssertionError(f"no supervisor and app: {descendants(shell_pid)}")


@pytest.mark.parametrize("how", ["kill -9 the app", "kill -9 the supervisor"])
def test_a_killed_app_leaves_the_normal_screen_and_a_working_prompt(shell, how) -> None:
    tmux = shell
    tmux.type(f"{shlex.quote(sys.executable)} -m asyncplay k.py; echo EXIT=$?\n", name="sh")
    _wait_flag(tmux, "alternate_on", "1")
    tmux.wait_screen("k.py", name="sh")
    assert _flags(tmux)["mouse_any_flag"] == "1"  # Textual's state, to be undone
    supervisor, app = _app_pids(tmux)
    if how == "kill -9 the app":
        os.kill(app, signal.SIGKILL)
        tmux.wait_screen("EXIT=137", name="sh")  # after the supervisor restored: on screen
    else:
        # The app gets SIGHUP (its parent died) and restores the terminal itself as on a
        # hang-up; the shell has its prompt back at once, so that prompt may be drawn on
        # the alternate screen the app then leaves (docs/sandbox.md): the flags are checked.
        os.kill(supervisor, signal.SIGKILL)
        wait_gone(app)
    _wait_flag(tmux, "alternate_on", "0")
    assert _flags(tmux) == {
        "alternate_on": "0", "cursor_flag": "1", "mouse_any_flag": "0", "mouse_sgr_flag": "0"
    }, tmux.screen("sh")  # fmt: skip
    tmux.type("echo typed back\n", name="sh")  # cooked mode again: echoed, then run
    screen = tmux.wait_screen("\ntyped back", name="sh")
    if how == "kill -9 the app":
        assert "PROMPT$ echo typed back" in screen
    wait_gone(supervisor)
    wait_gone(app)


def test_a_quit_app_is_not_restored_twice(shell, tmp_path) -> None:
    """A normal exit: Textual restored the terminal; the supervisor adds nothing (a second
    leave-the-alternate-screen would move the cursor back to where the app started)."""
    tmux = shell
    raw = tmp_path / "raw.out"
    tmux.tmux("pipe-pane", "-O", "-t", "sh", f"cat >> {shlex.quote(str(raw))}")
    tmux.type(f"{shlex.quote(sys.executable)} -m asyncplay k.py; echo EXIT=$?\n", name="sh")
    _wait_flag(tmux, "alternate_on", "1")
    tmux.wait_screen("k.py", name="sh")
    supervisor, app = _app_pids(tmux)
    tmux.keys("C-q", name="sh")
    tmux.wait_screen("EXIT=0", name="sh")
    wait_gone(supervisor)
    assert _flags(tmux)["alternate_on"] == "0"
    tmux.tmux("pipe-pane", "-t", "sh")  # stop piping: the file is complete
    data = raw.read_bytes()
    assert data.count(b"\x1b[?1049h") == 1 and data.count(b"\x1b[?1049l") == 1, data[-400:]
