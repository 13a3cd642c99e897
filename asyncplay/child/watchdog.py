"""The blocking detector's eyes: where a step that holds the loop too long is stuck.

The step hook writes each step's start time into one module global of ``tracer.py``
(``_step_start``) and the running task into ``Tracer.current`` — a store it makes anyway,
so the hot path pays nothing more. This thread looks at both every few milliseconds; once
a step has run past the threshold it reads the loop thread's current frame
(``sys._current_frames()``) and keeps the innermost line of the program's own code. The
step hook reports the slow step when it ends (it alone knows the duration) and uses this
sample if it belongs to that very step (same start time).
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
        # Wake often enough to catch a step soon after it passes the threshold, seldom
        # enough to cost nothing (a GIL hand-over every 25 ms at the default 100 ms).
        self.period = max(0.005, min(0.025, threshold / 4))
        self.loop_thread = 0  # ident of the thread running the loop (set at loop start)
        self.sampled = 0.0  # start time of the step last sampled

    def tick(self) -> None:
        tracer = self.tracer
        if tracer.current is None:
            return  # no task step is running: the loop waits, or plain code runs
        start = tracer_mod._step_start
        if start == self.sampled or time.perf_counter() - start < self.threshold:
            return
        frame = sys._current_frames().get(self.loop_thread)
        if frame is None:
            return
        # Re-check: the step may have ended while the frames were taken.
        if tracer.current is None or tracer_mod._step_start != start:
            return
        where = tracer.program_line(frame)
        self.sampled = start
        if where is not None:
            tracer.slow_sample = (start, where[0], where[1])
