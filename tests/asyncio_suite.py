"""CPython's own ``test.test_asyncio`` under plain Python and under ``asyncplay run``.

Shared by ``tests/test_asyncio_suite.py`` (a few modules by default, the whole package
opt-in) and ``bench/asyncio_suite.py`` (the whole package per version, with times). Both
sides run the same command line (``-m unittest ...``) from the same empty folder, at the
same time; what is compared is unittest's two summary lines: ``Ran N tests`` and
``OK (skipped=K)`` / ``FAILED (...)``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from helpers import env
from pythons import find_pythons

__all__ = [
    "ALL_VERSIONS",
    "SuiteRun",
    "existing_modules",
    "installed",
    "run_both",
]

#: Every CPython the whole package is checked on, oldest first (3.14 and 3.15 are not
#: supported by asyncplay yet, but the suite must give the same result there too).
ALL_VERSIONS: tuple[str, ...] = ("3.10", "3.11", "3.12", "3.13", "3.14", "3.15")

# The whole package needs more than the run's default limits: 1-6 minutes per version
# under asyncplay on a loaded machine, hundreds of threads and subprocesses, lots of
# output from the tests that check logging.
LIMITS = ("--timeout", "1500", "--cpu", "1500", "--output-limit", "64", "--procs", "256")

_RAN = re.compile(r"^Ran \d+ tests? in ")
_END = re.compile(r"^(OK|FAILED)( \(.*\))?$")


def installed() -> dict[str, str]:
    """Version -> interpreter, for every version of ``ALL_VERSIONS`` found here."""
    return find_pythons(ALL_VERSIONS)


def existing_modules(python: str, names: tuple[str, ...]) -> list[str]:
    """The ``test.test_asyncio`` modules of ``names`` this interpreter has."""
    code = (
        "import importlib.util, sys\n"
        "for n in sys.argv[1:]:\n"
        "    if importlib.util.find_spec('test.test_asyncio.' + n): print(n)\n"
    )
    out = subprocess.run(
        [python, "-c", code, *names], capture_output=True, text=True, check=True, env=env()
    ).stdout
    return [f"test.test_asyncio.{n}" for n in out.split()]


@dataclass
class SuiteRun:
    """One side's run: its status, unittest's summary lines, its time, its stderr."""

    returncode: int
    ran: str  # "Ran 2563 tests" (the time cut off), or "" when unittest never got there
    result: str  # "OK (skipped=20)", "FAILED (failures=2)", or ""
    seconds: float
    stderr: str

    @property
    def summary(self) -> tuple[str, str]:
        return self.ran, self.result


def _summary(stderr: str) -> tuple[str, str]:
    ran = result = ""
    for line in stderr.splitlines():
        if _RAN.match(line):
            ran = line.split(" in ")[0]
        elif _END.match(line):
            result = line
    return ran, result


def _run(argv: list[str], cwd: str, timeout: float) -> SuiteRun:
    start = time.perf_counter()
    p = subprocess.run(argv, cwd=cwd, env=env(), capture_output=True, timeout=timeout)
    seconds = time.perf_counter() - start
    stderr = p.stderr.decode(errors="replace")
    ran, result = _summary(stderr)
    return SuiteRun(p.returncode, ran, result, seconds, stderr)


def run_both(
    python: str, modules: list[str], timeout: float, together: bool = True
) -> tuple[SuiteRun, SuiteRun]:
    """``python -m unittest MODULES`` and the same under ``asyncplay run --quiet``, each
    from an empty folder of its own (the tests write files there): at the same time, or
    (``together=False``, for fair times) one after the other."""
    unittest = ["-m", "unittest", *modules]
    traced = [sys.executable, "-m", "asyncplay", "run", "--quiet", *LIMITS, "--python", python]
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        if not together:
            return _run([python, *unittest], a, timeout), _run([*traced, *unittest], b, timeout)
        with ThreadPoolExecutor(2) as pool:
            plain = pool.submit(_run, [python, *unittest], a, timeout)
            under = pool.submit(_run, [*traced, *unittest], b, timeout)
            return plain.result(), under.result()


def threading_warnings(stderr: str) -> int:
    """test.support's complaint that a test left a thread behind (regrtest's env changed)."""
    return stderr.count("threading_cleanup() failed")
