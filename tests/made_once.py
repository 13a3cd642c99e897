"""Something costly made once per test session and shared by the ``-n`` workers.

The real runs several tests read (tests/snippet_runs.py, tests/test_transparency.py) are
made by whichever test process asks first, under a file lock; the others wait on the lock
and read the pickled result from the session's folder (conftest's ``session_dir``).
The process that makes it keeps it in memory too.
"""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["made_once"]

T = TypeVar("T")

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
