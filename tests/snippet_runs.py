"""Each bundled snippet's real run, ``asyncplay run --json --python EXE NAME``, on every
installed CPython: made once per session and read by the tests that check it.

Two modules look at the same run: tests/test_snippets.py (the lines, tasks, states, objects
and jobs the snippet promises) and tests/test_concurrency_engine.py (the same snippet under
the virtual clock prints the same and ends its tasks the same as this real-clock run on the
same Python). Made once, they cost one run per (snippet, version) instead of two. The runs
of one snippet are made together (a few at a time: most of a snippet's run is its own
sleeps), by whichever ``-n`` worker asks first; the other waits on a lock and reads them
from a file in the session's folder (as tests/test_transparency.py shares its runs).
"""

from __future__ import annotations

import fcntl
import os
import pickle
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from helpers import Result, env
from pythons import find_pythons

__all__ = ["SnippetRun", "make_snippet_run", "snippet_run"]

#: Runs of one snippet at a time: the versions' runs mostly sleep, so a few overlap well.
_AT_ONCE = 3
_CACHE: dict[str, dict[str, SnippetRun]] = {}


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
    if name not in _CACHE:
        _CACHE[name] = _runs_of(name, shared)
    return _CACHE[name][version]


def _runs_of(name: str, shared: Path) -> dict[str, SnippetRun]:
    stem = shared / f"snippet-{name}"
    with open(f"{stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(f"{stem}.pickle"):
            with open(f"{stem}.pickle", "rb") as f:
                return pickle.load(f)
        pythons = find_pythons()
        folders = {v: shared / f"snippet-{name}-{v}" for v in pythons}
        for folder in folders.values():
            folder.mkdir(exist_ok=True)
        with ThreadPoolExecutor(max_workers=_AT_ONCE) as pool:
            made = dict(
                zip(
                    pythons,
                    pool.map(lambda v: make_snippet_run(name, pythons[v], folders[v]), pythons),
                    strict=True,
                )
            )
        with open(f"{stem}.tmp", "wb") as f:
            pickle.dump(made, f)
        os.replace(f"{stem}.tmp", f"{stem}.pickle")
        return made
