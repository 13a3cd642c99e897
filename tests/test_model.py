"""The reducer, from recorded event streams: no processes needed."""

from __future__ import annotations

from asyncplay.model import RunModel, apply, build

STREAM = [
    {"event": "run_start", "t": 0.0, "target": "x.py"},
    {"event": "hello", "t": 0.0, "version": 1, "python": "3.11.7"},
    {"event": "task_created", "t": 0.01, "id": 1, "name": "Task-1", "coro": "main",
     "parent": None, "internal": False, "file": "x.py", "line": 20},
    {"event": "task_created", "t": 0.02, "id": 2, "name": "Task-2", "coro": "worker",
     "parent": 1, "internal": False, "file": "x.py", "line": 12},
    {"event": "task_renamed", "t": 0.02, "id": 2, "name": "fetcher"},
    {"event": "steps", "t": 0.03, "steps": [
        [1, 0.01, 0.004, "fetcher", "x.py", 13],
        [2, 0.02, 0.001, "sleep(1.0)", "x.py", 5],
    ]},
    {"event": "output", "t": 0.02, "stream": "stdout", "text": "a\nb", "task": 2},
    {"event": "output", "t": 0.03, "stream": "stdout", "text": "c\n", "task": 1},
    {"event": "output", "t": 0.03, "stream": "stderr", "text": "oops\n", "task": None},
    {"event": "steps", "t": 1.05, "steps": [[2, 1.02, 0.003, None, None, 0]]},
    {"event": "task_done", "t": 1.05, "id": 2, "state": "failed", "result": None,
     "exc_type": "ValueError", "exc_msg": "bad", "file": "x.py", "line": 6},
    {"event": "warning", "t": 1.06, "kind": "exception_never_retrieved", "message": "m",
     "task": 2, "file": "x.py", "line": 6},
    {"event": "steps", "t": 1.1, "steps": [[1, 1.09, 0.002, None, None, 0]]},
    {"event": "task_done", "t": 1.1, "id": 1, "state": "done", "result": "None"},
    {"event": "run_end", "t": 1.2, "exit_code": 0, "reason": "exited", "by": "program"},
]  # fmt: skip


def test_tasks_steps_and_states() -> None:
    m = build(STREAM)
    main, worker = m.tasks[1], m.tasks[2]
    assert worker.name == "fetcher" and worker.parent == 1 and main.children == [2]
    assert worker.state == "failed" and worker.exc_type == "ValueError" and worker.exc_line == 6
    assert worker.steps == 2 and abs(worker.running - 0.004) < 1e-9
    assert worker.last_awaited == "sleep(1.0)" and worker.wait_line == 5
    assert main.state == "done" and main.steps == 2 and main.longest_step == 0.004
    assert abs(worker.lifetime(m.now) - 1.03) < 1e-9
    assert m.status == "ended" and m.exit_code == 0 and m.steps == 4
    assert [w["kind"] for w in m.warnings] == ["exception_never_retrieved"]


def test_output_lines_keep_task_and_order_across_streams() -> None:
    m = build(STREAM)
    assert [(o.stream, o.text, o.task) for o in m.output] == [
        ("stdout", "a", 2),
        ("stdout", "bc", 2),  # a line belongs to the task that started it
        ("stderr", "oops", None),
    ]


def test_partial_line_is_kept_until_the_end() -> None:
    m = RunModel()
    apply(m, {"event": "output", "t": 0, "stream": "stdout", "text": "no newline", "task": None})
    assert [o.text for o in m.output] == ["no newline"]  # shown at once, as on a terminal
    apply(m, {"event": "run_end", "t": 1, "exit_code": 0, "reason": "exited"})
    assert [o.text for o in m.output] == ["no newline"] and not m.partial


def test_a_partial_line_stays_where_it_began_and_grows_there() -> None:
    m = RunModel()
    for stream, text in [
        ("stdout", "partial..."),
        ("stdout", "partial..."),
        ("stderr", "Traceback (most recent call last):\n"),
        ("stderr", "ValueError: boom\n"),
        ("stdout", " done\nnext\n"),
    ]:
        apply(m, {"event": "output", "t": 0, "stream": stream, "text": text, "task": None})
    assert [o.text for o in m.output] == [
        "partial...partial... done",
        "Traceback (most recent call last):",
        "ValueError: boom",
        "next",
    ]


def test_output_is_bounded_and_counts_what_it_dropped() -> None:
    m = RunModel(max_lines=100)
    text = "".join(f"{i}\n" for i in range(1000))
    apply(m, {"event": "output", "t": 0, "stream": "stdout", "text": text, "task": None})
    apply(m, {"event": "output", "t": 0, "stream": "stdout", "text": "x\ny\n", "task": None})
    assert len(m.output) == 100 and m.dropped_lines == 902
    assert [o.text for o in m.output][-3:] == ["999", "x", "y"]


def test_output_in_many_events_keeps_the_newest_lines_and_counts_the_rest() -> None:
    """Lines pushed out by later events are counted one by one, a line left open by one
    event is finished by the next, and each line keeps its own stream, task and time."""
    m = RunModel(max_lines=100)
    n = 0
    for k in range(7):  # 7 x 30 lines, the last one of each event's text left open
        text = "".join(f"{n + i}\n" for i in range(29)) + f"{n + 29}"
        n += 30
        apply(m, {"event": "output", "t": k, "stream": "stdout", "text": text, "task": k})
        apply(m, {"event": "output", "t": k, "stream": "stdout", "text": "!\n", "task": k})
    apply(m, {"event": "output", "t": 9, "stream": "stderr", "text": "e\n", "task": None})
    assert len(m.output) == 100 and m.dropped_lines == 7 * 30 + 1 - 100
    texts = [o.text for o in m.output]
    assert texts[-3:] == ["208", "209!", "e"] and texts[0] == "111"
    last = m.output[-2]
    assert (last.stream, last.task, last.t) == ("stdout", 6, 6)
    assert (m.output[-1].stream, m.output[-1].task) == ("stderr", None)


def test_unknown_events_and_tasks_are_ignored() -> None:
    m = RunModel()
    apply(m, {"event": "from_the_future", "t": 5})
    apply(m, {"event": "steps", "t": 1, "steps": [[42, 0.0, 0.1, None, None, 0]]})
    apply(m, {"event": "task_done", "t": 1, "id": 42, "state": "done"})
    assert m.tasks == {} and m.now == 5


def test_model_fields_exist_before_any_event_and_hello_sets_the_clock() -> None:
    m = RunModel()
    assert m.sandbox is None and m.clock == "real" and m.speed == 1.0
    apply(m, {"event": "hello", "t": 0.0, "version": 1, "clock": "virtual", "speed": 0.25})
    assert m.clock == "virtual" and m.speed == 0.25
    apply(m, {"event": "hello", "t": 0.0, "version": 1, "clock": "sundial", "speed": -3})
    assert m.clock == "virtual" and m.speed == 0.25  # nonsense is ignored


def test_an_empty_task_name_is_kept_and_a_missing_one_made_up() -> None:
    m = build([
        {"event": "task_created", "t": 0.0, "id": 1, "name": "", "coro": "main"},
        {"event": "task_created", "t": 0.0, "id": 2, "coro": "main"},
    ])  # fmt: skip
    assert m.tasks[1].name == "" and m.tasks[2].name == "Task-2"


def test_wall_clock_events_do_not_stretch_a_slowed_or_virtual_run() -> None:
    for hello in ({"clock": "real", "speed": 0.25}, {"clock": "virtual", "speed": 1.0}):
        m = RunModel()
        apply(m, {"event": "run_start", "t": 0.0, "target": "x.py"})
        apply(m, {"event": "hello", "t": 0.0, "version": 1, **hello})
        apply(m, {"event": "task_created", "t": 0.1, "id": 1, "name": "Task-1", "coro": "main"})
        apply(m, {"event": "task_done", "t": 3.0, "id": 1, "state": "done", "result": "None"})
        apply(m, {"event": "summary", "t": 12.1, "steps": 1, "tasks": []})  # the wall's time
        apply(m, {"event": "run_end", "t": 12.1, "exit_code": 0, "reason": "exited"})
        assert m.now == 3.0 and m.status == "ended", hello
    m = build(STREAM)  # the real clock at speed 1: the run's end is the end
    assert m.now == 1.2


# ---- a step in progress (step_open), a slow step's update, stdin reads, lane labels ----


def _spinning() -> RunModel:
    """Task 2 ran one short step, then a step that began at 0.5 s and has not ended."""
    m = RunModel()
    for ev in (
        {"event": "run_start", "t": 0.0, "target": "x.py"},
        {"event": "task_created", "t": 0.0, "id": 2, "name": "Task-2", "coro": "spin"},
        {"event": "steps", "t": 0.2, "steps": [[2, 0.1, 0.001, "sleep(0.4)", "x.py", 4]]},
        {"event": "step_open", "t": 0.6, "id": 2, "start": 0.5},
    ):
        apply(m, ev)
    return m


def test_a_step_in_progress_is_running_time_and_grows() -> None:
    m = _spinning()
    t = m.tasks[2]
    assert (t.state, t.steps, m.steps) == ("running", 2, 2)
    assert abs(t.running - 0.101) < 1e-9
    assert [round(x, 9) for x in t.spans[-1][:3]] == [0.5, 0.1, 0.1]  # drawn as it runs
    apply(m, {"event": "step_open", "t": 1.5, "id": 2, "start": 0.5})
    assert (t.steps, len(t.spans)) == (2, 2)  # the same step: it grows, it is not a new one
    assert abs(t.running - 1.001) < 1e-9 and abs(t.longest_step - 1.0) < 1e-9
    # its own record closes it with the exact figures
    apply(m, {"event": "steps", "t": 1.7, "steps": [[2, 0.5, 1.2, "sleep(1)", "x.py", 6]]})
    assert (t.state, t.steps, m.steps, t.open) == ("waiting", 2, 2, None)
    assert abs(t.running - 1.201) < 1e-9 and t.spans[-1][:3] == (0.5, 1.2, 1.2)
    # a step_open that comes after its step's record (the watchdog raced it) is ignored
    apply(m, {"event": "step_open", "t": 1.6, "id": 2, "start": 0.5})
    assert (t.state, t.steps, t.open) == ("waiting", 2, None)


def test_a_step_still_running_at_the_end_counts_up_to_the_end() -> None:
    m = _spinning()
    apply(m, {"event": "run_end", "t": 3.5, "exit_code": 124, "reason": "timeout"})
    t = m.tasks[2]
    assert (t.state, t.unfinished, t.open) == ("running", True, None)
    assert abs(t.running - 3.001) < 1e-9
    assert [round(x, 9) for x in t.spans[-1][:3]] == [0.5, 3.0, 3.0]
    from asyncplay.views import summary, timeline

    assert "unfinished (running)" in summary.summary(m)
    lane = timeline.layout(m, 10).lanes[0]
    assert lane.label == "Task-2 spin" and lane.cells.endswith("rrrrrrrr")


def test_a_forged_step_open_changes_nothing() -> None:
    m = _spinning()
    before = (m.tasks[2].running, m.tasks[2].steps)
    for bad in ({"id": 9, "start": 1.0}, {"id": 2, "start": float("nan")}, {"id": 2}):
        apply(m, {"event": "step_open", "t": 2.0, **bad})
    assert (m.tasks[2].running, m.tasks[2].steps) == before


def test_a_slow_step_told_while_it_ran_is_updated_in_place() -> None:
    m = _spinning()
    warn = {"event": "warning", "kind": "slow_step", "task": 2, "file": "x.py", "line": 6}
    apply(m, {**warn, "t": 2.5, "step": 0.5, "duration": 2.0, "ongoing": True,
              "message": "Task-2 has held the event loop for 2.00 s so far without an await"})  # fmt: skip
    apply(m, {**warn, "t": 3.0, "step": 0.5, "duration": 2.5, "update": True,
              "message": "Task-2 held the event loop for 2.50 s without an await"})  # fmt: skip
    assert len(m.warnings) == 1 and m.slow_steps == 1 and m.tasks[2].slow_steps == 1
    assert m.warnings[0]["duration"] == 2.5 and m.warnings_version == 2
    # one that never ends says so at the run's end, with the real length
    m = _spinning()
    apply(m, {**warn, "t": 2.5, "step": 0.5, "duration": 2.0, "ongoing": True,
              "message": "Task-2 has held the event loop for 2.00 s so far without an await"})  # fmt: skip
    apply(m, {"event": "run_end", "t": 4.5, "exit_code": 124, "reason": "timeout"})
    w = m.warnings[0]
    assert w["until_end"] and abs(w["duration"] - 4.0) < 1e-9
    assert w["message"] == (
        "Task-2 held the event loop for 4.00 s, until the run ended, without an await"
    )


def test_a_slow_step_the_run_cut_short_before_it_was_told_gets_its_warning() -> None:
    """Stopped (or timed out) 1 s into ``while True: pass``: the runtime had only sampled
    the line (the ongoing report comes at 2 s), so the run used to end with no warning."""
    m = _spinning()
    apply(m, {"event": "step_open", "t": 1.0, "id": 2, "start": 0.5, "file": "x.py", "line": 6})
    apply(m, {"event": "run_end", "t": 1.5, "exit_code": 130, "reason": "stopped"})
    [w] = m.warnings
    assert (w["kind"], w["task"], w["file"], w["line"], w["until_end"]) == (
        "slow_step",
        2,
        "x.py",
        6,
        True,
    )
    assert abs(w["duration"] - 1.0) < 1e-9 and m.slow_steps == 1 == m.tasks[2].slow_steps
    assert w["message"].startswith(
        "Task-2 held the event loop for 1.00 s, until the run ended, without an await: "
    )
    # a step_open without a line (not slow yet) makes none; nor does a forged line
    for extra in ({}, {"file": "x.py", "line": "6"}, {"file": None, "line": 6}):
        m = _spinning()
        apply(m, {"event": "step_open", "t": 1.0, "id": 2, "start": 0.5, **extra})
        apply(m, {"event": "run_end", "t": 1.5, "exit_code": 130, "reason": "stopped"})
        assert m.warnings == [], extra


def test_waiting_for_input_follows_the_stdin_records() -> None:
    m = _spinning()
    assert not m.waiting_for_input
    apply(m, {"event": "stdin", "t": 1.0, "waiting": True, "task": 2})
    assert m.waiting_for_input and m.input_task == 2
    apply(m, {"event": "stdin", "t": 1.5, "waiting": False, "task": 2})
    assert not m.waiting_for_input and m.input_task is None
    apply(m, {"event": "stdin", "t": 1.6, "waiting": True, "task": None})
    apply(m, {"event": "run_end", "t": 2.0, "exit_code": 0, "reason": "exited"})
    assert not m.waiting_for_input  # nothing reads any more


def test_a_label_says_what_an_unnamed_task_runs() -> None:
    m = _spinning()
    apply(m, {"event": "task_created", "t": 0.0, "id": 3, "name": "kettle", "coro": "brew"})
    apply(m, {"event": "task_created", "t": 0.0, "id": 4, "name": "", "coro": "brew"})
    apply(m, {"event": "task_created", "t": 0.0, "id": 5, "name": "Task-5", "internal": True,
              "coro": "BaseEventLoop.shutdown_default_executor"})  # fmt: skip
    assert [t.label for t in m.tasks.values()] == ["Task-2 spin", "kettle", "", "Task-5"]


def test_a_default_task_name_is_what_the_pattern_said() -> None:
    """``model.default_name`` (no ``re`` on the run's path) says what ``Task-\\d+`` in full
    said: Unicode decimal digits, no other digit, no sign, at least one."""
    import re

    from asyncplay.model import default_name

    names = ["Task-1", "Task-20001", "Task-", "Task-1a", "task-1", "Task--1", "Task-+1",
             "Task-١٢", "Task-²", "Task-1\n", " Task-1", "Task-½", "Task-𝟙", "XTask-1", ""]  # fmt: skip
    for name in names:
        assert default_name(name) == bool(re.fullmatch(r"Task-\d+", name)), name
