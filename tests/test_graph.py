"""The await graph: names and groups resolved to tasks, cycles, snapshots, --graph."""

from __future__ import annotations

from pathlib import Path

from helpers import asyncplay
from streams import Stream, gather_run

from asyncplay.model import MAX_SPANS_PER_TASK, build
from asyncplay.tui.services.replay_session import load_events
from asyncplay.views import graph


def _shape(nodes: list[graph.Node], m) -> list:  # noqa: ANN001
    return [(m.tasks[n.task].name, n.kind, _shape(n.children, m)) for n in nodes]


def _stuck() -> Stream:
    """main gathers A and two waiters; A and B await each other; B is main's child too."""
    s = Stream().task(1, 0.0, "main")
    s.task(2, 0.0, "a", name="A", parent=1).task(3, 0.0, "b", name="B", parent=1)
    s.task(4, 0.0, "waiter", parent=1).task(5, 0.0, "waiter", parent=1)
    s.step(1, 0.0, 0.001, "gather(3)", 17)
    s.step(2, 0.01, 0.001, "B", 4).step(3, 0.02, 0.001, "A", 7)
    s.step(4, 0.03, 0.001, "Queue.get()", 10).step(5, 0.04, 0.001, "Queue.get()", 10)
    return s


def test_gather_resolves_to_children_and_a_cycle_is_drawn_once() -> None:
    m = build(_stuck().end(1.0))
    assert _shape(graph.tree(m), m) == [
        ("Task-1", "task", [
            ("A", "task", [("B", "task", [("A", "cycle", [])])]),
            ("Task-4", "task", []),
            ("Task-5", "task", []),
        ]),
    ]  # fmt: skip
    text = "\n".join(graph.render(m, cwd="/p"))
    assert "Task-1 (main) at x.py:17, awaiting gather(3)" in text
    assert "│  └─ B (b) at x.py:7, awaiting A" in text
    assert "A again: a cycle" in text


def test_a_pure_cycle_without_roots_is_still_drawn() -> None:
    s = Stream().task(2, 0.0, "a", name="A").task(3, 0.0, "b", name="B")
    s.step(2, 0.01, 0.001, "B", 4).step(3, 0.02, 0.001, "A", 7)
    m = build(s.end(1.0))
    assert _shape(graph.tree(m), m) == [("A", "task", [("B", "task", [("A", "cycle", [])])])]


def test_names_resolve_to_the_live_and_newest_task() -> None:
    s = Stream().task(1, 0.0, "main")
    s.task(2, 0.0, "w", name="job", parent=1).step(2, 0.0, 0.001).done(2, 0.01)
    s.task(3, 0.0, "w", name="job", parent=1).step(3, 0.02, 0.001, "sleep(5)", 3)
    s.task(4, 0.0, "w", name="job", parent=1).step(4, 0.03, 0.001, "sleep(9)", 3)
    s.step(1, 0.05, 0.001, "job", 8)
    m = build(s.end(1.0))
    assert graph.edges(m, m.waits())[1] == [4]  # not the finished 2, not the older 3
    assert [n.task for n in graph.tree(m)] == [1, 3]


def test_a_task_awaited_twice_is_drawn_once_then_referred_to() -> None:
    s = Stream().task(1, 0.0, "main").task(2, 0.0, "other").task(3, 0.0, "shared", name="S")
    s.step(1, 0.0, 0.001, "S", 3).step(2, 0.0, 0.001, "S", 4).step(3, 0.0, 0.001, "sleep(1)", 5)
    m = build(s.end(1.0))
    shape = _shape(graph.tree(m), m)
    assert shape == [
        ("Task-1", "task", [("S", "task", [])]),
        ("Task-2", "task", [("S", "seen", [])]),
    ]
    assert "S (drawn above)" in "\n".join(graph.render(m))


def test_finished_and_internal_tasks_are_left_out_and_ascii_works() -> None:
    s = _stuck()
    s.task(6, 0.0, "BaseEventLoop.shutdown_asyncgens", internal=True)
    s.step(6, 0.05, 0.001, "future", 0)
    s.step(4, 0.5, 0.001).done(4, 0.5)
    m = build(s.end(1.0))
    ids = {n.task for n in graph.tree(m)[0].children}
    # Task-4 finished; the internal task 6 is not drawn; B, which A awaits, is not one of
    # the three main gathered (A and the two waiters), so it is drawn under A only.
    assert ids == {2, 5}
    assert 6 in {n.task for n in graph.tree(m, all_tasks=True)}
    text = "\n".join(graph.render(m, ascii_only=True))
    assert text.isascii() and "`- " in text


def test_snapshot_at_the_deadlock_warning_is_drawn() -> None:
    s = _stuck().warn("deadlock", 0.1, tasks=[2, 3], cycle=True, line=4)
    s.step(4, 0.5, 0.001).done(4, 0.5)  # the run went on
    m = build(s.end(1.0))
    text = graph.graph_text(m)
    first, _, rest = text.partition("await graph at the end")
    assert "at the deadlock warning (0.10 s)" in first and "Task-4" in first
    assert "deadlock here" in first and "Task-4" not in rest
    assert "A (a) at x.py:4, awaiting B  [deadlocked]" in first
    assert "Task-4 (waiter) at x.py:10, awaiting Queue.get()\n" in first + "\n"


def test_nothing_waiting() -> None:
    m = build(Stream().task(1, 0.0, "main").step(1, 0, 0.1).done(1, 0.1).end(0.2))
    assert "no task was waiting at the end of the run" in graph.graph_text(m)


STUCK = (
    "import asyncio\n"
    "async def a():\n    await tb\n"
    "async def b():\n    await ta\n"
    "async def main():\n"
    "    global ta, tb\n"
    "    ta = asyncio.create_task(a(), name='A')\n"
    "    tb = asyncio.create_task(b(), name='B')\n"
    "    await asyncio.gather(ta)\n"
    "asyncio.run(main())\n"
)
# The timeout counts start-up too (over a second on a loaded machine): 5 s lets the
# program reach its deadlock before the limit ends the run.
STUCK_TIMEOUT = "5"


def test_cli_graph_of_a_stuck_program(tmp_path) -> None:
    (tmp_path / "p.py").write_text(STUCK)
    r = asyncplay("run", "--quiet", "--graph", "--timeout", STUCK_TIMEOUT, "p.py", cwd=tmp_path)
    assert r.returncode == 124
    err = r.stderr.decode()
    assert "Task-1 (main) at p.py:10, awaiting gather(1)" in err
    assert "A (a) at p.py:3, awaiting B" in err and "B (b) at p.py:5, awaiting A" in err
    assert "A again: a cycle" in err


def test_a_chain_of_thousands_draws_without_recursion_and_stops_deep() -> None:
    s = Stream()
    for i in range(1, 5001):
        s.task(i, 0.0, "link", parent=i - 1 or None)
        s.step(i, 0.0, 0.0, f"Task-{i + 1}" if i < 5000 else "sleep(1)", 3)
    m = build(s.end(1.0))
    lines = graph.render(m)
    assert len(lines) == graph.MAX_DEPTH + 1
    assert lines[-1].endswith(f"Task-{graph.MAX_DEPTH + 1} ... (deeper than 50 levels: not drawn)")


def test_alike_waiting_tasks_fold_into_one_line() -> None:
    s = Stream().task(1, 0.0, "main").step(1, 0.0, 0.001, "gather(1001)", 9)
    for i in range(2, 1002):
        s.task(i, 0.0, "sleeper", parent=1).step(i, 0.0, 0.0, "sleep(1)", 4)
    s.task(1002, 0.0, "odd", parent=1).step(1002, 0.0, 0.0, "Event.wait()", 6)
    m = build(s.end(1.0))
    assert graph.render(m, cwd="/p") == [
        "Task-1 (main) at x.py:9, awaiting gather(1001)",
        "├─ 1000 tasks (sleeper) at x.py:4, awaiting sleep(1)",
        "└─ Task-1002 (odd) at x.py:6, awaiting Event.wait()",
    ]


def test_cli_graph_at_the_deadlock_warning(tmp_path) -> None:
    (tmp_path / "p.py").write_text(STUCK)
    r = asyncplay("run", "--quiet", "--graph", "--timeout", STUCK_TIMEOUT, "p.py", cwd=tmp_path)
    err = r.stderr.decode()
    assert r.returncode == 124 and "await graph at the deadlock warning" in err
    assert "A (a) at p.py:3, awaiting B  [deadlocked]" in err
    assert "(the same at the end of the run)" in err


# ---- the graph at a moment (the TUI's pane) ---------------------------------------------


def test_waits_at_rebuilds_each_moment_of_a_gather() -> None:
    m = build(gather_run())
    assert graph.waits_at(m, 0.0) == {1: (graph.NOT_STARTED, None, None)}
    assert graph.waits_at(m, 0.0006) == {1: (graph.RUNNING, None, None)}  # its first step
    assert graph.waits_at(m, 0.0011) == {
        1: ("gather(3)", "/p/x.py", 35),
        **dict.fromkeys((2, 3, 4), (graph.NOT_STARTED, None, None)),
    }
    assert graph.waits_at(m, 0.5) == {
        1: ("gather(3)", "/p/x.py", 35),
        2: ("sleep(2)", "/p/x.py", 22),
        3: ("sleep(3)", "/p/x.py", 22),
        4: ("sleep(1)", "/p/x.py", 22),
    }
    assert set(graph.waits_at(m, 1.5)) == {1, 2, 3}  # worker-C ended at 1.0042
    assert graph.waits_at(m, 1.00405)[4] == (graph.RUNNING, "/p/x.py", 22)  # resumed there
    assert set(graph.waits_at(m, 2.5)) == {1, 3}
    assert graph.waits_at(m, 3.0045) == {}
    assert graph.waits_at(m, None) == graph.waits_at(m, 99.0) == m.waits() == {}


def test_waits_at_on_a_recorded_run_agrees_with_the_live_model() -> None:
    """Folding the recording up to t and asking the model, or asking the whole run's
    model about t, tell the same waits (between steps, where both are exact)."""
    events = load_events(Path(__file__).parent / "data" / "gather_events.jsonl")
    whole = build(events)
    for t in (0.085, 0.092, 0.0937, 0.5, 1.5, 2.5, 3.5):
        part = build([ev for ev in events if ev["t"] <= t and ev["event"] != "run_end"])
        expected = {
            tid: w if w[0] is not None else (graph.NOT_STARTED, None, None)
            for tid, w in part.waits().items()
        }
        assert graph.waits_at(whole, t) == expected, t
    assert len(graph.waits_at(whole, 0.5)) == 4


def test_waits_at_a_merged_span_says_its_last_wait() -> None:
    """Past MAX_SPANS_PER_TASK steps merge; inside a merged span the task is said to await
    what the span's last step awaited (the documented approximation)."""
    s = Stream().task(1, 0.0, "main")
    for i in range(MAX_SPANS_PER_TASK + 2):
        s.step(1, i * 0.01, 0.001, f"sleep({i})", 5)
    m = build(s.events)
    first = m.tasks[1].spans[0]
    assert first[3] == 2  # two steps in it: 0 and 1
    assert graph.waits_at(m, 0.0005)[1] == ("sleep(1)", "/p/x.py", 5)  # not "running"
    assert graph.waits_at(m, 0.015)[1] == ("sleep(1)", "/p/x.py", 5)


def test_a_deadlock_snapshot_tells_later_moments_until_something_changes() -> None:
    s = _stuck().warn("deadlock", 0.1, tasks=[2, 3], cycle=True, line=4)
    s.step(4, 0.5, 0.001).done(4, 0.5)
    m = build(s.end(1.0))
    snap = m.snapshots[0]
    assert graph.snapshot_at(m, 0.05) is None  # before it
    assert graph.snapshot_at(m, 0.3) is snap
    assert graph.waits_at(m, 0.3) == snap.waits
    assert graph.snapshot_at(m, 0.5) is None  # Task-4 stepped at 0.5
    assert 4 not in graph.waits_at(m, 0.7)


def test_cycle_members_and_stuck_tasks() -> None:
    assert graph.cycle_members({1: [2], 2: [3], 3: [2], 4: [1]}) == {2, 3}
    assert graph.cycle_members({1: [2, 3], 2: [], 3: []}) == set()
    chain = {i: [i + 1] for i in range(1, 5000)}
    chain[5000] = [1]  # a ring of 5,000: no recursion
    assert len(graph.cycle_members(chain)) == 5000
    m = build(_stuck().end(1.0))
    assert graph.stuck(m, m.waits()) == {2: "cycle", 3: "cycle"}
    s = Stream().task(1, 0.0, "main").step(1, 0.0, 0.001, "Queue.get()", 3)
    s.warn("deadlock", 0.5, task=1, tasks=[1], cycle=False, line=3)
    m = build(s.events)
    assert graph.stuck(m, graph.waits_at(m, 0.2), 0.2) == {}  # not yet warned
    assert graph.stuck(m, m.waits()) == {1: "stall"}
    s.step(1, 0.7, 0.001, "Queue.get()", 3)  # woken after all: no longer stuck
    m = build(s.events)
    assert graph.stuck(m, m.waits()) == {}


def test_moment_names_what_the_graph_shows() -> None:
    m = build(gather_run())
    assert graph.moment(m).when == "finished"
    live = build([ev for ev in gather_run() if ev["t"] <= 0.0015 and ev["event"] != "run_end"])
    now = graph.moment(live)
    assert now.when == "live" and now.waits[2] == (graph.NOT_STARTED, None, None)
    assert graph.moment(m, 0.5).when == "cursor"
    s = _stuck().warn("deadlock", 0.1, tasks=[2, 3], cycle=True, line=4)
    ended = graph.moment(build(s.end(1.0)))
    assert (ended.when, ended.t, ended.stuck) == ("deadlock", 0.1, {2: "cycle", 3: "cycle"})
    s = _stuck()
    s.step(4, 0.5, 0.001).done(4, 0.5)
    cut = graph.moment(build(s.end(1.0)))
    assert cut.when == "end" and 4 not in cut.waits


def test_fold_groups_keeps_the_members() -> None:
    s = Stream().task(1, 0.0, "main").step(1, 0.0, 0.001, "gather(6)", 9)
    for i in range(2, 8):
        s.task(i, 0.0, "sleeper", parent=1).step(i, 0.0, 0.0, "sleep(1)", 4)
    m = build(s.events)
    kids = graph.tree(m)[0].children
    assert [len(g) for g in graph.fold_groups(kids, m, m.waits())] == [6]
    assert len(graph.fold_groups(kids, m, m.waits(), at_least=7)) == 6


def test_a_gather_holds_the_tasks_created_last_not_an_older_background_task() -> None:
    """showcase.py: main starts a heartbeat and a parser, then gathers users and orders
    (the parser blocks the loop from 0.13 s to 0.43 s; users ends then)."""
    model = build(load_events(Path(__file__).parent / "data" / "showcase_events.jsonl"))
    names = {t.id: t.name for t in model.tasks.values()}
    for t, expected in ((0.13, ["users", "orders"]), (0.3, ["users", "orders"]), (0.5, ["orders"])):
        roots = graph.tree(model, graph.waits_at(model, t))
        main = next(n for n in roots if names[n.task] == "Task-1")
        assert [names[c.task] for c in main.children] == expected, t
        assert any(names[n.task] == "heartbeat" for n in roots)  # a root of its own
