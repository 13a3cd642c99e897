"""The runtime tells when the program really waits for its stdin (``stdin`` events), on
every installed CPython 3.10-3.15, so "waits for input" is never a guess from the output."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from helpers import asyncplay, env
from pythons import SUPPORTED_VERSIONS, python_or_skip

from asyncplay.model import build

ASK = """\
import asyncio, sys

async def main():
    print("flood", end="", flush=True)  # a line left unfinished: not a read
    name = input("name? ")
    line = await asyncio.to_thread(sys.stdin.readline)
    print(f"hello {name} {line.strip()}", sys.stdin.read() == "", type(sys.stdin).__name__)

asyncio.run(main())
"""


def _until_waiting(proc: subprocess.Popen, seen: list[dict]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line, f"ended before it waited: {seen}"
        ev = json.loads(line)
        seen.append(ev)
        if ev["event"] == "stdin" and ev["waiting"]:
            return
    raise AssertionError(f"never said it waits: {seen}")


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_a_blocking_read_is_told_while_it_waits(version: str, tmp_path) -> None:
    (tmp_path / "ask.py").write_text(ASK)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "asyncplay",
            "run",
            "--json",
            "--python",
            python_or_skip(version),
            "ask.py",
        ],
        cwd=tmp_path,
        env=env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        seen: list[dict] = []
        _until_waiting(proc, seen)  # input() in main's step: told before any byte came
        assert seen[-1]["task"] == next(e["id"] for e in seen if e["event"] == "task_created")
        assert not [e for e in seen[:-1] if e["event"] == "stdin"]  # the flood is no read
        m = build(seen)
        assert m.waiting_for_input and m.input_task == seen[-1]["task"]
        proc.stdin.write(b"bob\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        _until_waiting(proc, seen)  # the readline in a thread: no task of its own
        assert seen[-1]["task"] is None
        proc.stdin.write(b"x\n")  # type: ignore[union-attr]
        proc.stdin.close()  # type: ignore[union-attr]
        # Not communicate(): it reads the fd, and readline() has read ahead of it.
        out = proc.stdout.read()  # type: ignore[union-attr]
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    events = seen + [json.loads(line) for line in out.decode().splitlines()]
    text = "".join(e["text"] for e in events if e["event"] == "output")
    assert text == "floodname? hello bob x True TextIOWrapper\n"
    waits = [e["waiting"] for e in events if e["event"] == "stdin"]
    # each wait ends; the last read found the end of input at once (nothing to tell)
    assert waits[:4] == [True, False, True, False] and len(waits) in (4, 6), waits
    assert not build(events).waiting_for_input


def test_reads_of_data_already_there_tell_nothing(tmp_path) -> None:
    (tmp_path / "ask.py").write_text(ASK)
    r = asyncplay("run", "--json", "ask.py", cwd=tmp_path, stdin=b"bob\nx\n")
    assert r.program_stdout.endswith("hello bob x True TextIOWrapper\n"), r.stderr
    assert r.kinds("stdin") == []
