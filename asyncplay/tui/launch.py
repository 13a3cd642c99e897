"""What the editor opens on, and running it so that nothing is lost or left behind."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

from asyncplay import snippets, storage

if TYPE_CHECKING:
    from asyncplay.recording import Recording
    from asyncplay.tui.app import AsyncplayApp


def _when(saved_at: float) -> str:
    if not saved_at:
        return "earlier"
    return time.strftime(
        "%H:%M" if time.time() - saved_at < 86_400 else "%b %d %H:%M", time.localtime(saved_at)
    )


MAX_SOURCE_BYTES = 4 * 1024 * 1024  # a program to edit, not a data file: 4 MiB is plenty


def read_source(path: Path, shown: str | None = None) -> str:
    """The text of a program file, or ValueError with a one-line reason.

    Only regular files of a sane size: ``/dev/zero`` would fill the memory, a FIFO would
    block the editor forever.
    """
    shown = shown or str(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise ValueError(f"cannot read {shown}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ValueError(f"{shown} is a directory, not a Python file")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{shown} is not a regular file (a device, FIFO or socket)")
    if info.st_size > MAX_SOURCE_BYTES:
        size = info.st_size / (1024 * 1024)
        limit = MAX_SOURCE_BYTES // (1024 * 1024)
        raise ValueError(f"{shown} is {size:.1f} MiB: too big to edit here (at most {limit} MiB)")
    try:
        with path.open("rb") as handle:  # never more than the limit, even if it grew
            data = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot read {shown}: {exc.strerror}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise ValueError(f"{shown} is too big to edit here (at most 4 MiB)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{shown} is not UTF-8 text") from None


def opening(target: str | None) -> tuple[storage.Autosave, str | None]:
    """The buffer to open and the note the status bar shows about it.

    No target: the last buffer exactly as left, else (first use) the first bundled snippet.
    A FILE (an existing file, or anything that looks like a path): its text, or an empty
    buffer saved there on ctrl+s; unsaved edits to it from last time come back. A NAME:
    a copy of that bundled snippet. Raises ValueError with a one-line reason.
    """
    if target is None:
        last = storage.load_autosave()
        if last is not None:
            return (
                last,
                f"restored your last buffer ({_describe(last)}) from {_when(last.saved_at)}",
            )
        from asyncplay.tui.app import first_snippet

        buffer = first_snippet()
        return buffer, f"welcome: this is snippet {buffer.snippet}; F5 runs it, F1 explains"
    path = Path(target)
    if path.is_dir():
        raise ValueError(f"{target} is a directory, not a Python file")
    looks_like_path = os.sep in target or target.endswith(".py") or path.exists()
    if looks_like_path:
        full = path.resolve()
        if not full.parent.is_dir():
            raise ValueError(f"no such directory: {path.parent}")
        last = storage.load_autosave()
        if last is not None and last.dirty and last.path == str(full):
            return last, f"restored your unsaved edits to {target} from {_when(last.saved_at)}"
        if path.exists():
            text = read_source(path, target)
            return storage.Autosave(text=text, path=str(full)), f"opened {target}"
        return storage.Autosave(text="", path=str(full)), f"new file {target}: ctrl+s creates it"
    found = snippets.find_bundled(target)
    if found is None:
        close = snippets.close_matches(target)
        hint = (
            f"; close matches: {', '.join(close)}" if close else "; 'asyncplay snippets' lists them"
        )
        raise ValueError(f"no file or snippet named {target!r}{hint}")
    last = storage.load_autosave()
    if last is not None and last.dirty and last.snippet == target and not last.path:
        return last, f"restored your edited copy of snippet {target} from {_when(last.saved_at)}"
    text = found.path.read_text(encoding="utf-8")
    return storage.Autosave(text=text, snippet=target), f"a copy of snippet {target}: {found.title}"


def _describe(buffer: storage.Autosave) -> str:
    if buffer.path:
        what = os.path.basename(buffer.path)
    elif buffer.snippet:
        what = f"copy of snippet {buffer.snippet}"
    else:
        what = "untitled"
    return what + (", unsaved edits" if buffer.dirty else "")


def launch(buffer: storage.Autosave, note: str | None) -> int:
    """Run the app; whatever happens to it, the buffer is saved and the run is gone."""
    from asyncplay.tui.app import AsyncplayApp

    return _run(AsyncplayApp(buffer, note=note))


def launch_replay(file: str, recording: Recording) -> int:
    """Show a recording in the app (replay mode); nothing is run, the autosave untouched
    unless the user saves the source and so makes it an ordinary buffer."""
    from asyncplay.tui.replay_mode import Replay, ReplayApp

    return _run(ReplayApp(Replay(file, recording)))


def _run(app: AsyncplayApp) -> int:
    """Run the app in this terminal; whatever happens to it, the buffer is saved (a
    replay's only once the user made it theirs) and the run is gone."""
    from asyncplay.tui import terminal_guard

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
        app.kill_now()
    return app.return_code or 0
