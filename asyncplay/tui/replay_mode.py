"""Replay mode: a recording shown in the app, as its run was, with nothing run.

The recorded events go through the app's own path (a session factory, the fold task, the
one reducer, the tick), so every view of a replay is the view the live run had. It opens
in playback (``tui/playback_control.py``), paused before the first task step: F5 plays it
at its own pace, F10 steps, shift+F10 steps back, Esc shows the whole run. What
differs is around it: the editor holds the recording's program read-only, F5 outside
playback reloads the recording instead of running, keys that need a live program say so,
and the user's autosaved buffer is never touched. Saving the source (Ctrl+S, Save as) ends replay
mode: the buffer becomes an ordinary file buffer that runs for real.

A ``ReplayApp`` is in replay mode while its ``replay`` is a ``Replay``. The base app does
not know it: this subclass overrides the base's hooks (``runs_program``, ``make_spec``,
``status_note``, the actions) and says so when replay mode is over.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from textual import events
from textual.message import Message

from asyncplay import exits, snippets, storage, unsaved
from asyncplay.runner.spec import RunSpec
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.buffers import origin_label, saved_text
from asyncplay.tui.panes.output import OutputPane
from asyncplay.tui.panes.stdin_box import StdinBox
from asyncplay.tui.run_control import Session, SessionFactory, live_session
from asyncplay.tui.services.replay_session import ReplaySession
from asyncplay.views.recording import Recording

NO_PROGRAM = "<recording without source>"  # a name no event's file can match
REPLAY_STDIN = "stdin: a replay takes no input (what the program read is in its output)"


def save_folder(source_path: str | None) -> Path | None:
    """The folder Save as proposes for a replayed program: the one it was recorded in,
    unless that is gone or is the bundled snippets' (read-only: a lesson's copy goes to the
    user's snippets folder, as in the app, which None means)."""
    if not source_path:
        return None
    folder = Path(source_path).parent
    try:
        if not folder.is_dir() or folder.resolve() == snippets.bundled_dir().resolve():
            return None
    except OSError:
        return None
    return folder


class Replay:
    """A recording opened in the app: the text for the editor, the path its events name
    the program by, and how to play it again."""

    def __init__(self, file: str, recording: Recording) -> None:
        head = recording.header
        self.file = file
        self.recording = recording
        self.source: str | None = (
            head.get("source") if isinstance(head.get("source"), str) else None
        )
        cwd = head.get("cwd")
        self.cwd = cwd if isinstance(cwd, str) and cwd else os.getcwd()
        path = head.get("source_path")
        self.source_path: str | None = path if isinstance(path, str) and path else None
        created = head.get("created")
        self.created = created if isinstance(created, str) else None
        self._played: list[dict] | None = None

    @property
    def program(self) -> str:
        """The absolute file name the run's events use for the program (the gutter
        marks and traceback links match on it); nothing matches without a source."""
        if self.source is None or self.source_path is None:
            return os.path.join(self.cwd, NO_PROGRAM)
        return self.source_path

    def editor_text(self) -> str:
        if self.source is not None:
            return self.source
        note = self.recording.header.get("source_note")
        why = f" ({note})" if isinstance(note, str) and note else " (made by an older asyncplay)"
        return (
            f"# The recording {os.path.basename(self.file)} holds no program source{why}.\n"
            "# Its output, tasks and warnings are shown all the same.\n"
        )

    def save_name(self) -> str:
        """The file name Save as proposes: the recorded program's."""
        if self.source_path and not self.source_path.endswith(">"):
            return Path(self.source_path).stem
        return Path(self.file).stem

    @property
    def label(self) -> str:
        """What the status bar says while nothing else is to be said: short, 80 columns
        hold it beside the run's ending (the Python it ran on follows it)."""
        when = ""
        if self.created:
            try:
                stamp = time.strptime(self.created[:19], "%Y-%m-%dT%H:%M:%S")
                when = time.strftime(" (%b %d %H:%M)", stamp)
            except ValueError:
                when = ""
        cut = ", cut short" if self.recording.truncated else ""
        return f"replay of {os.path.basename(self.file)}{when}{cut}"

    def opening_note(self) -> str:
        name = os.path.basename(self.file)
        if self.recording.truncated:
            return f"{name} is cut short: {self.recording.truncated}"
        return f"replay of {name}: F5 plays, F10 steps, shift+F10 back, Esc: all of it"

    def ending(self) -> dict | None:
        """The ``run_end`` a cut-short recording lacks, in asyncplay's words."""
        if self.recording.events and self.recording.events[-1].get("event") == "run_end":
            return None
        why = self.recording.truncated or "it ends before the run did"
        return {
            "exit_code": exits.RECORDING,
            "reason": "recording-cut",
            "by": "asyncplay",
            "status": 0,
            "message": f"the recording {self.file} is cut short ({why}); "
            f"shown is what it holds ({len(self.recording.events)} events)",
            "replayed": True,
        }

    def played(self) -> list[dict]:
        """The events as the app folds them: the run's end marked ``replayed`` (on a
        copy), so the ending's words leave out advice to raise a limit (a setting cannot
        change a recorded run: ``ending.py``); a cut-short recording's made up."""
        if self._played is None:
            events = self.recording.events
            last = events[-1] if events else None
            if isinstance(last, dict) and last.get("event") == "run_end":
                events = [*events[:-1], {**last, "replayed": True}]
            else:
                t = max((ev.get("t", 0.0) for ev in events), default=0.0)
                events = [*events, {"event": "run_end", "t": t, **(self.ending() or {})}]
            self._played = events
        return self._played

    async def session(self, spec: RunSpec) -> Session:
        """The app's session factory: every event at once, never at the recorded pace."""
        return ReplaySession(self.played())


class ReplayApp(AsyncplayApp):
    """The app on a recording: ``ReplayApp(Replay(file, recording)).run()``.

    ``live_factory`` is what runs the buffer once it is saved (replay mode over).
    """

    def __init__(
        self, replay: Replay, *, live_factory: SessionFactory = live_session, **kwargs: object
    ) -> None:
        buffer = storage.Autosave(text=replay.editor_text())
        super().__init__(
            buffer,
            note=replay.opening_note(),
            session_factory=replay.session,
            autosave=False,  # the user's own autosaved buffer stays as it was
            **kwargs,  # type: ignore[arg-type]
        )
        self.replay: Replay | None = replay
        self.live_factory = live_factory
        self._stdin_placeholder = ""  # the stdin line's own, while a replay's is shown

    async def on_mount(self, event: events.Mount) -> None:
        """The whole recording is folded before the first frame (the mount runs inside
        Textual's first batch update), so every view can show any moment of it at once;
        then playback starts, paused before the first task step (Esc: the whole run)."""
        event.prevent_default()  # the base handler runs once, here, first
        AsyncplayApp.on_mount(self)
        self._dress(True)
        await self.play()
        self.playback.enter()
        await self.playback.wait_loaded()
        self.say(self.replay.opening_note() if self.replay is not None else "")

    def _dress(self, replaying: bool) -> None:
        """The editor read-only, and the Run button and stdin line saying what they do."""
        self.editor.read_only = replaying
        self.dress_playback(self.playback.playback is not None)
        for box in self.query("#stdin").results(StdinBox):
            if replaying:
                self._stdin_placeholder, box.placeholder = box.placeholder, REPLAY_STDIN
            elif self._stdin_placeholder:
                box.placeholder = self._stdin_placeholder

    def run_button_label(self) -> str:
        return "Replay F5" if self.replay is not None else "Run F5"

    async def play(self) -> None:
        """Play the recording from the start, through the app's ordinary run path."""
        AsyncplayApp.action_run(self)
        if self._run_task is not None:
            await self._run_task
        if self._folder is not None:
            await self._folder
        self._tick()

    def action_run(self) -> None:
        if self.playback.active:  # F5 plays the recording back
            super().action_run()
            return
        super().action_run()
        if self.replay is not None:  # F5 (the first play is quiet: the opening note stays)
            self.say("reloaded from the recording (a replay runs nothing)")

    def runs_program(self) -> bool:
        return self.replay is None  # a replay shows a recording: nothing to resolve or check

    def make_spec(self, python: str | None = None) -> RunSpec:
        if self.replay is None:
            return super().make_spec(python)
        return RunSpec(source=self.editor.text, path=self.replay.program, cwd=self.replay.cwd)

    def status_note(self) -> str:
        if self.replay is None or (self._note and self.clock() < self._note_until):
            return super().status_note()
        return self.replay.label

    def on_timeline_pane_step_chosen(self, message: Message) -> None:
        """The timeline's cursor moved: the output's cursor goes to the last line the
        program had printed by that moment (what is below it came later)."""
        t = getattr(message, "t", None)
        if self.replay is not None and isinstance(t, int | float):
            show_printed_by(self.output, t)

    # ---- keys that need a live program ---------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """Typing into the read-only editor (the key reaches the app unused) says why."""
        if self.replay is not None and event.is_printable and self.focused is self.editor:
            self.say("read-only: a replay; Ctrl+S saves the program to a file to edit and run")

    def action_step(self) -> None:
        """F10 in a replay steps its playback (entered again at the start after Esc):
        a replay has no program to run paused."""
        if self.replay is None or self.playback.active:
            super().action_step()
            return
        self.playback.enter()

    def playback_events(self) -> tuple[list[dict] | None, str | None]:
        if self.replay is None:
            return super().playback_events()
        return self.replay.played(), None  # the recording's own, whatever its length

    def action_stop(self) -> None:
        if self.replay is None or self.playback.active:
            super().action_stop()
            return
        self.say("a replay runs nothing, so there is nothing to stop (F5 reloads it)")

    def action_focus_stdin(self) -> None:
        if self.replay is None:
            super().action_focus_stdin()
            return
        self.say("a replay takes no input: what the program read is in its output")

    def on_stdin_box_line(self, message: StdinBox.Line) -> None:
        if self.replay is not None:
            message.prevent_default()
            self.say("a replay takes no input: what the program read is in its output")

    def on_stdin_box_end_of_file(self, message: StdinBox.EndOfFile) -> None:
        if self.replay is not None:
            message.prevent_default()
            self.say("a replay takes no input: what the program read is in its output")

    # ---- saving the source ends replay mode ---------------------------------------------

    def action_save(self) -> None:
        if self.replay is None:
            super().action_save()
            return
        if self.replay.source is None:
            self.say("this recording holds no program source to save")
            return
        self.action_save_as()

    def action_save_as(self) -> None:
        if self.replay is None:
            super().action_save_as()
            return
        from asyncplay.tui.screens.file_dialogs import SaveAsScreen

        folder = save_folder(self.replay.source_path)
        self.push_screen(SaveAsScreen(name=self.replay.save_name(), folder=folder), self._saved_as)

    def write_file(self, path: Path, *, follow_links: bool = True) -> None:
        super().write_file(path, follow_links=follow_links)  # OSError: nothing changed
        if self.replay is not None:
            self.leave_replay(f"saved {origin_label(self.buffer)}: yours to edit; F5 runs it")

    def load_buffer(self, buffer: storage.Autosave, note: str) -> None:
        """Opening a file or snippet from a replay leaves replay mode first."""
        if self.replay is not None:
            self.leave_replay(None)
        super().load_buffer(buffer, note)

    def leave_replay(self, note: str | None) -> None:
        """From now on an ordinary app: editable, autosaved, F5 runs for real.

        The autosave about to be replaced may hold unsaved edits from before the replay:
        they are kept beside it first (the app's own rule: edits are never dropped).
        """
        self.playback.leave()  # F5 runs the program now: the recording's whole run shown
        self.replay = None
        self._dress(False)
        self.session_factory = self.live_factory
        self._keep_old_autosave()
        self.autosave_enabled = True
        self._check_storage()
        if note is not None:  # else the caller saves its own buffer and says so
            self.save_autosave()
            self.say(note)

    def _keep_old_autosave(self) -> None:
        """Edits an older asyncplay kept only in ``autosave.json`` get their own entry
        (this one's are there already): the autosave is about to point elsewhere."""
        try:
            old = storage.load_autosave()
            if old is None or not old.dirty:
                return
            key = unsaved.key_of(old)
            if unsaved.load_entry(key) is not None:
                return
            unsaved.save_entry(old, saved_text(old))
        except OSError as exc:
            self.notify(f"could not keep your earlier unsaved edits: {exc}", severity="error")
            return
        self.notify(
            f"Your earlier unsaved edits to {origin_label(old)} are kept: opening it again "
            "brings them back (F2 lists them).",
            severity="warning",
            timeout=15,
        )


def printed_by(pane: OutputPane, t: float) -> int | None:
    """The pane's row of the last program line printed at or before ``t`` (None: none
    yet). The program's lines are in time order, so a bisection over them: cheap at the
    pane's 10,000 lines, and only asyncplay's few closing rows are walked."""
    rows = pane.row_count
    first = 0 if rows == 0 or pane.line_at(0) is not None else 1  # the "dropped" note row
    end = rows
    while end > first and _not_program(pane.line_at(end - 1)):
        end -= 1
    lo, hi = first, end  # rows [first, end) hold the program's lines
    while lo < hi:
        mid = (lo + hi) // 2
        line = pane.line_at(mid)
        if line is not None and line.t <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1 if lo > first else None


def _not_program(line: object) -> bool:
    return getattr(line, "stream", None) not in ("stdout", "stderr")


def show_printed_by(pane: OutputPane, t: float) -> None:
    """Put the output's cursor on the last line printed by ``t`` (the top: nothing yet)."""
    row = printed_by(pane, t)
    pane.follow = False
    pane.cursor = row
    pane.scroll_to_region_row(row if row is not None else 0)
    pane.refresh()
