"""``--record OUT.jsonl`` and ``asyncplay replay``: a run's whole event stream in a file.

The format is JSON lines: a header object first, then every event exactly as ``--json``
prints it (``run_start`` ... ``run_end``). Replaying folds the events with the same reducer,
so every view of a replay is the view of the live run. A file is a user's input: anything
wrong with it is a ``RecordingError`` (one line, its own exit status), never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import IO

import asyncplay
from asyncplay import exits
from asyncplay.decoder import number_problem
from asyncplay.outfile import open_output_file
from asyncplay.protocol import PROTOCOL_VERSION, NumberError, loads, time_ok

FORMAT = 1  # the recording's own layout (header + JSON lines); bumped if that changes
BUFFER = 1024 * 1024  # the run must not wait for the disk: write in large blocks
CHUNK = 50_000  # steps (or other events) kept in memory before they are encoded and written
INTERVAL = 0.5  # seconds: what waits is written at least this often while events come
LIMIT_MIB = 256  # the default size cap of a recording (--record-limit)
CUT = "recording_cut"  # the last line of a recording stopped by its size cap
SOURCE_MAX = 4 * 1024 * 1024  # bytes: the program's text kept in the header, at most


_NUM = (int, float)
_OPT_INT = (int, type(None))
_OPT_STR = (str, type(None))
# The keys the reducer and the views read, and the types they need: a recording is a
# user's file, and a wrong type must be "damaged", not a crash in a view.
FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "task_created": {"id": (int,), "t": _NUM, "name": _OPT_STR, "coro": _OPT_STR,
                     "parent": _OPT_INT, "file": _OPT_STR, "line": _OPT_INT},
    "task_renamed": {"id": (int,), "name": (str,)},
    "steps": {"steps": (list,)},
    "figures": {"tasks": (list,)},
    "task_done": {"id": (int,), "t": _NUM, "state": (str,), "result": _OPT_STR,
                  "exc_type": _OPT_STR, "exc_msg": _OPT_STR, "file": _OPT_STR,
                  "line": _OPT_INT},
    "output": {"text": (str,), "stream": (str,), "task": _OPT_INT},
    "warning": {"kind": (str,), "message": (str,), "task": _OPT_INT, "file": _OPT_STR,
                "line": _OPT_INT},
    "cancel_source": {"id": (int,), "cause": _OPT_STR, "by": _OPT_INT, "file": _OPT_STR,
                      "line": _OPT_INT},
    "run_end": {"exit_code": (int,), "message": (str,), "bye": (bool,)},
    "protocol_error": {"message": (str,)},
}  # fmt: skip
STEP_TYPES = ((int,), _NUM, _NUM, _OPT_STR, _OPT_STR, (int,))
# A figures row (figures mode: never recorded by asyncplay, but a file is anyone's).
FIGURE_TYPES = ((int,), (int,), _NUM, _NUM, _NUM, _NUM, _OPT_STR, _OPT_STR, _OPT_STR, (int,))


def check(ev: dict) -> str | None:
    """What is wrong with one event of a recording, or None. The numbers follow the
    protocol's rules (``docs/protocol.md``, Numbers): a time out of range is damage."""
    t = ev.get("t")
    if t is not None and not time_ok(t):
        return "a time that is not a number of seconds from 0 to 1e12"
    for key, types in FIELDS.get(ev["event"], {}).items():
        if key in ev or key in ("id", "steps", "text", "tasks"):
            if type(ev.get(key)) not in types:
                return f"a bad {key!r}"
    if ev["event"] == "steps":
        for step in ev["steps"]:
            if (
                type(step) is not list
                or len(step) != 6
                or any(type(v) not in ts for v, ts in zip(step, STEP_TYPES, strict=True))
                or not (time_ok(step[1]) and time_ok(step[2]) and time_ok(step[1] + step[2]))
            ):
                return "a malformed step"
        return None
    if ev["event"] == "figures":
        for row in ev["tasks"]:
            if (
                type(row) is not list
                or len(row) != len(FIGURE_TYPES)
                or any(type(v) not in ts for v, ts in zip(row, FIGURE_TYPES, strict=True))
                or not all(time_ok(v) for v in row[2:6])
            ):
                return "a malformed figures row"
        return None
    if "duration" in ev and not time_ok(ev["duration"]):
        return "a duration out of range"
    return number_problem(ev)


def program_source(
    path: str | None, module: str | None, source: str | None, cwd: str, limit: int
) -> dict:
    """The header keys that let a replay show the program: ``source`` and ``source_path``
    (the absolute file the events name the program by), or ``source_note`` saying why not.

    Read once, before the run starts: the text that ran, not what the file holds later.
    ``limit`` is the recording's size cap in bytes: the source gets at most a quarter of
    it, so the header always fits and the events keep most of the room.
    """
    if module is not None:
        found = find_module(module, cwd)
        if found is None:
            return {"source_note": f"the file of module {module} was not found"}
        path = found
    pseudo = bool(path) and path.startswith("<") and path.endswith(">")  # "<stdin>"
    where = path if pseudo else os.path.join(cwd, path or "")
    if source is None and os.path.isdir(where):  # python runs its __main__.py
        where = os.path.join(where, "__main__.py")
    keys: dict = {"source_path": where}
    cap = min(SOURCE_MAX, limit // 4)
    too_big = {
        "source_note": f"the program is bigger than {cap / (1 << 20):.3g} MiB (the most "
        "a recording keeps of it)"
    }
    if source is None:
        if not os.path.isfile(where):  # a FIFO or /dev/stdin: read by the program only
            keys["source_note"] = f"{where} is not a regular file"
            return keys
        try:
            with open(where, "rb") as f:  # never more than the cap, even if it grew
                data = f.read(cap + 1)
        except OSError as exc:
            keys["source_note"] = f"could not read {where}: {exc.strerror or exc}"
            return keys
        if len(data) > cap:
            return keys | too_big
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            keys["source_note"] = f"{where} is not UTF-8 text"
            return keys
    elif len(source.encode("utf-8", "replace")) > cap:
        return keys | too_big
    keys["source"] = source
    return keys


def find_module(name: str, cwd: str) -> str | None:
    """The file ``python -m NAME`` would run from ``cwd``, found without importing
    anything (a package's ``__main__.py``); None if it is not a plain source file."""
    import importlib.machinery

    paths = [cwd, *(p for p in sys.path if p)]
    spec = None
    parts = name.split(".")
    for i in range(len(parts)):
        try:
            spec = importlib.machinery.PathFinder.find_spec(".".join(parts[: i + 1]), paths)
        except (ImportError, ValueError, OSError):
            return None
        if spec is None:
            return None
        if i < len(parts) - 1:
            paths = list(spec.submodule_search_locations or [])
    if spec is not None and spec.submodule_search_locations is not None:  # a package
        try:
            spec = importlib.machinery.PathFinder.find_spec(
                f"{name}.__main__", list(spec.submodule_search_locations)
            )
        except (ImportError, ValueError, OSError):
            return None
    origin = spec.origin if spec is not None else None
    return origin if origin and origin.endswith(".py") and os.path.isfile(origin) else None


class RecordingError(Exception):
    """A file replay cannot use; ``status`` is the exit status to leave with."""

    def __init__(self, message: str, status: int = exits.RECORDING) -> None:
        super().__init__(message)
        self.status = status


class Recorder:
    """Writes the events of a run in bounded batches, up to a size cap.

    The file is opened at once, so a path that cannot be written is a usage error before
    the program starts. Encoding is the costly part (a few µs per event): done event by
    event it took CPU from a busy program (measured: a 20,000-task run's own time went
    from 0.34 to 0.52 s on 2 loaded cores; a writer thread was worse, through the GIL).
    So events wait in memory and are encoded a batch at a time, in this thread: when
    ``CHUNK`` steps or events are waiting (a ``steps`` event weighs its steps: one event
    of a tight loop holds thousands), or ``INTERVAL`` seconds after the last batch. The
    memory held is one batch, whatever the run's length.

    The file stops growing at ``limit`` bytes: past it nothing more is written but one
    ``recording_cut`` line, which replay reports; the run goes on (``cut`` says so, for
    one line at the end). A write failing (a full disk) stops the recording, never the
    run, and is reported at the end (``error``).
    """

    def __init__(self, path: str, header: dict, limit_mib: float = LIMIT_MIB) -> None:
        self.path = path
        self.limit_mib = limit_mib
        self.limit = int(limit_mib * (1 << 20))  # bytes
        self.error: str | None = None
        self.cut: str | None = None  # why the recording stopped early, for the end
        # (never through a link or into a FIFO the program left there: outfile.py)
        self._file: IO[str] | None = open_output_file(path, buffering=BUFFER)
        self._written = 0  # bytes: the encoder escapes everything to ASCII
        self._weight = 1  # the header, waiting below
        self._due = time.monotonic() + INTERVAL
        self._last_t = 0.0
        self._pending: list[dict] = []
        head = {"asyncplay_recording": FORMAT, "protocol": PROTOCOL_VERSION}
        head.update(header)
        head.setdefault("asyncplay", asyncplay.__version__)
        head.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self._pending.append(head)

    def write(self, event: dict) -> None:
        if self._file is None:
            return
        self._pending.append(event)
        steps = event.get("steps")
        self._weight += len(steps) if type(steps) is list else 1
        if self._weight >= CHUNK or time.monotonic() >= self._due:
            self.flush()

    def flush(self) -> None:
        events, self._pending = self._pending, []
        self._weight = 0
        self._due = time.monotonic() + INTERVAL
        if self._file is None or not events:
            return
        dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
        try:
            for i in range(0, len(events), 1000):
                block = [dumps(ev) + "\n" for ev in events[i : i + 1000]]
                size = sum(map(len, block))
                if self._written + size > self.limit:
                    self._write_until_cut(block, events[i : i + 1000])
                    return
                self._file.write("".join(block))
                self._written += size
                t = events[i + len(block) - 1].get("t")
                if type(t) in _NUM:
                    self._last_t = t
        except (OSError, ValueError, TypeError) as exc:
            self._fail(exc)

    def _write_until_cut(self, block: list[str], events: list[dict]) -> None:
        """Write the lines that still fit, then the ``recording_cut`` line, and stop."""
        assert self._file is not None
        for line, ev in zip(block, events, strict=True):
            if self._written + len(line) > self.limit:
                break
            self._file.write(line)
            self._written += len(line)
            t = ev.get("t")
            if type(t) in _NUM:
                self._last_t = t
        mib = self.limit_mib
        self._file.write(
            json.dumps({"event": CUT, "t": self._last_t, "limit_mib": mib}, separators=(",", ":"))
            + "\n"
        )
        self.cut = (
            f"the recording {self.path} stopped at its size limit ({mib:g} MiB, "
            f"--record-limit) {self._last_t:.2f} s into the run; the run went on"
        )
        self.close()

    def close(self) -> None:
        """Write what is pending and close the file (the run is over)."""
        self.flush()
        if self._file is None:
            return
        f, self._file = self._file, None
        try:
            f.close()
        except OSError as exc:
            self.error = f"could not write the recording {self.path}: {exc}"

    def _fail(self, exc: BaseException) -> None:
        self.error = f"could not write the recording {self.path}: {exc}"
        f, self._file = self._file, None
        try:
            if f is not None:
                f.close()
        except OSError:
            pass


class Recording:
    """A recording read back: its header, its events, and whether it ended properly."""

    def __init__(self, header: dict, events: list[dict], truncated: str | None) -> None:
        self.header = header
        self.events = events
        self.truncated = truncated  # why it looks cut short, or None


def read(path: str) -> Recording:
    """Read and check a whole recording (raises ``RecordingError``, or ``OSError`` when the
    file cannot be opened at all)."""
    with open(path, "rb") as f:
        lines = enumerate(f, 1)
        first = next(lines, None)
        header = _header(path, first[1] if first else b"")
        events: list[dict] = []
        truncated: str | None = None
        for n, raw in lines:
            try:
                ev = loads(raw)  # NaN, Infinity and 1e400 are no numbers of an event
            except NumberError as exc:
                raise RecordingError(f"{path}: line {n} holds {exc}; the file is damaged") from None
            except ValueError:
                ev = None
            if not isinstance(ev, dict) or not isinstance(ev.get("event"), str):
                if not raw.endswith(b"\n"):  # only ever the last line
                    truncated = f"its last line ({n}) is cut off"  # the writer was killed
                    break
                raise RecordingError(f"{path}: line {n} is not an event; the file is damaged")
            if ev["event"] == CUT:
                limit = ev.get("limit_mib")
                truncated = (
                    f"the recording stopped at its size limit ({limit:g} MiB, --record-limit); "
                    "the run went on"
                    if type(limit) in _NUM
                    else "the recording stopped at its size limit"
                )
                break
            problem = check(ev)
            if problem is not None:
                raise RecordingError(
                    f"{path}: line {n} is a {ev['event']!r} event with {problem}; "
                    "the file is damaged"
                )
            events.append(ev)
    if not events or events[0].get("event") != "run_start":
        raise RecordingError(f"{path}: the recording holds no run (no run_start event)")
    if truncated is None and events[-1].get("event") != "run_end":
        truncated = "it ends before the run did (no run_end event)"
    return Recording(header, events, truncated)


def _header(path: str, raw: bytes) -> dict:
    try:
        head = json.loads(raw) if raw.strip() else None
    except ValueError:
        head = None
    if not isinstance(head, dict) or "asyncplay_recording" not in head:
        raise RecordingError(
            f"{path} is not an asyncplay recording (make one with 'asyncplay run --record FILE')"
        )
    fmt, proto = head.get("asyncplay_recording"), head.get("protocol")
    if fmt != FORMAT:
        raise RecordingError(
            f"{path} is a recording in format {fmt!r}; this asyncplay "
            f"{asyncplay.__version__} reads format {FORMAT} (a newer asyncplay may read it)",
            exits.RECORDING_VERSION,
        )
    # Each version only added to the one before: every one up to ours reads.
    if type(proto) is not int or not 1 <= proto <= PROTOCOL_VERSION:
        raise RecordingError(
            f"{path} was recorded with event protocol version {proto!r}; this asyncplay "
            f"{asyncplay.__version__} reads versions 1 to {PROTOCOL_VERSION}",
            exits.RECORDING_VERSION,
        )
    return head
