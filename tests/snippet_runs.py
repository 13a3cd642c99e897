"""Each bundled snippet's real run, ``asyncplay run --json --python EXE NAME``, on every
installed CPython: made once per session and read by the tests that check it.

Two modules look at the same run: tests/test_snippets.py (the lines, tasks, states, objects
and jobs the snippet promises) and tests/test_concurrency_engine.py (the same snippet under
the virtual clock prints the same and ends its tasks the same as this real-clock run on the
same Python). Made once, they cost one run per (snippet, version) where each module made
its own. A snippet's runs on every installed Python, and its runs under the virtual clock
that test_concurrency_engine.py compares with them, are made together, at once, by
whichever test process asks first for one of them (tests/made_once.py), four at a time: a
lesson's real run is mostly its own sleeps (1-3 s), which the versions' runs then wait out
side by side rather than one after another, and the virtual-clock runs (no sleeps:
start-up and CPU) take the slots the first real runs free.
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from helpers import Result, env
from made_once import AT_ONCE, made_once
from pythons import SUPPORTED_VERSIONS, find_pythons

__all__ = ["VIRTUAL_VERSIONS", "SnippetRun", "make_snippet_run", "snippet_run"]


@dataclass(frozen=True)
class SnippetRun:
    """One finished ``--json`` run of a bundled snippet."""

    result: Result  # exit status, the event stream on stdout, asyncplay's stderr
    elapsed: float  # wall time of the whole command (never asserted: the machine's load)


#: The clocks a snippet is run under: ``real`` is asyncplay's default (no ``--clock``).
CLOCKS = ("real", "virtual")
#: The versions a lesson also runs on under the virtual clock (test_concurrency_engine's
#: comparison with the real run on the same Python), one per way the clock meets asyncio.
#: ``child/virtual_clock.py`` is the same code on every version (``loop.time``, the
#: selector's ``select``, ``futures.wrap_future``); what differs is the asyncio around it:
#: 3.10's loop and Tasks (the oldest), 3.12's (eager tasks; the first that both runs every
#: lesson, 3.11's TaskGroup and timeout among them, and takes the path 3.13's does) and the
#: newest (3.14's asyncio). The real-clock runs, every lesson on every version, are
#: test_snippets'. The six versions' virtual runs were 132 runs of ~0.5 s of CPU each.
VIRTUAL_VERSIONS = ("3.10", "3.12", SUPPORTED_VERSIONS[-1])


def make_snippet_run(name: str, python: str, cwd: Path, clock: str = "real") -> SnippetRun:
    """Run the snippet ``name`` once, now, under ``clock``."""
    start = time.monotonic()
    flags = [] if clock == "real" else ["--clock", clock]
    proc = subprocess.run(
        [sys.executable, "-m", "asyncplay", "run", "--python", python, "--json", *flags, name],
        cwd=cwd,
        capture_output=True,
        timeout=90,  # asyncplay's own --timeout (30 s) ends the run first
        env=env(),
        input=b"",
    )
    return SnippetRun(Result(proc.returncode, proc.stdout, proc.stderr), time.monotonic() - start)


def _make_every_run(name: str, shared: Path) -> dict[tuple[str, str], SnippetRun]:
    """The snippet's runs on every installed Python (under the virtual clock: those of
    ``VIRTUAL_VERSIONS``), ``AT_ONCE`` at a time (each in a folder of its own; the real ones first, the virtual ones in the slots
    they free); all are over when this returns."""
    pythons = find_pythons()
    folders = {
        (clock, v): shared / f"snippet-{name}-{v}-{clock}"
        for clock in CLOCKS
        for v in pythons
        if clock == "real" or v in VIRTUAL_VERSIONS
    }
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        made = {
            (clock, v): pool.submit(make_snippet_run, name, pythons[v], folder, clock)
            for (clock, v), folder in folders.items()
        }
        return {key: future.result() for key, future in made.items()}


def snippet_run(name: str, version: str, shared: Path, clock: str = "real") -> SnippetRun:
    """The session's run of snippet ``name`` on CPython ``version`` (installed: the caller
    skips otherwise) under ``clock``. ``shared``: a folder every worker of the session
    sees (conftest's ``session_dir``)."""
    runs = made_once(shared / f"snippet-{name}", lambda: _make_every_run(name, shared))
    return runs[(clock, version)]
