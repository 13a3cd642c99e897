"""What the editor opens on, and running it so that nothing is lost or left behind."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from pathlib import Path

from asyncplay import snippets, storage, unsaved
from asyncplay.tui import terminal_guard
from asyncplay.tui.app import AsyncplayApp
from asyncplay.tui.buffers import read_source, restore_unsaved
from asyncplay.tui.replay_mode import Replay, ReplayApp
from asyncplay.views.recording import Recording

TYPE_CHECKING = False
if TYPE_CHECKING:
    from asyncplay.runner.attach_session import AttachSession

__all__ = ["first_snippet", "launch", "launch_replay", "opening", "read_source"]


def _when(saved_at: float) -> str:
    if not saved_at:
        return "earlier"
    return time.strftime(
        "%H:%M" if time.time() - saved_at < 86_400 else "%b %d %H:%M", time.localtime(saved_at)
    )


def first_snippet() -> storage.Autosave:
    """The buffer of a first start: the course's first bundled snippet."""
    name = snippets.bundled_names()[0]
    found = snippets.find_bundled(name)
    text = found.path.read_text(encoding="utf-8") if found is not None else ""
    return storage.Autosave(text=text, snippet=name)


def opening(target: str | None) -> tuple[storage.Autosave, str | None]:
    """The buffer to open and the note the status bar shows about it.

    No target: the last buffer with its unsaved edits, else (first use) the first
    bundled snippet. A FILE (an existing file, or anything that looks like a path): its
    text, or an empty buffer saved there on ctrl+s; unsaved edits to it from any earlier
    session come back (they are kept per file). A NAME: a copy of that bundled snippet
    (an edited copy comes back). When another running playground has the buffer open,
    its saved version is returned and the app asks (read-only or a separate copy).
    Raises ValueError with a one-line reason.
    """
    if target is None:
        last = storage.load_autosave()
        if last is not None:
            return _reopen_last(last)
        buffer = first_snippet()
        return buffer, f"welcome: F5 runs snippet {buffer.snippet}, F1 explains"
    path = Path(target)
    if path.is_dir():
        raise ValueError(f"{target} is a directory, not a Python file")
    looks_like_path = os.sep in target or target.endswith(".py") or path.exists()
    if looks_like_path:
        full = path.resolve()
        if not full.parent.is_dir():
            raise ValueError(f"no such directory: {path.parent}")
        if path.exists():
            base = storage.Autosave(text=read_source(path, target), path=str(full))
            note = f"opened {target}"
        else:
            base = storage.Autosave(text="", path=str(full))
            note = f"new file {target}: ctrl+s creates it"
        buffer, holder = restore_unsaved(base)
        if buffer is not base:
            return buffer, f"restored your unsaved edits to {target} from {_when(buffer.saved_at)}"
        return base, _busy(target, holder) or note
    found = snippets.find_bundled(target)
    if found is None:
        close = snippets.close_matches(target)
        hint = (
            f"; close matches: {', '.join(close)}" if close else "; 'asyncplay snippets' lists them"
        )
        raise ValueError(f"no file or snippet named {target!r}{hint}")
    text = found.path.read_text(encoding="utf-8")
    base = storage.Autosave(text=text, snippet=target)
    buffer, holder = restore_unsaved(base)
    if buffer is not base:
        return (
            buffer,
            f"restored your edited copy of snippet {target} from {_when(buffer.saved_at)}",
        )
    return base, _busy(target, holder) or f"a copy of snippet {target}: {found.title}"


def _busy(target: str, holder: object) -> str | None:
    return f"{target} is open in another playground" if holder is not None else None


def _reopen_last(last: storage.Autosave) -> tuple[storage.Autosave, str | None]:
    """The last buffer: its saved text (read afresh) with its kept unsaved edits."""
    clean: str | None = None
    if last.path and not last.copy_id:
        try:
            clean = read_source(Path(last.path))
        except ValueError:
            clean = None
    elif last.snippet and not last.copy_id:
        found = snippets.find_bundled(last.snippet)
        with contextlib.suppress(OSError, UnicodeDecodeError):
            clean = found.path.read_text(encoding="utf-8") if found is not None else None
    base = dataclasses.replace(last, text=clean, dirty=False) if clean is not None else last
    buffer, holder = restore_unsaved(base)
    if holder is not None:
        return base, f"{_describe(last)} is open in another playground"
    if buffer is base and last.dirty:
        buffer = last  # edits kept only in autosave.json (an older asyncplay): its text
    return buffer, f"restored your last buffer ({_describe(buffer)}) from {_when(last.saved_at)}"


def _describe(buffer: storage.Autosave) -> str:
    return unsaved.label(buffer) + (", unsaved edits" if buffer.dirty else "")


def launch(buffer: storage.Autosave, note: str | None) -> int:
    """Run the app; whatever happens to it, the buffer is saved and the run is gone."""
    return _run(AsyncplayApp(buffer, note=note))


def launch_replay(file: str, recording: Recording) -> int:
    """Show a recording in the app (replay mode); nothing is run, the autosave untouched
    unless the user saves the source and so makes it an ordinary buffer."""
    return _run(ReplayApp(Replay(file, recording)))


def launch_attach(session: AttachSession, first: list[dict], timeout: float | None) -> int:
    """The playground on an attached program (attach mode); closing it detaches."""
    from asyncplay.tui.attach_mode import AttachApp

    return _run(AttachApp(session, first, timeout))


def _run(app: AsyncplayApp) -> int:
    """Run the app in this terminal; whatever happens to it, the buffer is saved (a
    replay's only once the user made it theirs) and the run is gone."""
    app.hangup_watchdog = True
    app.gc_tuning = True
    # From here on this is the app's own process; the one the shell started waits for it
    # and restores the terminal if the app dies without doing so (a SIGKILL).
    restored = terminal_guard.supervise()
    try:
        app.run()
    finally:
        restored()  # Textual has left application mode (or never entered it)
        if app.watchdog is not None:
            app.watchdog.cancel()
        app.save_autosave()
        app.release_buffer()
        app.kill_now()
    return app.return_code or 0
