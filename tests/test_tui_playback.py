"""Playback in the app (``tui/playback_control.py``): after a run and in ``asyncplay
replay``, F5 plays at the recording's own pace, F6 pauses, F10 steps, shift+F10 steps
back, Esc leaves; every view shows the moment, the timeline's cursor at it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streams import gather_run
from tui_helpers import make_app, record_notifications, wait_drawn, wait_ended, wait_for
from tui_recorded import replay_app

from asyncplay.tui.playback_control import MAX_IDLE
from asyncplay.tui.replay_mode import Replay, ReplayApp
from asyncplay.views.playback import Playback
from asyncplay.views.recording import read

pytestmark = pytest.mark.usefixtures("home")

TOTAL = Playback(gather_run()).total  # the gather's task steps: 9


def _texts(app) -> list[str]:  # noqa: ANN001
    return [line.text for line in app.model.output] if app.model is not None else []


async def _at(pilot, app, k: int) -> None:  # noqa: ANN001
    """Until playback is at position ``k`` and a tick has drawn it."""
    pb = app.playback
    await wait_for(
        pilot,
        lambda: (
            pb.playback is not None
            and pb.playback.position == k
            and app.model is pb.playback.model
            and f"step {k}/" in app.status.plain
        ),
    )


async def _played_back(pilot, app) -> None:  # noqa: ANN001
    await wait_ended(pilot)
    app.action_play_back()
    await _at(pilot, app, 0)


async def test_after_a_run_the_keys_step_it_back_and_forth() -> None:
    app = replay_app(gather_run(), text="print(1)\n")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        final = app.model
        app.action_play_back()
        await _at(pilot, app, 0)
        status = app.status.plain
        assert status.startswith(f"playback - step 0/{TOTAL} - 0.00 s - next: Task-1 (main)")
        assert str(app.query_one("#run-button").label) == "Play F5"
        assert app.model is not final and app.model.tasks.keys() == {1}  # main, not run yet
        await wait_drawn(pilot)
        assert app.tasks.row_count == 1 and _texts(app) == []
        await pilot.press("f10")
        await _at(pilot, app, 1)
        assert "next: worker-A (worker)" in app.status.plain
        assert app.model.tasks.keys() == {1, 2, 3, 4}  # main's step created them
        await pilot.press("f4")  # the timeline (and the graph), the editor keeps the keys
        await pilot.press("f10")
        await _at(pilot, app, 2)
        assert _texts(app) == ["worker-A: sleeping 2 s"]  # what worker-A's step printed
        assert app.model.tasks[2].state == "waiting" and app.model.tasks[3].steps == 0
        assert app.timeline.cursor_time == pytest.approx(app.playback.now)
        assert app.playback.now == pytest.approx(app.playback.playback.time_at(2), abs=2e-4)
        app.set_focus(app.timeline)
        await pilot.press("plus", "plus")  # zoomed in: a step back keeps the window
        await wait_for(pilot, lambda: not app.timeline.follow)
        window = (app.timeline.start, app.timeline.end)
        await pilot.press("shift+f10")
        await _at(pilot, app, 1)
        assert _texts(app) == [] and app.model.tasks[2].steps == 0
        assert (app.timeline.start, app.timeline.end) == window and not app.timeline.follow
        assert app.timeline.cursor_time == pytest.approx(app.playback.now)
        assert app.playback.now == pytest.approx(app.playback.playback.time_at(1), abs=2e-4)
        await pilot.press("f4")  # back to the output and the tasks
        await wait_drawn(pilot)
        assert app.output.row_count == 0  # the pane was given the model of that moment
        await pilot.press("shift+f10", "shift+f10")  # one past the start: said, not moved
        await _at(pilot, app, 0)
        await wait_for(pilot, lambda: "the start of the run" in app.status.plain)
        await pilot.press("escape")  # the run's final state, untouched
        await wait_for(pilot, lambda: not app.playback.active)
        assert app.model is final and app.model.status == "ended"
        assert not app.status.plain.startswith("playback")
        assert str(app.query_one("#run-button").label) == "Run F5"
        await wait_drawn(pilot)
        assert app.tasks.row_count == 4 and app.output.row_count >= 1


REAL = """import asyncio


async def worker(n):
    print(f"w{n} starts")
    await asyncio.sleep(0.01 * n)
    print(f"w{n} ends")


async def main():
    await asyncio.gather(*(asyncio.create_task(worker(n), name=f"w{n}") for n in (1, 2)))


asyncio.run(main())
"""


async def test_a_real_run_played_back_to_its_end_is_the_run(tmp_path) -> None:
    """A real run's events as the app kept them: each step prints what it printed, and
    the last position is the run's own final state."""
    from test_playback import state

    app = make_app(REAL, str(tmp_path / "r.py"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        final = app.model
        await _played_back(pilot, app)
        pb = app.playback.playback
        printed: list[tuple[int, list[str]]] = []
        highlighted: list[int | None] = []
        for k in range(1, pb.total + 1):
            before = len(_texts(app))
            await pilot.press("f10")
            await _at(pilot, app, k)
            new = _texts(app)[before:]
            if new:
                printed.append((pb.step(k)[0], new))
            if "next: w1 (worker) at line 6" in app.status.plain:  # where it resumes:
                highlighted.append(app.editor.paused_line)  # the editor marks it too
        names = {t.id: t.name for t in final.tasks.values()}
        assert [(names[tid], lines) for tid, lines in printed] == [
            ("w1", ["w1 starts"]),
            ("w2", ["w2 starts"]),
            ("w1", ["w1 ends"]),
            ("w2", ["w2 ends"]),
        ]
        assert highlighted and set(highlighted) == {5}
        assert state(app.model) == state(final)
        assert app.editor.paused_line is None  # the end: nothing runs next


async def test_f5_plays_at_the_recorded_pace_and_f6_pauses() -> None:
    now = [100.0]
    app = replay_app(gather_run(), text="print(1)\n")
    app.clock = lambda: now[0]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await _played_back(pilot, app)
        pb = app.playback.playback
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.status.plain.startswith("playback >> 1x"))
        now[0] += 0.5  # half a second: the four first steps ran by then, not the fifth
        await _at(pilot, app, pb.position_at(0.5))
        assert pb.position == 4
        await pilot.press("f6")
        await wait_for(pilot, lambda: not app.playback.playing)
        now[0] += 10  # paused: nothing moves however long one waits
        await wait_drawn(pilot)
        assert pb.position == 4 and "playback - step 4/" in app.status.plain
        app.playback.set_speed(0.25)  # a 1 s wait is 4 s at 0.25x: shortened to 2 s
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.playback.playing)
        await wait_drawn(pilot)
        now[0] += MAX_IDLE + 0.1
        await _at(pilot, app, 5)
        now[0] += 100  # on to the end, where it stops
        await _at(pilot, app, TOTAL)
        await wait_for(pilot, lambda: not app.playback.playing)
        assert app.model.status == "ended"


def _recording(tmp_path: Path, events: list[dict]) -> Path:
    head = {"asyncplay_recording": 1, "protocol": 1, "source": "print(1)\n"}
    path = tmp_path / "g.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in [head, *events]))
    return path


async def test_a_replay_opens_in_playback_at_the_start(tmp_path) -> None:
    path = _recording(tmp_path, gather_run())
    app = ReplayApp(Replay(str(path), read(str(path))))
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.playback.active and app.playback.playback.position == 0
        await _at(pilot, app, 0)
        for k in range(1, 4):
            await pilot.press("f10")
            await _at(pilot, app, k)
        assert _texts(app) == ["worker-A: sleeping 2 s"]
        await pilot.press("shift+f10")
        await _at(pilot, app, 2)
        app.action_playback_speed()  # the palette's "Playback speed"
        await wait_for(pilot, lambda: len(app.screen_stack) > 1)
        await pilot.press("5")
        await wait_for(pilot, lambda: app.playback.speed == 4.0)
        await pilot.press("f6")  # in playback F6 pauses (no "a replay runs nothing")
        assert "a replay runs nothing" not in app.status.plain
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.playback.active and app.model.status == "ended")
        assert len(app.model.output) == 1 and app.model.steps == TOTAL


async def test_p_in_the_timeline_and_leaving_for_another_file(tmp_path) -> None:
    app = replay_app(gather_run(), text="print(1)\n")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        await pilot.press("f4")  # the timeline, focused
        await wait_for(pilot, lambda: app.focused is app.timeline)
        await pilot.press("p")
        await _at(pilot, app, 0)
        other = tmp_path / "other.py"
        other.write_text("print('other')\n")
        app.open_path(other)  # another file: its views are not this run's
        await wait_for(pilot, lambda: not app.playback.active and app.model is None)


async def test_an_edit_or_a_new_run_leaves_playback() -> None:
    app = replay_app(gather_run(), text="print(1)\n")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await _played_back(pilot, app)
        await wait_for(pilot, lambda: app.focused is app.editor)
        await pilot.press("x")  # an edit: F5 must run the new text, not play the old run
        await wait_for(pilot, lambda: not app.playback.active and app.model.status == "ended")
        assert "left playback: the text changed" in app.status.plain
        await wait_ended(pilot)
        first = app.model
        app.action_play_back()
        await _at(pilot, app, 0)
        app.start_run()  # a new run (as F11's check starts one): playback is over
        await wait_for(pilot, lambda: not app.playback.active and app.model is not first)
        await wait_ended(pilot)
        assert app.model.steps == TOTAL and not app.status.plain.startswith("playback")


async def test_escape_outside_playback_is_textual_own() -> None:
    """Escape is the app's only while in playback: in the editor it moves focus on."""
    app = replay_app(gather_run(), text="print(1)\n")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.focused is app.editor)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.focused is not app.editor)
        assert not app.playback.active


async def test_f1_help_says_how_to_play_back() -> None:
    from asyncplay.tui.screens.help import HelpScreen

    app = replay_app(gather_run(), text="print(1)\n")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        section = next(rows for title, _k, rows in app.screen.sections if "back" in title)
        said = " ".join(f"{key} {what}" for key, what in section)
        assert "Play the run back" in said and "shift+F10" in said and "Esc" in said
        assert "Step back" in dict(app.screen.bindings).values()


async def test_the_run_s_ending_is_told_once_not_again_when_played_back() -> None:
    """The run's notices and ending are told once: a step back restores a copy of the
    model (its sandbox and ending equal, not the same objects), which must not tell them
    again."""
    events = gather_run()
    events[0] = {**events[0], "sandbox": {"mode": "auto", "notices": ["no network here"]}}
    events[-1] = {**events[-1], "reason": "timeout", "by": "asyncplay", "exit_code": 124,
                  "message": "asyncplay stopped the program: timeout 3 s reached"}  # fmt: skip
    app = replay_app(events, text="print(1)\n")
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        await wait_for(pilot, lambda: any("timeout 3 s" in x for x in said))
        assert sum("no network here" in x for x in said) == 1
        told = len(said)
        await _played_back(pilot, app)
        for k in range(1, TOTAL + 1):  # to the end, where the playback's model has ended
            await pilot.press("f10")
            await _at(pilot, app, k)
        await pilot.press("shift+f10", "f10", "escape")
        await wait_for(pilot, lambda: not app.playback.active)
        await wait_drawn(pilot)
        assert said[told:] == []


async def test_nothing_to_play_back_says_why() -> None:
    app = replay_app(gather_run(), text="print(1)\n")
    async with app.run_test(size=(120, 40)) as pilot:
        app.action_play_back()
        await wait_for(pilot, lambda: "run a program first" in app.status.plain)
        assert not app.playback.active
        await pilot.press("shift+f10")
        assert "'Play the run back' first" in app.status.plain


def test_the_playback_of_the_gather_at_80x24(snap_compare) -> None:
    """The layout pinned: the gather played back four steps, the status line saying
    where and who runs next, the editor marking where that task resumes."""
    from test_tui_snapshots import gather_app, prepare

    async def run_before(pilot) -> None:  # noqa: ANN001
        app = pilot.app
        await prepare(False, None)(pilot)
        app.action_play_back()
        await _at(pilot, app, 0)
        for k in range(1, 5):
            await pilot.press("f10")
            await _at(pilot, app, k)
        await wait_drawn(pilot)

    assert snap_compare(gather_app(until=None), terminal_size=(80, 24), run_before=run_before)
