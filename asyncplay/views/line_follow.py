"""Where marked lines go when the text is edited: a breakpoint stays on its line of code.

An edit changes one stretch of lines (typing, a paste, a deleted block, an undo): the lines
before it keep their numbers, the lines after it move by what it added or took away. A
mark inside the stretch stays at its place in it while the stretch still has that line
(a line typed on keeps its breakpoint), and goes when its line was deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["follow_lines"]


def follow_lines(old: Sequence[str], new: Sequence[str], marks: Iterable[int]) -> set[int]:
    """The 0-based ``marks`` of ``old`` as lines of ``new`` (those edited away dropped)."""
    head = 0
    most = min(len(old), len(new))
    while head < most and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < most - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_end, new_end = len(old) - tail, len(new) - tail  # the edited stretch: [head, end)
    out: set[int] = set()
    for line in marks:
        if line < head:
            out.add(line)
        elif line >= old_end:
            out.add(line + new_end - old_end)
        elif line - head < new_end - head:  # inside the stretch, still there
            out.add(line)
    return {line for line in out if 0 <= line < max(len(new), 1)}
