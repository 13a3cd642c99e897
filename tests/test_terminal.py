"""The user's terminal is out of the program's reach (issue 12, item 7), and input still works.

Headless ``asyncplay run`` in a real pseudo-terminal: the program holds no fd of the user's
tty (TIOCSTI works on any fd of a terminal, not only stdin), writing to fd 0 cannot pass
``--output-limit``, ``input()`` reads what the user types, Ctrl+D is end of input, and a
program that never reads leaves the user's typing to the shell after the run (tmux).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys

import pytest
from test_pty import _finish, _read_until, _spawn
from test_tui_pty import Tmux

from tests.helpers import ROOT

HOSTILE = r"""
import errno, fcntl, os, sys, termios
fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
ttys = [fd for fd in fds if os.isatty(fd)]
typed = []
for fd in fds:
    try:
        fcntl.ioctl(fd, termios.TIOCSTI, b"#")
        typed.append(fd)
    except OSError:
        pass
try:
    os.write(0, b"x" * 65536)
    fd0 = "written"
except OSError as exc:
    fd0 = errno.errorcode[exc.errno]
try:
    os.close(os.open("/dev/tty", os.O_RDWR))
    devtty = "opened"
except OSError as exc:
    devtty = errno.errorcode[exc.errno]
print(f"REPORT ttys={ttys} typed={typed} fd0={fd0} devtty={devtty}", flush=True)
pts = []  # terminals it could open by name (no ioctl on them: they may be anyone's)
for name in os.listdir("/dev/pts") if os.path.isdir("/dev/pts") else []:
    if name.isdigit():
        try:
            os.close(os.open(f"/dev/pts/{name}", os.O_RDWR | os.O_NOCTTY))
            pts.append(name)
        except OSError:
            pass
print(f"PTS {pts} UID {os.geteuid()}", flush=True)
"""


@pytest.mark.unprivileged
@pytest.mark.parametrize("mode", ["auto", "rlimit", "none"])
def test_the_program_holds_no_fd_of_the_terminal(tmp_path, mode) -> None:
    (tmp_path / "hostile.py").write_text(HOSTILE)
    proc, master = _spawn(["run", "--quiet", "--sandbox", mode, "hostile.py"], tmp_path)
    screen = _read_until(master, b"REPORT")
    screen += _finish(proc, master)
    lines = screen.decode().splitlines()
    line = next(x for x in lines if x.startswith("REPORT"))
    assert line == "REPORT ttys=[] typed=[] fd0=EBADF devtty=ENXIO", line
    pts = next(x for x in lines if x.startswith("PTS "))
    if mode == "auto" and b"bwrap" in _layers(tmp_path):
        # bwrap's /dev is its own: no terminal of the machine is there to open by name.
        # (Without it, the user's own terminal can be opened by name: docs/sandbox.md.)
        assert pts.startswith("PTS [] "), pts


def _layers(tmp_path) -> bytes:
    from tests.helpers import asyncplay

    (tmp_path / "nothing.py").write_text("")
    r = asyncplay("run", "--json", "nothing.py", cwd=tmp_path)
    start = next(e for e in r.events if e["event"] == "run_start")
    return " ".join(start["sandbox"]["layers"]).encode()


@pytest.mark.unprivileged
def test_input_reads_what_the_user_types_and_ctrl_d_ends_it(tmp_path) -> None:
    (tmp_path / "read.py").write_text(
        "import sys\n"
        "name = input('name? ')\n"
        "print(f'hello {name}', flush=True)\n"
        "print('rest', repr(sys.stdin.read()), 'isatty', sys.stdin.isatty())\n"
    )
    proc, master = _spawn(["run", "--quiet", "read.py"], tmp_path)
    _read_until(master, b"name? ")
    os.write(master, b"Ada\n")
    _read_until(master, b"hello Ada")
    os.write(master, b"one\ntwo\n")
    os.write(master, b"\x04")  # Ctrl+D at the start of a line: end of input
    screen = _read_until(master, b"rest ")
    screen += _finish(proc, master)
    assert proc.returncode == 0, screen
    assert b"rest 'one\\ntwo\\n' isatty False" in screen


def test_a_pipe_on_stdin_is_passed_on_byte_for_byte(tmp_path) -> None:
    from tests.helpers import asyncplay

    (tmp_path / "cat.py").write_text(
        "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n"
    )
    data = bytes(range(256)) * 100
    r = asyncplay("run", "--quiet", "cat.py", cwd=tmp_path, stdin=data)
    assert r.returncode == 0 and r.stdout == data


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_program_that_never_reads_leaves_the_typing_to_the_shell(tmp_path) -> None:
    """Under python, what is typed while a program runs without reading goes to the shell
    afterwards; the relay takes at most one line of it (one terminal read)."""
    (tmp_path / "busy.py").write_text(
        "import select, sys, time\n"
        "print('ready', flush=True)\n"
        "select.select([sys.stdin], [], [])  # the first line reached the pipe: not read\n"
        "print('pending', flush=True)\n"
        "time.sleep(1.5)  # runs on without reading while the user types more\n"
        "print('done', flush=True)\n"
    )
    tmux = Tmux(tmp_path, 100, 20)
    run = shlex.join([sys.executable, "-m", "asyncplay", "run", "--quiet", "busy.py"])
    script = f'{run}; read -r line; echo "shell got: $line"; sleep 30'
    env = f"PYTHONPATH={shlex.quote(str(ROOT))} HOME={shlex.quote(str(tmp_path))}"
    try:
        tmux.tmux(
            "new-session", "-d", "-s", "sh", "-x", "100", "-y", "20", "-c", str(tmp_path),
            f"env {env} sh -c {shlex.quote(script)}",
        )  # fmt: skip
        tmux.wait_screen("ready", name="sh")
        tmux.type("first\n", name="sh")
        tmux.wait_screen("pending", name="sh")
        tmux.type("second\n", name="sh")
        screen = tmux.wait_screen("shell got:", name="sh")
        assert "done" in screen
        assert "shell got: second" in screen, screen
    finally:
        tmux.kill_server()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_playground_gives_its_run_no_fd_of_the_terminal(tmp_path) -> None:
    """The TUI owns the terminal; its run reads a pipe fed by the stdin line."""
    (tmp_path / "hostile.py").write_text(HOSTILE)
    tmux = Tmux(tmp_path, 120, 30)
    try:
        tmux.start("hostile.py")
        tmux.wait_screen("import errno")
        tmux.keys("F5")
        screen = tmux.wait_screen("devtty=E")  # the run's line, not the source's
        assert "REPORT ttys=[] typed=[] fd0=EBADF devtty=ENXIO" in screen, screen
        tmux.keys("C-q")
    finally:
        tmux.kill_server()
