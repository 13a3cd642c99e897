"""The child runtime's concurrency diagnostics: the blocking detector, the virtual clock,
deadlocks and where cancellations come from, on every installed CPython 3.10-3.13."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT, asyncplay
from pythons import SUPPORTED_VERSIONS, find_pythons

SNIPPETS = ROOT / "snippets"


def _python(version: str) -> str:
    exe = find_pythons().get(version)
    if exe is None:
        pytest.skip(f"CPython {version} is not installed here")
    return exe


def _line_of(path: Path, text: str) -> int:
    """The number of the one line of ``path`` that contains ``text``."""
    found = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(found) == 1, f"{text!r} in {path}: lines {found}"
    return found[0]


def _warnings(result, kind: str) -> list[dict]:
    return [w for w in result.kinds("warning") if w["kind"] == kind]


# ---- the blocking detector ---------------------------------------------------------------


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_blocking_lesson_gives_one_warning_at_the_time_sleep_line(version: str) -> None:
    """The lesson 'a blocking time.sleep freezes everything': exactly one slow_step
    warning, at the time.sleep line (sampled while it blocks), with its duration."""
    r = asyncplay("run", "--json", "--python", _python(version), "blocking", cwd=ROOT)
    assert r.returncode == 0, r.stderr
    slow = _warnings(r, "slow_step")
    assert len(slow) == 1, slow
    (w,) = slow
    assert w["file"] == str(SNIPPETS / "blocking.py")
    assert w["line"] == _line_of(SNIPPETS / "blocking.py", "time.sleep(1)  #")
    assert 0.9 < w["duration"] < 5, w
    main = next(e for e in r.kinds("task_created") if e["coro"] == "main")
    assert w["task"] == main["id"]
    assert "held the event loop for 1.0" in w["message"] and "to_thread" in w["message"]


BLOCKED_IN_LIBRARY = """\
import asyncio
import queue


def helper():
    q = queue.Queue()
    try:
        q.get(timeout=0.4)  # blocks inside the standard library's queue.py
    except queue.Empty:
        pass


async def fine():
    await asyncio.sleep(0.01)
    sum(range(1000))


async def main():
    await asyncio.gather(fine(), fine())
    helper()
    await asyncio.sleep(0)


asyncio.run(main())
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_slow_step_points_at_the_programs_own_line(version: str, tmp_path: Path) -> None:
    """Blocked deep inside the standard library: the line is the program's innermost one
    (the call into queue.py), not the library's; quick steps give no warning."""
    prog = tmp_path / "lib_block.py"
    prog.write_text(BLOCKED_IN_LIBRARY)
    r = asyncplay("run", "--json", "--python", _python(version), str(prog), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    slow = _warnings(r, "slow_step")
    assert [(w["file"], w["line"]) for w in slow] == [(str(prog), 8)], slow


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS[-1:])
def test_slow_step_threshold_is_the_flag(version: str, tmp_path: Path) -> None:
    """``--slow-step MS``: a 0.3 s block is slow at the default 100 ms, not at 2000 ms."""
    prog = tmp_path / "block.py"
    prog.write_text(
        "import asyncio, time\n"
        "async def main():\n"
        "    await asyncio.sleep(0)\n"
        "    time.sleep(0.3)\n"
        "asyncio.run(main())\n"
    )
    py = _python(version)
    r = asyncplay("run", "--json", "--python", py, str(prog), cwd=tmp_path)
    assert [w["line"] for w in _warnings(r, "slow_step")] == [4]
    hello = r.kinds("hello")[0]
    assert hello["slow_step"] == pytest.approx(0.1)
    r = asyncplay("run", "--json", "--slow-step", "2000", "--python", py, str(prog), cwd=tmp_path)
    assert _warnings(r, "slow_step") == []
    assert r.kinds("hello")[0]["slow_step"] == pytest.approx(2.0)
