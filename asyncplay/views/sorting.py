"""What the task lists sort by (``--sort KEY``): the one definition.

Its own small module so the command line's parser can offer the choices without importing
the summary (and the timeline behind it) before the program starts.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: the parser imports this before the program starts
if TYPE_CHECKING:
    from asyncplay.model import TaskInfo

__all__ = ["SORT_KEYS", "figures", "sort_index"]

#: Creation order, or the biggest first by one of a task's :func:`figures`.
SORT_KEYS = ("created", "running", "waiting", "steps")


def figures(t: TaskInfo, now: float) -> tuple[float, float, int]:
    """What ``--sort`` sorts by, in ``SORT_KEYS[1:]``'s order: running, waiting, steps."""
    return t.running, t.waited(now), t.steps


def sort_index(sort: str | None) -> int | None:
    """The place of ``sort``'s figure in :func:`figures`; None: creation order."""
    return None if not sort or sort == "created" else SORT_KEYS.index(sort) - 1
