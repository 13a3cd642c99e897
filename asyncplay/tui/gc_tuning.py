"""The garbage collector tuned for a flood of events (a process-wide choice: the command
line's, never a test's)."""

from __future__ import annotations

import gc

__all__ = ["tune_gc"]


def tune_gc() -> None:
    """Keep the garbage collector's pauses short while a run floods the process.

    Decoding a busy run allocates objects by the hundred thousand (in the session's
    thread); every full collection then scans everything alive, Textual's widgets
    included, holding the GIL for 100-300 ms: the latency of a keypress. Freezing what
    exists once the screen is up takes it out of every later scan, and rarer full
    collections do the rest (p95 keypress latency during 200,000 printed lines: 52 ms ->
    29 ms, worst 375 ms -> 91 ms, in bench/tui_latency.py).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(2_000, 10, 100)
