"""A run's control: start, stop and the steady tick that shows it, each view guarded.

A mixin of :class:`~asyncplay.tui.app.AsyncplayApp` (as ``BufferFiles`` is for files). A run
is a ``Session`` from the app's ``session_factory``; a task of the app (never a view) folds
its events into a ``RunModel`` with the one reducer, yielding to the loop every
:data:`FOLD_BATCH` events. The views read the model on a steady tick (:data:`TICK_HZ`) in
one batch, so a flood of output or tasks costs each keystroke nothing but a share of it.

Each view is guarded on its own: one that raises is off for the rest of that run, its
traceback is shown once, and the others go on. Nothing is saved because of it (the buffer
has its own debounced autosave).
"""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from textual.app import ScreenStackError
from textual.css.query import NoMatches

from asyncplay import storage
from asyncplay.breakpoints import Breakpoints
from asyncplay.model import RunModel, apply
from asyncplay.runner.spec import RunSpec
from asyncplay.tui.buffers import origin_label
from asyncplay.tui.ending_words import sentence
from asyncplay.tui.exercise_control import spawn_stop
from asyncplay.tui.panes.status_bar import LiveCount, status_line
from asyncplay.tui.services.view_builds import ViewBuilds
from asyncplay.views.checks import stuck_deadlock
from asyncplay.views.gutter_marks import RunMarks
from asyncplay.views.playback import EventLog
from asyncplay.views.stepping import pause_forms
from asyncplay.views.text_cells import clean

if TYPE_CHECKING:
    from asyncplay.tui.panes.editor import CodeEditor
    from asyncplay.tui.panes.graph import GraphPane
    from asyncplay.tui.panes.objects import ObjectsPane
    from asyncplay.tui.panes.output import OutputPane
    from asyncplay.tui.panes.status_bar import StatusBar
    from asyncplay.tui.panes.task_table import TaskTable
    from asyncplay.tui.panes.timeline import TimelinePane
    from asyncplay.tui.playback_control import PlaybackControl

__all__ = [
    "FOLD_BATCH",
    "NOTE_SECONDS",
    "RERUN_GRACE",
    "TICK_HZ",
    "RunControl",
    "Session",
    "SessionFactory",
    "live_session",
]

TICK_HZ = 15
FOLD_BATCH = 2_000  # events folded before yielding to the loop
RERUN_GRACE = 0.5  # seconds a replaced or quitting run gets between SIGINT and SIGKILL
NOTE_SECONDS = 8.0  # how long a one-off note stays in the status bar
TRACEBACK_LINES = 12  # the last lines of a failed view's traceback, in its notification


class Session(Protocol):
    """What the app needs of a run (``RunSession``, or a recorded one in tests)."""

    @property
    def running(self) -> bool: ...

    def events(self) -> AsyncIterator[dict]: ...

    async def stop(self, grace: float | None = None) -> dict: ...

    async def aclose(self) -> None: ...

    def send_stdin(self, data: bytes) -> None: ...

    def close_stdin(self) -> None: ...

    # Stepping (``docs/protocol.md``'s control channel): no-ops after the run ended.
    def pause(self) -> None: ...

    def step(self) -> None: ...

    def resume(self) -> None: ...

    def set_breakpoints(self, bp: Breakpoints) -> None: ...


SessionFactory = Callable[[RunSpec], Awaitable[Session]]


async def live_session(spec: RunSpec) -> Session:
    """The real thing: a sandboxed child process with a pipe for its stdin, driven from a
    thread of its own so that decoding a flood of events never delays a keystroke."""
    from asyncplay.tui.services.session_thread import ThreadedSession

    return await ThreadedSession.start(spec)


class RunControl:
    """The app's side of runs: start, stop, fold, and the tick that shows them."""

    # What the app provides (its widgets and settings); typed here for the mixin.
    editor: CodeEditor
    output: OutputPane
    tasks: TaskTable
    timeline: TimelinePane
    graph: GraphPane
    objects: ObjectsPane
    status: StatusBar
    settings: storage.Settings
    buffer: storage.Autosave
    session_factory: SessionFactory
    clock: Callable[[], float]
    playback: PlaybackControl

    def _runs_init(self) -> None:
        self.session: Session | None = None
        self.model: RunModel | None = None
        self.program: str | None = None  # the path the current run was compiled under
        self.selected_task: int | None = None
        self.stopping = False
        self.marks: RunMarks | None = None
        self.run_log: EventLog | None = None  # the run's events, to play it back
        self._run_marks: dict[int, set[str]] = {}  # the run's own marks, last computed
        self._marks_shown: tuple = ()  # what the gutter shows now (skip when unchanged)
        self._folder: asyncio.Task[None] | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._stop_task: asyncio.Task[dict] | None = None
        self._stuck_stop: asyncio.Task[None] | None = None
        self._rerun = False
        self._stop_pending = False  # stop asked for while the run was starting
        self._started = 0.0
        # the model's time (and whether the runtime said hello) when last looked at, and
        # the wall time then: the program's clock starts at its hello
        self._now_seen: tuple[float, bool] = (0.0, False)
        self._now_seen_at = 0.0
        self._note_until = 0.0
        self._announced: dict | None = None  # the run_end already told in a toast
        self._noticed: object = None  # the run_start sandbox whose notices were told
        self.failed_views: set[str] = set()  # views off for this run: they raised
        self._python_label = ".".join(map(str, sys.version_info[:3]))
        # Slow views' rebuilds (the await graph of thousands of tasks) in a worker thread;
        # the fold waits while one runs (services/view_builds.py).
        self.view_builds = ViewBuilds()
        self._live_count = LiveCount()  # the status line's count of live tasks, kept

    # ---- hooks a subclass (replay mode) overrides ---------------------------------------

    def runs_program(self) -> bool:
        """Whether a run starts a program (a replay's shows a recording: no Python to
        resolve, no lab policy to check)."""
        return True

    # ---- the steady tick ----------------------------------------------------------------

    def _tick(self) -> None:
        """Every view catches up with the model, in one batch; never per event."""
        try:  # every widget the tick touches, at once (none goes away during a tick)
            output, tasks = self.output, self.tasks
            _ = self.timeline, self.graph, self.status, self.editor
        except (NoMatches, ScreenStackError):
            return  # not composed yet, or closing: there is nothing to show
        now = self.run_time()
        with self.batch_update():  # type: ignore[attr-defined]
            self._guarded("output", output.sync)
            self._guarded("tasks", tasks.sync, now)
            self._sync_time_views(now)
            self._guarded("stepping", self.stepping_tick)  # type: ignore[attr-defined]
            self._guarded("gutter marks", self._sync_marks)
            if not self.playback.active:  # told once for the run, not again as played back
                self._guarded("notices", self._announce_notices)
                self._guarded("ending", self._announce_end)
                self._guarded("checks", self.sync_exercise)  # type: ignore[attr-defined]
            self._guarded("status bar", self._show_status, now)

    def _show_status(self, now: float) -> None:
        if self.playback.active:
            urgent = self._note_until > self.clock()
            width = self.status.content_region.width or None
            self.status.show(self.playback.status(self._note if urgent else None, width))
            return
        self.status.show(
            status_line(
                self.model,
                now,
                self._python_label,
                self.sandbox_label(),
                self.status_note(),
                self.stopping,
                width=self.status.content_region.width or None,
                urgent=self._note_until > self.clock(),
                paused=pause_forms(self.model, self.program) if self.marks is not None else None,
                live=self._live_count(self.model) if self.model is not None else None,
            )
        )

    def _guarded(self, view: str, sync: Callable[..., object], *args: object) -> None:
        """One view's share of the tick. A view that raises is off until the next run (its
        bug must not cost the others theirs, nor a notification 15 times a second): its
        traceback is shown once, and in the log whole."""
        if view in self.failed_views:
            return
        try:
            sync(*args)
        except Exception:
            self.failed_views.add(view)
            told = traceback.format_exc()
            self.log.error(f"the {view} view failed:\n{told}")  # type: ignore[attr-defined]
            tail = "\n".join(told.rstrip().splitlines()[-TRACEBACK_LINES:])
            self.notify(  # type: ignore[attr-defined]
                f"Internal error: the {view} view is off until the next run.\n{tail}",
                title="asyncplay bug",
                severity="error",
                timeout=30,
                markup=False,
            )

    def _announce_notices(self) -> None:
        """What the run lacks of what was asked (e.g. no outbound network, and why): the
        headless command's first line, here a toast, once per run."""
        sandbox = getattr(self.model, "sandbox", None) if self.model is not None else None
        if not isinstance(sandbox, dict) or sandbox is self._noticed:
            return
        self._noticed = sandbox
        notices = sandbox.get("notices")
        for notice in notices if isinstance(notices, list) else []:
            self.notify(clean(str(notice)), severity="warning", timeout=10, markup=False)

    def _announce_end(self) -> None:
        """A limit (or a failure to start) is also said in a toast, once per run."""
        end = self.model.end if self.model is not None else None
        if end is None or end is self._announced:
            return
        self._announced = end
        said = sentence(end)
        if said and end.get("reason") != "stopped":
            self.notify(said, severity="warning", timeout=6)

    def run_time(self) -> float:
        """Seconds into the current run on the program's clock (frozen at its end).

        Between events the program's time is estimated from the last event's: wall time
        since then, times the clock's speed (``--speed 0.25`` runs four times slower than
        the wall, and every view, the timeline's axis included, counts program time).
        """
        m = self.model
        if m is None:
            return 0.0
        if self.playback.active:
            return self.playback.now
        if m.status == "ended":
            return m.now
        wall = self.clock()
        seen = (m.now, m.protocol is not None)
        if m.pause is not None:  # paused: the program's clock stands still (the child's too)
            self._now_seen, self._now_seen_at = seen, wall
            return m.now
        if seen != self._now_seen:
            self._now_seen, self._now_seen_at = seen, wall
        speed = m.speed if m.protocol is not None else self.settings.speed
        return m.now + max(0.0, wall - self._now_seen_at) * speed

    def sandbox_label(self) -> str | None:
        """The run's sandbox layers (``bwrap+cgroup+rlimit``), else the chosen mode."""
        sandbox = getattr(self.model, "sandbox", None) if self.model is not None else None
        if isinstance(sandbox, dict):
            layers = sandbox.get("layers") or []
            return "+".join(map(str, layers)) if layers else str(sandbox.get("mode") or "none")
        return self.settings.sandbox

    def status_note(self) -> str:
        if self._note and self.clock() < self._note_until:
            return self._note
        label = origin_label(self.buffer) + (" *" if self.dirty else "")
        if self.buffer.read_only:
            label += " (read-only)"
        return f"NOT AUTOSAVED: {label}" if self.autosave_error else label

    def say(self, note: str) -> None:
        """A one-off sentence in the status bar (and nowhere else to dismiss)."""
        self._note = note
        self._note_until = self.clock() + NOTE_SECONDS
        self._tick()

    def _sync_marks(self) -> None:
        """The editor's gutter: task creation lines, the selected task, errors, warnings,
        and stepping's (breakpoints, the next task's line)."""
        if self.marks is None:
            if self._run_marks:
                self._run_marks = {}
        else:
            marks = self.marks.update(self.selected_task)
            if marks is not None:
                self._run_marks = marks
        stepping = self.stepping_marks()  # type: ignore[attr-defined]
        key = (id(self._run_marks), tuple(sorted(stepping.items())))
        if key == self._marks_shown:
            return
        self._marks_shown = key
        merged = {line: set(kinds) for line, kinds in self._run_marks.items()}
        for line, kind in stepping.items():
            merged.setdefault(line, set()).add(kind)
        self.editor.set_marks(merged)

    # ---- running ------------------------------------------------------------------------

    def run_path(self) -> str:
        """The file name the buffer runs under: its own file, else one in the user's folder."""
        if self.buffer.path or self.buffer.copy_of:
            return os.path.abspath(self.buffer.path or self.buffer.copy_of or "")
        name = self.buffer.snippet or "untitled"
        return str(storage.user_snippets_dir() / f"{name}.py")

    def make_spec(self, python: str | None = None) -> RunSpec:
        """The editor's text as a run, with the settings' limits and options."""
        path = self.run_path()
        options = self.settings.run_options()
        options["python"] = python or sys.executable  # the setting's name, resolved
        return RunSpec(
            source=self.editor.text,
            path=path,
            cwd=os.path.dirname(path) if not self.buffer.path else os.getcwd(),
            **options,
        )

    def start_run(self) -> None:
        """Run the editor's text; a run still going is stopped first."""
        if self._run_task is not None and not self._run_task.done():
            self._rerun = True
            return
        self._run_task = asyncio.create_task(self._run(), name="asyncplay-run")

    async def _run(self) -> None:
        self._rerun = True
        while self._rerun:
            self._rerun = False
            self.save_autosave()
            await self.end_session(RERUN_GRACE)
            try:
                await self._start()
            except Exception as exc:
                self._stop_pending = self.stopping = False
                self.model = self.marks = None  # no run: the status must not say "running"
                self.output.show(None)
                self.tasks.show(None)
                self.timeline.show(None)
                self.graph.show(None)
                self.say(f"could not start the run: {exc}")
                self.notify(f"could not start the run: {exc}", severity="error")
                return

    async def _start(self) -> None:
        # F11's virtual clock is this start's, taken first: a start that fails (a Python
        # that cannot be found) must not leave it to the next F5.
        checking = self.take_check_run()  # type: ignore[attr-defined]
        python = None
        if self.settings.python and self.runs_program():
            from asyncplay.runner import interpreter as pyinfo

            info = await asyncio.to_thread(pyinfo.resolve, self.settings.python)
            python, self._python_label = info.path, info.label
        self.refresh_exercise()  # type: ignore[attr-defined]
        self.lesson_run_starts()  # type: ignore[attr-defined]
        spec = self.exercise_spec(self.make_spec(python), checking)  # type: ignore[attr-defined]
        spec = self.stepping_spec(spec)  # type: ignore[attr-defined]
        if self.runs_program():  # a saved setting above the lab policy: one line, no run
            from asyncplay import policy
            from asyncplay.tui.screens.settings import POLICY_NAMES

            try:
                policy.load().enforce(spec, POLICY_NAMES)
            except policy.PolicyDenied as exc:
                raise policy.PolicyDenied(f"{exc}; change it in Settings (F9)") from None
        if self._note_until_run and self.runs_program():
            self._note_until = 0.0  # the note of the start (the welcome) is over now
        self._note_until_run = False
        self.playback.leave()  # a new run replaces the one played back
        model = RunModel()
        self.run_log = EventLog() if self.runs_program() else None  # a replay has its own
        self.model = model
        self.program = spec.path
        self.selected_task = None
        self.failed_views.clear()  # a new run: every view gets its chance again
        self.marks = RunMarks(model, os.path.abspath(spec.path or ""))
        self.output.show(model, spec.path)
        self.tasks.show(model)
        self.timeline.show(model, self.program)
        self.graph.show(model, self.program)
        self._started = self.clock()
        self._now_seen, self._now_seen_at = (0.0, False), self._started
        session = await self.session_factory(spec)
        self.session = session
        self.stepping_started(session)  # type: ignore[attr-defined]
        if self._stop_pending:
            self._stop_pending = False
            self.stop_run()
        self._folder = asyncio.create_task(self._fold(session, model), name="asyncplay-fold")
        self._tick()

    async def _fold(self, session: Session, model: RunModel) -> None:
        """The session's events into the model, off the views' path, in bounded slices; held
        while a view is built from the model in the worker thread (``view_builds``)."""
        n = 0
        stop_stuck = self.ends_stuck_runs()  # type: ignore[attr-defined]
        log = self.run_log
        builds = self.view_builds
        async for ev in session.events():
            if builds.busy:  # a view is being built from the model in a thread: not now
                await builds.idle()
            apply(model, ev)
            if log is not None:
                log.add(ev)
            if stop_stuck and stuck_deadlock(ev):  # an exercise's run that can never go on
                stop_stuck = False
                self._stuck_stop = spawn_stop(session)
            n += 1
            if n >= FOLD_BATCH:
                n = 0
                await asyncio.sleep(0)
        self.stopping = False

    async def end_session(self, grace: float | None = None) -> None:
        """Stop the current run (if any) and release it; at most one session exists."""
        session, self.session = self.session, None
        if session is None:
            return
        try:
            if session.running:
                self.stopping = True
                await session.stop(grace)
            if self._folder is not None:
                await self._folder
        finally:
            self.stopping = False
            self._folder = None
            await session.aclose()

    def _leave_run(self) -> None:
        """Another file in the editor: the last run's views are cleared (its marks would
        land on the new file's lines); a run still going keeps its output, marked."""
        self.refresh_exercise()  # type: ignore[attr-defined]
        self.playback.leave()
        if self.session is not None and self.session.running:
            self.marks = None
            self.output.set_origin(os.path.basename(self.program or "the last file"))
            return
        self.model = self.marks = self.program = None
        self.run_log = None
        self.selected_task = None
        self.output.show(None)
        self.tasks.show(None)
        self.timeline.show(None)
        self.graph.show(None)

    # ---- what playback needs (tui/playback_control.py) ------------------------------------

    def show_model(self, model: RunModel | None, keep_window: bool = False) -> None:
        """Every view on ``model`` from scratch (playback's moment, or the run's end);
        ``keep_window``: the timeline stays zoomed where the user put it."""
        timeline = self.timeline
        window = (timeline.start, timeline.end, timeline.follow)
        self.model = model
        self.output.show(model, self.program)
        self.tasks.show(model)
        timeline.show(model, self.program)
        if keep_window and not window[2]:
            timeline.start, timeline.end, timeline.follow = window
        self.graph.show(model, self.program)

    def refresh_views(self) -> None:
        self._tick()

    def playback_events(self) -> tuple[list[dict] | None, str | None]:
        """The finished run's events (None and why not), and why they stop early."""
        if (self.session is not None and self.session.running) or (
            self._run_task is not None and not self._run_task.done()
        ):
            return None, "the run is still going: play it back once it ends (F6 stops it)"
        log = self.run_log
        if self.model is None or log is None or not log.events:
            return None, "nothing to play back: run a program first (F5)"
        if log.cut is not None:
            return log.events, f"{log.why} only, to {log.cut:.2f} s: the rest was not kept"
        return log.events, None

    def stop_run(self) -> None:
        """Stop the run (SIGINT, then SIGKILL), also one still starting."""
        session = self.session
        if session is None and self._run_task is not None and not self._run_task.done():
            self._stop_pending = True  # F5 then at once F6 or Ctrl+C: stopped once started
            self.stopping = True
            return
        if session is None or not session.running:
            self.say("nothing is running")
            return
        self.stopping = True
        # Held: the loop keeps only weak references to tasks.
        self._stop_task = asyncio.create_task(session.stop(), name="asyncplay-stop")
        self._tick()

    def action_interrupt(self) -> None:
        """Ctrl+C as in a terminal: a selection is copied; else a run is interrupted
        (SIGINT first, as F6 does); else it says how to quit (Textual's own ctrl+c only
        said so, while the program went on running)."""
        focused = self.focused
        selected = getattr(focused, "selected_text", "") if focused is not None else ""
        if selected:
            self.copy_to_clipboard(selected)
            self.notify("Copied the selection (OSC 52).")
        elif (self.session is not None and self.session.running) or (
            self._run_task is not None and not self._run_task.done()
        ):
            self.action_stop()
        else:
            self.say("nothing is running: Ctrl+Q quits")
            self.notify("Nothing is running. Ctrl+Q quits asyncplay.")

    def kill_now(self) -> None:
        """SIGKILL the run's whole process group at once (the terminal is gone)."""
        core = getattr(self.session, "core", None)
        if core is not None:
            core.kill("stopped")

    @property
    def moment(self) -> float | None:
        """The moment the await graph shows: None is "now" (live), else the run time the
        user put the timeline's cursor at (until a fit, 0 / f, or a new run)."""
        timeline = self.timeline
        return timeline.cursor_time if timeline.cursor_placed else None

    def _sync_time_views(self, now: float) -> None:
        """The timeline and the graph, only when on screen (hidden, they cost nothing)."""
        shown = self.views_shown()  # type: ignore[attr-defined]
        if "timeline" in shown:
            self._guarded("timeline", self.timeline.sync, now)
        if "graph" in shown:
            self._guarded("graph", self._sync_graph, now)
        if "objects" in shown:
            self._guarded("objects", self.objects.sync, self.model)

    def _sync_graph(self, now: float) -> None:
        # Playback changes its model in place on this thread: its graph is built here.
        self.view_builds.enabled = not self.playback.active
        moment = self.moment
        if self.model is not None and moment is not None and moment >= self.model.now:
            moment = None  # the cursor at the live edge: that is now
        self.graph.sync(now, moment)
