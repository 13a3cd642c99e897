"""The check vocabulary (``asyncplay.views.checks``): each kind read from its words, the
malformed lines, and each kind's verdict on a model folded from events (no run)."""

from __future__ import annotations

import pytest

from asyncplay.model import build
from asyncplay.snippets import SnippetError, parse_metadata
from asyncplay.views.checks import CheckError, at_once, evaluate, parse, parse_line, program_time


@pytest.mark.parametrize(
    "text, kind, numbers, strings",
    [
        ("finishes within 1.2 s", "time_max", (1.2,), ()),
        ("takes at most 3 seconds", "time_max", (3.0,), ()),
        ("takes at least 1s", "time_min", (1.0,), ()),
        ("takes between 2.9 and 3.5 s", "time_between", (2.9, 3.5), ()),
        ("exit status 3", "exit", (3,), ()),
        ('prints "a", "b c"', "prints", (), ("a", "b c")),
        ('Prints In Order "A", "b"', "prints_order", (), ("A", "b")),
        ('prints exactly "x \\"y\\""', "prints_exactly", (), ('x "y"',)),
        ('prints a line containing "total"', "prints_containing", (), ("total",)),
        ("no blocking step", "no_warning", (), ("blocking step",)),
        ("no blocking steps", "no_warning", (), ("blocking step",)),
        ("no never-awaited coroutine", "no_warning", (), ("never-awaited coroutine",)),
        ("no lost task", "no_warning", (), ("lost task",)),
        ("no cut-off task", "no_warning", (), ("cut-off task",)),
        ("no deadlock", "no_warning", (), ("deadlock",)),
        ("no unretrieved exceptions", "no_warning", (), ("unretrieved exception",)),
        ("no warnings", "no_warning", (), ("warning",)),
        ("every task finishes", "all_finish", (), ()),
        ('task "Writer" is cancelled', "task_state", (), ("Writer", "is cancelled")),
        ('task "w" finishes', "task_state", (), ("w", "finishes")),
        ('task "w" fails', "task_state", (), ("w", "fails")),
        ('at least 3 "fetch" tasks at once', "at_least", (3,), ("fetch",)),
        ('- at most 1 "Download" task at once', "at_most", (1,), ("Download",)),
    ],
)
def test_each_kind_is_read(text, kind, numbers, strings) -> None:
    c = parse_line(7, text)
    assert (c.kind, c.numbers, c.strings, c.line) == (kind, numbers, strings, 7)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("finishes quickly", "line 12: not a check: 'finishes quickly'; checks read like:"),
        ("no slow thing", "line 12: unknown warning 'slow thing'; one of: no blocking step"),
        ('prints "a", "b', "line 12: prints takes text in double quotes"),
        ("prints hello", "line 12: prints takes text in double quotes"),
        ('prints "a" "b"', "line 12: prints: expected a comma before"),
        ('prints "a",', "line 12: prints ends with a comma"),
        ("takes between 3 and 2 s", "line 12: takes between 3 and 2 s: low > high"),
        ("exit status 300", "line 12: exit status is 0-255, not 300"),
        ('task "a", "b" finishes', "line 12: task names one thing in quotes"),
        ("at least 3 fetch tasks at once", "line 12: at least takes text in double quotes"),
    ],
)
def test_malformed_lines_name_their_line(text, needle) -> None:
    with pytest.raises(CheckError) as err:
        parse([(12, text)])
    message = str(err.value)
    assert "\n" not in message and message.startswith(needle), message


def test_checks_field_keeps_the_file_line_of_each_check() -> None:
    source = '''"""Title

Explain.

What to look for: it.

Checks: exit status 0
    finishes within 1 s

    every task finishes
"""
'''
    meta = parse_metadata(source, "x")
    assert meta.checks == (
        (7, "exit status 0"),
        (8, "finishes within 1 s"),
        (10, "every task finishes"),
    )
    assert meta.look_for == "it."
    with pytest.raises(SnippetError, match="appears twice"):
        parse_metadata(source.replace("Checks: exit", "Checks:\nChecks: exit"), "x")


# ---- verdicts on folded models ----------------------------------------------------


def _task(tid, name, coro, t, parent=1, internal=False):
    return {
        "event": "task_created",
        "t": t,
        "id": tid,
        "name": name,
        "coro": coro,
        "parent": parent,
        "internal": internal,
        "file": "/x/p.py",
        "line": 5,
    }


def _steps(*steps):
    return {"event": "steps", "t": steps[-1][1] + steps[-1][2], "steps": [list(s) for s in steps]}


def _done(tid, t, state="done", **kw):
    return {"event": "task_done", "t": t, "id": tid, "state": state, **kw}


def _model(events, code=0, reason="exited"):
    head = [{"event": "run_start", "t": 0}, {"event": "hello", "t": 0, "clock": "virtual"}]
    tail = [{"event": "run_end", "t": 9, "exit_code": code, "reason": reason, "message": "m"}]
    return build(head + events + tail)


def _sequential_fetches():
    """main awaits three fetch tasks one after another, 1 s each."""
    ev = [_task(1, "main", "main", 0.2, parent=None)]
    for k in range(3):
        tid, t0 = k + 2, 0.2 + 1.01 * k
        ev += [
            _task(tid, f"fetch-{k}", "fetch", t0),
            _steps((tid, t0, 0.001, "sleep(1)", "/x/p.py", 9)),
            _steps((tid, t0 + 1, 0.001, None, None, 0)),
            _done(tid, t0 + 1.001),
        ]
    return _model(ev + [_done(1, 3.25)])


def _one(model, text):
    (v,) = evaluate(model, parse([(1, text)]))
    return v


def test_time_and_concurrency_reasons_come_from_the_run() -> None:
    m = _sequential_fetches()
    assert program_time(m) == pytest.approx(3.05)
    v = _one(m, "finishes within 1.2 s")
    assert not v.passed
    assert v.reason.startswith("took 3.0 s - the 3 fetch tasks ran one after another")
    assert v.task == 2 and v.line == 5
    assert v.t == pytest.approx(0.2)  # the moment: fetch-0's first step (the timeline's cursor)
    assert _one(m, "takes between 3 and 3.1 s").passed
    assert "less than 5 s" in _one(m, "takes at least 5 s").reason
    assert at_once(m, "fetch")[0] == 1
    v = _one(m, 'at least 2 "fetch" tasks at once')
    assert not v.passed and "one after another" in v.reason
    assert v.task == 2 and v.t is not None
    assert _one(m, 'at most 1 "fetch" task at once').passed
    assert "no task ran nothing()" in _one(m, 'at least 1 "nothing" task at once').reason


def test_waiting_to_acquire_is_not_running_at_once() -> None:
    """Three tasks start together; two wait on a semaphore until the first is done."""
    ev = [_task(1, "main", "main", 0.0, parent=None)]
    ev += [_task(2, "d-1", "download", 0.1), _task(3, "d-2", "download", 0.1)]
    ev += [_task(4, "d-3", "download", 0.1)]
    ev.append(
        _steps(
            (2, 0.1, 0.001, "sleep(1)", "/x/p.py", 9),
            (3, 0.102, 0.001, "Semaphore.acquire()", "/x/p.py", 8),
            (4, 0.104, 0.001, "Semaphore.acquire()", "/x/p.py", 8),
        )
    )
    ev += [_steps((2, 1.1, 0.001, None, None, 0)), _done(2, 1.101)]
    ev += [_steps((3, 1.102, 0.001, "sleep(1)", "/x/p.py", 9))]
    ev += [_steps((3, 2.1, 0.001, None, None, 0)), _done(3, 2.101)]
    ev += [_steps((4, 2.102, 0.001, "sleep(1)", "/x/p.py", 9))]
    ev += [_steps((4, 3.1, 0.001, None, None, 0)), _done(4, 3.101), _done(1, 3.2)]
    m = _model(ev)
    assert at_once(m, "download")[0] == 1
    assert _one(m, 'at most 1 "download" task at once').passed


def test_output_checks() -> None:
    ev = [{"event": "output", "t": 1, "stream": "stdout", "text": "a\nb\nc total 3\n"}]
    ev.append({"event": "output", "t": 1, "stream": "stderr", "text": "noise\n"})
    m = _model(ev)
    assert _one(m, 'prints "b", "a"').passed
    assert "never printed 'z'" in _one(m, 'prints "a", "z"').reason
    assert _one(m, 'prints in order "a", "b"').passed
    assert "'a' came on line 1, before 'b'" in _one(m, 'prints in order "b", "a"').reason
    assert _one(m, 'prints exactly "a", "b", "c total 3"').passed
    assert "line 2 of the output is 'b', not 'x'" in _one(m, 'prints exactly "a", "x"').reason
    assert "an extra line 3: 'c total 3'" in _one(m, 'prints exactly "a", "b"').reason
    assert "missing 'd'" in _one(m, 'prints exactly "a", "b", "c total 3", "d"').reason
    assert _one(m, 'prints a line containing "total"').reason == "line 3 of the output: 'c total 3'"
    assert not _one(m, 'prints a line containing "noise"').passed  # stdout only


def test_warning_task_and_exit_checks() -> None:
    ev = [
        _task(1, "main", "main", 0.0, parent=None),
        _task(2, "writer", "write", 0.1),
        _task(3, "bad", "fetch", 0.1),
        _steps((2, 0.1, 0.001, "sleep(5)", "/x/p.py", 12)),
        {"event": "cancel_source", "t": 1, "id": 2, "cause": "cancel", "by": 1, "line": 20},
        _done(2, 1.0, "cancelled"),
        _done(3, 1.0, "failed", exc_type="ValueError", exc_msg="boom", file="/x/p.py", line=30),
        {
            "event": "warning",
            "t": 1.5,
            "kind": "slow_step",
            "message": "main held the event loop for 0.50 s",
            "task": 1,
            "file": "/x/p.py",
            "line": 22,
        },
        _done(1, 2.0, "failed", exc_type="KeyError", exc_msg="'k'", file="/x/p.py", line=40),
    ]
    m = _model(ev, code=1)
    v = _one(m, "no blocking step")
    assert not v.passed and v.reason == "main held the event loop for 0.50 s" and v.line == 22
    assert v.t == 1.5  # the blocking step's moment
    assert _one(m, "no deadlock").passed
    assert not _one(m, "no warnings").passed
    v = _one(m, 'task "writer" is cancelled')
    assert v.passed and v.reason == "writer cancelled by main at line 20"
    v = _one(m, 'task "write" finishes')  # by its coroutine
    assert not v.passed and v.reason.startswith("writer was cancelled by main") and v.task == 2
    assert v.t == 1.0  # when it was cancelled
    assert _one(m, 'task "bad" fails').reason == "bad raised ValueError: boom"
    v = _one(m, "every task finishes")
    assert not v.passed and (v.task, v.t) == (1, 2.0)  # main, first, raised at 2.0
    assert "writer was cancelled by main at line 20" in v.reason
    assert "bad raised ValueError: boom at p.py:30" in v.reason
    assert "no task is named 'ghost'" in _one(m, 'task "ghost" finishes').reason
    v = _one(m, "exit status 0")
    assert v.reason == "it exited with status 1: main raised KeyError: 'k' at p.py:40"
    assert v.line == 40 and v.t == 2.0  # when main raised
    assert _one(m, "exit status 1").passed


def test_a_run_stopped_at_a_stuck_deadlock_says_so() -> None:
    ev = [
        _task(1, "main", "main", 0.0, parent=None),
        _steps((1, 0.0, 0.001, "Lock.acquire()", "/x/p.py", 7)),
        {
            "event": "warning",
            "t": 0.1,
            "kind": "deadlock",
            "message": "deadlock: every task is waiting",
            "task": 1,
            "file": "/x/p.py",
            "line": 7,
            "cycle": False,
            "stuck": True,
        },
    ]
    m = _model(ev, code=130, reason="stopped")
    for text in ("finishes within 5 s", "exit status 0"):
        v = _one(m, text)
        assert not v.passed and "it never finished: a deadlock at" in v.reason
        assert "main waits at p.py:7" in v.reason and "ended the run there" in v.reason
        assert (v.task, v.line, v.t) == (1, 7, 0.1)  # the deadlock: its task, line, moment
    v = _one(m, "every task finishes")
    assert v.reason == "main was still waiting on Lock.acquire() at p.py:7 when the run ended"
    assert v.t == pytest.approx(0.001)  # where that wait began
    # A run stopped otherwise (Ctrl+C, a limit) is not said to be a deadlock.
    m = _model(ev[:2], code=124, reason="timeout")
    assert "it never finished: m" in _one(m, "exit status 0").reason
