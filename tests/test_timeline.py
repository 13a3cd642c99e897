"""The timeline: the pure layout (lanes of cell codes) and its text for --timeline."""

from __future__ import annotations

import pytest
from helpers import asyncplay
from streams import Stream, gather_run

from asyncplay.model import SPAN_STEPS, RunModel, apply, build
from asyncplay.views import timeline as tl


def _lanes(events: list[dict], cells: int, **kw) -> dict[str, str]:
    """Lanes by task name (a lane's label adds the coroutine to asyncio's default names)."""
    m = build(events)
    lay = tl.layout(m, cells, **kw)
    return {m.tasks[lane.task].name: lane.cells for lane in lay.lanes}


def test_gather_lanes_show_life_waits_and_ends() -> None:
    lay = tl.layout(build(gather_run()), 30)
    # An unnamed task says what it runs (Task-1 main); a named one its name only.
    assert [lane.label for lane in lay.lanes] == ["Task-1 main", "worker-A", "worker-B", "worker-C"]
    assert lay.start == 0.0 and lay.end == pytest.approx(3.0043) and lay.more == 0
    lanes = {
        lay_task_name: lane.cells
        for lay_task_name, lane in zip(
            ["Task-1", "worker-A", "worker-B", "worker-C"], lay.lanes, strict=True
        )
    }
    c = lanes["worker-C"]
    assert c[0] == tl.STEP  # a 0.1 ms step in a 100 ms cell still shows
    end = int(1.0042 / lay.cell_seconds)
    assert c[end] == tl.DONE and set(c[1:end]) == {tl.WAIT} and set(c[end + 1 :]) == {tl.EMPTY}
    b = lanes["worker-B"]
    assert b[-1] == tl.DONE and set(b[1:-1]) == {tl.WAIT}
    assert lanes["Task-1"][0] == tl.STEP and lanes["Task-1"][-1] == tl.DONE


def test_long_steps_fill_cells_short_ones_mark_them() -> None:
    s = Stream().task(1, 0.0, "main")
    s.step(1, 0.0, 0.5, "sleep(0.2)", 3)  # cells 0-4 of 0.1 s: running
    s.step(1, 0.7, 0.001, "sleep(0.2)", 4)  # cell 7: a mark
    s.step(1, 0.95, 0.05).done(1, 1.0)  # half of cell 9, then it ends there
    cells = _lanes(s.end(1.0), 10)["Task-1"]
    assert cells == "rrrrr" + "ww" + "s" + "w" + "d"


def test_created_before_the_first_step_and_cancel_and_failure_marks() -> None:
    s = Stream().task(1, 0.0, "main").task(2, 0.0, "victim").task(3, 0.0, "bad")
    s.step(1, 0.0, 0.001, "sleep(1)", 3)
    s.step(2, 0.5, 0.001, "sleep(9)", 4).done(2, 0.75, "cancelled")
    s.step(3, 0.25, 0.001).done(3, 0.25, "failed", "ValueError")
    s.step(1, 1.0, 0.001).done(1, 1.0)
    lanes = _lanes(s.end(1.0), 4)
    assert lanes["Task-2"][0] == tl.CREATED and lanes["Task-2"][3] == tl.CANCELLED
    assert lanes["Task-3"][1] == tl.FAILED and lanes["Task-3"][0] == tl.CREATED


def test_internal_tasks_only_with_all_tasks() -> None:
    assert "Task-5" not in _lanes(gather_run(), 20)
    assert "Task-5" in _lanes(gather_run(), 20, all_tasks=True)


def test_thousands_of_tasks_are_capped_and_counted() -> None:
    m = RunModel()
    for i in range(1, 5001):
        apply(m, {"event": "task_created", "t": i * 1e-4, "id": i, "name": f"t{i}", "coro": "c"})
        apply(m, {"event": "steps", "t": 1, "steps": [[i, i * 1e-4, 1e-5, None, None, 0]]})
    lay = tl.layout(m, 80, max_lanes=tl.MAX_LANES)
    assert len(lay.lanes) == tl.MAX_LANES and lay.more == 5000 - tl.MAX_LANES
    text = tl.render(lay, 100)
    assert f"... {5000 - tl.MAX_LANES} more task(s) not drawn" in text


def test_merged_spans_still_draw_where_the_task_ran(monkeypatch) -> None:
    from asyncplay import model_steps

    monkeypatch.setattr(model_steps, "MAX_SPANS_PER_TASK", 16)
    m = RunModel()
    apply(m, {"event": "task_created", "t": 0.0, "id": 1, "name": "spin", "coro": "c"})
    # Busy for the first second (1000 x 1 ms), idle for the next.
    steps = [[1, i * 0.001, 0.001, None, None, 0] for i in range(1000)]
    apply(m, {"event": "steps", "t": 1, "steps": steps})
    apply(m, {"event": "task_done", "t": 2.0, "id": 1, "state": "done"})
    cells = tl.layout(m, 10).lanes[0].cells
    assert cells[:5] == "rrrrr" and set(cells[5:9]) == {tl.WAIT} and cells[9] == tl.DONE


def test_window_can_be_chosen() -> None:
    lay = tl.layout(build(gather_run()), 10, start=0.9, end=1.1)
    c = {lane.label: lane.cells for lane in lay.lanes}["worker-C"]
    assert c[5] == tl.DONE and set(c[:5]) == {tl.WAIT} and set(c[6:]) == {tl.EMPTY}


@pytest.mark.parametrize(
    "span, n, step", [(3.0, 6, 0.5), (1.0, 10, 0.1), (0.003, 3, 0.001), (7.0, 7, 1.0)]
)
def test_nice_steps(span, n, step) -> None:
    assert tl.nice_step(span, n) == pytest.approx(step)


@pytest.mark.parametrize("width", [30, 60, 80, 200])
def test_text_fits_the_width_and_truncates_names(width) -> None:
    s = Stream()
    s.task(1, 0.0, "main", name="a-very-long-task-name-that-goes-on-and-on")
    s.step(1, 0.0, 0.01, "sleep(1)", 3).step(1, 1.0, 0.01).done(1, 1.01)
    text = tl.timeline_text(build(s.end(1.1)), width)
    lines = text.splitlines()
    assert all(len(line) <= max(width, tl.MIN_CELLS + 5) for line in lines), lines
    assert "…" in lines[1] and lines[1].startswith("a-v")  # its start and its end
    assert "\x1b" not in text


def test_ascii_and_colour() -> None:
    m = build(gather_run())
    plain = tl.timeline_text(m, 80, ascii_only=True)
    assert plain.isascii() and "worker-C" in plain and "] done" in plain
    assert "Task-1 main" in plain  # the lane of an unnamed task says what it runs
    assert "1s" in plain and "2s" in plain  # the axis labels
    coloured = tl.timeline_text(m, 80, colour=True)
    assert "\x1b[32m" in coloured
    assert tl.timeline_text(m, 80).count("\n") == coloured.count("\n")


def test_cli_timeline_even_with_quiet_and_json(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "import asyncio\n"
        "async def nap(d):\n    await asyncio.sleep(d)\n"
        "async def main():\n"
        "    await asyncio.gather(asyncio.create_task(nap(0.1), name='short'),\n"
        "                         asyncio.create_task(nap(0.3), name='long'))\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "--quiet", "--timeline", "p.py", cwd=tmp_path)
    err = r.stderr.decode()
    assert r.returncode == 0 and "── timeline" in err and "── tasks" not in err
    lanes = [line for line in err.splitlines() if line.startswith(("short", "long", "Task-1"))]
    assert [line.split()[0] for line in lanes] == ["Task-1", "short", "long"]
    short, long_ = lanes[1], lanes[2]
    assert short.rstrip().endswith("┤") and long_.rstrip().endswith("┤")
    assert len(short.rstrip()) < len(long_.rstrip())  # short ended first
    assert "\x1b" not in err  # not a terminal: no colour
    r = asyncplay("run", "--json", "--timeline", "p.py", cwd=tmp_path)
    assert "── timeline" in r.stderr.decode() and r.events[-1]["event"] == "run_end"


def test_times_that_are_not_numbers_never_break_the_drawing() -> None:
    """A program can forge records on its event channel; the views must survive them."""
    s = Stream().task(1, 0.0, "main").task(2, float("nan"), "odd")
    s.step(1, float("inf"), 0.1, "sleep(1)", 3).step(2, float("nan"), float("nan"))
    s.step(1, 0.5, 0.1).done(1, 1.0)
    text = tl.timeline_text(build(s.end(1.0)), 80)
    assert "Task-1" in text and "Task-2" in text


def test_no_tasks_is_one_line() -> None:
    m = build(Stream().end(0.1))
    assert tl.timeline_text(m, 80) == "── timeline: no tasks to draw " + "─" * 20


def test_narrow_lanes_keep_the_end_that_tells_them_apart() -> None:
    s = Stream()
    for tid in range(1, 4):
        s.task(tid, 0.0, "work", name=f"worker-{tid}")
        s.step(tid, 0.0, 0.01, "sleep(1)", 3).done(tid, 0.5)
    text = tl.timeline_text(build(s.end(1.0)), 20)
    labels = [line.split(" ")[0] for line in text.splitlines()[1:4]]
    assert [x[-2:] for x in labels] == ["-1", "-2", "-3"] and "…" in labels[0], text
    assert tl.shorten("worker-3", 6) == "wo…r-3" and tl.shorten("worker-3", 8) == "worker-3"
    assert tl.shorten("worker-3", 6, "~") == "wo~r-3" and tl.shorten("ab", 1) == "a"


# ---- the pure helpers behind the TUI's timeline pane ------------------------------------


def _one_task() -> RunModel:
    s = Stream().task(1, 0.0, "main")
    s.step(1, 0.1, 0.1, "sleep(1)", 3)  # 0.1-0.2
    s.step(1, 1.2, 0.05, "lock", 4)  # 1.2-1.25
    s.step(1, 2.0, 0.01).done(1, 2.01)
    return build(s.end(2.1))


def test_span_at_finds_the_step_or_the_nearest_within_tolerance() -> None:
    info = _one_task().tasks[1]
    assert tl.span_at(info, 0.15) == 0
    assert tl.span_at(info, 0.1) == 0 and tl.span_at(info, 0.2) == 0  # both edges
    assert tl.span_at(info, 0.5) is None  # waiting then
    assert tl.span_at(info, 0.25, tolerance=0.1) == 0
    assert tl.span_at(info, 1.15, tolerance=0.1) == 1  # the next one is nearer
    assert tl.span_at(info, 0.05) is None and tl.span_at(info, 0.05, 0.06) == 0
    assert tl.span_at(info, 5.0) is None
    empty = build(Stream().task(1, 0.0).end(1.0)).tasks[1]
    assert tl.span_at(empty, 0.5, 1.0) is None


def test_wait_at_says_since_when_and_on_what() -> None:
    m = _one_task()
    info = m.tasks[1]
    assert tl.wait_at(info, 0.5, m.now) == (pytest.approx(0.2), 0)
    assert info.spans[0][4] == "sleep(1)"
    assert tl.wait_at(info, 1.5, m.now) == (pytest.approx(1.25), 1)
    assert tl.wait_at(info, 0.05, m.now) == (0.0, None)  # created, not started yet
    assert tl.wait_at(info, 0.15, m.now) is None  # running
    assert tl.wait_at(info, 3.0, m.now) is None  # ended
    live = build(Stream().task(1, 0.0).step(1, 0.0, 0.1, "sleep(9)", 2).events)
    assert tl.wait_at(live.tasks[1], live.now, live.now) is not None  # ended is None


def test_step_numbers_count_merged_spans() -> None:
    info = _one_task().tasks[1]
    assert [tl.step_number(info, i) for i in range(3)] == [(1, 1), (2, 2), (3, 3)]
    info.spans[0] = (*info.spans[0][:SPAN_STEPS], 4, *info.spans[0][SPAN_STEPS + 1 :])
    assert tl.step_number(info, 0) == (1, 4) and tl.step_number(info, 1) == (5, 5)


def test_next_and_previous_span() -> None:
    info = _one_task().tasks[1]
    assert tl.next_span(info, 0.0, 1) == 0
    assert tl.next_span(info, 0.1, 1) == 1  # from a step's start: the one after it
    assert tl.next_span(info, 2.0, 1) is None
    assert tl.next_span(info, 1.2, -1) == 0
    assert tl.next_span(info, 0.1, -1) is None
    assert tl.next_span(info, 9.0, -1) == 2


def test_spans_in_keeps_the_same_picture() -> None:
    m = build(gather_run())
    for info in m.tasks.values():
        for start, end in ((0.0, 3.1), (0.5, 1.5), (2.0, 2.5), (1.004, 1.0041)):
            part = tl.spans_in(info, start, end)
            assert all(s[0] <= end and s[0] + s[1] >= start for s in part)
            full = tl.lane_cells(info, start, end, 40, m.now)
            assert tl.lane_cells(info, start, end, 40, m.now, part) == full
    assert tl.spans_in(m.tasks[4], 0.5, 0.9) == []


def test_wait_labels_sit_inside_waits_long_enough() -> None:
    m = build(gather_run())
    lay = tl.layout(m, 60)
    for lane in lay.lanes:
        info = m.tasks[lane.task]
        for col, text in tl.wait_labels(info, lane.cells, lay.start, lay.end):
            assert set(lane.cells[col - 1 : col + len(text) + 1]) == {tl.WAIT}
    labels = dict(
        (
            m.tasks[lane.task].name,
            tl.wait_labels(m.tasks[lane.task], lane.cells, lay.start, lay.end),
        )
        for lane in lay.lanes
    )
    assert [text for _c, text in labels["worker-C"]] == ["sleep(1)"]
    assert [text for _c, text in labels["Task-1"]] == ["gather(3)"]
    narrow = tl.layout(m, 8)  # no room: no label
    assert tl.wait_labels(m.tasks[4], narrow.lanes[3].cells, narrow.start, narrow.end) == []


def test_column_and_cell_time_agree_with_lane_cells() -> None:
    assert tl.column(0.0, 0.0, 1.0, 10) == 0
    assert tl.column(0.35, 0.0, 1.0, 10) == 3
    assert tl.column(1.0, 0.0, 1.0, 10) == 9
    assert tl.column(1.5, 0.0, 1.0, 10) is None and tl.column(-0.1, 0.0, 1.0, 10) is None
    assert tl.cell_time(3, 0.0, 1.0, 10) == pytest.approx(0.35)
    for col in range(10):
        assert tl.column(tl.cell_time(col, 2.0, 3.0, 10), 2.0, 3.0, 10) == col


def test_zoom_keeps_the_centre_in_place_and_pan_stops_at_zero() -> None:
    start, end = tl.zoom(0.0, 4.0, 1.0, 0.5)
    assert (start, end) == (pytest.approx(0.5), pytest.approx(2.5))  # 1.0 stays at 1/4
    assert tl.zoom(0.0, 4.0, 0.0, 2.0) == (0.0, 8.0)
    assert tl.zoom(0.0, 1e-6, 0.0, 0.5, least=1e-6)[1] == pytest.approx(1e-6)
    assert tl.zoom(1.0, 3.0, 2.0, 4.0) == (0.0, 8.0)  # never before the run
    assert tl.pan(1.0, 3.0, 0.5) == (1.5, 3.5)
    assert tl.pan(1.0, 3.0, -5.0) == (0.0, 2.0)


@pytest.mark.parametrize("now", [0.0, 1e-4, 0.37, 1.0, 2.9, 61.3, float("nan")])
def test_grown_end_holds_now_with_a_little_room_and_moves_in_steps(now) -> None:
    end = tl.grown_end(now)
    if now != now or now == 0:
        assert end == 1e-3
        return
    assert now <= end <= max(1e-3, now * 1.15)
    ends = {tl.grown_end(now + k * now / 1000) for k in range(100)}
    assert len(ends) <= 3  # 10% more run: the window moved once or twice, not 100 times


def test_next_time_steps_through_sorted_times() -> None:
    times = [0.5, 1.0, 1.0, 2.0]
    assert tl.next_time(times, 0.0, 1) == 0.5 and tl.next_time(times, 0.5, 1) == 1.0
    assert tl.next_time(times, 1.0, 1) == 2.0 and tl.next_time(times, 2.0, 1) is None
    assert tl.next_time(times, 1.0, -1) == 0.5 and tl.next_time(times, 0.5, -1) is None
    assert tl.next_time([], 1.0, 1) is None


def test_the_last_tick_label_ends_at_the_last_column_when_asked() -> None:
    lay = tl.Layout(0.0, 1.5, 40, [], tl.ticks(0.0, 1.5, 40), 0)
    assert lay.ticks[-1] == (39, 1.5)
    _line, labels = tl.axis(lay)
    assert "1.5s" not in labels  # the headless default: a label never ends past its tick
    _line, labels = tl.axis(lay, last_inside=True)
    assert labels.endswith("1.5s") and len(labels) == 40
    assert labels.startswith("0.0s")


def test_keep_steps_never_hides_a_step_under_the_end_mark() -> None:
    s = Stream().task(1, 0.0, name="lone").step(1, 0.0, 0.001).done(1, 0.002)
    s.task(2, 0.0, name="last").step(2, 0.0, 0.001, "sleep(1)", 3)
    s.step(2, 0.999, 0.001).done(2, 1.0)
    m = build(s.end(1.0))
    lone, last = m.tasks[1], m.tasks[2]
    assert tl.lane_cells(lone, 0.0, 1.0, 10, m.now) == "d" + " " * 9  # headless: as before
    assert tl.lane_cells(lone, 0.0, 1.0, 10, m.now, keep_steps=True) == "sd" + " " * 8
    # At the last column there is no cell after: the step goes one cell back.
    assert tl.lane_cells(last, 0.0, 1.0, 10, m.now) == "swwwwwwwwd"
    assert tl.lane_cells(last, 0.0, 1.0, 10, m.now, keep_steps=True) == "swwwwwwwsd"


@pytest.mark.parametrize(
    ("cells", "col", "taken", "drawn"),
    [
        ("swwww", 2, set(), (2, False)),  # a wait: its own cell
        ("swwww", 0, set(), (1, False)),  # a step: the cell after
        ("wwsdd", 2, set(), (1, False)),  # after is an end: the cell before
        ("rrrd ", 2, set(), (4, False)),  # ███┤⚠: two after, past the end mark
        ("rrrrr", 2, set(), (2, True)),  # no free cell near: over the step, as a style
        ("swwww", 0, {1}, (2, False)),  # the cell after holds another warning
        ("ww", 5, set(), (5, False)),  # outside the cells: unchanged
    ],
)
def test_a_warning_goes_beside_a_step_or_end_mark(cells, col, taken, drawn) -> None:
    assert tl.warning_column(cells, col, taken) == drawn


def test_clamp_keeps_the_window_between_0_and_the_runs_end() -> None:
    assert tl.clamp(5.0, 7.0, 3.0) == (1.0, 3.0)  # past the end: back to end at the edge
    assert tl.clamp(-1.0, 1.0, 3.0) == (0.0, 2.0)
    assert tl.clamp(0.5, 1.5, 3.0) == (0.5, 1.5)
    assert tl.clamp(0.5, 9.5, 3.0) == (0.0, 9.0)  # wider than the run: from 0
