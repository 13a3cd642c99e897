"""Transparency: a program behaves under ``asyncplay run`` exactly as under plain Python.

Every program in ``tests/programs`` runs, for each installed CPython 3.10-3.15, three ways:
plain ``python PROGRAM``, ``asyncplay run --quiet --python EXE PROGRAM`` and ``asyncplay run
--json``; and, on the newest version found only, ``asyncplay run`` without ``--quiet`` (what
it adds, the summary and the live warnings on stderr, is the host's work: the child's part is
the same as in the other two runs). The runs of one (program, version) happen once per
session, concurrently, shared by the test processes of ``-n`` (a file cache under a lock),
and every aspect below is a separate test over the cached results:

* stdout bytes identical to plain Python's (the non-JSON runs);
* the exit status equal (a plain run killed by signal N means asyncplay exits 128+N);
* stderr identical under ``--quiet`` (where the program's stderr is deterministic), and the
  program's stderr is a prefix of the non-quiet run's stderr (the summary comes after it);
* ``--json``: well-formed event stream, the created tasks' coroutine multiset (``*`` marks an
  ``internal`` task), the warnings, the output text, and per-program attribution checks.

All runs use the same environment: asyncplay's ``helpers.env()`` minus ``PYTHONUNBUFFERED``,
so stdout is a block-buffered pipe under plain Python, as it is for most users.

Where asyncplay differs from plain Python the test stays as it is and is marked
``xfail(strict=True)`` with the exact difference (see ``KNOWN``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import PROGRAMS, Result
from helpers import env as helpers_env
from made_once import made_once
from pythons import SUPPORTED_VERSIONS, find_pythons

VERSIONS = SUPPORTED_VERSIONS
PYTHONS = find_pythons()
TESTS_DIR = PROGRAMS.parent

# asyncio.run / asyncio.Runner.close: the two shutdown tasks asyncio creates for itself.
RUN = {"BaseEventLoop.shutdown_asyncgens*": 1, "BaseEventLoop.shutdown_default_executor*": 1}


@dataclass(frozen=True)
class Program:
    """One program and what is expected of it."""

    name: str  # file stem in tests/programs, or the module for -m
    tasks: dict[str, int] | None  # coro qualname -> count; trailing "*": internal task
    exit: int = 0  # plain Python's exit status (a sanity check of the program itself)
    min_version: str = "3.10"
    module: bool = False  # run as ``-m name`` from a temp dir holding modpkg_src/*
    args: tuple[str, ...] = ()
    from_tests_dir: bool = False  # run as ``programs/NAME.py`` with cwd=tests/
    stderr_deterministic: bool = True
    warnings: dict[str, int] | None = field(default_factory=dict)  # kind -> count


PROGRAM_LIST = [
    Program("gather_run", {"main": 1, "worker": 3, **RUN}),
    Program("fork_plain", {}),
    Program("runner_311", {"main": 2, "step": 2, **RUN}, min_version="3.11"),
    Program(
        "new_loop_run_until_complete",
        # shutdown_asyncgens is awaited by the program itself here: the user's task.
        {"main": 1, "child": 2, "BaseEventLoop.shutdown_asyncgens": 1},
    ),
    Program("custom_task_factory", {"main": 1, "job": 3, **RUN}),
    Program(
        "eager_task_factory_312", {"main": 1, "quick": 2, "slow": 1, **RUN}, min_version="3.12"
    ),
    Program("contextvars_tasks", {"main": 1, "handler": 2, **RUN}),
    Program("to_thread_executor", {"main": 1, **RUN}),
    Program(
        "subprocess_exec",
        {
            "main": 1,
            "BaseSubprocessTransport._connect_pipes*": 2,
            "Process._noop*": 2,  # communicate(): stdin and stderr are not pipes
            "Process._read_stream*": 1,
            **RUN,
        },
    ),
    Program("async_generators", {"main": 1, **RUN}),
    Program(
        "async_generator_left_open",
        # asyncio's async-generator finalizer schedules loop.create_task(agen.aclose()).
        {"main": 1, "async_generator_athrow*": 1, **RUN},
    ),
    Program(
        "taskgroup_except_star_311",
        {"main": 1, "ok": 1, "fail": 2, "sleeper": 1, **RUN},
        min_version="3.11",
    ),
    Program(
        "sys_exit_in_task",
        # SystemExit escapes asyncio.run before the shutdown tasks are created.
        {"main": 1, "quitter": 1, "sleep": 1},
        exit=3,
        warnings={"exception_never_retrieved": 1},
    ),
    Program("task_get_coro", {"main": 1, "work": 1, **RUN}),
    Program(
        "exception_never_retrieved",
        {"main": 1, "explode": 1, **RUN},
        warnings={"exception_never_retrieved": 1},
    ),
    Program("never_awaited", {"main": 1, **RUN}, warnings={"never_awaited": 1}),
    Program(
        "destroyed_pending",
        {"main": 1, "wait_forever": 1, **RUN},
        warnings={"destroyed_pending": 1},
    ),
    Program("cut_off_task", {"main": 1, "heartbeat": 1, **RUN}, warnings={"cut_off": 1}),
    Program("unhandled_exception", {"main": 1, "load": 2, **RUN}, exit=1),
    Program("syntax_error", {}, exit=1),
    Program("recursion_error", {"main": 1, **RUN}, exit=1),
    Program("keyboard_interrupt", {"main": 1, **RUN}, exit=-2),
    Program("interleaved_streams", {"main": 1, "speaker": 2, **RUN}),
    Program("stringio_swap", {"main": 1, "chatty": 3, **RUN}),
    Program("raw_fd_writes", {"main": 1, **RUN}),
    Program("raw_fd_writes_unflushed", {"main": 1, **RUN}),
    Program(
        "argv_file_sibling",
        {"main": 1, **RUN},
        args=("one", "two words"),
        from_tests_dir=True,
    ),
    Program("asyncpkg.app", {"main": 1, "double": 2, **RUN}, module=True, args=("one", "two")),
    Program("binary_stdout", {"main": 1, **RUN}),
    Program("debug_executor_coroutine", {"main": 1, **RUN}, stderr_deterministic=False),
    Program("executor_threads_released", {"main": 1, **RUN}),
    # A cancel passed on down 900 tasks each awaiting the next: no RecursionError.
    Program("cancel_chain", {"main": 1, "link": 900, **RUN}),
    # _thread._count() and threading's counts, before, in and after loops, threads, a fork.
    Program(
        "thread_count",
        {
            "main": 2,
            **RUN,
            "BaseEventLoop.shutdown_asyncgens*": 2,
            "BaseEventLoop.shutdown_default_executor*": 2,
        },
    ),
    # The program closes asyncplay's event channel: events may be missing, a channel_lost
    # warning may appear; only the pass-through, the exit status and the end are checked.
    Program("closerange_fds", None, warnings=None),
    # A task closes every fd, the loop's among them: the loop's EBADF traceback is Python's.
    Program("closerange_in_task", None, warnings=None),
    Program("all_tasks_no_loop", {}),
    Program(
        "exc_handler_context_312",
        {"main": 1, "task": 2, **RUN},
        min_version="3.12",
        warnings={"exception_never_retrieved": 2},
    ),
    # Debug mode may log a slow step on a loaded machine: stderr is not compared.
    Program("debug_source_traceback", {"main": 1, "child": 1, **RUN}, stderr_deterministic=False),
    # create_task's fast path (task_creation.py) and the traced Task's set_name: the errors'
    # tracebacks and a task's source traceback as python's.
    Program("create_task_paths", {"main": 1, "work": 5, **RUN}),
]
BY_NAME = {p.name: p for p in PROGRAM_LIST}

ALL = None  # every version
# (test aspect, program) -> (versions or ALL, reason): asyncplay bugs, each test kept strict.
KNOWN: dict[tuple[str, str], tuple[tuple[str, ...] | None, str]] = {
    # Documented difference (docs/how-it-works.md, "Where it differs from plain python"):
    # stdout is flushed at the end of every step that printed (with --json; a plain run at
    # the loop's waits), and before any stderr write, so output is live; bytes written
    # later through os.write come after it, where a block-buffered pipe would put them first.
    ("stdout", "raw_fd_writes_unflushed"): (
        ALL,
        "documented: the child flushes sys.stdout at the end of each step that printed "
        "(live output), so print() text reaches the pipe before bytes written later through "
        "os.write; plain Python block-buffers a piped stdout",
    ),
    ("json_output", "raw_fd_writes_unflushed"): (ALL, "same documented reordering as stdout"),
    # 3.10 re-adds a wrapper's own frame on a bare ``raise`` (see drop_own_frame): the
    # program prints its traceback's frames, one of them asyncplay's.
    ("stdout", "closerange_in_task"): (("3.10",), "3.10: a wrapper's frame in the traceback"),
    ("json_output", "closerange_in_task"): (("3.10",), "3.10: the same frame"),
    ("stdout", "all_tasks_no_loop"): (("3.10",), "3.10: a wrapper's frame in the traceback"),
    ("json_output", "all_tasks_no_loop"): (("3.10",), "3.10: the same frame"),
    ("stdout", "create_task_paths"): (("3.10",), "3.10: a wrapper's frame in the traceback"),
    ("json_output", "create_task_paths"): (("3.10",), "3.10: the same frame"),
}


def _marks(aspect: str, prog: Program, version: str) -> list:
    known = KNOWN.get((aspect, prog.name))
    if known is None or (known[0] is not None and version not in known[0]):
        return []
    return [pytest.mark.xfail(strict=True, reason=f"asyncplay bug: {known[1]}")]


def _params(aspect: str, names: list[str] | None = None) -> list:
    progs = PROGRAM_LIST if names is None else [BY_NAME[n] for n in names]
    return [
        pytest.param(p, v, id=f"{p.name}-{v}", marks=_marks(aspect, p, v))
        for p in progs
        for v in VERSIONS
    ]


# ---- running ---------------------------------------------------------------------------


def _env() -> dict[str, str]:
    e = helpers_env()
    e.pop("PYTHONUNBUFFERED", None)
    return e


def _run(argv: list[str], cwd: str | Path) -> Result:
    p = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, timeout=60, input=b"")
    return Result(p.returncode, p.stdout, p.stderr)


@dataclass
class Runs:
    plain: Result
    loud: Result | None  # asyncplay run (its summary on stderr): on LOUD_VERSION only
    quiet: Result  # asyncplay run --quiet
    json: Result  # asyncplay run --json
    path: str | None  # the program file as the child sees it (absolute)


#: The one version whose runs include ``asyncplay run`` without ``--quiet``.
LOUD_VERSION = max(PYTHONS, key=lambda v: tuple(map(int, v.split("."))), default=None)


@pytest.fixture(scope="session")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The folder the -m package runs from (a copy of tests/programs/modpkg_src), in a folder
    every test process of this session sees (under ``-n`` each worker's base temp is a
    sibling in one session folder): ``runs`` keeps its cache beside it, so the runs of a
    (program, version) are made once per session, not once per worker."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "transparency"
    shared.mkdir(exist_ok=True)
    d = shared / "modpkg"
    if not d.exists():  # the first worker's copy wins; a copy is renamed into place whole
        tmp = Path(tempfile.mkdtemp(dir=shared))
        shutil.copytree(PROGRAMS / "modpkg_src", tmp, dirs_exist_ok=True)
        try:
            tmp.rename(d)
        except OSError:  # another worker's came first
            shutil.rmtree(tmp)
    return str(d)


def shared_run(item: pytest.Item) -> tuple[str, str] | None:
    """The (program, version) whose runs a test reads: tests/conftest.py puts the tests of
    one next to each other, so each ``-n`` worker makes the runs of its own chunk."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    prog, version = params.get("prog"), params.get("version")
    return (prog.name, version) if isinstance(prog, Program) else None


def runs(prog: Program, version: str, module_dir: str) -> Runs:
    exe = PYTHONS.get(version)
    if exe is None:
        pytest.skip(f"Python {version} is not installed")
    if tuple(map(int, version.split("."))) < tuple(map(int, prog.min_version.split("."))):
        pytest.skip(f"{prog.name} needs Python {prog.min_version}+, not {version}")
    # One test process makes the runs; the other waits on the lock and reads them.
    stem = Path(module_dir).parent / f"{prog.name}-{version}"
    return made_once(stem, lambda: _make_runs(prog, version, module_dir))


def _make_runs(prog: Program, version: str, module_dir: str) -> Runs:
    exe = PYTHONS[version]
    if prog.module:
        cwd, target, path = module_dir, ["-m", prog.name, *prog.args], None
    elif prog.from_tests_dir:
        rel = f"programs/{prog.name}.py"
        cwd, target, path = TESTS_DIR, [rel, *prog.args], str(PROGRAMS / f"{prog.name}.py")
    else:
        path = str(PROGRAMS / f"{prog.name}.py")
        cwd, target = PROGRAMS, [path, *prog.args]
    ap = [sys.executable, "-m", "asyncplay", "run", "--python", exe]
    argvs = [
        [exe, *target],
        [*ap, "--quiet", *target],
        # (a step's slowness is the machine's load, not the program: no slow_step warnings
        # in the warnings compared below; the other warnings do not depend on time)
        [*ap, "--json", "--slow-step", "60000", *target],
    ]
    if version == LOUD_VERSION:
        argvs.append([*ap, *target])
    with ThreadPoolExecutor(max_workers=4) as pool:
        plain, quiet, js, *loud = pool.map(lambda a: _run(a, cwd), argvs)
    return Runs(plain, loud[0] if loud else None, quiet, js, path)


def expected_exit(plain_status: int) -> int:
    """asyncplay's documented mapping: killed by signal N -> 128+N, else the status."""
    return 128 - plain_status if plain_status < 0 else plain_status


_ADDR = re.compile(rb"0x[0-9a-fA-F]+")


def norm(data: bytes) -> bytes:
    """Memory addresses (in reprs Python prints) differ between any two runs."""
    return _ADDR.sub(b"0xADDR", data)


def _created(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event"] == "task_created"]


def _names(events: list[dict]) -> dict[int, str]:
    names = {e["id"]: e["name"] for e in _created(events)}
    for e in events:
        if e["event"] == "task_renamed":
            names[e["id"]] = e["name"]
    return names


def _lines(events: list[dict]) -> list[tuple[str, str, int | None]]:
    """(stream, line, task id) for each output line, in event order."""
    out: list[tuple[str, str, int | None]] = []
    partial: dict[str, str] = {}
    for e in events:
        if e["event"] != "output":
            continue
        stream = e["stream"]
        text = partial.pop(stream, "") + e["text"]
        *full, rest = text.split("\n")
        for line in full:
            out.append((stream, line, e["task"]))
        if rest:
            partial[stream] = rest
    return out


# ---- the generic aspects ----------------------------------------------------------------


@pytest.mark.parametrize(("prog", "version"), _params("stdout"))
def test_stdout_identical(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    assert r.quiet.stdout == r.plain.stdout
    if r.loud is not None:
        assert r.loud.stdout == r.plain.stdout


@pytest.mark.parametrize(("prog", "version"), _params("exit"))
def test_exit_status(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    assert r.plain.returncode == prog.exit, r.plain.stderr.decode(errors="replace")
    want = expected_exit(r.plain.returncode)
    assert (r.quiet.returncode, r.json.returncode) == (want, want), r.quiet.stderr.decode(
        errors="replace"
    )
    if r.loud is not None:
        assert r.loud.returncode == want, r.loud.stderr.decode(errors="replace")


@pytest.mark.parametrize(("prog", "version"), _params("stderr"))
def test_stderr_identical(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    if not prog.stderr_deterministic:
        pytest.skip(f"{prog.name}: stderr is not deterministic")
    # --quiet and the program's own ending: asyncplay adds nothing to stderr.
    assert norm(r.quiet.stderr).decode(errors="replace") == norm(r.plain.stderr).decode(
        errors="replace"
    )
    # Without --quiet the summary follows the program's own stderr, and the warnings told
    # while it ran are lines of their own among it (each after a newline of its own if the
    # program's line was unfinished): without them, the program's bytes are all there.
    if r.loud is None:
        return  # (checked on LOUD_VERSION)
    loud = norm(r.loud.stderr)
    summary = loud.index("── ".encode()) if "── ".encode() in loud else len(loud)
    assert len(r.loud.stderr) > len(r.plain.stderr)
    own = _without_live_warnings(loud[:summary])
    plain_err = norm(r.plain.stderr)
    assert own == plain_err or own.replace(b"\n", b"") == plain_err.replace(b"\n", b"")


def _without_live_warnings(err: bytes) -> bytes:
    """stderr without the lines of warnings ``asyncplay run`` told as they came."""
    out: list[bytes] = []
    told = False
    for line in err.splitlines(keepends=True):
        if line.startswith(b"asyncplay: "):
            told = True
            continue
        if told and line.startswith(b" " * 11):  # a told warning's wrapped lines
            continue
        told = False
        out.append(line)
    return b"".join(out)


@pytest.mark.parametrize(("prog", "version"), _params("protocol"))
def test_json_protocol(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    assert r.json.stderr == b"", "with --json the program's stderr travels in output events"
    events = r.json.events
    kinds = [e["event"] for e in events]
    assert kinds[0] in ("run_start", "hello")
    assert kinds[-1] == "run_end"
    assert kinds.count("run_end") == 1
    assert "protocol_error" not in kinds, [e for e in events if e["event"] == "protocol_error"]
    end = events[-1]
    assert end["exit_code"] == expected_exit(r.plain.returncode)
    assert end["by"] == "program"
    created: set[int] = set()
    for e in events:
        kind = e["event"]
        if kind == "task_created":
            assert e["id"] not in created
            assert e["parent"] is None or e["parent"] in created
            created.add(e["id"])
        elif kind == "output":
            assert e["stream"] in ("stdout", "stderr")
            assert e["task"] is None or e["task"] in created, e
        elif kind == "steps":
            for s in e["steps"]:
                # {"task": ...} as documented; the engine in progress sends [task, ...] rows.
                task = s["task"] if isinstance(s, dict) else s[0]
                assert task in created, s
        elif kind in ("task_done", "task_renamed"):
            assert e["id"] in created, e
        elif kind == "warning":
            assert e["task"] is None or e["task"] in created, e


@pytest.mark.parametrize(("prog", "version"), _params("json_output"))
def test_json_output_text(prog: Program, version: str, module_dir: str) -> None:
    """The output events carry exactly the program's text, per stream."""
    r = runs(prog, version, module_dir)
    events = r.json.events
    got_out = "".join(
        e["text"] for e in events if e["event"] == "output" and e["stream"] == "stdout"
    )
    assert got_out == r.plain.stdout.decode("utf-8", "replace")
    if prog.stderr_deterministic:
        got_err = "".join(
            e["text"] for e in events if e["event"] == "output" and e["stream"] == "stderr"
        )
        assert norm(got_err.encode()) == norm(r.plain.stderr.decode("utf-8", "replace").encode())


@pytest.mark.parametrize(("prog", "version"), _params("tasks"))
def test_json_tasks(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    if prog.tasks is None:
        pytest.skip(f"{prog.name}: the event channel is closed by the program")
    got = Counter(e["coro"] for e in _created(r.json.events))
    want = Counter({k.rstrip("*"): n for k, n in prog.tasks.items()})
    assert got == want


@pytest.mark.parametrize(("prog", "version"), _params("internal"))
def test_json_internal_flags(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    if prog.tasks is None:
        pytest.skip(f"{prog.name}: the event channel is closed by the program")
    got = Counter(e["coro"] + ("*" if e["internal"] else "") for e in _created(r.json.events))
    assert got == Counter(prog.tasks)


@pytest.mark.parametrize(("prog", "version"), _params("warnings"))
def test_json_warnings(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    if prog.warnings is None:
        pytest.skip(f"{prog.name}: warnings are not fixed for this program")
    warnings = r.json.kinds("warning")
    got = Counter(w["kind"] for w in warnings)
    assert got == Counter(prog.warnings), warnings


# ---- program-specific checks -----------------------------------------------------------


def _one_warning(r: Runs, kind: str) -> dict:
    found = r.json.kinds("warning")
    found = [w for w in found if w["kind"] == kind]
    assert len(found) == 1, r.json.kinds("warning")
    return found[0]


def _task_id(r: Runs, name: str) -> int:
    ids = [i for i, n in _names(r.json.events).items() if n == name]
    assert len(ids) == 1, _names(r.json.events)
    return ids[0]


@pytest.mark.parametrize(("prog", "version"), _params("warning", ["exception_never_retrieved"]))
def test_exception_never_retrieved(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    for res in (r.plain, r.quiet):
        assert b"Task exception was never retrieved" in res.stderr
    w = _one_warning(r, "exception_never_retrieved")
    assert (w["file"], w["line"]) == (r.path, 8)  # raise ValueError(...)
    assert "forgotten" in w["message"]
    assert "ValueError" in w["message"]


@pytest.mark.parametrize(
    ("prog", "version"), _params("warning_task", ["exception_never_retrieved"])
)
def test_exception_never_retrieved_names_its_task(
    prog: Program, version: str, module_dir: str
) -> None:
    r = runs(prog, version, module_dir)
    w = _one_warning(r, "exception_never_retrieved")
    assert w["task"] == _task_id(r, "forgotten")


@pytest.mark.parametrize(("prog", "version"), _params("warning", ["never_awaited"]))
def test_never_awaited(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    for res in (r.plain, r.quiet):
        assert b"RuntimeWarning: coroutine 'fetch' was never awaited" in res.stderr
    w = _one_warning(r, "never_awaited")
    assert (w["file"], w["line"]) == (r.path, 10)  # fetch()
    assert w["task"] == _task_id(r, "Task-1")
    assert "fetch" in w["message"]


@pytest.mark.parametrize(("prog", "version"), _params("warning", ["destroyed_pending"]))
def test_destroyed_pending(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    for res in (r.plain, r.quiet):
        assert b"Task was destroyed but it is pending!" in res.stderr
        assert b"name='orphan'" in res.stderr
    w = _one_warning(r, "destroyed_pending")
    assert "orphan" in w["message"]


@pytest.mark.parametrize(("prog", "version"), _params("warning_task", ["destroyed_pending"]))
def test_destroyed_pending_names_its_task(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    w = _one_warning(r, "destroyed_pending")
    assert (w["task"], w["file"], w["line"]) == (_task_id(r, "orphan"), r.path, 7)  # await fut


@pytest.mark.parametrize(("prog", "version"), _params("warning", ["cut_off_task"]))
def test_cut_off(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    assert b"heartbeat cancelled after" in r.plain.stdout
    w = _one_warning(r, "cut_off")
    assert w["task"] == _task_id(r, "heartbeat")
    assert "heartbeat" in w["message"]
    assert (w["file"], w["line"]) == (r.path, 11)  # await asyncio.sleep(0) in heartbeat


@pytest.mark.parametrize(("prog", "version"), _params("traceback", ["unhandled_exception"]))
def test_unhandled_exception_traceback(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    err = r.quiet.stderr.decode()
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.endswith("ValueError: invalid literal for int() with base 10: 'two'\n")
    for line in (20, 16, 11, 6):  # asyncio.run(main()), gather, return parse(..), int(text)
        assert f'File "{r.path}", line {line}, in ' in err
    # Python's own traceback, line for line: no frame of the runtime shows. Not a search
    # for the word "asyncplay": a clone's folder is named so, and so are the paths in it.
    assert err == r.plain.stderr.decode()
    failed = [e for e in r.json.kinds("task_done") if e["state"] == "failed"]
    assert {(e["exc_type"], e["line"]) for e in failed} == {("ValueError", 6)}


@pytest.mark.parametrize(("prog", "version"), _params("traceback", ["syntax_error"]))
def test_syntax_error(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    assert b"SyntaxError" in r.plain.stderr
    assert r.quiet.stderr == r.plain.stderr
    assert r.json.kinds("task_created") == []


@pytest.mark.parametrize(("prog", "version"), _params("exit", ["keyboard_interrupt"]))
def test_keyboard_interrupt_maps_to_130(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    assert r.plain.returncode == -2  # CPython re-raises SIGINT on an uncaught KeyboardInterrupt
    assert r.quiet.returncode == 130
    assert b"KeyboardInterrupt" in r.quiet.stderr
    end = r.json.kinds("run_end")[0]
    assert (end["reason"], end["exit_code"]) == ("signal", 130)


@pytest.mark.parametrize(("prog", "version"), _params("exit", ["sys_exit_in_task"]))
def test_sys_exit_in_task(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    assert r.quiet.returncode == 3
    assert r.quiet.stdout == b"quitting with status 3\n"
    end = r.json.kinds("run_end")[0]
    assert (end["reason"], end["exit_code"], end["by"]) == ("exited", 3, "program")


INTERLEAVED = [("stdout", "main start", "Task-1"), ("stderr", "main start (stderr)", "Task-1")]
for _i in range(3):
    for _who in ("alpha", "beta"):
        INTERLEAVED += [("stdout", f"{_who} out {_i}", _who), ("stderr", f"{_who} err {_i}", _who)]
INTERLEAVED.append(("stdout", "main end", "Task-1"))

# Per program: (stream, line, name of the task that wrote it, or None), in stream order.
ATTRIBUTION: dict[str, list[tuple[str, str, str | None]]] = {
    "interleaved_streams": INTERLEAVED,
    "eager_task_factory_312": [
        ("stdout", "quick 1", "quick-1"),
        ("stdout", "t1 done right away: True", "Task-1"),
        ("stdout", "slow start 2", "slow-2"),
        ("stdout", "t2 done right away: False", "Task-1"),
        ("stdout", "quick 3", "coro=quick"),  # Task-4 on 3.12; "None" on 3.13.0 (CPython)
        ("stdout", "slow end 2", "slow-2"),
        ("stdout", "gathered: [1, 2, 3]", "Task-1"),
    ],
    "raw_fd_writes": [
        ("stdout", "text line 1", "Task-1"),
        ("stdout", "buffer line", "Task-1"),  # sys.stdout.buffer: attributed too
        ("stdout", "fd line", None),
        ("stdout", "text line 2", "Task-1"),
        ("stdout", "text line 3", "Task-1"),
        ("stderr", "fd err line", None),
    ],
    "to_thread_executor": [
        ("stdout", "blocking 1 in worker thread, var=set-in-main", "Task-1"),
        ("stdout", "blocking 2 in worker thread, var=unset", "Task-1"),
        ("stdout", "blocking 3 in worker thread, var=unset", "Task-1"),
        ("stdout", "blocking 4 in worker thread, var=unset", "Task-1"),
        # Documented: a thread's output is attributed to the task whose step is running
        # when it is flushed (none between steps), so this one may go either way.
        ("stdout", "printed from a worker thread", "*any*"),
        ("stdout", "back in main", "Task-1"),
    ],
    "custom_task_factory": [
        ("stdout", "job 1 runs in CountingTask", "coro=job"),
        ("stdout", "job 2 runs in CountingTask", "coro=job"),
        ("stdout", "name: *", "Task-1"),  # Task-4; "None" on 3.13.0 (CPython's set_name(None))
        ("stdout", "job 3 runs in CountingTask", "coro=job"),
        ("stdout", "results: [1, 2] 3", "Task-1"),
        ("stdout", "made: ['job', 'job', 'job']", "Task-1"),
    ],
    "stringio_swap": [
        ("stdout", "before swap", "Task-1"),
        ("stdout", "captured: 'chatty 1\\nchatty 2\\n'", "Task-1"),
        ("stdout", "redirected: 'chatty 3\\nchatty 4\\n'", "Task-1"),
        ("stdout", "restored via __stdout__: True", "Task-1"),
        ("stdout", "isinstance TextIOWrapper: True", "Task-1"),
    ],
}


@pytest.mark.parametrize(("prog", "version"), _params("attribution", list(ATTRIBUTION)))
def test_output_attribution(prog: Program, version: str, module_dir: str) -> None:
    """Each output line is attributed to the task that wrote it (None: not via sys.std*)."""
    r = runs(prog, version, module_dir)
    events = r.json.events
    coros = {e["id"]: e["coro"] for e in _created(events)}
    names = _names(events)
    got = [x for x in _lines(events) if not x[1].startswith("encoding/errors:")]
    want = ATTRIBUTION[prog.name]

    def view(got: list, want: list) -> list:
        """``got`` as ``want`` spells it: "coro=QUAL" is any task running that coroutine,
        a line "PREFIX*" any line starting with PREFIX."""
        out = []
        for i, (stream, line, tid) in enumerate(got):
            who = names.get(tid)
            if i < len(want):
                _ws, wline, wwho = want[i]
                if wline.endswith("*") and line.startswith(wline[:-1]):
                    line = wline
                if wwho and wwho.startswith("coro=") and coros.get(tid) == wwho[5:]:
                    who = wwho
                if wwho == "*any*":
                    who = wwho
            out.append((stream, line, who))
        return out

    for stream in ("stdout", "stderr"):
        g = [x for x in got if x[0] == stream]
        w = [x for x in want if x[0] == stream]
        assert view(g, w) == w
    if prog.name == "interleaved_streams":
        # Across streams too: the events come in the program's write order.
        assert view(got, want) == want


@pytest.mark.parametrize(("prog", "version"), _params("closerange", ["closerange_fds"]))
def test_closerange_does_not_break_asyncplay(prog: Program, version: str, module_dir: str) -> None:
    r = runs(prog, version, module_dir)
    assert r.plain.stdout.endswith(b"done\n")
    for res in (r.quiet, r.json) if r.loud is None else (r.loud, r.quiet, r.json):
        assert b"internal error" not in res.stderr
    kinds = {w["kind"] for w in r.json.kinds("warning")}
    assert kinds <= {"channel_lost"}
