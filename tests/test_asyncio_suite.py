"""CPython's own asyncio test suite gives the same result under asyncplay as under python.

By default a few modules that matter to the runtime (futures dropped unreferenced, task
groups, timeouts, locks, queues), on the oldest and the newest installed CPython: the
same ``Ran N tests`` and ``OK (...)`` lines, and no thread left behind that python does
not leave. The whole ``test.test_asyncio`` package on every installed CPython 3.10-3.15
is opt-in (1-6 minutes per version): ``python -m pytest -m asyncio_suite``
(docs/testing.md); ``bench/asyncio_suite.py`` prints the same comparison with times.
"""

from __future__ import annotations

import pytest
from asyncio_suite import existing_modules, installed, run_both, threading_warnings

PYTHONS = installed()
QUICK = ("test_futures2", "test_taskgroups", "test_timeouts", "test_locks", "test_queues")
ENDS = sorted({min(PYTHONS), max(PYTHONS)}) if PYTHONS else []


def _same_result(python: str, modules: list[str], timeout: float) -> None:
    plain, traced = run_both(python, modules, timeout)
    assert plain.ran and plain.result, plain.stderr[-2000:]  # the suite itself ran
    assert traced.summary == plain.summary, traced.stderr[-4000:]
    assert traced.returncode == plain.returncode, traced.stderr[-2000:]
    assert threading_warnings(traced.stderr) <= threading_warnings(plain.stderr), traced.stderr[
        -4000:
    ]


@pytest.mark.skipif(not PYTHONS, reason="no CPython 3.10-3.15 found")
@pytest.mark.parametrize("version", ENDS)
def test_key_asyncio_modules_same_result(version: str) -> None:
    python = PYTHONS[version]
    _same_result(python, existing_modules(python, QUICK), timeout=300)


@pytest.mark.asyncio_suite
@pytest.mark.parametrize("version", sorted(PYTHONS))
def test_whole_asyncio_suite_same_result(version: str) -> None:
    python = PYTHONS[version]
    _same_result(python, ["test.test_asyncio"], timeout=1800)
