"""The blocking detector: a step that holds the loop too long, and where it is stuck.

The step hook writes each step's start time into one module global of ``tracer.py``
(``_step_start``, read here through ``tracer.step_start()``) and the running task into
``Tracer.current`` — a store it makes anyway, so the hot path pays nothing more. The
``Watchdog`` thread looks at both every few milliseconds; once a step has run past the
threshold it reads the loop thread's current frame (``sys._current_frames()``) and keeps
the innermost line of the program's own code. The step hook reports the slow step when it
ends (it alone knows the duration: ``slow_step_warning``) and uses this sample if it
belongs to that very step (same start time). A step still running after
``ongoing_after`` (an endless loop never ends at all) is reported from here instead, while
it runs (``ongoing_slow_step``), and the step hook then stays silent about it.

It also pushes the event channel when records have waited long (a step that never ends
holds back even its task's creation otherwise): see ``Channel.push_from_thread``.
"""

from __future__ import annotations

import _thread
import os
import sys
import time

from asyncplay import protocol
from asyncplay.child.failures import report_failure
from asyncplay.child.periodic import Periodic

__all__ = [
    "Watchdog",
    "library_dirs",
    "program_line",
    "slow_step_warning",
    "start_watchdog",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    import types
    from typing import Any

ONGOING_AFTER = 2.0  # a step still running after this (s) is reported while it runs
STEP_OPEN_AFTER = 0.1  # a step running this long (s) is told as in progress (step_open) ...
STEP_OPEN_EVERY = 0.25  # ... and again this often while it runs, with the time it has run


class Watchdog(Periodic):
    """Samples the line where the loop thread is held once a step passes ``threshold``."""

    def __init__(self, tracer: Any, threshold: float) -> None:
        super().__init__()
        self.tracer = tracer
        self.threshold = threshold
        self.on_error = lambda exc: report_failure(tracer, "blocking detector", exc)
        # A step this long is reported while it runs, not at its end: after the time most
        # blocking calls take (the bundled lesson blocks 1 s), well past the threshold.
        self.ongoing_after = max(ONGOING_AFTER, 2 * threshold)
        # Wake often enough to catch a step soon after it passes the threshold, seldom
        # enough to cost nothing (a GIL hand-over every 25 ms at the default 100 ms).
        self.period = max(0.005, min(0.025, threshold / 4))
        self.loop_thread = 0  # ident of the thread running the loop (set at loop start)
        self.sampled = 0.0  # start time of the step last sampled
        self.open_start = 0.0  # start time of the step last told as in progress
        self.open_sent = 0.0  # when it was last told

    def tick(self) -> None:
        tracer = self.tracer
        tracer.channel.push_from_thread()
        rec = tracer.current
        if rec is None:
            return  # no task step is running: the loop waits, or plain code runs
        step_start = tracer.step_start
        start = step_start()
        now = time.perf_counter()
        held = now - start
        if held >= STEP_OPEN_AFTER and (
            start != self.open_start or now - self.open_sent >= STEP_OPEN_EVERY
        ):
            self.open_start, self.open_sent = start, now
            if tracer.current is rec and step_start() == start:  # still that step
                step_open(tracer, rec, start, now)
        if held < self.threshold:
            return
        ongoing = held >= self.ongoing_after and tracer.slow_warned != start
        if start == self.sampled and not ongoing:
            return
        frame = sys._current_frames().get(self.loop_thread)
        if frame is None:
            return
        # Re-check: the step may have ended while the frames were taken.
        if tracer.current is not rec or step_start() != start:
            return
        where = program_line(tracer, frame)
        del frame
        if start != self.sampled:
            self.sampled = start
            if where is not None:
                tracer.slow_sample = (start, where[0], where[1])
        if ongoing:
            ongoing_slow_step(tracer, rec, start, held, where)


def start_watchdog(tracer: Any) -> None:
    """At the first loop start: the sampling of slow steps, on the runtime's helper
    thread (started before the program's first line: the program sees no thread
    appear), or on a thread of its own when there is no helper (no stdout to flush)."""
    wd = tracer.watchdog
    if wd is None:
        wd = tracer.watchdog = Watchdog(tracer, tracer.slow_step)
        host = tracer.helper
        if host is not None and not host.failed:
            host.carry(wd)
        else:
            wd.install_fork_hooks()
    wd.loop_thread = _thread.get_ident()
    if wd not in getattr(tracer.helper, "riders", ()) and not wd.running:
        wd.wanted = False
        wd.start()


def library_dirs() -> tuple[tuple[str, ...], str]:
    """The standard library's and site-packages' folders (not the program's own code, for
    the blocking detector), and the program's own folder."""
    import site

    dirs = {os.path.dirname(os.__file__)}
    # site's functions exist since 3.2; an odd site module (an embedder's) may lack them.
    getsitepackages = getattr(site, "getsitepackages", None)
    if getsitepackages is not None:
        dirs.update(getsitepackages())
    getusersitepackages = getattr(site, "getusersitepackages", None)
    if getusersitepackages is not None:
        dirs.add(getusersitepackages())
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv else "")
    main_dir = os.path.dirname(os.path.abspath(main_file)) + os.sep if main_file else ""
    return tuple(os.path.join(d, "") for d in dirs if d), main_dir


def is_program_code(tracer: Any, code: types.CodeType) -> bool:
    """The program's own files: not asyncio or asyncplay, not the standard library or
    site-packages — unless under the program's own directory (a bundled snippet lives
    inside the installed asyncplay)."""
    own = tracer.own_code.get(id(code))
    if own is None:
        fn = code.co_filename
        own = tracer.kind_of(code) == 0 and (
            not fn.startswith(tracer.lib_dirs)
            or bool(tracer.main_dir and fn.startswith(tracer.main_dir))
        )
        tracer.own_code[id(code)] = own
    return own


def program_line(tracer: Any, frame: types.FrameType | None) -> tuple[str, int] | None:
    """(file, line) of the innermost frame of the program's own code, else of any
    code that is not asyncio's or asyncplay's. Runs on the watchdog thread too: it
    only reads frames and fills caches, never writes to the channel."""
    fallback = None
    while frame is not None:
        code = frame.f_code
        if is_program_code(tracer, code):
            return code.co_filename, frame.f_lineno or 0
        if fallback is None and tracer.kind_of(code) == 0:
            fallback = (code.co_filename, frame.f_lineno or 0)
        frame = frame.f_back
    return fallback


def claim_slow_step(tracer: Any, start: float) -> bool:
    """Whether the caller is the one to report the step that started at ``start``."""
    with tracer.slow_lock:
        if tracer.slow_warned == start:
            return False
        tracer.slow_warned = start
        return True


def slow_step_warning(tracer: Any, rec: Any, task: Any, start: float, dur: float) -> None:
    """A step held the loop longer than the threshold: one warning, at the line the
    watchdog saw it held at, else the line the step resumed at (where it waited);
    none if the watchdog reported it while it ran (``ongoing_slow_step``)."""
    sample = tracer.slow_sample
    tracer.slow_sample = None
    if not claim_slow_step(tracer, start):
        ongoing = tracer.ongoing
        if ongoing is not None and ongoing[0] == start:  # told while it ran: update it
            tracer.ongoing = None
            tracer.flush_output(None, running=True)
            ev = _slow_step_event(tracer, rec, start, ongoing[1], ongoing[2], dur, False)
            ev["update"] = True
            tracer.send_json(ev, now=True)
        return
    if sample is not None and sample[0] == start:
        file, line = sample[1], sample[2]
    else:
        _a, f, line = rec.wait
        if not line and task is not None and not task.done():
            _a, f, line = tracer.describe(rec, task)
        file = tracer.strings.text(f) if line else None
    tracer.flush_output(None, running=True)
    tracer.send_json(_slow_step_event(tracer, rec, start, file, line, dur, False), now=True)


def ongoing_slow_step(tracer: Any, rec: Any, start: float, held: float, where: Any) -> None:
    """The watchdog thread: a step has held the loop ``held`` seconds and still runs
    (perhaps for ever, until the time limit kills the run): report it now, with the
    line it is held at. Only JSON and output records (no string ids) are appended
    here, each in one ``buf +=``; the channel is pushed at once."""
    if not tracer.enabled:
        return
    file, line = where if where is not None else (None, 0)
    # Noted before the claim: the step may end meanwhile, and its end looks here.
    tracer.ongoing = (start, file, line)
    if not claim_slow_step(tracer, start):
        return
    tracer.flush_output(rec)
    tracer.send_json(_slow_step_event(tracer, rec, start, file, line, held, True))
    tracer.channel.flush()


def step_open(tracer: Any, rec: Any, start: float, now: float) -> None:
    """The watchdog thread: ``rec``'s step, begun at ``start``, still runs at ``now``
    (perf_counter seconds). Told so that a task spinning in a loop shows as running,
    with its running time growing, not as waiting; its ``S`` record closes it. Once
    the step is slow, with the line it is held at: a run cut short (a stop, a limit)
    before the step ends still has its slow_step warning, made by the reducer."""
    if not tracer.enabled:
        return
    t0 = tracer.t0
    ev = {"event": "step_open", "t": now - t0, "id": rec.tid, "start": start - t0}
    sample = tracer.slow_sample
    if sample is not None and sample[0] == start and sample[2]:
        ev["file"], ev["line"] = sample[1], sample[2]
    channel = tracer.channel
    if tracer.held:  # figures mode: the task's steps before this one come first
        channel.pack_held()
    channel.buf += protocol.pack_json(ev)
    channel.flush()


def _slow_step_event(
    tracer: Any, rec: Any, start: float, file: str | None, line: int, dur: float, ongoing: bool
) -> dict:
    held = (
        f"has held the event loop for {dur:.2f} s so far"
        if ongoing
        else f"held the event loop for {dur:.2f} s"
    )
    ev = {
        "event": "warning",
        "kind": "slow_step",
        "message": protocol.slow_step_message(rec.name, held),
        "task": rec.tid,
        "file": file,
        "line": line or None,
        "duration": dur,
        "step": start - tracer.t0,  # the step's start: an update names the same step
    }
    if ongoing:
        ev["ongoing"] = True
    return ev
