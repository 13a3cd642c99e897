"""``asyncplay replay FILE`` in the app: the recorded run through the app's own views, the
program read-only, opened in playback (Esc: the whole run; then F5 reloads it), nothing is
ever run and the autosave stays as it was. Playback itself: ``test_tui_playback.py``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import descendants
from helpers import asyncplay
from tui_helpers import record_notifications, wait_drawn, wait_ended, wait_for

from asyncplay import exits, snippets, storage, unsaved
from asyncplay.cli.replay import wants_tui
from asyncplay.tui.buffers import AUTOSAVE_DELAY, AUTOSAVE_MAX_WAIT
from asyncplay.tui.replay_mode import Replay, ReplayApp, save_folder
from asyncplay.views.recording import read

PROGRAM = """import asyncio


async def worker(n):
    print(f"hello from w{n}")
    await asyncio.sleep(0.05 * n)
    return n


async def main():
    tasks = [asyncio.create_task(worker(n), name=f"w{n}") for n in (1, 2)]
    print("results", await asyncio.gather(*tasks))


asyncio.run(main())
"""
CREATES = 10  # 0-based: the line that creates the workers

pytestmark = pytest.mark.usefixtures("home")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A real recording of PROGRAM (one run for the whole module)."""
    folder = tmp_path_factory.mktemp("rec")
    (folder / "g.py").write_text(PROGRAM)
    r = asyncplay("run", "--quiet", "--record", "g.jsonl", "g.py", cwd=folder)
    assert r.returncode == 0, r.stderr
    return folder / "g.jsonl"


def _app(path: Path, **kw) -> ReplayApp:
    return ReplayApp(Replay(str(path), read(str(path))), **kw)


def _lines(model) -> int:  # noqa: ANN001
    return -1 if model is None else model.dropped_lines + len(model.output)


async def _all_of_it(pilot, app: ReplayApp) -> None:  # noqa: ANN001
    """Esc: out of playback (where a replay opens), the whole run shown."""
    assert app.playback.active
    await pilot.press("escape")
    await wait_for(pilot, lambda: not app.playback.active and app.model.status == "ended")


def _output_text(app: ReplayApp) -> list[str]:
    pane = app.output
    return [pane.render_line(y).text.rstrip() for y in range(pane.size.height)]


@pytest.fixture
def no_spawn(monkeypatch):
    """Any process started in the test fails it (a replay must never run anything)."""
    started: list[object] = []

    def refuse(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        started.append(args)
        raise AssertionError("a replay started a process")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    return started


# ---- the command line's choice ----------------------------------------------------------


def _ns(**kw) -> SimpleNamespace:
    base = dict(
        file="r.jsonl",
        print_only=False,
        json=False,
        quiet=False,
        all_tasks=False,
        timeline=False,
        graph=False,
        sort=None,
        filter=None,
        trace=None,
    )
    return SimpleNamespace(**(base | kw))


@pytest.mark.parametrize(
    "options, stdin_tty, stdout_tty, tui",
    [
        ({}, True, True, True),
        ({}, False, True, False),  # stdin is a pipe
        ({}, True, False, False),  # stdout is a pipe: the printout, as before
        ({"print_only": True}, True, True, False),
        ({"json": True}, True, True, False),
        ({"timeline": True}, True, True, False),
        ({"graph": True}, True, True, False),
        ({"quiet": True}, True, True, False),
        ({"all_tasks": True}, True, True, False),
        ({"trace": "t.json"}, True, True, False),
        ({"sort": "steps"}, True, True, False),
        ({"filter": "w"}, True, True, False),
    ],
)
def test_the_app_opens_only_at_a_terminal_without_a_print_option(
    options, stdin_tty, stdout_tty, tui
) -> None:
    assert wants_tui(_ns(**options), stdin_tty, stdout_tty) is tui


def test_every_replay_option_asks_for_the_printout() -> None:
    """A new view option of replay prints unless the choice is made to know it."""
    from asyncplay.cli.args import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["replay"]
    for action in sub._actions:
        if action.dest in ("help", "file", "print_only"):
            continue
        value = "x" if action.nargs is None and not action.const else True
        assert not wants_tui(_ns(**{action.dest: value}), True, True), action.dest
    assert "--print" in asyncplay("replay", "--help").stdout.decode()


def test_errors_come_before_the_app_with_their_status(tmp_path, monkeypatch) -> None:
    """A damaged file is refused in one line, even when the app would have opened."""
    import sys

    from asyncplay import cli

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    opened: list[str] = []
    monkeypatch.setattr("asyncplay.tui.launch.launch_replay", lambda f, r: opened.append(f) or 0)
    good = tmp_path / "ok.jsonl"
    good.write_text(
        '{"asyncplay_recording": 1, "protocol": 1}\n{"event": "run_start", "t": 0}\n'
        '{"event": "run_end", "t": 1, "exit_code": 0, "message": "done"}\n'
    )
    assert cli.main(["replay", str(good)]) == 0 and opened == [str(good)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"asyncplay_recording": 1, "protocol": 1}\n{"event": "run_start", "t": "x"}\n')
    newer = tmp_path / "new.jsonl"
    newer.write_text('{"asyncplay_recording": 2, "protocol": 1}\n')
    assert cli.main(["replay", str(bad)]) == exits.RECORDING
    assert cli.main(["replay", str(newer)]) == exits.RECORDING_VERSION
    assert cli.main(["replay", str(tmp_path / "none.jsonl")]) == exits.USAGE
    assert cli.main(["replay", str(tmp_path)]) == exits.USAGE

    def refuse(model, ev):  # noqa: ANN001, ANN202 - an event the reducer cannot take
        if ev["event"] == "run_end":
            raise KeyError("x")

    monkeypatch.setattr("asyncplay.cli.replay.apply", refuse)
    assert cli.main(["replay", str(good)]) == exits.RECORDING
    assert opened == [str(good)], "the app opened on a bad file"


# ---- the app in replay mode -------------------------------------------------------------


async def test_a_replay_shows_the_source_read_only_and_the_whole_run(recorded, no_spawn):
    now = [1000.0]
    app = _app(recorded, clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        assert "replay of g.jsonl" in app.status.plain
        # Opened in playback, before the first task step, the whole run a key away.
        assert app.status.plain.startswith("playback - step 0/")
        assert app.model is not None and len(app.model.output) == 0
        assert str(app.query_one("#run-button").label) == "Play F5"  # F5 plays it
        await _all_of_it(pilot, app)
        assert app.replay is not None and app.editor.read_only
        assert str(app.query_one("#run-button").label) == "Replay F5"
        assert "takes no input" in app.query_one("#stdin").placeholder
        assert app.editor.text == PROGRAM
        await pilot.press("end", *"oops")
        assert app.editor.text == PROGRAM
        assert "read-only: a replay; Ctrl+S saves" in app.status.plain
        await wait_drawn(pilot)
        shown = "\n".join(_output_text(app))
        assert "hello from w1" in shown and "results [1, 2]" in shown
        names = {app.tasks.get_cell(str(t), "name") for t in app.tasks._rows}
        assert {"w1", "w2"} <= names
        # The gutter marks the program's lines: the recorded path is the program's.
        assert app.editor.marks.get(CREATES) in ("created", "selected")
        now[0] += 60  # the one-off notes have had their time: the standing label
        # (while a one-off note is said, Python may give it the room: issue 14's layout)
        label = re.compile(r"replay of g\.jsonl \(\w{3} \d\d \d\d:\d\d\)\s+\|\s+Python 3\.")
        await wait_for(pilot, lambda: label.search(app.status.plain) is not None)
    assert no_spawn == [] and descendants() == []


async def test_a_long_recording_is_whole_before_the_first_frame(tmp_path, no_spawn):
    """The fold yields to the loop every few thousand events; the first frame waits for
    all of them, so the views (and the timeline's cursor) can go anywhere at once."""
    events = [{"event": "run_start", "t": 0.0}]
    events += [
        {"event": "output", "t": i / 1000, "text": f"line {i}\n", "stream": "stdout", "task": None}
        for i in range(30_000)
    ]
    events.append({"event": "run_end", "t": 31.0, "exit_code": 0, "message": "done"})
    path = tmp_path / "long.jsonl"
    head = {"asyncplay_recording": 1, "protocol": 1, "source": "print('x')\n"}
    path.write_text("".join(json.dumps(e) + "\n" for e in [head, *events]))
    painted: list[int] = []

    class Watching(ReplayApp):
        def on_ready(self) -> None:
            # Textual's public sign that the DOM is ready and the first frame was displayed
            painted.append(_lines(self.model))

    app = Watching(Replay(str(path), read(str(path))))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.model.status == "ended" and _lines(app.model) == 30_000
        # the first 20,000 lines were dropped (a note row says so): the bisection skips it
        from asyncplay.tui.replay_mode import printed_by

        assert app.output.line_at(0) is None
        assert app.output.line_at(printed_by(app.output, 25.0)).text == "line 25000"
        assert app.output.line_at(printed_by(app.output, 99.0)).text == "line 29999"
        assert printed_by(app.output, 19.0) is None
    assert painted == [30_000]


async def test_f5_plays_it_again_and_stop_and_stdin_say_why_not(recorded, no_spawn):
    app = _app(recorded, settings=storage.Settings(python="/usr/bin/python3"))
    async with app.run_test(size=(120, 40)) as pilot:
        await _all_of_it(pilot, app)
        first = app.model
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not first and app.model.status == "ended")
        assert len(app.model.output) == len(first.output)
        assert app.model.tasks.keys() == first.tasks.keys()
        assert "reloaded from the recording" in app.status.plain
        assert descendants() == []
        await pilot.press("f6")
        assert "a replay runs nothing" in app.status.plain
        await pilot.press("ctrl+l")
        assert "takes no input" in app.status.plain
        assert not app.query_one("#stdin").has_focus
    assert no_spawn == []


async def test_the_autosave_is_never_touched(recorded, home, no_spawn):
    mine = storage.Autosave(text="my precious edits\n", dirty=True)
    storage.save_autosave(mine)
    before = (home / "autosave.json").read_bytes() if (home / "autosave.json").exists() else None
    saved = storage.load_autosave()
    assert saved is not None and saved.text == mine.text
    app = _app(recorded)
    async with app.run_test(size=(100, 30)) as pilot:
        await _all_of_it(pilot, app)
        first = app.model
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.model is not first and app.model.status == "ended")
        # nothing is due, but a debounced save would be written by now: this is the one
        # wait on time, for something that must not happen
        await pilot.pause(AUTOSAVE_MAX_WAIT + AUTOSAVE_DELAY)
        await pilot.press("ctrl+q")
    app.save_autosave()  # what launch does after the app ends
    assert storage.load_autosave().text == "my precious edits\n"
    if before is not None:
        assert (home / "autosave.json").read_bytes() == before


async def test_save_as_makes_it_an_ordinary_buffer(recorded, home, tmp_path, no_spawn):
    storage.save_autosave(storage.Autosave(text="earlier edits\n", dirty=True))
    app = _app(recorded)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(app.screen_stack) > 1)
        name = app.screen.query_one("#name")
        assert name.value == "g"  # the recorded program's name is proposed
        name.value = str(tmp_path / "mine")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.replay is None)
        assert (tmp_path / "mine.py").read_text() == PROGRAM
        assert not app.editor.read_only and app.autosave_enabled
        assert str(app.query_one("#run-button").label) == "Run F5"
        assert "type a line for input()" in app.query_one("#stdin").placeholder
        assert app.buffer.path == str((tmp_path / "mine.py").resolve())
        await pilot.press("ctrl+home", *"# mine", "enter")
        assert app.editor.text.startswith("# mine\n")
        await pilot.press("ctrl+s")
        assert (tmp_path / "mine.py").read_text().startswith("# mine\n")
    # the edits from before the replay were kept aside, not overwritten
    kept = unsaved.list_entries()
    assert [e.buffer.text for e in kept] == ["earlier edits\n"]
    assert storage.load_autosave().path == str((tmp_path / "mine.py").resolve())
    assert no_spawn == []


async def test_f12_is_save_as_too(recorded, no_spawn):
    app = _app(recorded)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f12")
        await wait_for(pilot, lambda: len(app.screen_stack) > 1)
        assert app.screen.query_one("#name").value == "g"
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.screen_stack) == 1)
        assert app.replay is not None and app.editor.read_only  # cancelled: still a replay


async def test_save_as_of_a_bundled_lessons_recording_proposes_the_users_folder(recorded, no_spawn):
    """A recording of a bundled lesson names the read-only snippets folder: Save as
    proposes the user's snippets folder instead, and Enter saves there."""
    replay = Replay(str(recorded), read(str(recorded)))
    replay.source_path = str(snippets.bundled_dir() / "timeout.py")
    app = ReplayApp(replay)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f12")
        await wait_for(pilot, lambda: len(app.screen_stack) > 1)
        assert app.screen.query_one("#name").value == "timeout"
        assert app.screen.folder == storage.user_snippets_dir()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.replay is None)
    assert (storage.user_snippets_dir() / "timeout.py").read_text() == PROGRAM
    assert save_folder(str(recorded)) == recorded.parent  # an ordinary program's own folder
    assert save_folder(str(recorded.parent / "gone" / "g.py")) is None and save_folder(None) is None


async def test_an_old_recording_without_source_still_opens(recorded, tmp_path, no_spawn):
    lines = recorded.read_text().splitlines(keepends=True)
    head = json.loads(lines[0])
    for key in ("source", "source_path"):
        head.pop(key)
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps(head) + "\n" + "".join(lines[1:]))
    app = _app(old)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.editor.text.startswith("# The recording old.jsonl holds no program source")
        await _all_of_it(pilot, app)
        assert app.model.status == "ended" and len(app.model.output) == 3
        await wait_drawn(pilot)
        assert app.editor.marks == {}  # no line of the comment pretends to be the program
        await pilot.press("ctrl+s")
        assert "holds no program source" in app.status.plain and len(app.screen_stack) == 1


async def test_a_cut_recording_opens_with_a_note(recorded, tmp_path, no_spawn):
    data = recorded.read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(data[: data.rindex(b'{"event":"run_end"') + 10])
    app = _app(cut)
    async with app.run_test(size=(120, 40)) as pilot:
        assert "cut.jsonl is cut short" in app.status.plain
        await _all_of_it(pilot, app)
        assert app.model.status == "ended" and app.model.end["reason"] == "recording-cut"
        await wait_drawn(pilot)
        said = " ".join(line.strip() for line in _output_text(app))
        assert "asyncplay: the recording" in said and "is cut short" in said
        assert "asyncplay: asyncplay" not in said


# ---- the real command in a terminal -----------------------------------------------------


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_asyncplay_replay_in_a_terminal(recorded, tmp_path) -> None:
    from test_tui_pty import Tmux, others, wait_gone

    term = Tmux(tmp_path, width=100, height=30)
    try:
        pid = term.start("replay", str(recorded))
        # It opens in playback, before the first task step: nothing printed yet.
        screen = term.wait_screen("playback - step 0/")
        assert "async def worker(n):" in screen and "hello from w1" not in screen
        server = {p for p, _s, cmd in descendants() if "tmux" in cmd}
        assert [cmd for _p, _s, cmd in others(server) if "asyncplay.child" in cmd] == []
        # F10 twice: main's step, then w1's, which printed; shift+F10 takes it back.
        term.keys("F10")
        assert "next: w1 (worker)" in term.wait_screen("playback - step 1/")
        term.keys("F10")
        screen = term.wait_screen("hello from w1")
        assert "playback - step 2/" in screen and "hello from w2" not in screen
        assert "next: w2 (worker)" in screen
        term.keys("S-F10")
        screen = term.wait_screen("playback - step 1/")
        assert "hello from w1" not in screen
        term.keys("Escape")  # out of playback: the whole run
        screen = term.wait_screen("results [1, 2]")
        assert "hello from w2" in screen and "playback - step" not in screen
        term.keys("F5")  # outside playback F5 reloads it
        term.wait_screen("reloaded from the recording")  # F5 landed: the replay played again
        term.keys("C-q")
        wait_gone(pid)
        assert others(server) == []
        assert not (term.home / "autosave.json").exists()
    finally:
        term.kill_server()


async def test_opening_a_file_from_a_replay_leaves_replay_mode(recorded, tmp_path, no_spawn):
    other = tmp_path / "other.py"
    other.write_text("print('other')\n")
    app = _app(recorded)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_path(other)
        await pilot.pause()
        assert app.replay is None and not app.editor.read_only
        assert app.editor.text == "print('other')\n"
        await pilot.press("f6")
        assert "nothing is running" in app.status.plain  # the ordinary app's answer
    assert storage.load_autosave().path == str(other.resolve())


async def test_the_timeline_cursor_shows_what_was_printed_by_then(recorded, no_spawn):
    from asyncplay.tui.panes.timeline import TimelinePane

    app = _app(recorded)
    async with app.run_test(size=(120, 40)) as pilot:
        await _all_of_it(pilot, app)
        lines = list(app.model.output)
        assert [x.text for x in lines] == ["hello from w1", "hello from w2", "results [1, 2]"]
        between = (lines[1].t + lines[2].t) / 2
        for t, row in [(between, 1), (lines[2].t, 2), (lines[0].t - 1e-6, None)]:
            app.post_message(TimelinePane.StepChosen(2, t, None, None))
            await pilot.pause()
            assert app.output.cursor == row, t
        assert "results [1, 2]" in _output_text(app)[2]


@pytest.fixture(scope="module")
def timed_out(tmp_path_factory) -> Path:
    """A recording of a run stopped by ``--timeout 1``."""
    folder = tmp_path_factory.mktemp("rec")
    (folder / "s.py").write_text("import asyncio\nasyncio.run(asyncio.sleep(30))\n")
    r = asyncplay("run", "--quiet", "--timeout", "1", "--record", "s.jsonl", "s.py", cwd=folder)
    assert r.returncode == exits.TIMEOUT, r.stderr
    return folder / "s.jsonl"


async def test_a_replayed_limit_is_told_without_the_advice_to_raise_it(timed_out, no_spawn):
    """Raising a setting cannot change a recorded run: a replay that hit --timeout says
    so (status, toast, output) without "F9 to raise" or "in Settings (F9)"."""
    app = _app(timed_out, clock=lambda: 1000.0)
    said = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await _all_of_it(pilot, app)
        await wait_ended(pilot)
        assert app.model is not None and app.model.end["reason"] == "timeout"
        assert "timeout 1 s reached" in app.status.plain and "F9" not in app.status.plain
        assert any("time limit" in s or "1 s" in s for s in said), said
        assert not any("F9" in s or "raise" in s for s in said), said
        rows = [app.output.line_at(n) for n in range(app.output.row_count)]
        tail = " ".join(row.text for row in rows[-3:] if row is not None)
        assert "stopped the program" in tail and "Settings" not in tail and "raise" not in tail
    assert no_spawn == []
    # The recording itself is as it was written.
    assert "replayed" not in read(str(timed_out)).events[-1]
