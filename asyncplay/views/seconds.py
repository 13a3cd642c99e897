"""How every view writes a time: one function, so the summary, the task table, the
timeline and the explanations never say one moment two ways.

``seconds_text`` is the prose form (``12.3 ms``, ``1.50 s``: the timeline's axis and
detail, the explanations); ``duration`` its compact form for a table's column (``12.3ms``,
``1.50s``, whole seconds from 1,000 s: at most 7 characters below 10,000 s), the same
figures without the space.
"""

from __future__ import annotations

__all__ = ["duration", "seconds_text"]


def seconds_text(x: float, compact: bool = False) -> str:
    """``0 s``, ``45 µs``, ``12.3 ms``, ``1.50 s``: a time or a duration, short.
    ``compact``: ``0µs``, ``45µs``, ``12.3ms``, ``1.50s``, ``1234s`` (see ``duration``)."""
    if compact:
        if x < 0.001:
            return f"{x * 1e6:.0f}µs"
        if x < 1:
            return f"{x * 1e3:.1f}ms"
        return f"{x:.2f}s" if x < 1000 else f"{x:.0f}s"
    if x == 0:
        return "0 s"
    if abs(x) >= 1:
        return f"{x:.2f} s"
    if abs(x) >= 1e-3:
        return f"{x * 1e3:.1f} ms"
    return f"{x * 1e6:.0f} µs"


def duration(x: float) -> str:
    """A task's time in a column, one way in the summary and the playground's task table:
    ``45µs``, ``12.3ms``, ``1.50s``, ``1234s``."""
    return seconds_text(x, compact=True)
