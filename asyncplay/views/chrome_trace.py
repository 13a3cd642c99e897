"""``--trace OUT.json``: the run in Chrome's Trace Event format (Perfetto, chrome://tracing).

One track per task (``pid`` 1, ``tid`` = the task's id) named by ``thread_name`` metadata;
each step (or merged span, see ``model.MAX_SPANS_PER_TASK``) a complete event (``"ph": "X"``)
with its lines in ``args``, so waits are the gaps between them; the task's creation and end,
and every warning, instant events. Times are microseconds from the run's start.
"""

from __future__ import annotations

import json
import os
from typing import IO

from asyncplay.model import RunModel, TaskInfo

PID = 1


def _us(t: float) -> float:
    return t * 1e6


_PLACES: dict[tuple, str | None] = {}


def _where(file: str | None, line: int | None) -> str | None:
    key = (file, line)
    place = _PLACES.get(key)
    if place is None and file and line:
        if len(_PLACES) > 100_000:
            _PLACES.clear()
        place = _PLACES[key] = f"{os.path.basename(file)}:{line}"
    return place


def _track(task: TaskInfo) -> list[dict]:
    """One task's events, in time order, never overlapping."""
    tid = task.id
    events: list[dict] = [
        {
            "name": "created",
            "cat": "task",
            "ph": "i",
            "s": "t",
            "ts": _us(task.created),
            "pid": PID,
            "tid": tid,
            "args": {"at": _where(task.file, task.line), "parent": task.parent},
        }
    ]
    last_end = events[0]["ts"]
    resumed: str | None = None
    for start, extent, busy, n, awaiting, file, line in task.spans:
        ts = max(start * 1e6, last_end)
        end = max(ts, (start + extent) * 1e6)
        suspended = _where(file, line)
        args: dict = {
            "line": line or None,
            "file": file,
            "resumed_at": resumed,
            "suspended_at": suspended,
            "awaiting": awaiting,
        }
        if n > 1:
            args["steps"] = n
            args["busy_us"] = busy * 1e6
        events.append(
            {
                "name": task.coro if n == 1 else f"{task.coro} ({n} steps)",
                "cat": "step",
                "ph": "X",
                "ts": ts,
                "dur": end - ts,
                "pid": PID,
                "tid": tid,
                "args": args,
            }
        )
        last_end = end
        if suspended:
            resumed = suspended
    if task.ended is not None:
        name = task.state if task.state != "failed" else f"failed: {task.exc_type}"
        args = {"result": task.result} if task.state == "done" else {}
        if task.exc_msg:
            args["message"] = task.exc_msg
            args["at"] = _where(task.exc_file, task.exc_line)
        if task.cancel_source:
            args["cancel_source"] = task.cancel_source
        events.append(
            {
                "name": name,
                "cat": "task",
                "ph": "i",
                "s": "t",
                "ts": max(_us(task.ended), last_end),
                "pid": PID,
                "tid": tid,
                "args": args,
            }
        )
    return events


def build(model: RunModel, all_tasks: bool = False, tasks: list[TaskInfo] | None = None) -> dict:
    """The trace as a JSON-compatible object."""
    if tasks is None:
        tasks = [t for t in model.tasks.values() if all_tasks or not t.internal]
    meta: list[dict] = [
        {
            "name": "process_name",
            "ph": "M",
            "pid": PID,
            "tid": 0,
            "args": {"name": f"asyncplay: {os.path.basename(model.target or 'run')}"},
        }
    ]
    body: list[dict] = []
    for task in tasks:
        meta.append(
            {
                "name": "thread_name",
                "ph": "M",
                "pid": PID,
                "tid": task.id,
                "args": {"name": f"{task.name} ({task.coro})"},
            }
        )
        meta.append(
            {
                "name": "thread_sort_index",
                "ph": "M",
                "pid": PID,
                "tid": task.id,
                "args": {"sort_index": task.id},
            }
        )
        body += _track(task)
    shown = {t.id for t in tasks}
    for w in model.warnings:
        task = w.get("task")
        on_track = task in shown
        ev = {
            "name": f"warning: {w.get('kind')}",
            "cat": "warning",
            "ph": "i",
            "s": "t" if on_track else "g",
            "ts": _us(w["t"] if isinstance(w.get("t"), (int, float)) else 0.0),
            "pid": PID,
            "tid": task if on_track else 0,
            "args": {
                k: w.get(k) for k in ("message", "file", "line", "duration", "tasks") if k in w
            },
        }
        body.append(ev)
    body.sort(key=lambda e: e["ts"])  # stable: a track's own order is kept
    other = {"python": model.python, "protocol": model.protocol, "target": model.target}
    if model.end:
        other["exit_code"] = model.end.get("exit_code")
        other["end"] = model.end.get("message")
    return {"traceEvents": meta + body, "displayTimeUnit": "ms", "otherData": other}


def write(
    model: RunModel, out: IO[str], all_tasks: bool = False, tasks: list[TaskInfo] | None = None
) -> None:
    """One event per line: as fast as one ``json.dumps`` per event (``json.dump`` of the
    whole document is several times slower) without one huge string in memory."""
    doc = build(model, all_tasks, tasks)
    dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
    events = doc.pop("traceEvents")
    out.write('{"traceEvents":[\n')
    for i in range(0, len(events), 1000):
        chunk = ",\n".join(map(dumps, events[i : i + 1000]))
        out.write(chunk + (",\n" if i + 1000 < len(events) else "\n"))
    out.write("]," + dumps(doc)[1:] + "\n")
