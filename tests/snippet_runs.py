"""Each bundled snippet's real run, ``asyncplay run --json --python EXE NAME``, on every
installed CPython: made once per session and read by the tests that check it.

Two modules look at the same run: tests/test_snippets.py (the lines, tasks, states, objects
and jobs the snippet promises) and tests/test_concurrency_engine.py (the same snippet under
the virtual clock prints the same and ends its tasks the same as this real-clock run on the
same Python). Made once, they cost one run per (snippet, version) where each module made
its own (the virtual-clock test a real run on the tests' Python, once per snippet and
``-n`` worker). A run is made by whichever worker asks first; the other waits on a lock and
reads it from a file in the session's folder (as tests/test_transparency.py shares its runs).
"""

from __future__ import annotations

import fcntl
import os
import pickle
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from helpers import Result, env
from pythons import find_pythons

__all__ = ["SnippetRun", "make_snippet_run", "snippet_run"]

_CACHE: dict[str, SnippetRun] = {}


@dataclass(frozen=True)
class SnippetRun:
    """One finished ``--json`` run of a bundled snippet."""

    result: Result  # exit status, the event stream on stdout, asyncplay's stderr
    elapsed: float  # wall time of the whole command (never asserted: the machine's load)


def make_snippet_run(name: str, python: str, cwd: Path) -> SnippetRun:
    """Run the snippet ``name`` once, now (the real clock: asyncplay's default)."""
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "asyncplay", "run", "--python", python, "--json", name],
        cwd=cwd,
        capture_output=True,
        timeout=90,  # asyncplay's own --timeout (30 s) ends the run first
        env=env(),
        input=b"",
    )
    return SnippetRun(Result(proc.returncode, proc.stdout, proc.stderr), time.monotonic() - start)


def snippet_run(name: str, version: str, shared: Path) -> SnippetRun:
    """The session's run of snippet ``name`` on CPython ``version`` (installed: the caller
    skips otherwise). ``shared``: a folder every worker of the session sees (conftest's
    ``session_dir``)."""
    key = f"{name}-{version}"
    if key in _CACHE:
        return _CACHE[key]
    stem = shared / f"snippet-{key}"
    with open(f"{stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(f"{stem}.pickle"):
            with open(f"{stem}.pickle", "rb") as f:
                _CACHE[key] = pickle.load(f)
            return _CACHE[key]
        folder = shared / f"snippet-{key}"
        folder.mkdir(exist_ok=True)
        _CACHE[key] = make_snippet_run(name, find_pythons()[version], folder)
        with open(f"{stem}.tmp", "wb") as f:
            pickle.dump(_CACHE[key], f)
        os.replace(f"{stem}.tmp", f"{stem}.pickle")
    return _CACHE[key]
