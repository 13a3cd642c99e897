"""The lines ``asyncplay run`` writes on stderr while the run goes: each warning when it
comes (not only in the summary at the end), and never inside a line the program is
printing (``LineTracker``)."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

from asyncplay.cli.printed import terminal_width, utf8
from asyncplay.model import RunModel

__all__ = ["LineTracker", "LiveWarnings"]


class LiveWarnings:
    """``asyncplay run`` tells each warning on stderr when it comes, not only in the summary
    at the end (a deadlock at 0.1 s was silent for the whole 30 s timeout): in the summary's
    words, wrapped to the terminal's width, each distinct one once (the summary counts the
    repeats), and with ``--graph`` a deadlock's await graph at that moment. ``--quiet``
    drops the words (it keeps the graph that ``--graph`` asks for); ``--json`` has them as
    events already."""

    def __init__(self, model: RunModel, ns: SimpleNamespace, cwd: str) -> None:
        self.model = model
        self.words = not ns.json and not ns.quiet
        self.graph = not ns.json and bool(getattr(ns, "graph", False))
        self.all_tasks = bool(getattr(ns, "all_tasks", False))
        self.cwd = cwd
        self.told: set[tuple] = set()
        self.ongoing: set[tuple] = set()  # slow steps told while they ran: tell their end

    def text(self, ev: dict) -> str:
        """What to print for a warning event the model has just folded ("" for nothing)."""
        if ev.get("event") != "warning" or not (self.words or self.graph):
            return ""
        from asyncplay.views import summary

        lines: list[str] = []
        kind = ev.get("kind")
        step = (ev.get("task"), ev.get("step"))
        key: tuple = (kind, ev.get("file"), ev.get("line"))
        if kind != "slow_step":
            key += (ev.get("message"),)
        update = kind == "slow_step" and ev.get("update") and step in self.ongoing
        if self.words and (update or key not in self.told):
            self.told.add(key)
            if ev.get("ongoing"):
                self.ongoing.add(step)
            width = terminal_width()
            body = summary.warning_text(ev, self.cwd, max(0, width - 11) if width else 0)
            lines += [f"asyncplay: {body[0]}", *(f"           {x}" for x in body[1:])]
        model = self.model
        if self.graph and kind == "deadlock" and model.snapshots:
            snap = model.snapshots[-1]
            if snap.warning is ev:
                from asyncplay.views import graph

                ascii_only = not utf8(sys.stderr)
                tree = graph.snapshot_lines(model, snap, self.all_tasks, self.cwd, ascii_only)
                if lines:  # the warning's words are just above: not twice
                    del tree[1]
                lines += tree
        return "\n".join(lines) + "\n" if lines else ""


class LineTracker:
    """Whether the terminal's cursor is in the middle of a line the program printed, so
    that asyncplay's own lines start on a line of their own: stderr's last byte, and
    stdout's too when both go to the same place (a terminal)."""

    def __init__(self) -> None:
        self.open = {"stdout": False, "stderr": False}
        try:
            same = os.path.samestat(os.fstat(1), os.fstat(2))
        except OSError:
            same = False
        self.watched = {"stdout", "stderr"} if same else {"stderr"}

    def feed(self, name: str, data: bytes) -> None:
        if data and name in self.watched:
            for other in self.watched:  # one place: the last byte written is what counts
                self.open[other] = False
            self.open[name] = not data.endswith(b"\n")

    def newline(self) -> bytes:
        """``\n`` if a line is open (and now it is closed), else nothing."""
        if any(self.open.values()):
            self.open = dict.fromkeys(self.open, False)
            return b"\n"
        return b""
