"""Something costly made once per test session and shared by the ``-n`` workers.

The real runs several tests read (tests/snippet_runs.py, tests/test_transparency.py) are
made by whichever test process asks first, under a file lock; the others wait on the lock
and read the pickled result from the session's folder (conftest's ``session_dir``).
The process that makes it keeps it in memory too. ``json_runs``: a program's ``--json``
runs on every installed Python, made so.
"""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from helpers import Result, asyncplay
from pythons import find_pythons

__all__ = ["AT_ONCE", "json_runs", "made_once"]

T = TypeVar("T")

#: At most this many runs side by side (as test_transparency's four ways of a program):
#: more, and their start-ups load the machine while the other worker's tests time their
#: own runs (a batch of twelve at a load of 40 made a slow-step test and the timeout
#: lesson's 1 s deadline fail).
AT_ONCE = 4

_MADE: dict[str, Any] = {}


def made_once(stem: Path, make: Callable[[], T]) -> T:
    """``make()``'s result, made once per session: ``stem`` (a path in a folder every test
    process of the session sees) names it, ``stem.lock`` is the lock and ``stem.pickle``
    the result. A ``make`` that raises leaves nothing behind: the next asker makes it."""
    key = str(stem)
    if key in _MADE:
        return _MADE[key]
    with open(f"{stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(f"{stem}.pickle"):
            with open(f"{stem}.pickle", "rb") as f:
                _MADE[key] = pickle.load(f)
            return _MADE[key]
        made = make()
        with open(f"{stem}.tmp", "wb") as f:
            pickle.dump(made, f)
        os.replace(f"{stem}.tmp", f"{stem}.pickle")
    _MADE[key] = made
    return made


def json_runs(shared: Path, program: Path, source: str | None = None) -> dict[str, Result]:
    """``asyncplay run --json --python EXE PROGRAM`` on every installed CPython, side by
    side, made once per session and read by every test that checks that run: a program
    that mostly waits (a deadlock's long sleeps) costs one wait, not one per version and
    per test. ``source``: the program's text, written to ``program`` (in ``shared``) by
    the process that makes the runs, which run in its folder. All the runs are over when
    this returns."""

    def make() -> dict[str, Result]:
        cwd = None
        if source is not None:
            program.write_text(source)
            cwd = program.parent
        pythons = find_pythons()
        argv = ("run", "--json", "--python")
        with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
            made = {
                version: pool.submit(asyncplay, *argv, exe, str(program), cwd=cwd)
                for version, exe in pythons.items()
            }
            return {version: future.result() for version, future in made.items()}

    return made_once(shared / f"json-{program.stem}", make)
