"""The user's files: autosave, settings and user snippets, as plain private JSON files.

A lab machine is shared, so every directory is 0700 and every file 0600, set explicitly
(a permissive umask must not leak a student's buffer). Every write goes to a temporary
file in the same directory, is fsynced and then renamed over the target: a crash or a
full disk leaves the old file or the new one, never half of one (a killed writer's temp
file is swept on the next start). Files are JSON, never pickle, so a damaged or hostile
file can only be *rejected*: a corrupt or strange file (a symlink we did not make, a FIFO,
a device, one too big) is moved aside to ``NAME.bad-<timestamp>`` (a new name each time,
so nothing the user typed is silently lost), :func:`take_notices` tells the app where it
went, and the caller gets ``None`` or defaults. Reading never follows a symlink, never
blocks (``O_NONBLOCK``, then ``fstat`` must say a regular file) and never reads more than
a bound; permissions are changed through the opened descriptor (``fchmod``), never a path.

API (used by the TUI):

- :func:`data_dir` -> Path: ``$ASYNCPLAY_HOME`` if set (tests use it), else platformdirs'
  ``user_data_dir("asyncplay")`` (honours ``XDG_DATA_HOME``); created 0700.
- :func:`write_atomic` (path, text, keep_mode=False): temp file 0600 + fsync +
  ``os.replace``; ``keep_mode=True`` for the user's own files (keeps their mode, follows
  symlinks).
- :class:`Autosave`, :func:`load_autosave` -> Autosave | None, :func:`save_autosave`.
- :class:`Settings` (+ ``to_limits()``, ``run_options()`` for RunSpec),
  :func:`load_settings` (never raises),
  :func:`save_settings`.
- :func:`user_snippets_dir` -> Path: ``data_dir()/snippets``, 0700.
- :func:`read_private` (path, limit) -> bytes | None: a file of ours, safely.
- :func:`take_notices` -> list[str]: what was quarantined since last asked (for the screen).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import stat
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from asyncplay.limits import CLOCKS, NETWORK_MODES, SANDBOX_MODES, Limits

__all__ = [
    "AUTOSAVE_FILE",
    "SETTINGS_FILE",
    "Autosave",
    "Settings",
    "StrangeFile",
    "autosave_data",
    "data_dir",
    "default_settings",
    "ensure_private_dir",
    "load_autosave",
    "load_settings",
    "parse_autosave",
    "save_autosave",
    "save_settings",
    "quarantine",
    "read_json",
    "read_private",
    "sweep_stale_temps",
    "take_notices",
    "user_snippets_dir",
    "write_atomic",
]

HOME_ENV = "ASYNCPLAY_HOME"
AUTOSAVE_FILE = "autosave.json"
SETTINGS_FILE = "settings.json"
SNIPPETS_DIR = "snippets"
UNSAVED_DIR = "unsaved"  # asyncplay/unsaved.py's folder
FORMAT_VERSION = 1
DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_private_dir(path: Path, *, follow: bool = True) -> Path:
    """Create ``path`` and every missing parent 0700 (whatever the umask), and make an
    existing ``path`` of ours 0700 if it is more open.

    ``Path.mkdir(parents=True)`` would create the parents with the umask (0777 under
    ``umask 000``), so each missing folder is made here. Modes change through a
    descriptor opened with ``O_NOFOLLOW``: a symlink is never chmodded through. A
    symlinked ``path`` is used as the user's own choice when ``follow`` (the data folder
    itself), and refused otherwise (the folders asyncplay makes inside it).
    """
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not os.path.lexists(probe) and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            continue  # made by someone else meanwhile: checked below if it is ``path``
        _fchmod_dir(folder)
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        if not follow:
            raise OSError(errno.ELOOP, "is a symlink asyncplay did not make", str(path))
        if not path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path))
        return path  # the user's own link: used, never chmodded through
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path))
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != DIR_MODE:
        _fchmod_dir(path)
    return path


def _fchmod_dir(path: Path) -> None:
    """0700 on the folder ``path`` names itself (``O_NOFOLLOW``: never a link's target)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fchmod(fd, DIR_MODE)
    finally:
        os.close(fd)


def data_dir() -> Path:
    """Where asyncplay keeps the user's files; created 0700 on first use."""
    home = os.environ.get(HOME_ENV)
    if home:
        path = Path(home).expanduser()
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("asyncplay", appauthor=False))
    return ensure_private_dir(path)


def user_snippets_dir() -> Path:
    """The folder of the user's own snippets (save-as puts files here by default)."""
    return ensure_private_dir(data_dir() / SNIPPETS_DIR, follow=False)


def write_atomic(
    path: Path, text: str, *, keep_mode: bool = False, follow_links: bool = True
) -> None:
    """Replace ``path`` with ``text`` (UTF-8) so readers see the old file or the new one.

    The temporary file is created in the target's directory (``os.replace`` is atomic
    only within one file system) and removed again if anything fails. The new file is
    0600, unless ``keep_mode``: then an existing file keeps its permission bits and a
    symlink keeps pointing at the file it names (the one written), which is what saving
    a user's own file elsewhere should do. ``follow_links=False``: a symlink at ``path`` is
    replaced by the file, never followed (a link a program left where its own file was).
    """
    path = Path(path)
    mode = FILE_MODE
    if keep_mode and not follow_links and path.is_symlink():
        mode = 0o644  # (the link's target's mode is not ours to copy)
    elif keep_mode:
        path = Path(os.path.realpath(path))
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; best effort (some file systems refuse)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


STALE_TEMP_SECONDS = 600  # older temp files are left over from a killed writer


def sweep_stale_temps(directory: Path) -> int:
    """Remove :func:`write_atomic` temp files a killed process left behind; returns how many.

    Only files named like ours (``.NAME.XXXX.tmp``) and older than
    :data:`STALE_TEMP_SECONDS`, so a write in progress in another instance is never touched.
    """
    removed = 0
    cutoff = time.time() - STALE_TEMP_SECONDS
    try:
        candidates = list(directory.glob(".*.tmp"))
    except OSError:
        return 0
    for path in candidates:
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


MAX_JSON_BYTES = 16 * 1024 * 1024  # a 4 MiB buffer, escaped, fits; /dev/zero does not
SETTINGS_LIMIT = 1024 * 1024


class StrangeFile(OSError):
    """A file of ours that is not a regular file of sane size (a link, FIFO, device)."""


def read_private(path: Path, limit: int = MAX_JSON_BYTES) -> bytes | None:
    """The bytes of the regular file ``path``; None if it does not exist.

    Raises :class:`StrangeFile` for a symlink (``O_NOFOLLOW``), a FIFO or device (opened
    ``O_NONBLOCK`` so a FIFO cannot hang us, then refused by ``fstat``) or a file over
    ``limit`` bytes (never more than that is read, even from a growing file), and
    OSError when it cannot be read.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StrangeFile(errno.ELOOP, "is a symlink", str(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StrangeFile(errno.EINVAL, "is not a regular file", str(path))
        if info.st_size > limit:
            raise StrangeFile(errno.EFBIG, f"is over {limit} bytes", str(path))
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise StrangeFile(errno.EFBIG, f"is over {limit} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_json(path: Path, limit: int = MAX_JSON_BYTES) -> dict[str, Any] | None:
    """The JSON object in ``path``; None if missing; an unusable file is quarantined."""
    try:
        raw = read_private(path, limit)
    except OSError as exc:
        quarantine(path, str(exc.strerror or exc))
        return None
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        quarantine(path, "is not valid JSON")
        return None
    return data


_notices: list[str] = []
_notices_lock = threading.Lock()


def take_notices() -> list[str]:
    """The sentences about quarantined files since the last call (the app shows them)."""
    with _notices_lock:
        taken = list(_notices)
        _notices.clear()
    return taken


def quarantine(path: Path, why: str = "could not be read") -> Path | None:
    """Move an unusable file aside to ``NAME.bad-<timestamp>`` and say where; the new
    name is unique, so an older quarantined file is never overwritten.

    ``rename`` moves a symlink itself, not its target; the moved file is made 0600
    through a descriptor opened ``O_NOFOLLOW | O_NONBLOCK`` and only if it is a
    regular file of ours: a planted link's target is never touched.
    """
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = None
    for n in range(100):
        candidate = path.with_name(f"{path.name}.bad-{stamp}" + (f"-{n}" if n else ""))
        if not os.path.lexists(candidate):
            target = candidate
            break
    if target is None:
        return None
    try:
        os.rename(path, target)
    except OSError:
        return None
    _make_private_file(target)
    with _notices_lock:
        _notices.append(f"{path.name} {why}: moved aside to {target}")
    return target


def _make_private_file(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return  # a symlink (ELOOP) or gone: nothing of ours to tighten
    # Best effort: the file is already out of the way, its mode is a nicety.
    with contextlib.suppress(OSError):
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
            os.fchmod(fd, FILE_MODE)
    os.close(fd)


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


# -- autosave ---------------------------------------------------------------------------


@dataclass
class Autosave:
    """The editor buffer as it was left, restored on the next start.

    ``path`` is the file the buffer came from (None for a new or bundled buffer),
    ``snippet`` the bundled snippet it was copied from, ``cursor`` (row, column) 0-based,
    ``dirty`` whether the text differs from ``path``'s, ``saved_at`` a ``time.time()``.
    A separate copy (made when another playground has the file open) has no ``path``:
    ``copy_of`` is the file it was copied from and ``copy_id`` tells it from others.
    ``read_only`` is never written: a read-only view is not the user's work.
    """

    text: str
    path: str | None = None
    snippet: str | None = None
    cursor: tuple[int, int] = (0, 0)
    dirty: bool = False
    saved_at: float = field(default_factory=time.time)
    copy_of: str | None = None
    copy_id: str | None = None
    read_only: bool = field(default=False, compare=False)


def parse_autosave(data: dict[str, Any]) -> Autosave | None:
    """The buffer a JSON object describes; None if it holds no text."""
    text = data.get("text")
    if not isinstance(text, str):
        return None
    cursor = data.get("cursor")
    if not (
        isinstance(cursor, list)
        and len(cursor) == 2
        and all(type(n) is int and n >= 0 for n in cursor)
    ):
        cursor = [0, 0]
    saved_at = data.get("saved_at")
    if not _is_number(saved_at):
        saved_at = 0.0
    return Autosave(
        text=text,
        path=_optional_str(data.get("path")),
        snippet=_optional_str(data.get("snippet")),
        cursor=(cursor[0], cursor[1]),
        dirty=data.get("dirty") is True,
        saved_at=float(saved_at),
        copy_of=_optional_str(data.get("copy_of")),
        copy_id=_optional_str(data.get("copy_id")),
    )


def load_autosave() -> Autosave | None:
    """The last buffer, or None when there is none or it is unusable (quarantined).

    Never raises: a data directory that cannot be created also means "no autosave".
    """
    try:
        home = data_dir()
    except OSError:
        return None
    sweep_stale_temps(home)  # once per start: the autosave is read once
    path = home / AUTOSAVE_FILE
    data = read_json(path)
    if data is None:
        return None
    buffer = parse_autosave(data)
    if buffer is None:
        quarantine(path, "holds no text")
    return buffer


def autosave_data(autosave: Autosave) -> dict[str, Any]:
    """``autosave`` as the JSON object written (the per-file store writes the same)."""
    data = asdict(autosave)
    data.pop("read_only", None)
    data["cursor"] = list(autosave.cursor)
    data["version"] = FORMAT_VERSION
    return data


def save_autosave(autosave: Autosave) -> None:
    """Write ``autosave`` atomically (0600)."""
    data = autosave_data(autosave)
    write_atomic(data_dir() / AUTOSAVE_FILE, _dump(data))


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# -- settings ---------------------------------------------------------------------------


@dataclass
class Settings:
    """What the settings screen edits: run limits, interpreter, theme, sandbox, network and
    clock.

    Defaults match the headless ``run`` command's (:class:`~asyncplay.limits.Limits`).
    ``python`` None means the interpreter asyncplay itself runs on.
    """

    timeout: float = 30.0
    memory_mib: int = 1024
    cpu: float = 30.0
    output_mib: float = 8.0
    procs: int = 64
    python: str | None = None
    theme: str = "textual-dark"
    sandbox: str = "auto"
    network: str = "on"
    clock: str = "real"
    speed: float = 1.0
    slow_step_ms: int = 100

    def to_limits(self) -> Limits:
        return Limits(
            timeout=self.timeout,
            memory_mib=self.memory_mib,
            cpu=self.cpu,
            output_mib=self.output_mib,
            procs=self.procs,
        )

    def run_options(self) -> dict[str, Any]:
        """Keyword arguments for :class:`~asyncplay.runner.spec.RunSpec`:
        ``RunSpec(source=..., path=..., **settings.run_options())``."""
        return {
            "python": self.python,
            "limits": self.to_limits(),
            "slow_step": self.slow_step_ms / 1000,
            "clock": self.clock,
            "speed": self.speed,
            "sandbox": self.sandbox,
            "network": self.network,
        }

    def problems(self) -> dict[str, str]:
        """Field name -> one-line reason, for every field holding an unusable value."""
        found: dict[str, str] = {}
        for f in fields(self):
            reason = _check(f.name, getattr(self, f.name))
            if reason:
                found[f.name] = reason
        return found


def _check(name: str, value: object) -> str | None:
    """Why ``value`` cannot be setting ``name``, or None when it can."""
    if name in ("memory_mib", "procs", "slow_step_ms"):
        if type(value) is not int or value <= 0:
            return "must be a whole number above 0"
    elif name in ("timeout", "cpu", "output_mib", "speed"):
        if not _is_number(value) or value <= 0:  # type: ignore[operator]
            return "must be a number above 0"
    elif name == "python":
        if value is not None and (not isinstance(value, str) or not value.strip()):
            return "must be an interpreter path or command"
    elif name == "theme":
        if not isinstance(value, str) or not value:
            return "must be a theme name"
    elif name == "sandbox":
        if value not in SANDBOX_MODES:
            return f"must be one of {', '.join(SANDBOX_MODES)}"
    elif name == "network":
        if value not in NETWORK_MODES:
            return f"must be one of {', '.join(NETWORK_MODES)}"
    elif name == "clock":
        if value not in CLOCKS:
            return f"must be one of {', '.join(CLOCKS)}"
    return None


def default_settings() -> Settings:
    """:class:`Settings` with the lab policy's defaults (docs/sandbox.md) for the limits and
    modes it names, so a user who never chose a limit is never above its ceiling."""
    from asyncplay import policy

    settings = Settings()
    try:
        pol = policy.load()
    except policy.PolicyError:
        # The editor refuses to start on such a policy and the session refuses every run:
        # the built-in defaults only fill the screen meanwhile.
        return settings
    for key, (attr, _unit, _whole) in policy.LIMITS.items():
        setattr(settings, attr, pol.default(key, getattr(settings, attr)))
    for key in policy.CHOICES:
        if hasattr(settings, key):
            setattr(settings, key, pol.default(key, getattr(settings, key)))
    return settings


def load_settings() -> Settings:
    """The saved settings; each missing or invalid value falls back to its default (the
    lab policy's, else the built-in one).

    Never raises: a corrupt file is quarantined (``settings.json.bad-<timestamp>``) and
    defaults are used.
    """
    try:
        data = read_json(data_dir() / SETTINGS_FILE, SETTINGS_LIMIT)
    except OSError:
        data = None
    settings = default_settings()
    if not data:
        return settings
    for f in fields(Settings):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.type == "float" and type(value) is int:
            value = float(value)
        if _check(f.name, value) is None:
            setattr(settings, f.name, value)
    return settings


def save_settings(settings: Settings) -> None:
    """Write ``settings`` atomically (0600); raises ValueError on an unusable value."""
    problems = settings.problems()
    if problems:
        name, reason = next(iter(problems.items()))
        raise ValueError(f"setting {name} {reason}")
    data = asdict(settings)
    data["version"] = FORMAT_VERSION
    write_atomic(data_dir() / SETTINGS_FILE, _dump(data))
