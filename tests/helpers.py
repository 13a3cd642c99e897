"""Running asyncplay and plain Python side by side in tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = Path(__file__).resolve().parent / "programs"


@dataclass
class Result:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.decode().splitlines() if line.strip()]

    def kinds(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["event"] == kind]

    @property
    def program_stdout(self) -> str:
        return "".join(e["text"] for e in self.kinds("output") if e["stream"] == "stdout")


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def asyncplay(
    *args: str, cwd: str | Path | None = None, timeout: float = 60, stdin: bytes | None = None
) -> Result:
    p = subprocess.run(
        [sys.executable, "-m", "asyncplay", *args],
        cwd=cwd,
        env=env(),
        capture_output=True,
        timeout=timeout,
        input=stdin if stdin is not None else b"",
    )
    return Result(p.returncode, p.stdout, p.stderr)


def plain(python: str, *args: str, cwd: str | Path | None = None, timeout: float = 60) -> Result:
    p = subprocess.run([python, *args], cwd=cwd, capture_output=True, timeout=timeout, input=b"")
    return Result(p.returncode, p.stdout, p.stderr)


def one_line(stderr: bytes) -> str:
    """What asyncplay said on bad input: exactly one line, and no traceback."""
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    return lines[0]
