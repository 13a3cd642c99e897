"""What the headless command line prints once a run is over, shared by ``run`` and
``replay`` so a replay shows exactly what the live run showed: the summary, the await graph,
the timeline (stderr), the trace file, and the ``summary`` event of ``--json``.

``ns`` is the parsed command line: ``quiet``, ``all_tasks``, ``sort``, ``filter``, ``graph``,
``timeline``, ``json``.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

from asyncplay.model import RunModel
from asyncplay.outfile import open_output_file
from asyncplay.views.text_cells import clean

TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing costs every run ~2 ms of start-up)
    from typing import IO

__all__ = [
    "colour",
    "end_text",
    "first_lines",
    "json_line",
    "open_output",
    "summary_line",
    "terminal_width",
    "utf8",
    "views",
    "write_trace",
]


def open_output(path: str, what: str) -> IO[str]:
    """Open an output file before the run starts: a path that cannot be written must fail
    now, as a usage error, not after the program ran (the run's result would be lost)."""
    try:
        return open_output_file(path)
    except OSError as exc:
        raise OSError(f"cannot write the {what} to {path}: {exc.strerror or exc}") from None


def json_line(ev: dict) -> bytes:
    import json  # (--json only: a plain run does without it, ~1.5 ms of start-up)

    return (json.dumps(ev, ensure_ascii=False) + "\n").encode("utf-8", "replace")


def summary_line(model: RunModel, ns: SimpleNamespace) -> bytes:
    """The ``summary`` event ``--json`` prints just before ``run_end``."""
    from asyncplay.views import summary

    return json_line(summary.summary_event(model, ns.all_tasks, ns.sort, ns.filter))


def terminal_width(fd: int = 2) -> int:
    """The width to fit text for ``fd`` to: ``COLUMNS`` when set (a number), else the
    terminal's own (bash does not export ``COLUMNS``), 0 (no limit) into a pipe or file."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(fd).columns
    except (OSError, ValueError):
        return 0


def first_lines(ev: dict, ns: SimpleNamespace) -> bytes:
    """The sandbox's notices of a ``run_start`` (what the run lacks of what was asked, e.g.
    no outbound network), one line each, cut to the terminal's width; nothing under
    ``--quiet`` or ``--json`` (where ``run_start`` itself carries them)."""
    sandbox = ev.get("sandbox") if ev.get("event") == "run_start" else None
    if ns.json or ns.quiet or not isinstance(sandbox, dict):
        return b""
    notices = sandbox.get("notices")
    width = terminal_width()
    lines = []
    for notice in notices if isinstance(notices, list) else []:
        line = "asyncplay: " + "".join(c if c.isprintable() else "?" for c in str(notice))
        if width and len(line) > width:
            line = line[: max(width - 3, 1)] + "..."
        lines.append(line + "\n")
    return "".join(lines).encode("utf-8", "replace")


def utf8(stream: object) -> bool:
    return (getattr(stream, "encoding", "") or "").lower().replace("-", "") == "utf8"


def colour(stream: object) -> bool:
    """ANSI colour only for a terminal that has not asked for none (no-color.org)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def views(model: RunModel, ns: SimpleNamespace, cwd: str) -> str:
    """``--graph`` and ``--timeline``: printed even with ``--quiet`` and ``--json``."""
    parts = []
    ascii_only = not utf8(sys.stderr)
    if getattr(ns, "graph", False):
        from asyncplay.views import graph

        parts.append(graph.graph_text(model, ns.all_tasks, cwd, ascii_only))
    if getattr(ns, "timeline", False):
        from asyncplay.views import summary, timeline
        from asyncplay.views.timeline_objects import ObjectLanes

        parts.append(
            timeline.timeline_text(
                model,
                terminal_width() or 80,
                tasks=summary.select(model, ns.all_tasks, ns.filter),
                ascii_only=ascii_only,
                colour=colour(sys.stderr),
                extra=ObjectLanes(model, getattr(ns, "queue_sizes", False), ascii_only),
            )
        )
    return "\n".join(parts)


def end_text(model: RunModel, ns: SimpleNamespace, cwd: str, end: dict) -> str:
    """Everything for stderr after the run: summary, views, and who decided the end."""
    lines = []
    if not ns.json and not ns.quiet:
        from asyncplay.views import summary

        text = summary.summary(
            model, ns.all_tasks, cwd, terminal_width(), sort=ns.sort, filter=ns.filter
        )
        if text:
            lines.append(text)
    shown = views(model, ns, cwd)
    if shown:
        lines.append(shown)
    if not ns.json and (not ns.quiet or end.get("by") == "asyncplay"):
        # asyncplay's own sentence, but a replayed file is anyone's: cleaned all the same.
        lines.append(f"asyncplay: {clean(str(end.get('message', '')))}")
    return "\n".join(lines)


def write_trace(model: RunModel, out: IO[str], ns: SimpleNamespace) -> str | None:
    """Write the trace; a failure this late is one line to report, never a lost run."""
    from asyncplay.views import chrome_trace, summary

    try:
        with out:
            chrome_trace.write(model, out, tasks=summary.select(model, ns.all_tasks, ns.filter))
    except OSError as exc:
        return f"could not write the trace {out.name}: {exc.strerror or exc}"
    return None
