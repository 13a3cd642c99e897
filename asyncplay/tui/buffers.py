"""The app's files: open, save, and unsaved work kept per file (never one shared slot).

Each buffer's unsaved edits are filed under its own key (:mod:`asyncplay.unsaved`), so
opening another file, Ctrl+O, the snippet browser, ``asyncplay OTHER`` or quitting never
drops another file's edits: the file's entry is simply left where it is, and reopening
the file brings it back. The buffer on screen holds a lock naming this host and PID;
a second playground opening the same file is told (like an editor's swap-file warning)
and gets it read-only or as a separate copy, so neither overwrites the other.

Edits reach the disk :data:`AUTOSAVE_DELAY` after the last keystroke (and at least every
:data:`AUTOSAVE_MAX_WAIT` while typing goes on), written by a thread of its own: a
keystroke never waits for ``fsync`` on NFS. Quitting, a hang-up and a run write at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.widgets import TextArea

from asyncplay import snippets, storage, unsaved
from asyncplay.tui.services.autosave_writer import Writer

if TYPE_CHECKING:
    from asyncplay.tui.screens.snippet_browser import SnippetChoice

__all__ = [
    "AUTOSAVE_DELAY",
    "AUTOSAVE_MAX_WAIT",
    "MAX_SOURCE_BYTES",
    "BufferFiles",
    "StaleText",
    "origin_label",
    "persist",
    "read_source",
    "restore_unsaved",
    "saved_text",
]


class StaleText(Exception):
    """The editor cannot be read, and it was edited since its text was last taken."""


AUTOSAVE_DELAY = 0.4  # seconds after the last edit
AUTOSAVE_MAX_WAIT = 1.0  # ... but never longer than this after the first unsaved one


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


def saved_text(buffer: storage.Autosave) -> str | None:
    """The text the buffer has without unsaved edits: its file's, or its snippet's."""
    if not buffer.dirty and not buffer.copy_id:
        return buffer.text
    if buffer.copy_id:
        return None  # a separate copy has never been saved anywhere
    try:
        if buffer.path:
            return Path(buffer.path).read_text(encoding="utf-8")
        found = snippets.find_bundled(buffer.snippet) if buffer.snippet else None
        return found.path.read_text(encoding="utf-8") if found is not None else None
    except (OSError, UnicodeDecodeError, snippets.SnippetError):
        return None


def origin_label(buffer: storage.Autosave) -> str:
    """How the status bar names the buffer: its file, or the snippet it is a copy of."""
    if buffer.copy_id:
        return unsaved.label(buffer)
    if buffer.path:
        home = os.path.expanduser("~")
        path = buffer.path
        return "~" + path[len(home) :] if home != "/" and path.startswith(home + os.sep) else path
    if buffer.snippet:
        return f"copy of snippet {buffer.snippet}"
    return "untitled"


def persist(buffer: storage.Autosave, clean: str | None) -> None:
    """Write one snapshot: the buffer's own unsaved entry (or drop it when the buffer is
    clean again), then the last-buffer pointer ``autosave.json``. Raises OSError."""
    if buffer.read_only:
        return
    if buffer.dirty:
        unsaved.save_entry(buffer, clean)
    else:
        unsaved.remove_entry(unsaved.key_of(buffer))
    storage.save_autosave(buffer)


def restore_unsaved(buffer: storage.Autosave) -> tuple[storage.Autosave, unsaved.Holder | None]:
    """``buffer`` with its kept unsaved edits, if any; and the other running playground
    that has it open (then ``buffer`` is returned as it is: the app asks what to do)."""
    key = unsaved.key_of(buffer)
    holder = unsaved.live_holder(key)
    if holder is not None:
        return buffer, holder
    entry = unsaved.load_entry(key)
    kept = entry.buffer if entry is not None else _legacy(key)
    if kept is None or kept.text == buffer.text:
        return buffer, None
    kept.dirty = True
    return kept, None


def _legacy(key: str) -> storage.Autosave | None:
    """Unsaved edits an older asyncplay kept only in ``autosave.json``."""
    last = storage.load_autosave()
    if last is not None and last.dirty and unsaved.key_of(last) == key:
        return last
    return None


class BufferFiles:
    """The app's side of files (a mixin of :class:`~asyncplay.tui.app.AsyncplayApp`):
    the buffer's lock, its debounced autosave, open / save / save-as, unsaved work."""

    buffer: storage.Autosave
    autosave_enabled: bool
    autosave_error: str | None
    _clean_text: str | None

    # -- state ------------------------------------------------------------------------

    def _files_init(self) -> None:
        self._writer = Writer(self._written)
        self._held: str | None = None  # the key whose lock this playground holds
        self._autosave_timer: Any = None
        self._dirty_since: float | None = None
        self._edited_since_read = False  # an edit the buffer's text does not have yet
        self._editor_seen: TextArea | None = None

    @property
    def dirty(self) -> bool:
        if self.buffer.read_only:
            return False
        text = self._editor_text()
        if text is None:  # the editor cannot be read: the text last taken from it
            return self.buffer.text != self._clean_text
        return text != self._clean_text

    def _the_editor(self) -> TextArea:
        """The editor: on screen, else the one last found there (once the app has closed,
        the widget still holds the text the user saw last)."""
        try:
            editor: TextArea = self.editor  # type: ignore[attr-defined]
        except Exception:  # NoMatches, or no screen at all: the app is closing
            if self._editor_seen is None:
                raise
            return self._editor_seen
        self._editor_seen = editor
        return editor

    def _editor_text(self) -> str | None:
        """The editor's text, or None (logged) when it cannot be read."""
        try:
            return self._the_editor().text
        except Exception as exc:
            self.log.warning(f"the editor cannot be read: {exc!r}")  # type: ignore[attr-defined]
            return None

    def current_buffer(self) -> storage.Autosave:
        """The buffer with the editor's text and cursor now.

        Raises :class:`StaleText` if the editor cannot be read and it was edited since
        its text was last taken: the buffer's text is then older than what the user sees,
        and writing it would replace newer work.
        """
        try:
            editor = self._the_editor()
            text, cursor = editor.text, tuple(editor.cursor_location)
        except Exception as exc:
            if self._edited_since_read:
                raise StaleText(f"the editor cannot be read ({exc!r}) since the last edit") from exc
            self.log.warning(f"the editor cannot be read ({exc!r}); its text as last taken")  # type: ignore[attr-defined]
        else:
            self.buffer.text, self.buffer.cursor = text, cursor  # type: ignore[assignment]
            self._edited_since_read = False
        self.buffer.dirty = self.dirty
        self.buffer.saved_at = time.time()
        return self.buffer

    def _snapshot(self) -> Callable[[], None]:
        buffer = dataclasses.replace(self.current_buffer())
        clean = self._clean_text
        return lambda: persist(buffer, clean)

    def _written(self, error: str | None) -> None:
        """From the writer's thread: a plain attribute, read by the status bar's tick."""
        self.autosave_error = error

    # -- saving -----------------------------------------------------------------------

    def save_autosave(self) -> bool:
        """Write the buffer now (its unsaved entry and the last-buffer pointer); never
        raises, returns success."""
        if not self.autosave_enabled:
            return False
        if self.buffer.read_only:
            return True
        try:
            self._writer.run_now(self._snapshot())
        except Exception as exc:
            self.log.error(f"autosave failed: {exc!r}")  # type: ignore[attr-defined]
            self.autosave_error = str(exc) or type(exc).__name__
            return False
        self.autosave_error = None
        return True

    async def settle_editor(self, timeout: float = 1.0) -> None:
        """Let the editor take the keys typed before this one (quitting).

        The App runs a priority binding (Ctrl+Q) when it takes the key off its own queue,
        while characters typed just before it may still wait in the editor's queue (a
        burst over SSH): saving first would miss them. A callback posted to the editor
        runs after them.
        """
        done = asyncio.Event()
        # No editor (gone) or a stuck one: save what there is rather than not quit (the
        # save itself refuses text older than the last edit: StaleText).
        try:
            if self.editor.call_later(done.set):  # type: ignore[attr-defined]
                await asyncio.wait_for(done.wait(), timeout)
        except Exception as exc:
            self.log.warning(f"the editor did not settle: {exc!r}")  # type: ignore[attr-defined]

    def autosave_soon(self) -> None:
        """The debounced save: the snapshot is taken here, written by the thread."""
        self._dirty_since = None
        if self.autosave_enabled and not self.buffer.read_only:
            try:
                snapshot = self._snapshot()
            except StaleText as exc:
                self.log.error(f"autosave skipped: {exc}")  # type: ignore[attr-defined]
                self.autosave_error = str(exc)
                return
            self._writer.submit(snapshot)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._edited_since_read = True
        now = time.monotonic()
        if self._dirty_since is None:
            self._dirty_since = now
        # Textual's timers divide by their interval: never 0.
        delay = max(0.01, min(AUTOSAVE_DELAY, self._dirty_since + AUTOSAVE_MAX_WAIT - now))
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        self._autosave_timer = self.set_timer(delay, self.autosave_soon)  # type: ignore[attr-defined]

    def _heartbeat(self) -> None:
        key = self._held
        if key is None:
            return

        def beat() -> None:
            try:
                if unsaved.heartbeat(key):
                    return
                self.call_from_thread(self._lock_lost, key)  # type: ignore[attr-defined]
            except (OSError, RuntimeError) as exc:  # the folder went away, or the app did
                self._written(f"lock heartbeat: {exc}")

        threading.Thread(target=beat, name="asyncplay-heartbeat", daemon=True).start()

    def _lock_lost(self, key: str) -> None:
        """Another playground judged ours gone and took the file: from now on our edits
        go to a separate copy, so neither side overwrites the other."""
        if self._held != key:
            return
        self._held = None
        self.buffer = self._as_copy(self.current_buffer())
        self._clean_text = None
        self._claim()
        self.save_autosave()
        self.notify(  # type: ignore[attr-defined]
            "Another playground took over this file (this one looked gone). Your edits go "
            "on in a separate copy: F2 lists it; Ctrl+S saves it under a name.",
            severity="warning",
            timeout=20,
        )

    # -- the lock ---------------------------------------------------------------------

    def _claim(self) -> unsaved.Holder | None:
        """Lock the buffer for this playground; the live holder if another has it."""
        if not self.autosave_enabled or self.buffer.read_only:
            return None
        key = unsaved.key_of(self.buffer)
        if key == self._held:
            return None
        self.release_buffer()
        try:
            holder = unsaved.acquire(key)
        except OSError as exc:
            self.log.error(f"no lock on {key}: {exc!r}")  # type: ignore[attr-defined]
            return None  # cannot write there at all: the autosave says so
        if holder is None:
            self._held = key
        return holder

    def close_files(self) -> None:
        """The writer's thread ends once what is pending is written (on unmount)."""
        self._writer.close()

    def release_buffer(self) -> None:
        """Give up this playground's lock (quitting, or another buffer opened)."""
        key, self._held = self._held, None
        if key is not None:
            try:
                unsaved.release(key)
            except OSError as exc:
                self.log.error(f"could not release {key}: {exc!r}")  # type: ignore[attr-defined]

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
            self.notify(  # type: ignore[attr-defined]
                f"Your buffer cannot be kept between sessions ({self.autosave_error}). "
                f"Save with Ctrl+S (or F12 elsewhere); set {storage.HOME_ENV} to a folder "
                "of yours.",
                severity="error",
                timeout=20,
            )

    def start_files(self) -> None:
        """On mount: say what storage quarantined, take the buffer's lock (or ask, if
        another playground has it), and keep the lock's heartbeat going."""
        self.show_storage_notices()
        self.set_interval(unsaved.HEARTBEAT, self._heartbeat, name="asyncplay-heartbeat")  # type: ignore[attr-defined]
        if not self.autosave_enabled:
            return
        holder = unsaved.live_holder(unsaved.key_of(self.buffer))
        if holder is None:
            holder = self._claim()
        if holder is not None:
            self._ask_conflict(self.buffer, holder, None, start=True)
        elif self.buffer.dirty:
            self._tell_restored(self.buffer)

    def show_storage_notices(self) -> None:
        for notice in storage.take_notices():
            self.notify(notice, severity="warning", timeout=30)  # type: ignore[attr-defined]

    def _tell_restored(self, buffer: storage.Autosave) -> None:
        self.notify(  # type: ignore[attr-defined]
            f"Unsaved edits to {unsaved.label(buffer)} brought back. Want the saved file "
            "instead? Ctrl+P, 'Open the saved version' (these edits stay listed in F2).",
            timeout=12,
        )

    # -- two playgrounds --------------------------------------------------------------

    def _ask_conflict(
        self,
        wanted: storage.Autosave,
        holder: unsaved.Holder,
        note: str | None,
        *,
        start: bool = False,
    ) -> None:
        from asyncplay.tui.screens.choice import ChoiceScreen

        name = unsaved.label(wanted)
        entry = unsaved.load_entry(unsaved.key_of(wanted))
        edits = " with unsaved edits" if entry is not None else ""
        text = (
            f"{origin_label(wanted)} is open in another playground{edits} "
            f"({holder.describe()}). Editing it here too would overwrite one or the other.\n"
            "Open it read-only here, or edit a separate copy (Ctrl+S saves it under a "
            "name of its own)."
        )
        answers: list[tuple[str, str, object]] = [
            ("r", "Read-only", "readonly"),
            ("c", "Separate copy", "copy"),
        ]
        if start:
            self.buffer.read_only = True
            self.editor.read_only = True  # type: ignore[attr-defined]
        else:
            answers.append(("q", "Cancel", None))

        def chosen(answer: object) -> None:
            if answer is None and not start:
                return
            self._open_as(wanted, "copy" if answer == "copy" else "readonly", note)

        self.push_screen(  # type: ignore[attr-defined]
            ChoiceScreen(
                f"{name} is already open", text, answers, None if not start else "readonly"
            ),
            chosen,
        )

    def _as_copy(self, buffer: storage.Autosave) -> storage.Autosave:
        return storage.Autosave(
            text=buffer.text,
            snippet=buffer.snippet,
            cursor=buffer.cursor,
            dirty=True,
            copy_of=buffer.path or buffer.copy_of,
            copy_id=unsaved.new_copy_id(),
        )

    def _open_as(self, wanted: storage.Autosave, how: str, note: str | None) -> None:
        if how == "copy":
            copy = self._as_copy(wanted)
            self._switch_to(copy, note or f"{unsaved.label(copy)}: yours alone; Ctrl+S names it")
            return
        view = dataclasses.replace(wanted, read_only=True, dirty=False)
        self._switch_to(view, f"{origin_label(wanted)} (read-only): open in another playground")

    # -- switching buffers ------------------------------------------------------------

    def load_buffer(self, buffer: storage.Autosave, note: str) -> None:
        """Open another buffer. The current one's unsaved edits stay filed under its own
        key (written first: if that fails the switch does not happen)."""
        if unsaved.key_of(buffer) == unsaved.key_of(self.buffer) and not self.buffer.read_only:
            self.say(f"{origin_label(self.buffer)} is the buffer open here")  # type: ignore[attr-defined]
            return  # reloading it would drop the keystrokes not yet written
        wanted, holder = restore_unsaved(buffer)
        if holder is not None and unsaved.key_of(wanted) != self._held:
            if not self._keep_current():
                return
            self._ask_conflict(wanted, holder, None)
            return
        restored = wanted is not buffer or (buffer.dirty and not buffer.read_only)
        if wanted is not buffer:
            note = f"restored your unsaved edits to {unsaved.label(wanted)}"
        self._switch_to(wanted, note)
        if restored and self.buffer is wanted:
            self._tell_restored(wanted)

    def _keep_current(self) -> bool:
        """Write the current buffer's edits where they belong; False (and said) if not."""
        if not self.dirty:
            return True
        if self.autosave_enabled and self.save_autosave():
            self.notify(  # type: ignore[attr-defined]
                f"Your unsaved edits to {unsaved.label(self.buffer)} are kept: opening it "
                "again brings them back (F2 lists them).",
                timeout=10,
            )
            return True
        self.notify(  # type: ignore[attr-defined]
            "Not opened: your unsaved edits could not be kept aside. Save them first "
            "(Ctrl+S, or F12 elsewhere).",
            severity="error",
            timeout=12,
        )
        return False

    def _switch_to(self, buffer: storage.Autosave, note: str) -> None:
        if not self._keep_current():
            return
        self.release_buffer()
        self.buffer = buffer
        self._clean_text = saved_text(buffer) if not buffer.read_only else buffer.text
        editor = self.editor  # type: ignore[attr-defined]
        editor.read_only = buffer.read_only
        editor.load(buffer.text, buffer.cursor)
        holder = self._claim()
        if holder is not None:  # taken in the meantime: do not write over it
            self.buffer.read_only = editor.read_only = True
        self.save_autosave()
        self._leave_run()  # type: ignore[attr-defined]  # the last run's views: another file's
        self.open_on_code(buffer.cursor)  # type: ignore[attr-defined]  # a lesson's: its code
        self.say(note)  # type: ignore[attr-defined]

    def action_saved_version(self) -> None:
        """Open the file's saved version; the unsaved edits stay kept, as a copy."""
        if not self.dirty:
            self.notify("This buffer has no unsaved edits.")  # type: ignore[attr-defined]
            return
        clean = saved_text(dataclasses.replace(self.buffer, dirty=True))
        if clean is None:
            self.notify("There is no saved version of this buffer.", severity="warning")  # type: ignore[attr-defined]
            return
        try:
            copy = self._as_copy(self.current_buffer())
            unsaved.save_entry(copy, clean)
        except OSError as exc:
            self.notify(f"could not keep the edits: {exc}", severity="error")  # type: ignore[attr-defined]
            return
        editor = self.editor  # type: ignore[attr-defined]
        self._clean_text = clean
        editor.load(clean, self.buffer.cursor)
        self.save_autosave()
        self.say(f"the saved version of {unsaved.label(self.buffer)}")  # type: ignore[attr-defined]
        self.notify(  # type: ignore[attr-defined]
            f"Your edits are kept as {unsaved.label(copy)} (F2 lists it).", timeout=10
        )

    # -- files ------------------------------------------------------------------------

    def is_bundled(self) -> bool:
        if not self.buffer.path:
            return self.buffer.snippet is not None
        try:
            return Path(self.buffer.path).resolve().parent == snippets.bundled_dir().resolve()
        except OSError:
            return False

    def write_file(self, path: Path, *, follow_links: bool = True) -> None:
        """Save the buffer to ``path`` (atomically; an existing file keeps its mode). The
        buffer is then that file's: an entry and lock under its old key are let go.
        ``follow_links=False``: a symlink at ``path`` is replaced, not written through."""
        text = self.editor.text  # type: ignore[attr-defined]
        storage.write_atomic(path, text, keep_mode=True, follow_links=follow_links)
        old_key = unsaved.key_of(self.buffer)
        self.buffer.path = str(path.resolve())
        self.buffer.snippet = self.buffer.copy_of = self.buffer.copy_id = None
        self.buffer.read_only = False
        self.editor.read_only = False  # type: ignore[attr-defined]
        self._clean_text = text
        if unsaved.key_of(self.buffer) != old_key:
            if old_key == self._held:  # its edits are in the file now (a replay held none)
                try:
                    unsaved.remove_entry(old_key)
                except OSError as exc:
                    self.log.error(f"could not drop {old_key}: {exc!r}")  # type: ignore[attr-defined]
            holder = self._claim()
            if holder is not None:
                self.notify(  # type: ignore[attr-defined]
                    f"Saved, but {origin_label(self.buffer)} is open in another "
                    f"playground too ({holder.describe()}).",
                    severity="warning",
                    timeout=12,
                )
        self.save_autosave()
        self.say(f"saved {origin_label(self.buffer)}")  # type: ignore[attr-defined]

    def action_save(self) -> None:
        if self.buffer.path and not self.is_bundled() and not self.buffer.read_only:
            # The buffer's path was resolved when it was opened: a symlink there now was
            # put there since, e.g. by the program run from that folder (prog.py ->
            # /etc/passwd; as root asyncplay would write it). Replace it, never follow it.
            try:
                self.write_file(Path(self.buffer.path), follow_links=False)
            except OSError as exc:
                self.notify(f"could not save: {exc}", severity="error")  # type: ignore[attr-defined]
            return
        self.action_save_as()

    def save_as_folder(self) -> Path | None:
        """Where Save as starts: the file's folder; for a copy of a bundled lesson or an
        untitled buffer the current directory (where a student keeps their work), if it
        can be written, else None (the user's snippets folder)."""
        origin = self.buffer.path if not self.is_bundled() else None
        origin = origin or self.buffer.copy_of
        if origin:
            return Path(origin).parent
        cwd = Path.cwd()
        if os.access(cwd, os.W_OK) and cwd.resolve() != snippets.bundled_dir().resolve():
            return cwd
        return None

    def action_save_as(self) -> None:
        from asyncplay.tui.screens.file_dialogs import SaveAsScreen

        origin = self.buffer.path if not self.is_bundled() else None
        origin = origin or self.buffer.copy_of
        name = Path(origin).name if origin else (self.buffer.snippet or "untitled")
        folder = self.save_as_folder()
        self.push_screen(SaveAsScreen(name=name, folder=folder), self._saved_as)  # type: ignore[attr-defined]

    def _saved_as(self, result: Path | None) -> None:
        if result is None:
            return
        try:
            self.write_file(Path(result))
        except OSError as exc:
            self.notify(f"could not save: {exc}", severity="error")  # type: ignore[attr-defined]

    def action_open_file(self) -> None:
        from asyncplay.tui.screens.file_dialogs import OpenFileScreen

        self.push_screen(OpenFileScreen(start=Path.cwd()), self._opened)  # type: ignore[attr-defined]

    def _opened(self, result: Path | None) -> None:
        if result is not None:
            self.open_path(Path(result))

    def open_path(self, path: Path) -> None:
        try:
            text = read_source(path) if path.exists() else ""
        except ValueError as exc:
            self.notify(f"could not open: {exc}", severity="error")  # type: ignore[attr-defined]
            return
        buffer = storage.Autosave(text=text, path=str(path.resolve()))
        self.load_buffer(buffer, f"opened {origin_label(buffer)}")

    def action_snippets(self) -> None:
        from asyncplay.tui.screens.snippet_browser import SnippetBrowser

        browser = SnippetBrowser(current_key=unsaved.key_of(self.buffer))
        self.push_screen(browser, self._snippet_chosen)  # type: ignore[attr-defined]

    def _snippet_chosen(self, choice: SnippetChoice | None) -> None:
        if choice is None:
            return
        if choice.kind == "unsaved" and choice.buffer is not None:
            kept = choice.buffer
            self.load_buffer(kept, f"restored your unsaved edits to {unsaved.label(kept)}")
        elif choice.kind == "bundled":
            buffer = storage.Autosave(text=choice.text, snippet=choice.name)
            self.load_buffer(buffer, f"a copy of snippet {choice.name}; the original stays")
        elif choice.kind == "exercise":
            buffer = storage.Autosave(text=choice.text, snippet=choice.name)
            self.load_buffer(buffer, f"a copy of exercise {choice.name}; F11 checks it")
        else:
            buffer = storage.Autosave(text=choice.text, path=str(Path(choice.path).resolve()))
            self.load_buffer(buffer, f"opened your snippet {choice.name}")
