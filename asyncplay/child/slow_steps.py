"""The blocking detector's eyes: where a step that holds the loop too long is stuck.

The step hook writes each step's start time into one module global of ``tracer.py``
(``_step_start``) and the running task into ``Tracer.current`` — a store it makes anyway,
so the hot path pays nothing more. This thread looks at both every few milliseconds; once
a step has run past the threshold it reads the loop thread's current frame
(``sys._current_frames()``) and keeps the innermost line of the program's own code. The
step hook reports the slow step when it ends (it alone knows the duration) and uses this
sample if it belongs to that very step (same start time). A step still running after
``ongoing_after`` (an endless loop never ends at all) is reported from here instead, while
it runs, and the step hook then stays silent about it.

It also pushes the event channel when records have waited long (a step that never ends
holds back even its task's creation otherwise): see ``Tracer.push_from_thread``.
"""

from __future__ import annotations

import sys
import time

from asyncplay.child import tracer as tracer_mod
from asyncplay.child.periodic import Periodic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Watchdog(Periodic):
    """Samples the line where the loop thread is held once a step passes ``threshold``."""

    def __init__(self, tracer: Any, threshold: float) -> None:
        super().__init__()
        self.tracer = tracer
        self.threshold = threshold
        # A step this long is reported while it runs, not at its end: after the time most
        # blocking calls take (the bundled lesson blocks 1 s), well past the threshold.
        self.ongoing_after = max(tracer_mod.ONGOING_AFTER, 2 * threshold)
        # Wake often enough to catch a step soon after it passes the threshold, seldom
        # enough to cost nothing (a GIL hand-over every 25 ms at the default 100 ms).
        self.period = max(0.005, min(0.025, threshold / 4))
        self.loop_thread = 0  # ident of the thread running the loop (set at loop start)
        self.sampled = 0.0  # start time of the step last sampled
        self.open_start = 0.0  # start time of the step last told as in progress
        self.open_sent = 0.0  # when it was last told

    def tick(self) -> None:
        tracer = self.tracer
        tracer.push_from_thread()
        rec = tracer.current
        if rec is None:
            return  # no task step is running: the loop waits, or plain code runs
        start = tracer_mod._step_start
        now = time.perf_counter()
        held = now - start
        if held >= tracer_mod.STEP_OPEN_AFTER and (
            start != self.open_start or now - self.open_sent >= tracer_mod.STEP_OPEN_EVERY
        ):
            self.open_start, self.open_sent = start, now
            if tracer.current is rec and tracer_mod._step_start == start:  # still that step
                tracer.step_open(rec, start, now)
        if held < self.threshold:
            return
        ongoing = held >= self.ongoing_after and tracer.slow_warned != start
        if start == self.sampled and not ongoing:
            return
        frame = sys._current_frames().get(self.loop_thread)
        if frame is None:
            return
        # Re-check: the step may have ended while the frames were taken.
        if tracer.current is not rec or tracer_mod._step_start != start:
            return
        where = tracer.program_line(frame)
        del frame
        if start != self.sampled:
            self.sampled = start
            if where is not None:
                tracer.slow_sample = (start, where[0], where[1])
        if ongoing:
            tracer.ongoing_slow_step(rec, start, held, where)
