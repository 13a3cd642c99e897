"""The real ``asyncplay`` command in a pseudo-terminal, as a person runs it."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time

from helpers import env

from asyncplay.runner.core import EXIT_STOPPED


def _spawn(
    args: list[str],
    cwd,  # noqa: ANN001
    columns: int | None = None,
) -> tuple[subprocess.Popen, int]:
    """``columns``: a terminal that wide, and no COLUMNS in the environment (bash does
    not export it); else COLUMNS=100."""
    master, slave = pty.openpty()
    environ = {**env(), "TERM": "xterm-256color", "COLUMNS": "100"}
    if columns is not None:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        del environ["COLUMNS"]
        environ.pop("LINES", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "asyncplay", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=environ,
        start_new_session=True,  # the pty becomes its controlling terminal, like a shell's job
        preexec_fn=lambda: __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0),
    )
    os.close(slave)
    return proc, master


def _read_until(master: int, needle: bytes, timeout: float = 15.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} never appeared; screen so far: {seen!r}")
        ready, _, _ = select.select([master], [], [], left)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def _finish(proc: subprocess.Popen, master: int) -> bytes:
    rest = b""
    deadline = time.monotonic() + 15
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                rest += os.read(master, 4096)
            except OSError:
                break
    proc.wait(5)
    os.close(master)
    return rest


def test_live_output_input_and_summary_in_a_terminal(tmp_path) -> None:
    (tmp_path / "ask.py").write_text(
        "import asyncio\n"
        "async def main():\n"
        "    print('ready', flush=True)\n"
        "    name = await asyncio.to_thread(input, 'name? ')\n"
        "    print(f'hello {name}')\n"
        "asyncio.run(main())\n"
    )
    proc, master = _spawn(["run", "ask.py"], tmp_path)
    _read_until(master, b"name? ")
    os.write(master, b"world\n")
    screen = _read_until(master, b"exited with status 0")
    screen += _finish(proc, master)
    assert proc.returncode == 0
    assert b"hello world" in screen
    assert b"main" in screen  # the task summary


def test_ctrl_c_stops_the_program_and_leaves_nothing(tmp_path) -> None:
    (tmp_path / "loop.py").write_text(
        "import asyncio\n"
        "async def main():\n"
        "    try:\n"
        "        print('looping', flush=True)\n"
        "        await asyncio.sleep(60)\n"
        "    finally:\n"
        "        print('cleanup ran', flush=True)\n"
        "asyncio.run(main())\n"
    )
    proc, master = _spawn(["run", "loop.py"], tmp_path)
    _read_until(master, b"looping")
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl+C
    screen = _read_until(master, b"stopped the program")
    screen += _finish(proc, master)
    assert b"cleanup ran" in screen
    assert proc.returncode == EXIT_STOPPED


def test_the_summary_fits_the_terminal_without_columns_exported(tmp_path) -> None:
    """bash does not export COLUMNS: the summary took no limit and wrapped into noise in
    an 80-column terminal. Now it fits the terminal stderr is on, warnings wrapped."""
    (tmp_path / "wide.py").write_text(
        "import asyncio, time\n"
        "async def a_coroutine_with_a_rather_long_descriptive_name():\n"
        "    time.sleep(0.3)\n"
        "    await asyncio.wait_for(asyncio.sleep(0.01), timeout=5)\n"
        "async def main():\n"
        "    await asyncio.gather(*(a_coroutine_with_a_rather_long_descriptive_name()\n"
        "                           for _ in range(2)))\n"
        "asyncio.run(main())\n"
    )
    proc, master = _spawn(["run", "wide.py"], tmp_path, columns=60)
    screen = _read_until(master, b"exited with status 0") + _finish(proc, master)
    lines = screen.decode().replace("\r", "").splitlines()
    assert any("held the event loop" in line for line in lines), lines
    assert max(len(line) for line in lines) <= 60, lines
    assert any(line.startswith("Task-2") for line in lines), lines  # the table's rows
