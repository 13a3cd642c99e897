"""Text rendering of a RunModel for the headless command line (the summary on stderr)."""

from __future__ import annotations

import os
from collections import defaultdict

from asyncplay.model import RunModel, TaskInfo

FOLD_OVER = 10
COLUMNS = (
    "name",
    "coroutine",
    "created at",
    "state",
    "steps",
    "running",
    "lifetime",
    "last awaited",
)


def _where(file: str | None, line: int | None, cwd: str) -> str:
    if not file or not line:
        return "-"
    try:
        rel = os.path.relpath(file, cwd)
    except ValueError:
        rel = file
    if rel.startswith(".." + os.sep):  # outside the current directory: the name says enough
        rel = os.path.basename(file)
    return f"{rel}:{line}"


def _secs(x: float) -> str:
    if x < 0.001:
        return f"{x * 1e6:.0f}µs"
    if x < 1:
        return f"{x * 1e3:.1f}ms"
    return f"{x:.2f}s"


def _state(t: TaskInfo) -> str:
    if t.state == "failed":
        return f"failed: {t.exc_type}"
    return t.state


def rows(model: RunModel, all_tasks: bool = False, cwd: str = ".") -> list[tuple[str, ...]]:
    tasks = [t for t in model.tasks.values() if all_tasks or not t.internal]
    groups: dict[str, list[TaskInfo]] = defaultdict(list)
    for t in tasks:
        groups[t.coro].append(t)
    out: list[tuple[str, ...]] = []
    folded: set[str] = set()
    now = model.now
    for t in tasks:
        group = groups[t.coro]
        if len(group) > FOLD_OVER:
            if t.coro in folded:
                continue
            folded.add(t.coro)
            states: dict[str, int] = defaultdict(int)
            for g in group:
                states[g.state] += 1
            awaited = {g.last_awaited for g in group if g.last_awaited}
            out.append(
                (
                    f"{len(group)} tasks",
                    t.coro,
                    _where(t.file, t.line, cwd),
                    ", ".join(f"{n} {s}" for s, n in sorted(states.items())),
                    str(sum(g.steps for g in group)),
                    _secs(sum(g.running for g in group)),
                    _secs(max(g.lifetime(now) for g in group)),
                    next(iter(awaited)) if len(awaited) == 1 else f"{len(awaited)} kinds",
                )
            )
            continue
        out.append(
            (
                t.name,
                t.coro,
                _where(t.file, t.line, cwd),
                _state(t),
                str(t.steps),
                _secs(t.running),
                _secs(t.lifetime(now)),
                t.last_awaited or "-",
            )
        )
    return out


def table(header: tuple[str, ...], body: list[tuple[str, ...]], width: int = 0) -> list[str]:
    widths = [len(h) for h in header]
    for row in body:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = []
    for row in (header, *body):
        line = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        lines.append(line[:width] if width else line)
    return lines


def summary(model: RunModel, all_tasks: bool = False, cwd: str = ".", width: int = 0) -> str:
    body = rows(model, all_tasks, cwd)
    hidden = sum(1 for t in model.tasks.values() if t.internal) if not all_tasks else 0
    parts: list[str] = []
    if body:
        parts.append(f"── tasks ({len(model.tasks) - hidden}) " + "─" * 20)
        parts += table(COLUMNS, body, width)
        if hidden:
            parts.append(f"({hidden} asyncio-internal task(s) hidden; --all-tasks shows them)")
    elif model.tasks or hidden:
        parts.append(f"no tasks of the program's own ({hidden} asyncio-internal; --all-tasks)")
    if model.warnings:
        parts.append(f"── warnings ({len(model.warnings)}) " + "─" * 20)
        for w in model.warnings:
            where = _where(w.get("file"), w.get("line"), cwd)
            prefix = f"{where}: " if where != "-" else ""
            parts.append(f"{prefix}{w.get('message', '')}")
    for err in model.errors:
        parts.append(f"protocol: {err}")
    return "\n".join(parts)
