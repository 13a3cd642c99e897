"""Attach mode: the playground on a program asyncplay did not start (``asyncplay attach``).

The attached session's events go through the app's own path (the session factory, the
fold, the one reducer, the tick), so the task table, timeline, graph and warnings are the
views of a run. What differs is around it: the editor shows what the program is,
read-only; there is nothing to run, so F5 says so; F6 (Stop) detaches, as does quitting;
the program's stdin is its own terminal's, and what it prints goes there too (the Output
pane shows a copy of what it writes through sys.stdout and sys.stderr). The user's
autosaved buffer is never touched. No sandbox applies, and the opening note says so.
"""

from __future__ import annotations

import os

from textual import events
from textual.widgets import Button

from asyncplay import storage
from asyncplay.runner.attach_session import NO_SANDBOX, AttachSession
from asyncplay.runner.spec import RunSpec
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.panes.stdin_box import StdinBox
from asyncplay.tui.run_control import Session
from asyncplay.tui.services.attach_thread import AttachedSession

__all__ = ["AttachApp"]

NO_INPUT = "the program's stdin is its own terminal's, not the playground's"


def describe(session: AttachSession) -> str:
    """The editor's text: which program this is (nothing here runs)."""
    t = session.target
    assert t is not None
    return (
        f"# asyncplay attach {t.pid}: a program already running, started without asyncplay\n"
        f"#   command line: {t.cmdline or '?'}\n"
        f"#   Python {t.label}: {t.exe}\n"
        f"# {NO_SANDBOX}.\n"
        "# Shown from the moment of attaching: the tasks that already existed (with where\n"
        "# each waits), then every new task, step and warning. What it prints through\n"
        "# sys.stdout and sys.stderr is shown here as a copy: it still goes where it went.\n"
        "# F6 detaches (quitting too): the program goes on exactly as before.\n"
    )


class AttachApp(AsyncplayApp):
    """The app on an attached program: ``AttachApp(session, first_events).run()``."""

    def __init__(
        self,
        session: AttachSession,
        first: list[dict],
        timeout: float | None = None,
        **kwargs: object,
    ) -> None:
        self.attached: AttachSession | None = session
        self._first = first
        self.detach_after = timeout  # --timeout: detach then (the playground stays open)
        super().__init__(
            storage.Autosave(text=describe(session)),
            note=f"attached to process {session.pid}: F6 detaches; {NO_SANDBOX}",
            session_factory=self._session,
            autosave=False,
            **kwargs,  # type: ignore[arg-type]
        )

    async def _session(self, spec: RunSpec) -> Session:
        return await AttachedSession(self.attached, self._first).begin()  # type: ignore[arg-type]

    async def on_mount(self, event: events.Mount) -> None:
        event.prevent_default()
        AsyncplayApp.on_mount(self)
        self.editor.read_only = True
        for button in self.query("#run-button").results(Button):
            button.label = "Attached"
        for button in self.query("#stop-button").results(Button):
            button.label = "Detach F6"
        for box in self.query("#stdin").results(StdinBox):
            box.placeholder = NO_INPUT
        AsyncplayApp.action_run(self)
        if self.detach_after is not None:
            self.set_timer(self.detach_after, self._timed_out)

    def _timed_out(self) -> None:
        session = self.session
        if isinstance(session, AttachedSession) and session.running:
            session.detach(f"--timeout {self.detach_after:g} s")
            self.action_stop()

    def runs_program(self) -> bool:
        return False

    def make_spec(self, python: str | None = None) -> RunSpec:
        return RunSpec(
            source=self.editor.text, path=f"<attach {self.attached_pid}>", cwd=os.getcwd()
        )

    @property
    def attached_pid(self) -> int:
        return self.attached.pid if self.attached is not None else 0

    def action_run(self) -> None:
        if self.session is not None and self.session.running:
            self.say(f"attached to process {self.attached_pid}: nothing to run here; F6 detaches")
        else:
            self.say("detached: 'asyncplay attach PID' attaches again")

    def action_step(self) -> None:
        """F10: an attached program is not asyncplay's to pause (its playback is)."""
        if self.playback.active:
            super().action_step()
            return
        self.say("attached: F10 steps only a run the playground started; this one goes on")

    def action_stop(self) -> None:
        if self.session is not None and self.session.running:
            super().action_stop()
            self.say(f"detaching from process {self.attached_pid}: it goes on as before")
        else:
            self.say("detached already: 'asyncplay attach PID' attaches again")

    def action_focus_stdin(self) -> None:
        self.say(NO_INPUT)

    def on_stdin_box_line(self, message: StdinBox.Line) -> None:
        message.prevent_default()
        self.say(NO_INPUT)

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and self.focused is self.editor:
            self.say("read-only: this describes the attached program; nothing here runs")

    def status_note(self) -> str:
        if self._note and self.clock() < self._note_until:
            return super().status_note()
        if self.session is not None and self.session.running:
            return f"attached to process {self.attached_pid} (F6 detaches)"
        return f"detached from process {self.attached_pid}"
