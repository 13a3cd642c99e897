"""The asyncplay app: the wiring of an editor, a Run key, and the run's views, live.

This module composes the screen, binds the keys (from one table, ``tui/commands.py``, which
gives the command palette too) and routes the panes' messages. What it wires lives beside
it: a run's start, stop and steady tick in ``run_control.py`` (data flows one way: a
session's events folded by the one reducer, the views reading the model on the tick),
files and unsaved work in ``buffers.py`` (the buffer is never only in memory for long),
quitting and hang-up in ``hangup.py``, the garbage collector's tuning in ``gc_tuning.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from textual.actions import SkipAction
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Button, Tab, Tabs, TextArea

from asyncplay import storage
from asyncplay.tui import commands
from asyncplay.tui.buffers import BufferFiles, saved_text
from asyncplay.tui.exercise_control import ExerciseControl, lesson_label, lesson_of
from asyncplay.tui.gc_tuning import tune_gc
from asyncplay.tui.hangup import Leaving
from asyncplay.tui.object_links import ObjectLinks
from asyncplay.tui.panes.editor import CodeEditor
from asyncplay.tui.panes.exercise import ExercisePane
from asyncplay.tui.panes.find_bar import FindBar, GotoLineScreen, goto_line
from asyncplay.tui.panes.footer import FitFooter
from asyncplay.tui.panes.graph import GraphPane
from asyncplay.tui.panes.objects import ObjectsPane
from asyncplay.tui.panes.output import OutputPane
from asyncplay.tui.panes.status_bar import StatusBar
from asyncplay.tui.panes.stdin_box import StdinBox
from asyncplay.tui.panes.stepping_panel import SteppingPanel
from asyncplay.tui.panes.task_table import COLUMN_HELP, TaskTable
from asyncplay.tui.panes.task_view import TaskView
from asyncplay.tui.panes.timeline import TimelinePane
from asyncplay.tui.playback_control import PLAYBACK_HELP, SPEEDS, PlaybackControl
from asyncplay.tui.run_control import (
    NOTE_SECONDS,
    TICK_HZ,
    RunControl,
    Session,
    SessionFactory,
    live_session,
)
from asyncplay.tui.stepping_control import STEPPING_HELP, SteppingControl
from asyncplay.views.gutter_marks import same_file, task_line, warnings_at

__all__ = ["AsyncplayApp", "Session", "SessionFactory", "live_session"]

VIEWS = ("output", "tasks", "timeline", "graph", "objects", "exercise")
# The view shown beside each on a wide screen (the objects beside the tasks that wait;
# the exercise's text and verdicts beside the output).
PAIRS = {
    "output": "tasks",
    "tasks": "output",
    "timeline": "graph",
    "graph": "timeline",
    "objects": "tasks",
    "exercise": "output",
}
# The footer's keys, most useful first: what does not fit (80 columns) is left out whole
# (F10 is on the Step button beside Run and Stop).
FOOTER_ORDER = (
    "quit",
    "run",
    "stop",
    "help",
    "snippets",
    "timeline",
    "switch_pane",
    "save",
    "step",
)


class AsyncplayApp(
    ExerciseControl, ObjectLinks, SteppingControl, RunControl, BufferFiles, Leaving, App[int]
):
    """``AsyncplayApp(buffer).run()``; ``session_factory`` and ``clock`` are for tests."""

    # Absolute, so subclasses defined elsewhere (tests, benches) find it too.
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    TITLE = "asyncplay"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide"), (160, "-very-wide")]

    BINDINGS = commands.bindings()  # the keys, and the palette, from one table
    # Keys that also work while a dialog is open; the others belong to the main screen (a
    # run started from behind Settings would run with the limits being edited).
    GLOBAL_ACTIONS = frozenset({"stop", "interrupt", "quit", "command_palette"})

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
        self.autosave_error: str | None = None  # why the last autosave failed
        self._runs_init()
        self._stepping_init()
        self.playback = PlaybackControl(self)
        self._exercise_init()
        self._files_init()
        self._leaving_init()
        self._run_view = "output"  # the run view F4 returns to from the timeline
        self._clean_text = saved_text(buffer)
        self._note = note
        self._note_until_run = note is not None  # the start's note ends with the first run
        self.gc_tuning = False  # set by the command line (a process-wide choice)
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
                yield SteppingPanel(id="stepping")
            # A lesson or an exercise opens on its text (the Lesson or Exercise view): set
            # here, not after mount, where the tabs' own first activation (Output) would
            # come after it.
            lesson = lesson_of(self.buffer.text)
            first = "exercise" if lesson is not None else "output"
            with Vertical(id="side", classes=f"-show-{first}"):
                yield Tabs(
                    Tab("Output", id="tab-output"),
                    Tab("Tasks", id="tab-tasks"),
                    Tab("Timeline", id="tab-timeline"),
                    Tab("Graph", id="tab-graph"),
                    Tab("Objects", id="tab-objects"),
                    Tab(lesson_label(lesson), id="tab-exercise"),
                    id="pane-tabs",
                    active=f"tab-{first}",
                )
                with Vertical(id="output-box"):
                    yield OutputPane(id="output")
                    yield StdinBox(id="stdin")
                yield TaskTable(id="tasks")
                yield TimelinePane(id="timeline")
                yield GraphPane(id="graph")
                yield ObjectsPane(id="objects")
                yield ExercisePane(id="exercise")
        with Horizontal(id="bar"):
            yield Button("Run F5", id="run-button", compact=True, variant="success")
            yield Button("Stop F6", id="stop-button", compact=True, variant="error")
            yield Button("Step F10", id="step-button", compact=True, variant="primary")
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
    def objects(self) -> ObjectsPane:
        return self.query_one("#objects", ObjectsPane)

    @property
    def stepping_panel(self) -> SteppingPanel:
        return self.query_one("#stepping", SteppingPanel)

    @property
    def status(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    def on_mount(self) -> None:
        self.editor.load(self.buffer.text, self.buffer.cursor)
        self.refresh_exercise()
        self.open_on_code(self.buffer.cursor)  # a lesson's text is in its own view
        self.editor.focus()
        self.graph.builds = self.view_builds  # its slow rebuilds off the keys' path
        if self._note:
            self._note_until = self.clock() + NOTE_SECONDS
        self.set_interval(1 / TICK_HZ, self._tick, name="asyncplay-tick")
        self._check_storage()
        self.start_files()
        if self.gc_tuning:
            self.call_after_refresh(tune_gc)
        self.watch_signals()
        self._tick()

    def on_resize(self) -> None:
        self.call_after_refresh(self.refresh_bindings)  # the layout class may have changed
        self.call_after_refresh(self._label_step_button)

    def _label_step_button(self) -> None:
        """At 80 columns the Step button is just its word: the status line keeps the
        sandbox's room (F10 is in the help, the palette and the paused panel)."""
        for button in self.query("#step-button").results(Button):
            label = "Step" if self.screen.has_class("-narrow") else "Step F10"
            if str(button.label) != label:
                button.label = label
                button.refresh(layout=True)  # its width follows its word

    def on_unmount(self) -> None:
        self.view_builds.close()
        self.close_files()
        self.unwatch_signals()

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
        side.set_class(which == "objects", "-objects")
        if which in ("output", "tasks", "exercise"):
            self._run_view = which
        tabs = self.query_one("#pane-tabs", Tabs)
        tab_id = f"tab-{which}"
        if tabs.active != tab_id:
            tabs.active = tab_id
        self._tick()  # a view just shown catches up at once, not a tick later

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id != event.tabs.active:
            return  # told late: another tab was chosen since (the tabs' own first one)
        if event.tab is not None and event.tab.id:
            try:
                self._show_pane(event.tab.id.removeprefix("tab-"))
            except NoMatches:  # told while the screen goes away (quitting): nothing to show
                return

    def action_focus_stdin(self) -> None:
        """Straight to the program's stdin line (showing the Output view if it is hidden)."""
        if self.current_view() not in ("output", "tasks") or self.screen.has_class("-narrow"):
            self._show_pane("output")
        self.set_focus(self.query_one("#stdin"))

    def action_next_pane(self) -> None:
        view = self.current_view()
        # the lesson's view: an exercise's verdicts, then the text (it scrolls with the keys)
        lesson = ["exercise-text-box"]
        if self.exercise_checks is not None:
            lesson.insert(0, "exercise-verdicts")
        if self.screen.has_class("-narrow"):
            shown = ["output", "stdin"] if view == "output" else [view]
            shown = lesson if view == "exercise" else shown
        elif view in ("timeline", "graph"):
            shown = ["timeline", "graph"]
        else:
            shown = ["output", "stdin", *(lesson if view == "exercise" else ["tasks"])]
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
        elif event.button.id == "step-button":
            self.action_step()

    # ---- run, step, stop (the decisions: run_control.py, stepping_control.py) ----------

    def action_run(self) -> None:
        """F5: run the editor's text (a run going is stopped first); paused: continue."""
        if self.playback.active:
            self.playback.play()
            return
        if self.continue_if_paused():
            return
        self.start_run()

    def action_step(self) -> None:
        """F10: start the run paused; paused: one task step; running: pause."""
        if self.playback.active:
            self.playback.step()
            return
        self.step_run()

    def action_stop(self) -> None:
        """F6: stop the run."""
        if self.playback.active:
            self.playback.pause()
            return
        self.stop_run()

    def action_toggle_breakpoint(self) -> None:
        """Ctrl+B: a breakpoint on the editor's line, or on the task chosen in the task
        table, the timeline or the graph (``b`` there)."""
        focused = self.focused
        if isinstance(focused, TaskView):
            self._task_breakpoint(focused.task_under_cursor)
            return
        # In the editor's queue: after the cursor keys typed before it (a priority key
        # runs at once, ahead of the editor's pending keys).
        self.editor.call_later(self._line_breakpoint)

    def _line_breakpoint(self) -> None:
        line = self.editor.cursor_location[0] + 1
        on = self.toggle_line_breakpoint(self.run_path(), line)
        self.say(f"breakpoint at line {line}" if on else f"no breakpoint at line {line} now")

    def on_task_view_breakpoint_toggled(self, message: TaskView.BreakpointToggled) -> None:
        self._task_breakpoint(message.task)

    def _task_breakpoint(self, task: int | None) -> None:
        info = self.model.tasks.get(task) if self.model is not None and task is not None else None
        if info is None:
            self.say("no task here: b puts a breakpoint on the task under the cursor")
            return
        on = self.toggle_task_breakpoint(info.name)
        self.say(f"breakpoint on task {info.name!r}" if on else f"no breakpoint on {info.name!r}")

    # ---- output, tasks, stdin -----------------------------------------------------------

    def on_output_pane_jump(self, message: OutputPane.Jump) -> None:
        self.jump_to(message.line)

    def jump_to(self, line: int) -> None:
        editor = self.editor
        editor.move_to((line - 1, 0))
        editor.focus()

    def choose_task(self, task: int | None, source: object, jump: bool = False) -> None:
        """A task chosen in one view is shown chosen in the others (never echoed back):
        each finds its row by the task's id (O(1)), hidden or not, and redraws only the
        rows its cursor left and reached."""
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
        # The gutter's "selected" mark follows on the next tick: the marks are looked at
        # over every task (O(tasks)), once a tick however many moves the keys made.

    def on_task_table_task_chosen(self, message: TaskTable.TaskChosen) -> None:
        """Enter on a task: the object it waits on (a queue, a lock), else its line."""
        if message.jump and self.go_to_object(message.task):
            self.choose_task(message.task, self.tasks)
            return
        self.choose_task(message.task, self.tasks, message.jump)

    def on_graph_pane_task_chosen(self, message: GraphPane.TaskChosen) -> None:
        """Enter on a row goes to where the task waits at the moment the graph shows."""
        self.choose_task(message.task, self.graph)
        if message.jump and self.go_to_object(message.task, message.file, message.line):
            return  # it waits on a queue, a lock ...: that object, in the Objects view
        if message.jump and message.line and same_file(message.file, self.program):
            self.jump_to(message.line)
        elif message.jump:
            self.choose_task(message.task, self.graph, jump=True)

    def on_timeline_pane_step_chosen(self, message: TimelinePane.StepChosen) -> None:
        """The timeline's cursor picks a task (the graph reads its moment on the tick);
        Enter goes to the line of the step (not where the task is now)."""
        self.choose_task(message.task, self.timeline)
        jump = message.jump and message.task is not None
        if jump and self.go_to_object(message.task, message.file, message.line, message.t):
            return  # on its wait still going, on a queue, a lock ...: that object
        if message.jump and message.line and same_file(message.file, self.program):
            self.jump_to(message.line)

    def on_objects_pane_task_chosen(self, message: ObjectsPane.TaskChosen) -> None:
        """Enter on a holder, a waiter or a job: its task, chosen in every view (on a
        small screen the task table comes up to show it)."""
        self.choose_task(message.task, None)
        if self.screen.has_class("-narrow"):
            self._show_pane("tasks")
            self.set_focus(self.tasks)

    def on_objects_pane_line_chosen(self, message: ObjectsPane.LineChosen) -> None:
        """Enter on an object: the line that created it, in the editor."""
        if same_file(message.file, self.program):
            self.jump_to(message.line)

    def action_objects(self) -> None:
        """The program's queues, locks and executor jobs (beside the tasks when wide)."""
        self._show_pane("objects")
        self.set_focus(self.objects)

    def on_timeline_pane_warning_chosen(self, message: TimelinePane.WarningChosen) -> None:
        self.explain_warning(message.warning)

    def on_task_view_internal_toggled(self, message: TaskView.InternalToggled) -> None:
        self.set_internal(message.show_internal)

    def set_internal(self, value: bool) -> None:
        """One toggle for asyncio's own tasks, in the table, the timeline and the graph."""
        for view in (self.tasks, self.timeline, self.graph):
            view.set_internal(value)

    # ---- explanations ---------------------------------------------------------------

    def action_explain(self) -> None:
        """Shift+F1: explain what is where the user is: the warning at the editor's line or
        under the timeline's cursor, else the chosen task's warning or why it was
        cancelled; failing all that, the run's warnings to pick from."""
        model = self.model
        if model is None:
            self.notify("Run a program first (F5): then Shift+F1 explains its warnings.")
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
                "This run had no warnings to explain. Shift+F1 on a cancelled task (in the "
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
            ("Stepping (F10)", "Keys", STEPPING_HELP),
            ("Playing a run back", "Keys", PLAYBACK_HELP),
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
        from asyncplay.tui.services.python_probe import PythonProbe

        self.push_screen(SettingsScreen(self.settings, PythonProbe()), self._settings_done)

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
        """Textual's own, then every command of the table marked for the palette."""
        yield from super().get_system_commands(screen)
        for title, help_, callback in commands.palette(self):
            yield SystemCommand(title, help_, callback)

    # ---- playback (tui/playback_control.py) ---------------------------------------------

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """An edit leaves playback: F5 runs the edited text again, not the old run."""
        super().on_text_area_changed(event)
        if self.playback.active:
            self.playback.leave()
            self.say("left playback: the text changed (F5 runs it)")

    def action_play_back(self) -> None:
        self.playback.enter()

    def run_button_label(self) -> str:
        """What F5 does outside playback, on the Run button."""
        return "Run F5"

    def dress_playback(self, on: bool) -> None:
        """The Run button says what F5 does: in playback it plays."""
        for button in self.query("#run-button").results(Button):
            button.label = "Play F5" if on else self.run_button_label()
            button.refresh(layout=True)  # its width is the label's

    def action_step_back(self) -> None:
        self.playback.step_back()

    def action_leave_playback(self) -> None:
        if not self.playback.active:
            raise SkipAction()  # Escape goes on to whatever else wants it
        self.playback.leave()

    def action_playback_speed(self) -> None:
        from asyncplay.tui.screens.choice import ChoiceScreen

        answers = [(str(n), f"{s:g}x", s) for n, s in enumerate(SPEEDS, 1)]
        text = f"Play the run back at this many times its own pace (now {self.playback.speed:g}x)."
        self.push_screen(ChoiceScreen("Playback speed", text, answers), self._speed_chosen)

    def _speed_chosen(self, speed: object) -> None:
        if isinstance(speed, float):
            self.playback.set_speed(speed)

    def action_toggle_internal(self) -> None:
        """asyncio's own tasks shown or not (the task view's ``i``), from the palette."""
        self.tasks.action_toggle_internal()
