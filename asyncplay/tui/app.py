"""The asyncplay app: an editor, a Run key, and the run's output and tasks, live.

Data flows one way. A run is a ``RunSession`` on an event loop of its own in a worker
thread (``session_thread``), which reads and decodes the child's streams; a task of the
app (never a view) folds the events it hands over into a ``RunModel`` with the one
reducer, yielding to the loop every few thousand events. The views read the model on a steady tick (15 Hz) in one batch, so
a flood of output or tasks costs each keystroke nothing but a share of that tick.

The buffer is never only in memory for long: its unsaved edits reach the disk well
within a second of the last keystroke, filed under its own file (``tui/buffers.py``,
``asyncplay/unsaved.py``), and again before every run, on quit, and when the terminal
goes away (SIGHUP).
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Tab, Tabs

from asyncplay import snippets, storage
from asyncplay.model import RunModel, apply
from asyncplay.runner.spec import RunSpec
from asyncplay.tui.buffers import BufferFiles, origin_label, saved_text
from asyncplay.tui.ending_words import sentence
from asyncplay.tui.panes.editor import CodeEditor
from asyncplay.tui.panes.find_bar import FindBar, GotoLineScreen, goto_line
from asyncplay.tui.panes.footer import FitFooter
from asyncplay.tui.panes.graph import GraphPane
from asyncplay.tui.panes.output import OutputPane
from asyncplay.tui.panes.status_bar import StatusBar
from asyncplay.tui.panes.status_bar import status_line as describe
from asyncplay.tui.panes.stdin_box import StdinBox
from asyncplay.tui.panes.task_table import COLUMN_HELP, TaskTable
from asyncplay.tui.panes.task_view import TaskView
from asyncplay.tui.panes.timeline import TimelinePane
from asyncplay.views.gutter_marks import RunMarks, same_file, task_line, warnings_at
from asyncplay.views.text_cells import clean

TICK_HZ = 15
VIEWS = ("output", "tasks", "timeline", "graph")
PAIRS = {"output": "tasks", "tasks": "output", "timeline": "graph", "graph": "timeline"}
FOLD_BATCH = 2_000  # events folded before yielding to the loop
RERUN_GRACE = 0.5  # seconds a replaced or quitting run gets between SIGINT and SIGKILL
NOTE_SECONDS = 8.0  # how long a one-off note stays in the status bar
QUIT_CONFIRM_SECONDS = 6.0  # the second ctrl+q that quits with edits nowhere saved
HANGUP_GRACE = 1.5  # seconds a hung-up app gets to exit cleanly before it just ends
# The footer's keys, most useful first: what does not fit (80 columns) is left out whole.
FOOTER_ORDER = ("quit", "run", "stop", "help", "snippets", "timeline", "switch_pane", "save")


class Session(Protocol):
    """What the app needs of a run (``RunSession``, or a recorded one in tests)."""

    @property
    def running(self) -> bool: ...

    def events(self) -> AsyncIterator[dict]: ...

    async def stop(self, grace: float | None = None) -> dict: ...

    async def aclose(self) -> None: ...

    def send_stdin(self, data: bytes) -> None: ...

    def close_stdin(self) -> None: ...


SessionFactory = Callable[[RunSpec], Awaitable[Session]]


async def live_session(spec: RunSpec) -> Session:
    """The real thing: a sandboxed child process with a pipe for its stdin, driven from a
    thread of its own so that decoding a flood of events never delays a keystroke."""
    from asyncplay.tui.services.session_thread import ThreadedSession

    return await ThreadedSession.start(spec)


def first_snippet() -> storage.Autosave:
    """The buffer of a first start: the course's first bundled snippet."""
    name = snippets.bundled_names()[0]
    found = snippets.find_bundled(name)
    text = found.path.read_text(encoding="utf-8") if found is not None else ""
    return storage.Autosave(text=text, snippet=name)


class AsyncplayApp(BufferFiles, App[int]):
    """``AsyncplayApp(buffer).run()``; ``session_factory`` and ``clock`` are for tests."""

    # Absolute, so subclasses defined elsewhere (tests, benches) find it too.
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    TITLE = "asyncplay"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide"), (160, "-very-wide")]

    # Priority: the editor's own keys must not shadow these (TextArea binds F6 and F7).
    # Every key checked against TextArea's and Input's bindings in Textual 8.2: ctrl+c
    # copies a selection, else stops the run as in a terminal (action_interrupt); no alt
    # chords (they arrive split over slow links).
    BINDINGS = [
        Binding("f5,ctrl+r,ctrl+j", "run", "Run", priority=True),
        Binding("f6,ctrl+t", "stop", "Stop", priority=True),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("f1", "help", "Help", priority=True),
        Binding("f2", "snippets", "Snippets", priority=True),
        Binding("f4", "timeline", "Timeline", priority=True),
        Binding("f7", "switch_pane", "Switch view", priority=True),
        Binding("f10", "explain", "Explain", show=False, priority=True),
        Binding("ctrl+o", "open_file", "Open", show=False, priority=True),
        Binding("f12", "save_as", "Save as", show=False, priority=True),
        Binding("f8", "filter_output", "Filter", show=False, priority=True),
        Binding("f9", "settings", "Settings", show=False, priority=True),
        Binding("ctrl+f", "find", "Find", show=False, priority=True),
        Binding("ctrl+g", "goto_line", "Go to line", show=False, priority=True),
        Binding("f3", "find_next", "Find next", show=False, priority=True),
        Binding("shift+f3", "find_previous", "Find previous", show=False, priority=True),
        Binding("ctrl+n", "next_pane", "Next pane", show=False, priority=True),
        Binding("ctrl+l", "focus_stdin", "Type to stdin", show=False, priority=True),
        Binding("ctrl+c", "interrupt", "Stop", show=False, priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]
    # Keys that also work while a dialog is open; the others belong to the main screen (a
    # run started from behind Settings would run with the limits being edited).
    GLOBAL_ACTIONS = frozenset({"stop", "interrupt", "quit", "command_palette"})
    replay: Any = None  # the recording shown, in replay mode (tui/replay_mode.py)

    def __init__(
        self,
        buffer: storage.Autosave,
        *,
        settings: storage.Settings | None = None,
        note: str | None = None,
        session_factory: SessionFactory = live_session,
        clock: Callable[[], float] = time.monotonic,
        autosave: bool = True,
    ) -> None:
        super().__init__()
        self.buffer = buffer
        self.settings = settings if settings is not None else storage.load_settings()
        self.session_factory = session_factory
        self.clock = clock
        self.autosave_enabled = autosave
        self.session: Session | None = None
        self.model: RunModel | None = None
        self.program: str | None = None  # the path the current run was compiled under
        self.selected_task: int | None = None
        self._run_view = "output"  # the run view F4 returns to from the timeline
        self.stopping = False
        self._folder: asyncio.Task[None] | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._stop_task: asyncio.Task[dict] | None = None
        self._rerun = False
        self._stop_pending = False  # stop asked for while the run was starting
        self._started = 0.0
        # the model's time (and whether the runtime said hello) when last looked at, and
        # the wall time then: the program's clock starts at its hello
        self._now_seen: tuple[float, bool] = (0.0, False)
        self._now_seen_at = 0.0
        self._clean_text = saved_text(buffer)
        self._note = note
        self._note_until = 0.0
        self._note_until_run = note is not None  # the start's note ends with the first run
        self._files_init()
        self.marks: RunMarks | None = None
        self._tick_errors = 0
        self.autosave_error: str | None = None  # why the last autosave failed
        self._quit_armed_until = 0.0  # a second ctrl+q before this quits without autosave
        self._announced: dict | None = None  # the run_end already told in a toast
        self._noticed: object = None  # the run_start sandbox whose notices were told
        self.hangup_watchdog = False  # set by the command line: a real terminal can hang
        self.gc_tuning = False  # set by the command line (a process-wide choice)
        self.watchdog: threading.Timer | None = None
        self._python_label = ".".join(map(str, sys.version_info[:3]))
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_pane" and not self.screen.has_class("-narrow"):
            return None  # both views of the pair are on screen: shown disabled in the footer
        if action in self.GLOBAL_ACTIONS or len(self.screen_stack) <= 1:
            return True
        names = {binding.action for binding in self.BINDINGS if isinstance(binding, Binding)}
        return action not in names

    # ---- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        editor = CodeEditor(self.buffer.text, id="editor")
        with Horizontal(id="main"):
            with Vertical(id="editor-box"):
                yield editor
                yield FindBar(editor, id="find")
            with Vertical(id="side", classes="-show-output"):
                yield Tabs(
                    Tab("Output", id="tab-output"),
                    Tab("Tasks", id="tab-tasks"),
                    Tab("Timeline", id="tab-timeline"),
                    Tab("Graph", id="tab-graph"),
                    id="pane-tabs",
                )
                with Vertical(id="output-box"):
                    yield OutputPane(id="output")
                    yield StdinBox(id="stdin")
                yield TaskTable(id="tasks")
                yield TimelinePane(id="timeline")
                yield GraphPane(id="graph")
        with Horizontal(id="bar"):
            yield Button("Run F5", id="run-button", compact=True, variant="success")
            yield Button("Stop F6", id="stop-button", compact=True, variant="error")
            yield StatusBar(id="status")
        yield FitFooter(FOOTER_ORDER)

    @property
    def editor(self) -> CodeEditor:
        return self.query_one("#editor", CodeEditor)

    @property
    def output(self) -> OutputPane:
        return self.query_one("#output", OutputPane)

    @property
    def tasks(self) -> TaskTable:
        return self.query_one("#tasks", TaskTable)

    @property
    def timeline(self) -> TimelinePane:
        return self.query_one("#timeline", TimelinePane)

    @property
    def graph(self) -> GraphPane:
        return self.query_one("#graph", GraphPane)

    @property
    def status(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    def on_mount(self) -> None:
        row, col = self.buffer.cursor
        self.editor.load(self.buffer.text, (row, col))
        self.editor.focus()
        if self._note:
            self._note_until = self.clock() + NOTE_SECONDS
        self.set_interval(1 / TICK_HZ, self._tick, name="asyncplay-tick")
        self._check_storage()
        self.start_files()
        if self.gc_tuning:
            self.call_after_refresh(tune_gc)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.hang_up)
            except (ValueError, RuntimeError, NotImplementedError):
                pass  # not the main thread (tests): no terminal to lose
        self._tick()

    def on_resize(self) -> None:
        self.call_after_refresh(self.refresh_bindings)  # the layout class may have changed

    def on_unmount(self) -> None:
        self.close_files()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (ValueError, RuntimeError, NotImplementedError):
                pass

    # ---- the steady tick ----------------------------------------------------------------

    def _tick(self) -> None:
        """Every view catches up with the model, in one batch; never per event."""
        try:
            now = self.run_time()
            with self.batch_update():
                self.output.sync()
                self.tasks.sync(now)
                self._sync_time_views(now)
                self._sync_marks()
                self._announce_notices()
                self._announce_end()
                self.status.show(
                    describe(
                        self.model,
                        now,
                        self._python_label,
                        self.sandbox_label(),
                        self.status_note(),
                        self.stopping,
                        width=self.status.content_region.width or None,
                        urgent=self._note_until > self.clock(),
                    )
                )
        except Exception as exc:  # a view's bug must not take the buffer down with it
            self._tick_errors += 1
            self.save_autosave()
            if self._tick_errors == 1:
                self.notify(f"internal error in a view: {exc!r}", severity="error")

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
        if m.status == "ended":
            return m.now
        wall = self.clock()
        seen = (m.now, m.protocol is not None)
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
        """The editor's gutter: task creation lines, the selected task, errors, warnings."""
        if self.marks is None:
            self.editor.set_marks({})
            return
        marks = self.marks.update(self.selected_task)
        if marks is not None:
            self.editor.set_marks(marks)

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
        options["python"] = python or sys.executable
        return RunSpec(
            source=self.editor.text,
            path=path,
            cwd=os.path.dirname(path) if not self.buffer.path else os.getcwd(),
            **options,
        )

    def action_run(self) -> None:
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
        python = None
        if self.settings.python and self.replay is None:  # a replay runs no Python
            from asyncplay.runner import interpreter as pyinfo

            info = await asyncio.to_thread(pyinfo.resolve, self.settings.python)
            python, self._python_label = info.path, info.label
        spec = self.make_spec(python)
        if self.replay is None:  # a saved setting above the lab policy: one line, no run
            from asyncplay import policy
            from asyncplay.tui.screens.settings import POLICY_NAMES

            try:
                policy.load().enforce(spec, POLICY_NAMES)
            except policy.PolicyDenied as exc:
                raise policy.PolicyDenied(f"{exc}; change it in Settings (F9)") from None
        if self._note_until_run and self.replay is None:
            self._note_until = 0.0  # the note of the start (the welcome) is over now
        self._note_until_run = False
        model = RunModel()
        self.model = model
        self.program = spec.path
        self.selected_task = None
        self.marks = RunMarks(model, os.path.abspath(spec.path or ""))
        self.output.show(model, spec.path)
        self.tasks.show(model)
        self.timeline.show(model, self.program)
        self.graph.show(model, self.program)
        self._started = self.clock()
        self._now_seen, self._now_seen_at = (0.0, False), self._started
        session = await self.session_factory(spec)
        self.session = session
        if self._stop_pending:
            self._stop_pending = False
            self.action_stop()
        self._folder = asyncio.create_task(self._fold(session, model), name="asyncplay-fold")
        self._tick()

    async def _fold(self, session: Session, model: RunModel) -> None:
        """The session's events into the model, off the views' path, in bounded slices."""
        n = 0
        async for ev in session.events():
            apply(model, ev)
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
        if self.session is not None and self.session.running:
            self.marks = None
            self.output.set_origin(os.path.basename(self.program or "the last file"))
            return
        self.model = self.marks = self.program = None
        self.selected_task = None
        self.output.show(None)
        self.tasks.show(None)
        self.timeline.show(None)
        self.graph.show(None)

    def action_stop(self) -> None:
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

    # ---- buffer and files ---------------------------------------------------------------

    def _check_storage(self) -> None:
        """An unusable data folder is said at once: otherwise quitting loses the edits."""
        if not self.autosave_enabled:
            return
        try:
            home = storage.data_dir()
            if not os.access(home, os.W_OK):
                raise OSError(f"{home} is not writable")
        except Exception as exc:
            self.autosave_error = str(exc) or type(exc).__name__
            self.notify(
                f"Your buffer cannot be kept between sessions ({self.autosave_error}). "
                f"Save with Ctrl+S (or F12 elsewhere); set {storage.HOME_ENV} to a folder "
                "of yours.",
                severity="error",
                timeout=20,
            )

    # ---- panes and focus ----------------------------------------------------------------

    def current_view(self) -> str:
        """The view shown (on a small screen), or the first of the pair shown side by side."""
        side = self.query_one("#side")
        for view in VIEWS:
            if side.has_class(f"-show-{view}"):
                return view
        return "output"

    def views_shown(self) -> tuple[str, ...]:
        """The views on screen now: one on a small screen, a pair on a wider one."""
        view = self.current_view()
        if self.screen.has_class("-narrow"):
            return (view,)
        return (view, PAIRS[view])

    def action_switch_pane(self) -> None:
        """Output <-> Tasks, or Timeline <-> Graph: the other view of the same pair."""
        view = self.current_view()
        self._show_pane(PAIRS[view])

    def action_timeline(self) -> None:
        """F4: the timeline (and the graph beside it on a wide screen), or back again."""
        if self.current_view() in ("timeline", "graph"):
            self._show_pane(self._run_view)
            self.set_focus(self.editor)
        else:
            self._show_pane("timeline")
            self.set_focus(self.timeline)

    def action_graph(self) -> None:
        """The await graph (with the timeline beside it on a wide screen), focused."""
        self._show_pane("graph")
        self.set_focus(self.graph)

    def _show_pane(self, which: str) -> None:
        side = self.query_one("#side")
        for view in VIEWS:
            side.set_class(view == which, f"-show-{view}")
        side.set_class(which in ("timeline", "graph"), "-time")
        if which in ("output", "tasks"):
            self._run_view = which
        tabs = self.query_one("#pane-tabs", Tabs)
        tab_id = f"tab-{which}"
        if tabs.active != tab_id:
            tabs.active = tab_id
        self._tick()  # a view just shown catches up at once, not a tick later

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id:
            self._show_pane(event.tab.id.removeprefix("tab-"))

    def action_focus_stdin(self) -> None:
        """Straight to the program's stdin line (showing the Output view if it is hidden)."""
        if self.current_view() not in ("output", "tasks") or self.screen.has_class("-narrow"):
            self._show_pane("output")
        self.set_focus(self.query_one("#stdin"))

    def action_next_pane(self) -> None:
        view = self.current_view()
        if self.screen.has_class("-narrow"):
            shown = ["output", "stdin"] if view == "output" else [view]
        elif view in ("timeline", "graph"):
            shown = ["timeline", "graph"]
        else:
            shown = ["output", "stdin", "tasks"]
        order = ["editor", *shown]
        focused = self.focused.id if self.focused is not None else None
        index = order.index(focused) if focused in order else -1
        # set_focus at once: focus() is deferred, and a second key would see the old focus
        self.set_focus(self.query_one(f"#{order[(index + 1) % len(order)]}"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "run-button":
            self.action_run()
        elif event.button.id == "stop-button":
            self.action_stop()

    # ---- output, tasks, stdin -----------------------------------------------------------

    def on_output_pane_jump(self, message: OutputPane.Jump) -> None:
        self.jump_to(message.line)

    def jump_to(self, line: int) -> None:
        editor = self.editor
        editor.move_to((line - 1, 0))
        editor.focus()

    def choose_task(self, task: int | None, source: object, jump: bool = False) -> None:
        """A task chosen in one view is shown chosen in the others (never echoed back)."""
        self.selected_task = task
        if task is not None:
            for view in (self.tasks, self.timeline, self.graph):
                if view is not source:
                    view.select_task(task)
        if self.output.task_filter is not None and task is not None:
            self.output.set_filter(task)
        if jump and self.model is not None and task is not None:
            info = self.model.tasks.get(task)
            if info is not None:
                line = task_line(info, self.program)
                if line:
                    self.jump_to(line)
        self._sync_marks()

    def on_task_table_task_chosen(self, message: TaskTable.TaskChosen) -> None:
        self.choose_task(message.task, self.tasks, message.jump)

    def on_graph_pane_task_chosen(self, message: GraphPane.TaskChosen) -> None:
        """Enter on a row goes to where the task waits at the moment the graph shows."""
        self.choose_task(message.task, self.graph)
        if message.jump and message.line and same_file(message.file, self.program):
            self.jump_to(message.line)
        elif message.jump:
            self.choose_task(message.task, self.graph, jump=True)

    def on_timeline_pane_step_chosen(self, message: TimelinePane.StepChosen) -> None:
        """The timeline's cursor picks a task (the graph reads its moment on the tick);
        Enter goes to the line of the step (not where the task is now)."""
        self.choose_task(message.task, self.timeline)
        if message.jump and message.line and same_file(message.file, self.program):
            self.jump_to(message.line)

    def on_timeline_pane_warning_chosen(self, message: TimelinePane.WarningChosen) -> None:
        self.explain_warning(message.warning)

    def on_task_view_internal_toggled(self, message: TaskView.InternalToggled) -> None:
        self.set_internal(message.show_internal)

    def set_internal(self, value: bool) -> None:
        """One toggle for asyncio's own tasks, in the table, the timeline and the graph."""
        for view in (self.tasks, self.timeline, self.graph):
            view.set_internal(value)

    @property
    def moment(self) -> float | None:
        """The moment the await graph shows: None is "now" (live), else the run time the
        user put the timeline's cursor at (until a fit, 0 / f, or a new run)."""
        timeline = self.timeline
        return timeline.cursor_time if timeline.cursor_placed else None

    def _sync_time_views(self, now: float) -> None:
        """The timeline and the graph, only when on screen (hidden, they cost nothing)."""
        shown = self.views_shown()
        if "timeline" in shown:
            self.timeline.sync(now)
        if "graph" in shown:
            moment = self.moment
            if self.model is not None and moment is not None and moment >= self.model.now:
                moment = None  # the cursor at the live edge: that is now
            self.graph.sync(now, moment)

    # ---- explanations ---------------------------------------------------------------

    def action_explain(self) -> None:
        """F10: explain what is where the user is: the warning at the editor's line or
        under the timeline's cursor, else the chosen task's warning or why it was
        cancelled; failing all that, the run's warnings to pick from."""
        model = self.model
        if model is None:
            self.notify("Run a program first (F5): then F10 explains its warnings.")
            return
        focused = self.focused
        if focused is self.editor:
            here = warnings_at(model, self.program, self.editor.cursor_location[0] + 1)
            if here:
                self.explain_warning(here[0])
                return
        task: int | None = None
        if focused is self.timeline:
            warning = self.timeline.warning_at_cursor()
            if warning is not None:
                self.explain_warning(warning)
                return
            task = self.timeline.cursor_task
        elif focused is self.tasks:
            task = self.tasks.selected_task()
        elif focused is self.graph:
            task = self.graph.selected_task()
        if task is not None and self._explain_task(task):
            return
        if not model.warnings:
            self.notify(
                "This run had no warnings to explain. F10 on a cancelled task (in the "
                "table or the timeline) says why it was cancelled."
            )
            return
        self.list_warnings()

    def _explain_task(self, task: int) -> bool:
        """The task's own warning, else why it was cancelled; False if neither."""
        from asyncplay.tui.screens.explain import ExplainScreen
        from asyncplay.views.explain import explain_cancel

        model = self.model
        if model is None:
            return False
        for warning in model.warnings:
            if warning.get("task") == task:
                self.explain_warning(warning)
                return True
        explanation = explain_cancel(model, task)
        if explanation is None:
            return False
        self.push_screen(ExplainScreen(explanation, self.program), self._explained)
        return True

    def on_code_editor_gutter_clicked(self, message: CodeEditor.GutterClicked) -> None:
        if self.model is None:
            return
        here = warnings_at(self.model, self.program, message.line)
        if here:
            self.explain_warning(here[0])

    def explain_warning(self, warning: dict) -> None:
        from asyncplay.tui.screens.explain import ExplainScreen
        from asyncplay.views.explain import explain

        self.push_screen(ExplainScreen(explain(warning, self.model), self.program), self._explained)

    def list_warnings(self) -> None:
        from asyncplay.tui.screens.explain import WarningsScreen

        self.push_screen(WarningsScreen(self.model, self.program), self._explained)

    def _explained(self, line: int | None) -> None:
        """The explanation closed with "go to line": the editor shows it."""
        if line:
            self.jump_to(line)

    def action_filter_output(self) -> None:
        if self.output.task_filter is not None:
            self.output.set_filter(None)
            return
        task = self.selected_task
        if task is None:
            self.notify("Select a task in the task table first.", severity="warning")
            return
        self.output.set_filter(task)
        self._show_pane("output")

    def action_copy_output(self) -> None:
        self.output.action_copy_all()

    def action_copy_selection(self) -> None:
        text = self.editor.selected_text
        if text:
            self.copy_to_clipboard(text)
            self.notify("Copied the selection (OSC 52).")
        else:
            self.notify("Nothing is selected in the editor.", severity="warning")

    def on_stdin_box_line(self, message: StdinBox.Line) -> None:
        session = self.session
        if session is None or not session.running:
            self.notify("No run is waiting for input: F5 starts one.", severity="warning")
            return
        session.send_stdin((message.text + "\n").encode("utf-8"))
        self.query_one(StdinBox).placeholder = f"sent: {message.text}"

    def on_stdin_box_end_of_file(self, message: StdinBox.EndOfFile) -> None:
        session = self.session
        if session is not None and session.running:
            session.close_stdin()
            self.notify("Sent end-of-file to the program's stdin.")

    # ---- the secondary screens --------------------------------------------------------

    def action_help(self) -> None:
        from asyncplay.tui.panes.graph import GRAPH_HELP
        from asyncplay.tui.panes.timeline import TIMELINE_HELP
        from asyncplay.tui.screens.help import HelpScreen, help_bindings, moving_around
        from asyncplay.views.gutter_marks import GUTTER

        sections = (
            ("Timeline (F4)", "Keys", TIMELINE_HELP),
            ("Await graph", "Keys", GRAPH_HELP),
            ("Marks in the editor's gutter", "Mark", [(g, m) for _k, g, _s, m in GUTTER]),
        )
        self.push_screen(
            HelpScreen(
                help_bindings(self),
                columns=COLUMN_HELP,
                intro=moving_around(self),
                sections=sections,
            )
        )

    def action_settings(self) -> None:
        from asyncplay.tui.screens.settings import SettingsScreen

        self.push_screen(SettingsScreen(self.settings), self._settings_done)

    def _settings_done(self, result: storage.Settings | None) -> None:
        """The screen saved the settings and applied the theme; runs use them from now."""
        if result is None:
            return
        self.settings = result
        self.say("settings saved; they apply from the next run")

    @property
    def find_bar(self) -> FindBar:
        return self.query_one("#find", FindBar)

    def action_find(self) -> None:
        self.find_bar.open()

    def action_find_next(self) -> None:
        self.find_bar.find_next()

    def action_find_previous(self) -> None:
        self.find_bar.find_previous()

    def action_goto_line(self) -> None:
        editor = self.editor
        current = editor.cursor_location[0] + 1
        screen = GotoLineScreen(editor.document.line_count, current)
        self.push_screen(screen, self._goto_done)

    def _goto_done(self, line: int | None) -> None:
        if line is not None:
            goto_line(self.editor, line)
            self.editor.focus()

    # ---- the command palette ------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands = [
            ("Run", "Run the editor's text (F5, ctrl+r, ctrl+j)", self.action_run),
            ("Stop", "Stop the running program (F6, ctrl+t)", self.action_stop),
            ("Save", "Save the buffer to its file (ctrl+s)", self.action_save),
            ("Save as", "Save the buffer under a new name (F12)", self.action_save_as),
            ("Timeline", "Who ran when, and the await graph (F4)", self.action_timeline),
            (
                "Await graph",
                "Who awaits whom, now or at the timeline's cursor",
                self.action_graph,
            ),
            (
                "Explain a warning",
                "Why it happened and the usual fix (F10)",
                self.action_explain,
            ),
            ("Open file", "Open a Python file (ctrl+o)", self.action_open_file),
            (
                "Open the saved version",
                "The file as saved; your unsaved edits stay kept (F2 lists them)",
                self.action_saved_version,
            ),
            ("Snippets", "Browse the bundled and your own snippets (F2)", self.action_snippets),
            ("Settings", "Limits, Python, theme, sandbox, network (F9)", self.action_settings),
            ("Help", "Keys and the task table's columns (F1)", self.action_help),
            ("Find", "Find text in the editor (ctrl+f)", self.action_find),
            ("Go to line", "Move the cursor to a line (ctrl+g)", self.action_goto_line),
            (
                "Switch view",
                "Output / tasks, or timeline / graph, on small screens (F7)",
                self.action_switch_pane,
            ),
            (
                "Filter output to the selected task",
                "Or show all lines again (F8)",
                self.action_filter_output,
            ),
            (
                "Show or hide internal tasks",
                "asyncio's own tasks in the table, timeline and graph (i)",
                self.tasks.action_toggle_internal,
            ),
            ("Copy output", "The whole output, via OSC 52", self.action_copy_output),
            ("Copy selection", "The editor's selection, via OSC 52", self.action_copy_selection),
            ("Next pane", "Move the focus (ctrl+n)", self.action_next_pane),
        ]
        for title, help_, callback in commands:
            yield SystemCommand(title, help_, callback)

    # ---- leaving ------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Save the buffer, stop the run (nothing left behind), then leave.

        If the buffer cannot be autosaved and has unsaved edits, the first Ctrl+Q only
        warns: a second one within a few seconds quits anyway.
        """
        await self.settle_editor()  # keys typed just before Ctrl+Q are the buffer's too
        if (
            not self.save_autosave()
            and self.autosave_enabled
            and self.dirty
            and self.clock() > self._quit_armed_until
        ):
            self._quit_armed_until = self.clock() + QUIT_CONFIRM_SECONDS
            self.notify(
                f"Your edits could not be autosaved ({self.autosave_error}). Ctrl+S saves "
                "them to a file (F12: elsewhere); Ctrl+Q again quits and loses them.",
                severity="error",
                timeout=QUIT_CONFIRM_SECONDS,
            )
            return
        try:
            self._rerun = False
            if self._run_task is not None and not self._run_task.done():
                await asyncio.wait_for(asyncio.shield(self._run_task), 5.0)  # then stop it
            await asyncio.wait_for(self.end_session(RERUN_GRACE), 5.0)
        except (asyncio.TimeoutError, Exception):
            self.kill_now()
        self.exit(0)

    def hang_up(self) -> None:
        """The terminal went away (SIGHUP) or we were told to end (SIGTERM).

        The buffer is saved and the run killed first, synchronously. Then a graceful exit
        is tried, but restoring a terminal that no longer exists can block forever, so a
        watchdog ends the process shortly after: nothing may be left behind.
        """
        self.save_autosave()
        self.release_buffer()
        self.kill_now()
        if self.hangup_watchdog:
            self.watchdog = threading.Timer(HANGUP_GRACE, os._exit, args=(129,))
            self.watchdog.daemon = True
            self.watchdog.start()
        self.exit(0)


def tune_gc() -> None:
    """Keep the garbage collector's pauses short while a run floods the process.

    Decoding a busy run allocates objects by the hundred thousand (in the session's
    thread); every full collection then scans everything alive, Textual's widgets
    included, holding the GIL for 100-300 ms: the latency of a keypress. Freezing what
    exists once the screen is up takes it out of every later scan, and rarer full
    collections do the rest (p95 keypress latency during 200,000 printed lines: 52 ms ->
    29 ms, worst 375 ms -> 91 ms, in bench/tui_latency.py).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(2_000, 10, 100)
