"""What the task lists sort by (``--sort KEY``): each key's figure.

The words themselves are ``limits.SORT_KEYS``: the command line's parser checks them
before the program starts without importing the views.
"""

from __future__ import annotations

from asyncplay.limits import SORT_KEYS

TYPE_CHECKING = False  # not typing's
if TYPE_CHECKING:
    from asyncplay.model import TaskInfo

__all__ = ["SORT_KEYS", "figures", "sort_index"]


def figures(t: TaskInfo, now: float) -> tuple[float, float, int]:
    """What ``--sort`` sorts by, in ``SORT_KEYS[1:]``'s order: running, waiting, steps."""
    return t.running, t.waited(now), t.steps


def sort_index(sort: str | None) -> int | None:
    """The place of ``sort``'s figure in :func:`figures`; None: creation order."""
    return None if not sort or sort == "created" else SORT_KEYS.index(sort) - 1
