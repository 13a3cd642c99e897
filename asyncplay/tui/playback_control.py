"""Playing a finished run back and forth, one recorded task step at a time.

The app holds one ``PlaybackControl`` (``app.playback``). Entered on a recording
(``asyncplay replay``, at once) or after a run (the palette's "Play the run back", ``p`` in
the timeline), it shows the run as it was at one position of ``views/playback.py``: the
app's ``model`` is the playback's, so every view (table, timeline, graph, output, objects,
gutter) shows that moment, and the status line says where playback is. The keys of live
stepping drive it: F5 plays at the recording's own pace (times the chosen speed), F6
pauses, F10 one step on, shift+F10 one step back; Esc (or a new run) leaves it and the
run's final model is shown again, untouched.

Long work stays off the UI's path: the positions are found in a thread, and every move
folds in slices of :data:`MOVE_BATCH` events between which the loop runs (a move to the
other end of a 100,000-step run never freezes a key). A step back loads one snapshot and
folds at most a few thousand events (``views/playback.py``: tens of milliseconds).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from rich.text import Text

from asyncplay.model import RunModel
from asyncplay.views.gutter_marks import RunMarks
from asyncplay.views.playback import Playback, next_line, status_forms

if TYPE_CHECKING:
    from textual.timer import Timer

__all__ = ["MAX_IDLE", "MOVE_BATCH", "PLAYBACK_HELP", "PLAY_HZ", "SPEEDS", "PlaybackControl"]

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)  # the palette's choice (and asyncplay replay --speed)
PLAY_HZ = 30  # how often playing moves on
MOVE_BATCH = 5_000  # events folded between two turns of the loop
MAX_IDLE = 2.0  # wall seconds: a longer wait between two steps is shortened to this

#: The F1 help's section on playback: (key, what it does).
PLAYBACK_HELP: tuple[tuple[str, str], ...] = (
    ("", "A finished run: Ctrl+P 'Play the run back' (or p in the timeline); a replay opens"),
    ("", "in it. Every view shows the run as it was after that many task steps."),
    ("F5 / F6", "Play at the run's own pace (Ctrl+P 'Playback speed': 0.25x-4x) / pause."),
    ("F10 / shift+F10", "One recorded task step on / back."),
    ("Esc", "Leave playback: the run's final state again (a new run leaves it too)."),
    ("", "GNOME Terminal opens its menu on shift+F10: Ctrl+P 'Step back' does the same."),
)


class Host(Protocol):
    """What the control needs of the app."""

    model: RunModel | None
    marks: RunMarks | None
    program: str | None
    selected_task: int | None
    clock: Callable[[], float]

    def say(self, note: str) -> None: ...

    def choose_task(self, task: int | None, source: object, jump: bool = False) -> None: ...

    def show_model(self, model: RunModel | None, keep_window: bool = False) -> None: ...

    def dress_playback(self, on: bool) -> None: ...

    def playback_events(self) -> tuple[Sequence[dict] | None, str | None]: ...

    def set_interval(self, interval: float, callback: Callable[[], object]) -> Timer: ...

    def refresh_views(self) -> None: ...


class PlaybackControl:
    """The state machine: idle (``active`` False), paused, playing; moves run in a task."""

    def __init__(self, app: Host) -> None:
        self.app = app
        self.playback: Playback | None = None
        self.playing = False
        self.speed = 1.0
        self.cut: str | None = None  # why the playback ends before the run did
        self._final: tuple[RunModel | None, RunMarks | None] = (None, None)
        self._shown: RunModel | None = None  # the model object the views were given
        self._target = 0
        self._mover: asyncio.Task[None] | None = None
        self._timer: Timer | None = None
        self._loading: asyncio.Task[None] | None = None
        self._clock0 = 0.0  # playing: the wall time ...
        self._time0 = 0.0  # ... at which the playback was at this run time

    @property
    def active(self) -> bool:
        return self.playback is not None or self._loading is not None

    @property
    def now(self) -> float:
        """The run time shown: the position's, or, playing, the playback's clock."""
        pb = self.playback
        if pb is None:
            return 0.0
        if pb.model.status == "ended":
            return pb.model.now
        if self.playing:
            return max(pb.time_at(pb.position), self._clock())
        return max(pb.time_at(pb.position), pb.model.now)

    # ---- entering and leaving ------------------------------------------------------------

    def enter(self) -> None:
        """Start playback on the app's events, paused at the start (a task finds the
        positions in a thread; the keys say so until it is done)."""
        if self.active:
            return
        events, problem = self.app.playback_events()
        if events is None:
            self.app.say(problem or "nothing to play back")
            return
        self.cut = problem
        self._loading = asyncio.create_task(self._load(events), name="asyncplay-playback")

    async def _load(self, events: Sequence[dict]) -> None:
        try:
            playback = await asyncio.to_thread(Playback, events)
        finally:
            self._loading = None
        if self.playback is not None:  # entered twice meanwhile: the first stands
            return
        self._final = (self.app.model, self.app.marks)
        self.playback = playback
        self._target = 0
        self.app.dress_playback(True)
        self._show()
        note = "playback: F5 plays, F10 steps, shift+F10 steps back, Esc leaves"
        self.app.say(f"{note} ({self.cut})" if self.cut else note)

    def leave(self) -> None:
        """Back to the run's final state (also when a new run starts: it replaces it)."""
        if self._loading is not None:
            self._loading.cancel()
            self._loading = None
        if self.playback is None:
            return
        self._stop_timer()
        if self._mover is not None:
            self._mover.cancel()
            self._mover = None
        self.playback = None
        self.playing = False
        model, marks = self._final
        self._final = (None, None)
        self._shown = None
        self.app.show_model(model)
        self.app.dress_playback(False)
        self.app.marks = marks
        self.app.refresh_views()

    async def wait_loaded(self) -> None:
        """Until the positions are found (tests, and the replay's first frame)."""
        if self._loading is not None:
            await asyncio.shield(self._loading)

    # ---- the keys ------------------------------------------------------------------------

    def play(self) -> None:
        """F5: play from here (from the start again when at the end)."""
        pb = self._ready()
        if pb is None or self.playing:
            return
        if pb.position >= pb.total:
            self._go(0)
        self.playing = True
        self._clock0, self._time0 = self.app.clock(), pb.time_at(self._target)
        self._timer = self.app.set_interval(1 / PLAY_HZ, self._play_tick)
        self.app.refresh_views()

    def pause(self) -> None:
        """F6: stop where it is."""
        if self._ready() is None:
            return
        self._pause()
        self.app.refresh_views()

    def step(self) -> None:
        """F10: one recorded task step on."""
        pb = self._ready()
        if pb is None:
            return
        self._pause()
        if self._target >= pb.total:
            self.app.say("the end of the run: shift+F10 steps back, F5 plays it again")
            return
        self._go(self._target + 1)

    def step_back(self) -> None:
        """shift+F10: one recorded task step back."""
        pb = self._ready()
        if pb is None:
            if not self.active:
                self.app.say("step back plays a finished run back: 'Play the run back' first")
            return
        self._pause()
        if self._target <= 0:
            self.app.say("the start of the run: nothing ran before it")
            return
        self._go(self._target - 1)

    def set_speed(self, speed: float) -> None:
        """Playing on at ``speed`` times the recorded pace, from where it is."""
        if self.playing and self.playback is not None:
            self._time0, self._clock0 = self._clock(), self.app.clock()
        self.speed = speed
        self.app.say(f"playback speed {speed:g}x")

    def _ready(self) -> Playback | None:
        if self._loading is not None:
            self.app.say("playback: reading the run...")
        return self.playback

    # ---- moving --------------------------------------------------------------------------

    def _go(self, k: int) -> None:
        """Move to position ``k``: in slices, in a task (the latest target wins)."""
        pb = self.playback
        if pb is None:
            return
        self._target = max(0, min(pb.total, k))
        if self._mover is None or self._mover.done():
            self._mover = asyncio.create_task(self._move(), name="asyncplay-playback-move")

    async def _move(self) -> None:
        pb = self.playback
        while pb is not None and pb is self.playback:
            if pb.seek(self._target, limit=MOVE_BATCH):
                break
            self._show()
            await asyncio.sleep(0)
        if pb is self.playback:
            self._show()

    def _show(self) -> None:
        """The views on the playback's model (given anew when a step back replaced it)."""
        pb = self.playback
        if pb is None:
            return
        if pb.model is not self._shown:
            selected = self.app.selected_task
            back = self._shown is not None  # a step back: the timeline stays zoomed
            self._shown = pb.model
            self.app.show_model(pb.model, keep_window=back)
            self.app.marks = RunMarks(pb.model, os.path.abspath(self.app.program or ""))
            if selected is not None and selected in pb.model.tasks:
                self.app.choose_task(selected, None)
        self.app.refresh_views()

    # ---- playing -------------------------------------------------------------------------

    def _clock(self) -> float:
        return self._time0 + (self.app.clock() - self._clock0) * self.speed

    def _play_tick(self) -> None:
        pb = self.playback
        if pb is None or not self.playing:
            self._stop_timer()
            return
        if self._mover is not None and not self._mover.done():
            return  # the last move is still folding: the clock waits for it
        t = self._clock()
        here = pb.time_at(pb.position)
        if here > t:  # a move took longer than the clock: play on from where it is
            self._time0, self._clock0 = here, self.app.clock()
            t = here
        ahead = pb.time_at(pb.position + 1)
        if (ahead - t) / self.speed > MAX_IDLE:  # a long wait: shortened
            self._time0 += ahead - t - MAX_IDLE * self.speed
            t = self._clock()
        if pb.position >= pb.total:
            self._pause()
            self.app.say("the end of the run: F5 plays it again, shift+F10 steps back")
            return
        target = pb.position_at(t)
        if target != pb.position:
            self._go(target)
        else:
            self.app.refresh_views()

    def _pause(self) -> None:
        self.playing = False
        self._stop_timer()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    # ---- what the status line and the editor say ----------------------------------------

    def next_line(self) -> int | None:
        """The program's line (1-based) where the next recorded step's task resumes: the
        editor highlights it, as it does the live pause's."""
        pb = self.playback
        if pb is None:
            return None
        program = os.path.abspath(self.app.program) if self.app.program else None
        return next_line(pb.model, pb.next_task(), program)

    def status(self, note: str | None = None, width: int | None = None) -> Text:
        """``playback - step 12/340 - 0.84 s - next: ...`` (and a one-off note after it)."""
        pb = self.playback
        if pb is None:
            words = "playback: reading the run..."
        else:
            t = self.now if self.playing else None  # the clock runs between the steps
            program = os.path.abspath(self.app.program) if self.app.program else None
            forms = status_forms(pb, program, self.playing, self.speed, t)
            fits = [form for form in forms if width is None or len(form) <= width]
            words = fits[0] if fits else forms[-1]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(words, style="bold cyan")
        room = None if width is None else width - len(words) - 5
        if note and room is not None and len(note) > room:  # cut after a word, marked
            note = note[: max(0, room - 3)].rsplit(" ", 1)[0].rstrip(" ,;:") + "..."
        if note and (room is None or room > 3):
            text.append(f"  |  {note}", style="italic")
        if width is not None:
            text.truncate(width, overflow="ellipsis")
        return text
