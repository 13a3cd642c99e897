"""Shared fixtures: above all, proof that no test leaves a process of a run alive.

The test process makes itself a child subreaper, so every process a run starts - even one
that called setsid() and double-forked - stays its descendant. After each test, every
descendant must be gone (zombies are reaped); otherwise the test fails and the leftovers
are killed so they cannot poison the next test.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PR_SET_CHILD_SUBREAPER = 36

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _become_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


SUBREAPER = _become_subreaper()


def _children_map() -> dict[int, list[tuple[int, str, str]]]:
    """Every process on the machine by its parent: the fallback where the kernel has no
    ``/proc/PID/task/TID/children`` (``CONFIG_PROC_CHILDREN``)."""
    kids: dict[int, list[tuple[int, str, str]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        found = _process(int(entry))
        if found is not None:
            kids.setdefault(found[0], []).append((int(entry), *found[1:]))
    return kids


def _process(pid: int) -> tuple[int, str, str] | None:
    """(parent, state, command line) of ``pid``, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return None
    rest = stat[stat.rfind(")") + 2 :].split()
    return int(rest[1]), rest[0], cmd.decode(errors="replace").strip()


def _children(pid: int) -> list[int]:
    """The children of ``pid``, from each of its threads' ``children`` file (a child
    belongs to the thread that forked it)."""
    out: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in threads:
        try:
            out.extend(int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
        except OSError:
            continue
    return out


#: Whether the kernel lists a thread's children: reading a few small files per descendant
#: instead of every process's on the machine (~10 ms a test with 125 processes, more on a
#: busy shared machine: after each of the suite's 4,000 tests).
_CHILDREN_FILES = os.path.exists(f"/proc/self/task/{os.getpid()}/children")


def descendants(pid: int | None = None) -> list[tuple[int, str, str]]:
    """Live (non-zombie) descendants of ``pid`` (default: this process)."""
    out: list[tuple[int, str, str]] = []
    todo = [pid or os.getpid()]
    if not _CHILDREN_FILES:
        kids = _children_map()
        while todo:
            for child in kids.get(todo.pop(), []):
                todo.append(child[0])
                if child[1] != "Z":
                    out.append(child)
        return out
    while todo:
        for child in _children(todo.pop()):
            found = _process(child)
            if found is None:
                continue
            todo.append(child)
            if found[1] != "Z":
                out.append((child, found[1], found[2]))
    return out


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def assert_nothing_left(grace: float = 3.0) -> None:
    deadline = time.monotonic() + grace
    while True:
        _reap()
        left = descendants()
        if not left:
            return
        if time.monotonic() > deadline:
            for pid, _state, _cmd in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.1)
            _reap()
            pytest.fail(
                "processes of a run were left alive: "
                + "; ".join(f"{p} {c[:80]}" for p, _, c in left)
            )
        time.sleep(0.05)


#: Modules of short tests only (each under 1 s in docs/testing.md's run: 427 tests, 30 s
#: in all), collected last. xdist's ``load`` hands each -n worker chunks of consecutive
#: tests and the last ones a few at a time; in alphabetical order the last were the
#: playground's and the real terminal's (3-14 s a test), and one worker could be left
#: idle while the other finished them. Last, these short ones even the two out.
SHORTEST_LAST = frozenset(
    {"test_checks", "test_child_failures", "test_explain", "test_input_wait", "test_libc"}
    | {"test_model", "test_model_steps", "test_output_child", "test_output_records"}
    | {"test_output_threads", "test_private_asyncio", "test_process", "test_python_probe"}
    | {"test_sandbox_retry", "test_stepping_protocol", "test_storage", "test_task_records"}
    | {"test_task_slot", "test_text_cells", "test_trace", "test_traceback_lines"}
    | {"test_tui_event_batches", "test_tui_views"}
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The short tests' modules last (``SHORTEST_LAST``). The sandbox's test modules run
    again as an unprivileged user in CI (.ci/run picks ``-m unprivileged``): every test in tests/test_sandbox*.py is marked so; other modules
    mark their own tests with ``pytest.mark.unprivileged``. Tests marked ``asyncio_suite``
    (CPython's whole asyncio suite, minutes per version) or ``exercise_matrix`` (every
    exercise on every installed CPython) run only when ``-m`` names them."""
    markexpr = config.option.markexpr or ""
    items.sort(key=lambda item: item.path.stem in SHORTEST_LAST)  # (a stable sort)
    _next_to_their_shared_run(items)
    for item in items:
        if item.path.name.startswith("test_sandbox"):
            item.add_marker(pytest.mark.unprivileged)
        for opt_in in ("asyncio_suite", "exercise_matrix"):
            if opt_in not in markexpr and item.get_closest_marker(opt_in):
                item.add_marker(pytest.mark.skip(reason=f"opt-in: python -m pytest -m {opt_in}"))


def _next_to_their_shared_run(items: list[pytest.Item]) -> None:
    """Put the tests that read one shared run next to each other, in place.

    A module that makes each real run once and lets several tests check it (a file cache
    under a lock, shared by the ``-n`` workers: tests/test_transparency.py) says which run a
    test reads with ``shared_run(item) -> key``. pytest orders them test function by test
    function, so with ``-n 2`` one worker ran test_stdout_identical[P-V] while the other,
    handed the next chunk of the collection, ran test_exit_status[P-V] at the same moment
    and waited on the lock for the first one's runs. In the order of their runs instead,
    a chunk of consecutive tests holds whole runs and each worker makes its own. The order
    is the same in every worker (xdist requires it): stable, by first appearance.
    """
    by_module: dict[object, list[int]] = {}
    for index, item in enumerate(items):
        module = getattr(item, "module", None)
        key = getattr(module, "shared_run", None)
        if callable(key) and key(item) is not None:
            by_module.setdefault(module, []).append(index)
    for module, places in by_module.items():
        key = module.shared_run  # type: ignore[attr-defined]
        first: dict[object, int] = {}
        for place in places:
            first.setdefault(key(items[place]), place)
        grouped = sorted((items[p] for p in places), key=lambda item: first[key(item)])
        for place, item in zip(places, grouped, strict=True):
            items[place] = item


@pytest.fixture(autouse=True)
def no_leftover_processes():
    """Every test: afterwards, nothing it started may be alive."""
    yield
    assert_nothing_left()


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every test process of this session sees (under ``-n`` each worker's base
    temp is a sibling in one session folder): for runs made once and read by tests on
    either worker (tests/snippet_runs.py)."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private data folder and working directory: the playground's tests never touch the
    user's files (used by the TUI test modules through ``pytestmark``); colours as on a
    plain terminal whatever the caller's environment says (the snapshots are in colour)."""
    monkeypatch.setenv("ASYNCPLAY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"
