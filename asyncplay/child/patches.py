"""Every attribute the runtime replaces, remembered so that ``undo`` puts each back exactly.

A run's tracer lives as long as its program and never undoes anything; an attach session
(``attached.py``) leaves the program as it found it. ``set`` notes whether the attribute
was the object's own (restored) or inherited (deleted again, so lookup falls back to the
class it came from), and ``undo`` leaves alone an attribute someone replaced after us: the
hook is off by then anyway (the tracer is disabled first), and theirs stays.
"""

from __future__ import annotations

__all__ = ["Patches"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_MISSING = object()


class Patches:
    """The replaced attributes, in order; ``undo`` restores them last first."""

    def __init__(self) -> None:
        self._done: list[tuple[Any, str, Any, Any]] = []  # (owner, name, original, ours)

    def set(self, owner: Any, name: str, value: Any) -> None:
        own = vars(owner) if hasattr(owner, "__dict__") else {}
        original = own[name] if name in own else _MISSING
        setattr(owner, name, value)
        self._done.append((owner, name, original, value))

    def undo(self) -> list[str]:
        """Put every original back; the names left alone (replaced after us) are returned."""
        kept = []
        while self._done:
            owner, name, original, ours = self._done.pop()
            if vars(owner).get(name, _MISSING) is not ours:
                kept.append(name)
                continue
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        return kept

    def __len__(self) -> int:
        return len(self._done)
