"""Figures mode: each task's step figures kept on its ``TaskRecord``, sent in batches.

A run nothing asks step by step of (the headless ``asyncplay run`` without ``--timeline``,
``--trace``, ``--record``, ``--json`` or ``--graph``) prints per-task figures only: steps,
running time, longest step, what it last waited on. Its spec then says ``figures``, and
instead of one ``S`` record per step (80,004 for 20,000 tasks, each decoded and folded by
the parent) the step hook (``tracer.py``, inline) adds each step to its task's record and
queues the record in ``Tracer.held`` the first time it changes after a send. A flush of
the channel (``SEND_FEW``, ``SEND_EVERY``), a warning, a call chain (records the parent
folds against the tasks' state: a deadlock's snapshot of every wait), a ``step_open`` and
the run's end first pack the queued records into one ``F`` record, one ``FIGURE``
struct per task: the totals so far, which the parent sets
(``model_steps.fold_figures``), adding the same durations in the same order as its fold
of the steps does, so the floats are the same. ``both`` (tests) sends the steps too.

Threads: tasks of a loop in another thread step there, and the runtime's helper thread
flushes too. Only the step hook of a task's own loop writes its record, always the
figures before ``queued``; a sender takes the queue under ``lock``, clears each record's
``queued`` and only then reads it. A step that ends while its record is read finds
``queued`` clear and queues it again, so the last send always holds the last step.
"""

from __future__ import annotations

import _thread
import time

from asyncplay.protocol import FIGURE, FIGURES_HEAD, HEADER, K_FIGURES

__all__ = ["FIRST", "MODES", "PER_RECORD", "count", "pack_record", "send", "start"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: The spec's ``figures``: step records only (absent), figures instead, or both (tests).
MODES = ("steps", "figures", "both")
PER_RECORD = 100_000  # tasks per F record: 5.6 MB, well under the protocol's MAX_PAYLOAD
# When the figures go. Up to SEND_FEW tasks changed: at every flush of the channel, as
# the steps would (a run of a few hundred tasks that a limit kills shows what it would
# with the steps). More: every SEND_EVERY seconds, and at the end: a task that steps
# between each two flushes is a row of each (the 20,000 tasks of bench/cost.py step all
# through the run: sent at the channel's 50 ms, a row per step, 56 bytes against a step
# record's 41), and the command line prints the figures only at the end. A run of more
# that a limit kills shows its figures as of the last send, at most SEND_EVERY before
# (0.2 s, about what the steps lost: a second showed nothing of a run that died in its
# first second), or ROW_SECONDS a row for many tasks (below).
SEND_FEW = 500
SEND_EVERY = 0.2
# ... and no more often than a send of that many rows is worth: every SEND_EVERY or
# ROW_SECONDS a row queued, whichever is longer (rows sent cost ~1 us each in the child
# and as much in the parent, so a send's cost stays under ~5 % of its interval): 20,000
# tasks stepping all through a run go every 0.8 s, not every 0.2 s (a row per task
# each time, 40,000 rows a second the two sides pay for). The first such send is as far
# from the start of figures mode: a short run of many tasks sends them once, at its
# end (bench/cost.py's 20,000 tasks: 20,000 rows, was 35,000).
ROW_SECONDS = 40e-6
# The JSON records the parent folds against the tasks' figures (a deadlock warning's
# snapshot of the waits, a call chain's wait) or that end the run: the figures go first.
FIRST = frozenset({"warning", "call_chain", "uncaught", "bye"})
_lock = _thread.allocate_lock()


def start(tracer: Any) -> None:
    """Figures mode from now on: the channel packs the queued records before it writes
    (``SEND_FEW``, ``SEND_EVERY``); with the steps (``both``), at every flush, as the
    steps go."""
    channel = tracer.channel
    channel.held = tracer.held
    channel.pack_held = lambda: send(tracer)
    channel.pack_held_before = lambda kind: kind in FIRST and send(tracer)
    channel.count_step = count
    if tracer.step_records == "figures":
        channel.held_few, channel.held_every = SEND_FEW, SEND_EVERY
        channel.held_per_row = ROW_SECONDS
        channel.held_at = time.perf_counter()


def count(tracer: Any, rec: Any, s: float, dur: float, a: int, f: int, ln: int) -> None:
    """One step (start ``s`` in run seconds, ``dur``, then awaiting ``a`` at ``f``:``ln``)
    added to ``rec``: the step hook's inline code, for the steps timed elsewhere (an
    eager task's first step, inside ``create_task``)."""
    if a:
        rec.waited = a
    if ln:
        rec.wfile = f
        rec.wline = ln
    n = rec.steps
    rec.steps = n + 1
    if n:
        rec.running += dur
        if dur > rec.longest:
            rec.longest = dur
    else:
        rec.first = s
        rec.running = rec.longest = dur
        rec.queued = False
    rec.last = s + dur
    rec.awaits = a
    if not rec.queued:
        rec.queued = True
        tracer.held.append(rec)


def pack_record(t: float, rows: list[tuple]) -> bytes:
    """An ``F`` record of ``rows`` (each ``FIGURE``'s fields): for tests and tools."""
    body = FIGURES_HEAD.pack(t) + b"".join(FIGURE.pack(*row) for row in rows)
    return HEADER.pack(K_FIGURES, len(body)) + body


def send(tracer: Any) -> None:
    """The queued records' figures, packed into ``F`` records on the channel's buffer."""
    held = tracer.held
    with _lock:
        tracer.channel.held_at = time.perf_counter()
        taken = held[:]
        del held[: len(taken)]  # the step hook may append meanwhile (another thread)
        if not taken:
            return
        for rec in taken:
            rec.queued = False
        # (A loop of attribute reads: callgrind says an ``attrgetter`` of the ten costs
        # five times as much, each read through the type's generic lookup.)
        pack = FIGURE.pack
        for i in range(0, len(taken), PER_RECORD):
            parts = []
            t = 0.0
            for rec in taken[i : i + PER_RECORD]:
                last = rec.last
                if last > t:
                    t = last
                parts.append(
                    pack(
                        rec.tid, rec.steps, rec.running, rec.longest, rec.first, last,
                        rec.awaits, rec.waited, rec.wfile, rec.wline,
                    )
                )  # fmt: skip
            body = FIGURES_HEAD.pack(t) + b"".join(parts)
            tracer.channel.buf += HEADER.pack(K_FIGURES, len(body)) + body
