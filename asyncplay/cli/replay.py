"""``asyncplay replay FILE``: show a recorded run again without running anything.

At a terminal, with no view option, the recording opens in the app (``tui/replay_mode``);
otherwise (``--print``, a view option, a pipe) it is printed, as below.
The events are folded by the same reducer as a live run and rendered by the same code
(``printed``), so the replay prints what the run printed: the program's output (as text,
from its ``output`` events), the summary and any view asked for. Exit status 0, or
``exits.RECORDING`` for a damaged or cut-short file (what it holds is still shown), or
``exits.RECORDING_VERSION`` for a version this asyncplay cannot read.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

from asyncplay import exits
from asyncplay.cli import printed
from asyncplay.cli.args import REPLAY_FLAGS, REPLAY_OPTIONS, RUN_FLAGS, RUN_OPTIONS, UsageError
from asyncplay.model import RunModel, apply
from asyncplay.views.recording import Recording, RecordingError, read

__all__ = ["fold", "replay", "wants_tui"]


def wants_tui(ns: SimpleNamespace, stdin_tty: bool, stdout_tty: bool) -> bool:
    """Whether ``replay`` opens the app: a person at a terminal who asked for no printout.

    Every view option of ``replay`` (``--json``, ``--timeline``, ``--sort`` ...) asks for
    the printout, as does ``--print``; a pipe on either side gets it too.
    """
    printing = [RUN_OPTIONS[flag][0] for flag in REPLAY_OPTIONS]
    printing += [RUN_FLAGS[flag][0] for flag in REPLAY_FLAGS]
    if getattr(ns, "print_only", False) or any(getattr(ns, dest, None) for dest in printing):
        return False
    return stdin_tty and stdout_tty


def replay(ns: SimpleNamespace) -> int:
    if os.path.isdir(ns.file):
        raise UsageError(f"{ns.file} is a directory, not a recording")
    try:
        rec = read(ns.file)
    except OSError as exc:
        raise UsageError(f"cannot read {ns.file}: {exc.strerror or exc}") from None
    except RecordingError as exc:
        print(f"asyncplay: {exc}", file=sys.stderr)
        return exc.status
    if wants_tui(ns, _isatty(sys.stdin), _isatty(sys.stdout)):
        try:
            fold(rec, ns.file)  # a file the reducer cannot take is refused before the app
        except RecordingError as exc:
            print(f"asyncplay: {exc}", file=sys.stderr)
            return exc.status
        from asyncplay.tui.launch import launch_replay

        return launch_replay(ns.file, rec)
    trace_file = None
    if ns.trace:
        try:
            trace_file = printed.open_output(ns.trace, "trace")
        except OSError as exc:
            raise UsageError(str(exc)) from None
    try:
        return _show(rec, ns, trace_file)
    except RecordingError as exc:
        print(f"asyncplay: {exc}", file=sys.stderr)
        return exc.status


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):  # closed, or replaced by a test
        return False


def fold(rec: Recording, path: str) -> RunModel:
    """The model of a recording; an event the reducer cannot take means a damaged file."""
    model = RunModel()
    for n, ev in enumerate(rec.events, 2):  # line 1 is the header
        try:
            apply(model, ev)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise RecordingError(
                f"{path}: line {n} is a malformed {ev.get('event')!r} event ({exc}); "
                "the file is damaged"
            ) from None
    return model


def _show(rec: Recording, ns: SimpleNamespace, trace_file) -> int:  # noqa: ANN001
    model = fold(rec, ns.file)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    try:
        if ns.json:
            for ev in rec.events:
                if ev.get("event") == "run_end":
                    out.write(printed.summary_line(model, ns))
                out.write(printed.json_line(ev))
            if rec.truncated:
                out.write(printed.summary_line(model, ns))
        else:
            for ev in rec.events:
                if ev.get("event") == "output" and isinstance(ev.get("text"), str):
                    stream = err if ev.get("stream") == "stderr" else out
                    stream.write(ev["text"].encode("utf-8", "replace"))
        out.flush()
    except BrokenPipeError:
        pass
    problems = []
    if trace_file is not None:
        problems.append(printed.write_trace(model, trace_file, ns))
    end = model.end or {"message": "the recording ends before the run did", "by": "asyncplay"}
    if rec.truncated:  # one closing line, which says why it ends early
        end = {
            "message": f"{ns.file} is cut short: {rec.truncated}; shown is what it holds "
            f"({len(rec.events)} events)",
            "by": "asyncplay",
        }
    cwd = rec.header.get("cwd") if isinstance(rec.header.get("cwd"), str) else os.getcwd()
    text = printed.end_text(model, ns, cwd, end)
    lines = [text] if text else []
    if rec.truncated and ns.json:  # end_text leaves the closing line to the JSON
        lines.append(f"asyncplay: {end['message']}")
    lines += [f"asyncplay: {p}" for p in problems if p]
    if lines:
        err.write(("\n".join(lines) + "\n").encode("utf-8", "replace"))
    err.flush()
    return exits.RECORDING if rec.truncated else 0
