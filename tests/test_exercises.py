"""The bundled exercises and ``asyncplay check`` / ``asyncplay exercises``.

Every bundled exercise's starting code fails exactly the checks it is meant to, each with
a reason from the run, and its solution passes them all: on every installed CPython
3.10-3.15 (an exercise that needs 3.11 from there): by default on this Python and the
oldest installed one, the others with ``-m exercise_matrix``. Then the command line: exit statuses,
``--json``, usage errors, and a run stuck in a deadlock ended at once.
"""

from __future__ import annotations

import json
import re
import sys
import time

import pytest
from helpers import asyncplay
from pythons import find_pythons

from asyncplay.snippets import find_exercise, list_exercises
from asyncplay.views.checks import parse


class AtLeast:
    """Words with a duration in them (``{}``) that must be at least ``least``: the virtual
    clock jumps a sleep exactly, but the real time the steps take is in every duration
    (a blocking ``time.sleep(0.5)`` twice took 1.1 s at a load of 17), never less."""

    def __init__(self, words: str, least: float) -> None:
        self.words, self.least = words, least
        self.pattern = re.compile(re.escape(words).replace(re.escape("{}"), r"(\d+\.\d+)"))

    def found_in(self, reason: str) -> bool:
        found = self.pattern.search(reason)
        return found is not None and float(found[1]) >= self.least

    def __repr__(self) -> str:
        return f"{self.words.format('N')} (N >= {self.least})"


#: exercise -> {index of a check the starting code fails: words its reason must hold}.
#: Every other check passes on the starting code; every check passes on the solution.
EXPECTED_FAILURES: dict[str, dict[int, tuple[str | AtLeast, ...]]] = {
    "concurrent_fetch": {
        0: (AtLeast("took {} s", 3.0), "3 fetch tasks ran one after another", "gather"),
        1: ("one after another (never more than 1 at a time)",),
    },
    "no_blocking": {
        0: ("held the event loop",),
        1: (AtLeast("took {} s", 1.0), "the event loop was blocked", "no_blocking.py:25"),
    },
    "keep_reference": {
        0: ("save was cut off waiting on sleep(0.5)", "keep_reference.py:24"),
        1: ("save was still running when main() returned",),
        2: ("never printed 'settings saved'",),
    },
    "fix_deadlock": {
        0: ("deadlock", "transfer-1 awaits Lock.acquire()"),
        1: ("transfer-1 was still waiting on Lock.acquire()", "when the run ended"),
        2: ("never printed",),
        3: ("it never finished: a deadlock", "asyncplay ended the run there"),
    },
    "stop_consumers": {
        0: ("consumer-1 was cut off waiting on Queue.get()", "stop_consumers.py:27"),
        1: ("was still running when main() returned", "(and 1 more)"),
    },
    "deadline": {
        0: (
            AtLeast("took {} s", 10.0),
            AtLeast("waited {} s on sleep(10)", 10.0),
            "deadline.py:24",
        ),
        1: ("never printed 'gave up after 1 s'",),
    },
    "semaphore_bound": {
        0: ("9 download tasks ran at once", "Semaphore(3)"),
        3: (AtLeast("took only {} s", 1.0), "less than 2.9 s"),
    },
    "taskgroup_failure": {
        0: ("exited with status 1", "ExceptionGroup"),
        1: ("never printed 'one fetch failed: bad address'",),
    },
    "shield_write": {0: ("never printed 'order-42 saved'",)},
    "async_iterator": {
        0: ("missing 'lift-off'",),
        1: ("RuntimeError: coroutine raised StopIteration",),
    },
    "await_coroutine": {
        0: ("coroutine 'greet' was never awaited",),
        1: ("never printed 'hello, Ada'",),
    },
}

PYTHONS = find_pythons()
HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"
#: By default each exercise runs on the Python running the tests and on the oldest one
#: installed (about 45 s of wall time on 2 busy cores); every other installed one is
#: opt-in: ``python -m pytest -m exercise_matrix tests/test_exercises.py``.
DEFAULT_VERSIONS = {HERE, min(PYTHONS, key=lambda v: tuple(map(int, v.split("."))), default=HERE)}
VERSIONS = [
    v if v in DEFAULT_VERSIONS else pytest.param(v, marks=pytest.mark.exercise_matrix)
    for v in sorted(PYTHONS)
]


def _check(*args: str, cwd=None) -> tuple[int, dict]:  # noqa: ANN001
    r = asyncplay("check", "--json", *args, timeout=30, cwd=cwd)
    assert r.stderr == b"", r.stderr
    return r.returncode, json.loads(r.stdout)


def test_every_exercise_is_listed_and_expected() -> None:
    names = [e.name for e in list_exercises()]
    assert len(names) >= 10
    assert sorted(names) == sorted(EXPECTED_FAILURES)
    for e in list_exercises():
        assert e.solution is not None and e.solution.is_file(), e.name
        parse(e.checks)  # well-formed


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_start_fails_what_it_should_and_solution_passes(name: str, version: str) -> None:
    exercise = find_exercise(name)
    assert exercise is not None
    if not exercise.supports(tuple(int(p) for p in version.split("."))):
        pytest.skip(f"{name} needs Python {exercise.requires_python}")
    python = PYTHONS[version]
    started = time.monotonic()
    code, start = _check(name, "--python", python)
    assert time.monotonic() - started < 10
    failed = {i: c for i, c in enumerate(start["checks"]) if not c["passed"]}
    assert sorted(failed) == sorted(EXPECTED_FAILURES[name]), start["checks"]
    for i, words in EXPECTED_FAILURES[name].items():
        for w in words:
            reason = failed[i]["reason"]
            assert w.found_in(reason) if isinstance(w, AtLeast) else w in reason, (w, failed[i])
    assert code == 1 and start["ok"] is False
    code, solved = _check(name, "--solution", "--python", python)
    assert [c["check"] for c in solved["checks"] if not c["passed"]] == [], solved["checks"]
    assert code == 0 and solved["ok"] is True and solved["solution"] is True


def test_exercises_lists_name_then_title() -> None:
    r = asyncplay("exercises")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    by_name = {line.split()[0]: line.split(None, 1)[1] for line in lines}
    assert by_name["concurrent_fetch"] == "Fetch three pages at the same time"
    assert len(lines) == len(EXPECTED_FAILURES)


def test_check_prints_one_line_per_check_and_a_total() -> None:
    r = asyncplay("check", "concurrent_fetch", timeout=30)
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert lines[1].startswith("✗ finishes within 1.2 s: took 3.0 s - the 3 fetch tasks ran")
    assert lines[3].startswith('✓ prints "fetched page 1"')
    assert lines[-1] == "2/4 checks pass"


PROGRAM = '''"""A student's program

Do things.

What to look for: things.

Checks:
    {checks}
"""
import asyncio

{body}
'''


def _write(tmp_path, checks: str, body: str = "print('hi')", name: str = "p.py"):
    path = tmp_path / name
    path.write_text(PROGRAM.format(checks=checks, body=body))
    return path


@pytest.mark.parametrize(
    "args, needle",
    [
        (["check"], "the following arguments are required"),
        (["check", "no_such_exercise"], "no file or exercise named 'no_such_exercise'"),
        (["check", "concurrent_fetc"], "close matches: concurrent_fetch"),
        (["check", "gather"], "has no 'Checks:' in its docstring"),
        (["check", "missing.py"], "no such file: missing.py"),
        (["check", "p.py", "--solution"], "p has no solution (p.solution.py beside it)"),
        (["check", "--clock", "fast", "p.py"], "--clock takes one of real, virtual"),
    ],
)
def test_check_usage_errors_exit_2(tmp_path, args, needle) -> None:
    _write(tmp_path, "exit status 0")
    r = asyncplay(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stdout
    line = r.stderr.decode().strip()
    assert "\n" not in line and line.startswith("asyncplay: ") and needle in line, line


def test_a_malformed_check_names_its_line_of_the_file(tmp_path) -> None:
    _write(tmp_path, 'exit status 0\n    prints "a", "b\n    no such thing')
    r = asyncplay("check", "p.py", cwd=tmp_path)
    assert r.returncode == 2
    line = r.stderr.decode().strip()
    # the docstring opens on line 1: "prints" is line 9 of the file
    assert line.startswith("asyncplay: p.py: line 9: prints takes text in double quotes"), line


def test_a_file_with_its_solution_beside_it(tmp_path) -> None:
    _write(tmp_path, "finishes within 0.5 s", "asyncio.run(asyncio.sleep(2))")
    (tmp_path / "p.solution.py").write_text("import asyncio\nasyncio.run(asyncio.sleep(0.1))\n")
    code, out = _check("p.py", cwd=tmp_path)
    assert code == 1 and out["checks"][0]["reason"].startswith("took 2.0 s")
    code, out = _check("p.py", "--solution", cwd=tmp_path)
    assert code == 0 and out["program"].endswith("p.solution.py") and out["ok"]


def test_stuck_deadlock_ends_at_once_even_on_the_real_clock(tmp_path) -> None:
    """A cycle first seen while main still sleeps (not stuck: a timer is pending) is told
    again, stuck, once main awaits it too: then the run ends at once, not at --timeout."""
    body = """
async def a(box):
    await box["b"]

async def b(box):
    await box["a"]

async def main():
    box = {}
    box["a"] = asyncio.create_task(a(box), name="a")
    box["b"] = asyncio.create_task(b(box), name="b")
    await asyncio.sleep(1.5)
    await asyncio.gather(box["a"], box["b"])

asyncio.run(main())
"""
    _write(tmp_path, "no deadlock\n    every task finishes", body)
    started = time.monotonic()
    r = asyncplay("check", "--json", "--clock", "real", "--timeout", "20", str(tmp_path / "p.py"))
    assert time.monotonic() - started < 10
    out = json.loads(r.stdout)
    assert r.returncode == 1 and out["stopped_at_deadlock"] is True, out
    assert "a awaits b" in out["checks"][0]["reason"]
    assert 0 < out["checks"][0]["moment"] < 1.5  # the cycle's moment: first seen, main asleep


def test_check_json_is_one_object_for_an_autograder(tmp_path) -> None:
    _write(tmp_path, 'prints "hi"\n    exit status 3', "print('hi')\nraise SystemExit(3)")
    code, out = _check(str(tmp_path / "p.py"))
    assert code == 0
    assert out["passed"] == out["total"] == 2 and out["exit_code"] == 3
    assert out["checks"][0] == {
        "check": 'prints "hi"',
        "line": 8,
        "passed": True,
        "reason": "all printed",
        "task": None,
        "at": None,
        "moment": None,
    }


def test_requires_python_is_a_usage_error_on_an_older_one() -> None:
    if "3.10" not in PYTHONS:
        pytest.skip("no Python 3.10 here")
    r = asyncplay("check", "taskgroup_failure", "--python", PYTHONS["3.10"])
    assert r.returncode == 2 and b"needs Python 3.11" in r.stderr
