"""Which folders a run may write: the project folder, like python, and nothing else.

The working directory and the program's own folder are writable (a program writes
``out.txt`` next to itself and imports its siblings, as under ``python``), so is each
``--write DIR``; the rest of ``$HOME`` and the machine is read-only and ``/tmp`` private.
A working directory or program folder that must stay hidden or read-only - ``/``, ``/tmp``,
``/var/tmp``, ``$HOME`` itself, a system folder, a folder holding other programs' sockets
(tmux's) - is not made writable; the run still goes ahead, seeing only the program's own
file there, read-only, and one notice says so.
"""

from __future__ import annotations

import os

__all__ = ["Layout", "PRIVATE", "check_write", "data_folders", "layout"]

PRIVATE = ("/tmp",)  # replaced by the run's own empty tmpfs under bwrap
SHARED = ("/tmp", "/var/tmp")  # every user's: never the project folder
SYSTEM = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/opt",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var",
)


class Layout:
    """The folders of one run: written, shown read-only, and what the user is told."""

    def __init__(self) -> None:
        self.write: list[str] = []  # read-write folders
        self.read: list[str] = []  # the program's own file where its folder is protected
        self.hide: list[str] = []  # protected folders the program must not look into
        self.notices: list[str] = []  # one line each, for the run's first lines
        # asyncplay's own data inside a writable folder: bound back read-only over it
        self.keep: list[str] = []


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _homes() -> set[str]:
    homes = {os.path.expanduser("~")}
    if os.environ.get("HOME"):
        homes.add(os.environ["HOME"])
    return {os.path.realpath(h) for h in homes if h and os.path.isabs(h)}


def data_folders() -> list[str]:
    """asyncplay's own data folder (settings, autosave, unsaved edits, lock files), as the
    storage module finds it (``$ASYNCPLAY_HOME``, else the XDG data folder), not created.

    A project folder around it (``~/.local``, ``/home`` as the working directory) must not
    hand the program asyncplay's settings and the user's unsaved edits."""
    home = os.environ.get("ASYNCPLAY_HOME")
    if home:
        path = os.path.expanduser(home)
    else:
        # platformdirs' user_data_dir on Linux, without importing it: the sandbox also runs
        # under interpreters that only have the standard library.
        xdg = os.environ.get("XDG_DATA_HOME", "").strip()
        base = xdg if xdg and os.path.isabs(xdg) else os.path.expanduser("~/.local/share")
        path = os.path.join(base, "asyncplay")
    return [os.path.realpath(path)] if os.path.isabs(path) else []


def protected(folder: str, sockets: list[str]) -> tuple[str, bool] | None:
    """(why, hidden) if ``folder`` may not be made writable; None if it may.

    ``hidden``: the run sees none of it (private /tmp, other programs' sockets) rather
    than all of it read-only (``/``, ``$HOME``, system folders)."""
    real = os.path.realpath(folder)
    if real == "/":
        return "the machine's root folder", False
    if real in PRIVATE:
        return "shared with every user; the run's own is private", True
    if real in SHARED:
        return "shared with every user", False
    if real in _homes():
        return "your home folder itself", False
    if any(_inside(h, real) for h in _homes()):
        return "it holds your home folder", False
    if any(_inside(real, s) for s in SYSTEM) and not any(_inside(real, p) for p in SHARED):
        return "a system folder", False
    if any(os.path.dirname(s) == real for s in sockets):
        return "it holds other programs' sockets", True
    return None


def check_write(folder: str) -> str | None:
    """Why ``--write folder`` cannot be granted (None: it can)."""
    if not os.path.isdir(folder):
        return f"--write {folder}: no such folder"
    real = os.path.realpath(folder)
    if real == "/" or (
        any(_inside(real, s) for s in SYSTEM) and not any(_inside(real, p) for p in SHARED)
    ):
        return f"--write {folder}: a system folder cannot be made writable"
    return None


def layout(
    cwd: str, program: str | None, extra: list[str] | tuple[str, ...], sockets: list[str]
) -> Layout:
    """The writable folders for a run in ``cwd`` of ``program`` (a file path or None)."""
    out = Layout()
    places = [("the working directory", cwd)]
    if program:
        places.append(("the program's folder", os.path.dirname(os.path.abspath(program))))
    said: set[str] = set()
    for label, folder in places:
        real = os.path.realpath(folder)
        why = protected(real, sockets)
        if why is None:
            if real not in out.write:
                out.write.append(real)
            continue
        reason, hidden = why
        if hidden and real not in out.hide:
            out.hide.append(real)
        if program and os.path.dirname(os.path.realpath(program)) == real:
            out.read.append(os.path.realpath(program))
        if real in said:
            continue
        said.add(real)
        state = (
            "private to the run"
            if hidden and real in PRIVATE
            else ("hidden" if hidden else "read-only")
        )
        own = (
            "; the program's own file is visible there, read-only"
            if program and os.path.dirname(os.path.realpath(program)) == real
            else ""
        )
        out.notices.append(
            f"{label} {folder} is {state} in the sandbox ({reason}){own}; --write DIR "
            "makes a folder writable"
        )
    for folder in extra:
        real = os.path.realpath(folder)
        if real not in out.write:
            out.write.append(real)
    # asyncplay's data stays read-only wherever it lies in a writable folder. Its
    # snippets/ folder (where the playground runs an unsaved snippet: the project folder
    # of such a run) stays writable; the rest of it (settings, autosave, unsaved edits)
    # does not, also when the working directory is in it.
    for data in data_folders():
        snippets = os.path.join(data, "snippets")
        for folder in list(out.write):
            if _inside(folder, data) and not _inside(folder, snippets):
                out.write.remove(folder)
                out.notices.append(
                    f"the folder {folder} is read-only in the sandbox (asyncplay's own "
                    "data); --write DIR makes a folder writable"
                )
        if any(_inside(data, w) and data != w for w in out.write):
            out.keep.append(data)
    return out
