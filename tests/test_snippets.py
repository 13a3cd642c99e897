"""Tests for the bundled snippet library and its docstring parser.

Every bundled snippet must have an entry in ``EXPECTATIONS``: the lines it promises to print
(in order), the tasks it is about, and how those tasks end. Each snippet is run under
``asyncplay run --json`` on every installed CPython 3.10-3.15 and under plain ``python``.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from made_once import AT_ONCE, made_once
from pythons import SUPPORTED_VERSIONS, find_pythons
from snippet_runs import snippet_run

from asyncplay.model import build
from asyncplay.snippets import (
    COURSE,
    MAX_TITLE_LENGTH,
    Snippet,
    SnippetError,
    bundled_dir,
    bundled_names,
    close_matches,
    find_bundled,
    list_bundled,
    load_snippet,
    parse_metadata,
    resolve_program,
)

REPO = Path(__file__).resolve().parent.parent
#: The snippets in this checkout.
SNIPPETS_DIR = REPO / "snippets"
#: The snippets asyncplay uses: the same folder, or their copy in an installed asyncplay.
BUNDLED = bundled_dir()
#: Every snippet must finish within this many seconds under plain Python, start-up included.
#: (Under asyncplay the run's own --timeout, 30 s, is the limit and its exit status says so:
#: a sandboxed run's time there measures the machine's load and the runs' CPU share as much
#: as the snippet.)
TIME_LIMIT = 5.0
#: What a snippet prints (to stderr) on a Python older than its "Requires Python:".
UNSUPPORTED_MESSAGE = "needs Python 3.11 or newer"


@dataclass(frozen=True)
class Expect:
    """What one snippet must show when it runs (timings are never asserted)."""

    #: Each must start a stdout line, in this order (other lines may come in between).
    lines: tuple[str, ...]
    #: Task names that must be reported (non-internal ``task_created`` events).
    names: frozenset[str] = frozenset()
    #: Coroutine qualnames that must be reported; ``main`` is always expected.
    coros: frozenset[str] = frozenset({"main"})
    #: When true, no other (non-internal) coroutine may run as a task.
    only_these_coros: bool = False
    #: Final state of named tasks: "done", "cancelled" or "failed".
    states: Mapping[str, str] = field(default_factory=dict)
    #: Text that must not appear anywhere in stdout.
    absent: tuple[str, ...] = ()
    #: Text that must appear in stdout exactly this many times.
    counts: Mapping[str, int] = field(default_factory=dict)
    #: asyncio objects the program creates, name -> kind: exactly these are reported
    #: (not asyncio's own: as_completed's Queue, a Queue's Event).
    objects: Mapping[str, str] = field(default_factory=dict)
    #: Executor jobs, function -> how many.
    jobs: Mapping[str, int] = field(default_factory=dict)


def _names(*names: str) -> frozenset[str]:
    return frozenset(names)


EXPECTATIONS: dict[str, Expect] = {
    "sequential": Expect(
        lines=("main: started", "main: first sleep done", "main: second sleep done"),
        only_these_coros=True,
    ),
    "chain": Expect(
        lines=(
            "1. main: awaiting process()",
            "2. process: awaiting fetch()",
            "3. fetch: downloading",
            "4. process: fetch returned 'data'",
            "5. main: process returned 'DATA'",
        ),
        only_these_coros=True,
    ),
    "create_task": Expect(
        lines=(
            "main: created both tasks",
            "tea: started",
            "coffee: started",
            "coffee: ready",
            "tea: ready",
            "main: got a cup of tea and a cup of coffee",
        ),
        names=_names("tea", "coffee"),
        coros=_names("main", "brew"),
        states={"tea": "done", "coffee": "done"},
    ),
    "forgotten": Expect(
        lines=(
            "main: created the job task",
            "job: started",
            "main: returning now",
            "job: cancelled, because main returned",
        ),
        names=_names("job"),
        coros=_names("main", "background_job"),
        states={"job": "cancelled"},
        absent=("job: finished",),
    ),
    "gather": Expect(
        lines=(
            "worker-A: sleeping 2 s",
            "worker-B: sleeping 3 s",
            "worker-C: sleeping 1 s",
            "worker-C: done",
            "worker-A: done",
            "worker-B: done",
            "main: gather returned ['A slept 2 s', 'B slept 3 s', 'C slept 1 s']",
        ),
        names=_names("worker-A", "worker-B", "worker-C"),
        coros=_names("main", "worker"),
        states={"worker-A": "done", "worker-B": "done", "worker-C": "done"},
    ),
    "exceptions": Expect(
        lines=(
            "main: parse-42 returned 42",
            "main: caught ValueError(",
            "main: awaiting one more failing task",
        ),
        names=_names("parse-42", "parse-forty", "parse-oops"),
        coros=_names("main", "parse"),
        states={"parse-42": "done", "parse-forty": "failed", "parse-oops": "failed"},
        absent=("main: never printed",),
    ),
    "gather_errors": Expect(
        lines=(
            "plain gather raised: ConnectionError('db is down')",
            "still running, not cancelled: ['web', 'cache']",
            "gather with return_exceptions=True returned:",
            "  web: web is up",
            "  db: failed with ConnectionError('db is down')",
            "  cache: cache is up",
        ),
        names=_names("web", "db", "cache"),
        coros=_names("main", "check"),
        states={"web": "done", "db": "failed", "cache": "done"},
    ),
    "blocking": Expect(
        jobs={"time.sleep": 1},
        lines=(
            "ticker: tick 1",
            "main: calling time.sleep(1)",
            "main: time.sleep returned; ticks meanwhile: 0",
            "main: awaiting asyncio.to_thread",
            "ticker: tick",  # the loop is free again while the thread sleeps
            "main: to_thread returned; ticks meanwhile:",
        ),
        names=_names("ticker"),
        coros=_names("main", "ticker"),
        states={"ticker": "cancelled"},
    ),
    "executor": Expect(
        jobs={"blocking_job": 4},
        lines=(
            "main: submitting 4 jobs to a pool of 2 threads",
            "job 1: ran in thread pool_",
            "job 2: ran in thread pool_",
            "job 3: ran in thread pool_",
            "job 4: ran in thread pool_",
            "main: all done",
        ),
        only_these_coros=True,
    ),
    "async_iter": Expect(
        lines=(
            "main: got 3",
            "main: got 2",
            "main: got 1",
            "main: liftoff",
            "main (by hand): got 2",
            "main (by hand): got 1",
            "main (by hand): liftoff",
        ),
        only_these_coros=True,
    ),
    "async_gen": Expect(
        lines=(
            "async for: reading 0",
            "async for: reading 10",
            "async for: reading 20",
            "async comprehension: [20, 30]",
            "await in a comprehension: [2, 4, 6]",
        ),
        only_these_coros=True,
    ),
    "async_with": Expect(
        lines=(
            "connection: opening...",
            "connection: open",
            "main: inside the block, connection is ready",
            "transaction 1: begin",
            "transaction 1: commit",
            "connection: closed",
            "transaction 2: begin",
            "transaction 2: rollback",
            "connection: closed",
            "main: caught ValueError('invalid order')",
        ),
        only_these_coros=True,
        counts={"connection: closed": 2},
    ),
    "cancel": Expect(
        lines=(
            "download: started",
            "download: got chunk 1 of 10",
            "main: cancelling the download",
            "download: cancelled, deleting the partial file",
            "download: closing the connection",
            "main: the download is cancelled: task.cancelled() is True",
        ),
        names=_names("download"),
        coros=_names("main", "download"),
        states={"download": "cancelled"},
        absent=("download: complete",),
    ),
    "wait_for": Expect(
        lines=(
            "quick: thinking for 0.2 s",
            "main: got 'quick says 42' in time",
            "slow: thinking for 2 s",
            "slow: cancelled by wait_for",
            "main: slow timed out",
            "main: slow.cancelled() is True",
        ),
        names=_names("quick", "slow"),
        coros=_names("main", "answer"),
        states={"quick": "done", "slow": "cancelled"},
    ),
    "timeout": Expect(
        lines=(
            "download: started",
            "unpack: done",
            "main: both steps fit in 1 s",
            "download: started",
            "download: done",
            "unpack: started",
            "main: the 0.5 s deadline passed",
        ),
        only_these_coros=True,
        absent=("main: never printed",),
        counts={"unpack: done": 1, "unpack: started": 2},
    ),
    "shield": Expect(
        lines=(
            "unshielded: saving",
            "unshielded: cancelled halfway",
            "main: gave up; unshielded.cancelled() is True",
            "shielded: saving",
            "main: gave up; shielded.cancelled() is False",
            "shielded: saved",
            "main: shielded saved",
        ),
        names=_names("unshielded", "shielded"),
        coros=_names("main", "save"),
        states={"unshielded": "cancelled", "shielded": "done"},
        absent=("unshielded: saved",),
    ),
    "as_completed": Expect(
        lines=(
            "main: started slow, fast and medium",
            "main: got fast page",
            "main: got medium page",
            "main: got slow page",
        ),
        names=_names("slow", "fast", "medium"),
        coros=_names("main", "fetch"),
        states={"slow": "done", "fast": "done", "medium": "done"},
    ),
    "taskgroup": Expect(
        lines=(
            "fetch: started",
            "parse: started",
            "fetch: done",
            "parse: done",
            "main: group done: 'fetch result', 'parse result'",
            "slow: started",
            "broken: started",
            "broken: raising ValueError",
            "slow: cancelled by the group",
            "main: caught ExceptionGroup(",
        ),
        names=_names("fetch", "parse", "slow", "broken"),
        coros=_names("main", "job"),
        states={"fetch": "done", "parse": "done", "slow": "cancelled", "broken": "failed"},
        absent=("slow: done",),
    ),
    "queues": Expect(
        objects={"queue": "Queue"},
        lines=(
            "producer: put item-1",
            "consumer-1: working on item-1",
            "producer: all items queued",
            "main: all 6 items processed",
        ),
        names=_names("producer", "consumer-1", "consumer-2"),
        coros=_names("main", "producer", "consumer"),
        states={"producer": "done", "consumer-1": "cancelled", "consumer-2": "cancelled"},
        counts={f"working on item-{n}": 1 for n in range(1, 7)},
    ),
    "lock": Expect(
        objects={"lock": "Lock"},
        lines=(
            "unsafe-1: read balance 0",
            "unsafe-2: read balance 0",
            "unsafe-3: read balance 0",
            "unsafe: final balance 100 (expected 300)",
            "safe-1: read balance 0",
            "safe-2: read balance 100",
            "safe-3: read balance 200",
            "safe: final balance 300 (expected 300)",
        ),
        names=_names("unsafe-1", "unsafe-2", "unsafe-3", "safe-1", "safe-2", "safe-3"),
        coros=_names("main", "deposit_unsafe", "deposit_safe"),
    ),
    "semaphore": Expect(
        objects={"slots": "Semaphore"},
        lines=(
            "download 1: started (1 active)",
            "download 2: started (2 active)",
            "download 1: finished",
            "download 3: started",
            "download 5: finished",
            "main: at most 2 downloads ran at once",
        ),
        names=_names(*(f"download-{n}" for n in range(1, 6))),
        coros=_names("main", "download"),
        absent=("(3 active)",),
    ),
    "event": Expect(
        objects={"start_signal": "Event"},
        lines=(
            "runner-1: waiting for the start signal",
            "runner-2: waiting for the start signal",
            "runner-3: waiting for the start signal",
            "main: ready... set... go!",
            "runner-1: running!",
            "runner-2: running!",
            "runner-3: running!",
            "main: the event stays set: is_set() is True",
        ),
        names=_names("runner-1", "runner-2", "runner-3"),
        coros=_names("main", "runner"),
        states={f"runner-{n}": "done" for n in (1, 2, 3)},
    ),
}


# --- the metadata parser ----------------------------------------------------------------------

WELL_FORMED = '''\
"""Waiting for two things at once

First paragraph of the explanation.

Second paragraph, with `code`.

What to look for: two tasks.
The lines come in order.

Still part of what to look for.

Exit status: 3
Requires Python: 3.12
"""

import asyncio
'''


def test_parse_well_formed_docstring() -> None:
    meta = parse_metadata(WELL_FORMED, "demo")
    assert meta.title == "Waiting for two things at once"
    assert meta.explanation == (
        "First paragraph of the explanation.\n\nSecond paragraph, with `code`."
    )
    assert meta.look_for == (
        "two tasks.\nThe lines come in order.\n\nStill part of what to look for."
    )
    assert meta.exit_status == 3
    assert meta.requires_python == (3, 12)


def test_parse_defaults_and_indented_docstring() -> None:
    source = (
        '"""\n    Title\n\n    Why it matters.\n\n    what to look for: one task.\n    """\n'
        "print('hi')\n"
    )
    meta = parse_metadata(source, "demo")
    assert (meta.title, meta.explanation, meta.look_for) == (
        "Title",
        "Why it matters.",
        "one task.",
    )
    assert meta.exit_status == 0
    assert meta.requires_python is None


def test_look_for_text_may_start_on_the_next_line() -> None:
    meta = parse_metadata('"""T\n\nWhy.\n\nWhat to look for:\nthe order.\n"""\n', "demo")
    assert meta.look_for == "the order."


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import asyncio\n", "no module docstring"),
        ("", "no module docstring"),
        ("x = 1\n'''Not a docstring\n\nWhy.\n\nWhat to look for: x.'''\n", "no module docstring"),
        ('"""   """\n', "empty title"),
        ('"""What to look for: x\n\nWhy."""\n', "must be the title"),
        ('"""' + "T" * (MAX_TITLE_LENGTH + 1) + '\n\nWhy.\n\nWhat to look for: x."""\n', "at most"),
        ('"""Title\ncontinued title\n\nWhat to look for: x."""\n', "single line"),
        ('"""Title\n\nWhy it matters."""\n', "missing a 'What to look for:'"),
        ('"""Title\n\nWhy.\n\nWhat to look for:   \n\nExit status: 1"""\n', "has no text"),
        ('"""Title\n\nWhat to look for: x."""\n', "no explanation"),
        ('"""Title\n\nWhy.\n\nWhat to look for: x.\n\nExit status: one"""\n', "integer"),
        ('"""Title\n\nWhy.\n\nWhat to look for: x.\n\nExit status: 300"""\n', "integer"),
        ('"""Title\n\nWhy.\n\nWhat to look for: x.\n\nExit status: -1"""\n', "integer"),
        ('"""Title\n\nWhy.\n\nWhat to look for: x.\n\nRequires Python: 3"""\n', "3.11"),
        ('"""Title\n\nWhy.\n\nWhat to look for: x.\n\nRequires Python: >=3.11"""\n', "3.11"),
        ('"""Title\n\nWhy.\n\nWhat to look for: a.\nWhat to look for: b."""\n', "twice"),
        ('"""Title\n\nWhy.\n\nWhat to look for: x."""\ndef broken(:\n', "syntax error"),
    ],
)
def test_parse_malformed_docstring(source: str, message: str) -> None:
    with pytest.raises(SnippetError) as caught:
        parse_metadata(source, "bad")
    text = str(caught.value)
    assert message in text
    assert text.startswith("bad: ")
    assert "\n" not in text, "errors must be one line"
    assert isinstance(caught.value, ValueError)


def test_load_snippet_of_a_user_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(WELL_FORMED, encoding="utf-8")
    snippet = load_snippet(path)
    assert (snippet.name, snippet.path, snippet.bundled) == ("mine", path, False)
    assert snippet.exit_status == 3
    assert not snippet.supports((3, 11)) and snippet.supports((3, 12))
    assert snippet.expected_exit_status((3, 11)) == 1
    assert snippet.expected_exit_status((3, 13)) == 3
    with pytest.raises(SnippetError, match="cannot read"):
        load_snippet(tmp_path / "missing.py")


# --- the bundled library ----------------------------------------------------------------------


def test_bundled_snippets_parse_in_course_order() -> None:
    snippets = list_bundled()
    names = [snippet.name for snippet in snippets]
    assert len(snippets) >= 16
    assert names == list(COURSE), "COURSE must list every bundled snippet, and only those"
    assert names[0] == "sequential", "the TUI opens the first snippet on first use"
    assert bundled_names() == names
    checkout = {path.stem for path in SNIPPETS_DIR.glob("*.py")} - {"__init__"}
    assert set(names) == checkout, "asyncplay must find the snippets of this checkout"
    for snippet in snippets:
        assert snippet.bundled and snippet.path == BUNDLED / f"{snippet.name}.py"
        assert snippet.title and snippet.explanation and snippet.look_for
    assert len({snippet.title for snippet in snippets}) == len(snippets), "titles must differ"


def test_every_bundled_snippet_has_expectations() -> None:
    missing = sorted(set(bundled_names()) - set(EXPECTATIONS))
    stale = sorted(set(EXPECTATIONS) - set(bundled_names()))
    assert not missing, f"add EXPECTATIONS entries for: {missing}"
    assert not stale, f"EXPECTATIONS for snippets that do not exist: {stale}"


@pytest.mark.parametrize("name", bundled_names())
def test_snippet_source_is_sound(name: str) -> None:
    """Short clean names, valid on the oldest Python, never shadowing a stdlib module."""
    path = SNIPPETS_DIR / f"{name}.py"
    source = path.read_text(encoding="utf-8")
    assert name.isidentifier() and name == name.lower() and len(name) <= 16
    # Running snippets/queue.py would put snippets/ first on sys.path and shadow `queue`.
    assert name not in sys.stdlib_module_names
    ast.parse(source, filename=str(path), feature_version=(3, 10))
    assert "asyncio.run(main())" in source
    snippet = find_bundled(name)
    assert snippet is not None and snippet.name == name
    if snippet.requires_python is not None:
        assert UNSUPPORTED_MESSAGE in source, "needs a one-line message for older Pythons"


def test_init_is_not_a_snippet() -> None:
    assert (SNIPPETS_DIR / "__init__.py").is_file()
    assert "__init__" not in bundled_names()
    assert find_bundled("__init__") is None
    assert resolve_program("__init__") is None


def test_find_bundled_and_close_matches() -> None:
    assert find_bundled("gather") is not None
    assert find_bundled("nope") is None
    assert find_bundled("../asyncplay/snippets") is None
    assert close_matches("gathr")[0] == "gather"
    assert "queues" in close_matches("queue")
    assert "taskgroup" in close_matches("task_group")
    assert close_matches("zzzzzz") == []


def test_resolve_program_prefers_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_program("gather") == BUNDLED / "gather.py"
    assert resolve_program("nope") is None
    assert resolve_program("") is None
    # Anything that looks like a path is a file, existing or not: the caller reports it.
    assert resolve_program("./gather") == Path("./gather")
    assert resolve_program("mine.py") == Path("mine.py")
    assert resolve_program("sub/gather") == Path("sub/gather")
    # An existing file always wins over a snippet name.
    (tmp_path / "gather").write_text("print('mine')\n", encoding="utf-8")
    assert resolve_program("gather") == Path("gather")
    # A directory is not a file.
    (tmp_path / "chain").mkdir()
    assert resolve_program("chain") == BUNDLED / "chain.py"


# --- running the snippets ---------------------------------------------------------------------


@dataclass
class RunResult:
    """One finished run: what the program printed and what the engine reported."""

    exit_code: int
    stdout: str
    stderr: str
    elapsed: float
    events: list[dict[str, Any]] = field(default_factory=list)
    log: str = ""  # for assertion messages


def _env() -> dict[str, str]:
    """The test environment, with this checkout importable (no install needed)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def run_asyncplay(name: str, version: str, shared: Path) -> RunResult:
    """``asyncplay run --python PYTHON --json NAME``, parsed into events: the session's one
    run of it (tests/snippet_runs.py; test_concurrency_engine.py compares the same run with
    the snippet under the virtual clock)."""
    run = snippet_run(name, version, shared)
    stdout, stderr = run.result.stdout.decode(), run.result.stderr.decode()
    # conftest's autouse fixture proves nothing of the run is left alive (the test that
    # made it; the runs are over when snippet_run returns).
    log = f"exit {run.result.returncode}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    events = []
    for line in stdout.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"--json printed a line that is not JSON: {line!r}\n{log}")
    ends = [event for event in events if event.get("event") == "run_end"]
    assert len(ends) == 1, f"expected exactly one run_end event\n{log}"
    outputs = [event for event in events if event.get("event") == "output"]
    return RunResult(
        exit_code=ends[0]["exit_code"],
        stdout="".join(e["text"] for e in outputs if e["stream"] == "stdout"),
        stderr="".join(e["text"] for e in outputs if e["stream"] == "stderr")
        + str(ends[0].get("reason", "")),
        elapsed=run.elapsed,
        events=events,
        log=log,
    )


def run_plain(path: Path, python: str, cwd: Path) -> RunResult:
    """``python SNIPPET``: snippets must not need asyncplay to run."""
    start = time.monotonic()
    proc = subprocess.run(
        [python, str(path)], cwd=cwd, capture_output=True, text=True, timeout=30, env=_env()
    )
    elapsed = time.monotonic() - start
    log = f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    return RunResult(proc.returncode, proc.stdout, proc.stderr, elapsed, log=log)


def assert_lines_in_order(stdout: str, expected: tuple[str, ...], log: str) -> None:
    """Each expected text starts some stdout line, later than the previous one's line."""
    lines = stdout.splitlines()
    position = 0
    for want in expected:
        for index in range(position, len(lines)):
            if lines[index].startswith(want):
                position = index + 1
                break
        else:
            pytest.fail(f"no line starting with {want!r} (in this order)\n{log}")


def assert_output(
    snippet: Snippet,
    version: tuple[int, int],
    result: RunResult,
    time_limit: float | None = TIME_LIMIT,
) -> None:
    """Exit status, key lines and time limit, as the snippet's docstring promises."""
    expect = EXPECTATIONS[snippet.name]
    assert result.exit_code == snippet.expected_exit_status(version), result.log
    if time_limit is not None:
        assert result.elapsed < time_limit, f"took {result.elapsed:.1f} s\n{result.log}"
    if not snippet.supports(version):
        assert UNSUPPORTED_MESSAGE in result.stderr, result.log
        assert "Traceback" not in result.stderr, result.log
        assert result.stdout == "", result.log
        return
    assert_lines_in_order(result.stdout, expect.lines, result.log)
    for text in expect.absent:
        assert text not in result.stdout, f"{text!r} must not be printed\n{result.log}"
    for text, count in expect.counts.items():
        assert result.stdout.count(text) == count, f"{text!r} != {count} times\n{result.log}"


def _version_of(label: str) -> tuple[int, int]:
    major, minor = label.split(".")
    return (int(major), int(minor))


def _python_or_skip(label: str) -> str:
    python = find_pythons().get(label)
    if python is None:
        pytest.skip(f"Python {label} is not installed (looked on PATH and in pyenv)")
    return python


def _is_asyncio_internal(coro: str) -> bool:
    """Coroutines asyncio itself runs as tasks (e.g. asyncio.run's shutdown steps)."""
    return coro.startswith(("BaseEventLoop.", "Runner."))


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
@pytest.mark.parametrize("name", bundled_names())
def test_snippet_runs_under_asyncplay(name: str, version: str, session_dir: Path) -> None:
    _python_or_skip(version)
    snippet = find_bundled(name)
    assert snippet is not None
    result = run_asyncplay(name, version, session_dir)
    assert_output(snippet, _version_of(version), result, time_limit=None)
    if not snippet.supports(_version_of(version)):
        return

    expect = EXPECTATIONS[name]
    # Names, coroutines and end states as every view sees them: from the run model.
    model = build(result.events)
    tasks = [task for task in model.tasks.values() if not task.internal]
    names = {task.name for task in tasks}
    coros = {task.coro for task in tasks}
    assert expect.names <= names, f"task names {sorted(names)}\n{result.log}"
    assert expect.coros <= coros, f"task coroutines {sorted(coros)}\n{result.log}"
    if expect.only_these_coros:
        extra = {coro for coro in coros - expect.coros if not _is_asyncio_internal(coro)}
        assert not extra, f"unexpected tasks {sorted(extra)}\n{result.log}"
    states = {task.name: task.state for task in tasks}
    for task_name, state in expect.states.items():
        assert states.get(task_name) == state, f"{task_name}: {states.get(task_name)}\n{result.log}"
    objects = {p.name: p.kind for p in model.primitives.values()}
    assert objects == dict(expect.objects), f"asyncio objects {objects}\n{result.log}"
    jobs: dict[str, int] = {}
    for job in model.executor_jobs.values():
        jobs[job.function] = jobs.get(job.function, 0) + 1
        assert job.ended is not None and job.thread, f"{job!r}\n{result.log}"
    assert jobs == dict(expect.jobs), f"executor jobs {jobs}\n{result.log}"


#: Lessons run under plain Python side by side, as asyncplay's runs are (``AT_ONCE``): a
#: lesson is mostly its own sleeps (1-3 s). Eight at once at a load of 15 held the gather
#: lesson's start-up past its 5 s promise (5.4 s for its 3 s of sleeps).
PLAIN_AT_ONCE = AT_ONCE


def plain_runs(shared: Path) -> dict[str, RunResult]:
    """Every lesson under plain ``python`` (this interpreter), each in a folder of its own,
    made once per session by whichever test process asks first (tests/made_once.py),
    PLAIN_AT_ONCE at a time: one after another, one per test, the 22 lessons' sleeps kept
    a worker waiting ~25 s. All are over when this returns."""

    def make() -> dict[str, RunResult]:
        folders = {name: shared / f"plain-{name}" for name in bundled_names()}
        with ThreadPoolExecutor(max_workers=PLAIN_AT_ONCE) as pool:
            made = {}
            for name, folder in folders.items():
                folder.mkdir(exist_ok=True)
                path = find_bundled(name).path  # type: ignore[union-attr]
                made[name] = pool.submit(run_plain, path, sys.executable, folder)
            return {name: future.result() for name, future in made.items()}

    return made_once(shared / "plain-lessons", make)


@pytest.mark.parametrize("name", bundled_names())
def test_snippet_runs_under_plain_python(name: str, session_dir: Path) -> None:
    snippet = find_bundled(name)
    assert snippet is not None
    assert_output(snippet, sys.version_info[:2], plain_runs(session_dir)[name])


# --- the wheel ----------------------------------------------------------------------------------


def _can_build_without_isolation() -> bool:
    """setuptools >= 70.1 builds wheels by itself; older ones need the `wheel` package."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    return parts >= (70, 1)


#: What not to copy from the checkout before building a wheel from it.
_NOT_SOURCE = (".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")


def _packaging() -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # 3.10
        import tomli as tomllib
    with open(REPO / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["tool"]["setuptools"]


def test_every_folder_of_the_package_is_shipped() -> None:
    """Fast, without building: every folder of Python files in the package (the bundled
    snippets' and exercises' folders too) is a listed package, so its files are shipped. setuptools leaves out, with only a warning, a folder that is not listed: the
    exercises' folder once was (the wheel test below builds one, slowly)."""
    config = _packaging()
    packages = set(config["packages"])
    package_dir = config.get("package-dir", {})
    data = config.get("package-data", {})

    def source_of(package: str) -> Path:
        for prefix, folder in sorted(package_dir.items(), key=lambda kv: -len(kv[0])):
            if package == prefix or package.startswith(prefix + "."):
                rest = package[len(prefix) :].lstrip(".").split(".") if package != prefix else []
                return REPO.joinpath(folder, *[r for r in rest if r])
        return REPO.joinpath(*package.split("."))

    roots = {"asyncplay": REPO / "asyncplay", "asyncplay.snippets_data": SNIPPETS_DIR}
    for root_name, root in roots.items():
        for folder in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
            if folder.name == "__pycache__" or not any(folder.glob("*.py")):
                continue
            rel = folder.relative_to(root).parts
            name = ".".join([root_name, *rel])
            assert name in packages, f"{folder} is not in pyproject's packages (as {name})"
            assert source_of(name) == folder, (name, source_of(name), folder)
    for name in packages:
        folder = source_of(name)
        assert folder.is_dir(), f"{name}: no folder {folder}"
    # A listed package ships its *.py files; the solutions (NAME.solution.py, no module
    # names) are package data as well, so no build backend's idea of a module leaves one out.
    assert "*.py" in data.get("asyncplay.snippets_data.exercises", [])


def test_wheel_ships_the_snippets(tmp_path: Path) -> None:
    """A plain (non-editable) wheel holds every snippet, and finds them when installed."""
    source = tmp_path / "src"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(*_NOT_SOURCE),
    )
    dist = tmp_path / "dist"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist)]
    if _can_build_without_isolation():
        command.append("--no-build-isolation")
    built = subprocess.run(
        [*command, str(source)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("asyncplay-*.whl")

    expected = {f"asyncplay/snippets_data/{p.name}" for p in SNIPPETS_DIR.glob("*.py")}
    expected |= {
        f"asyncplay/snippets_data/exercises/{p.name}"
        for p in (SNIPPETS_DIR / "exercises").glob("*.py")
    }
    assert "asyncplay/snippets_data/exercises/concurrent_fetch.solution.py" in expected
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    assert "asyncplay/snippets_data/__init__.py" in expected
    assert expected <= shipped, f"missing from the wheel: {sorted(expected - shipped)}"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from asyncplay import snippets;"
        "print(snippets.__file__); print(snippets.bundled_dir());"
        "print(len(snippets.list_bundled())); print(snippets.resolve_program('chain'));"
        "print(sum(e.solution is not None for e in snippets.list_exercises()))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probed = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "site")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=elsewhere,
        env=env,
    )
    assert probed.returncode == 0, probed.stderr
    module, directory, count, chain, solved = probed.stdout.splitlines()
    site = tmp_path / "site" / "asyncplay"
    assert Path(module).parent == site
    assert Path(directory) == site / "snippets_data"
    assert int(count) == len(bundled_names())
    assert Path(chain) == site / "snippets_data" / "chain.py"
    assert int(solved) == len(list(SNIPPETS_DIR.glob("exercises/*.solution.py"))) >= 10

    # And a run from the unpacked wheel, elsewhere, sees the snippet's tasks: the child
    # runtime (with its sitecustomize injection folder) ships too.
    ran = subprocess.run(
        [sys.executable, "-m", "asyncplay", "run", "--json", "gather"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=elsewhere,
        env={**env, "PYTHONPATH": str(tmp_path / "site")},
    )
    assert ran.returncode == 0, ran.stderr
    events = [json.loads(line) for line in ran.stdout.splitlines()]
    created = [e for e in events if e["event"] == "task_created" and not e["internal"]]
    assert "main" in {e["coro"] for e in created} and len(created) >= 2, created
    # The snippet is the user's code even though it lives inside the installed package.
    assert all(e["line"] and e["file"].endswith("gather.py") for e in created), created
