"""Breakpoints of a stepped run: lines of the program and tasks by name, in one neutral place.

The playground keeps them (they survive a rerun), the runner hands them to the child in its
spec and over the control channel (``docs/protocol.md``), and neither has to import the
other for them. A task is named by its *name*, not asyncplay's id: ids are per run.

Immutable like a frozen dataclass, but a plain ``__slots__`` class: ``RunSpec`` imports
this on the headless ``run`` path, where importing ``dataclasses`` costs start-up time.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["MAX_BREAKPOINTS", "Breakpoints"]

#: Lines and tasks each: more are refused (the child checks again: the bytes are untrusted).
MAX_BREAKPOINTS = 1000


class Breakpoints:
    """``lines``: (file, line) pairs, ``file`` as the child compiles the program
    (``RunSpec.path`` made absolute, also for unsaved source); ``tasks``: task names."""

    __slots__ = ("lines", "tasks")

    lines: frozenset[tuple[str, int]]
    tasks: frozenset[str]

    def __init__(self, lines: Iterable[tuple[str, int]] = (), tasks: Iterable[str] = ()) -> None:
        lines = frozenset((str(f), int(n)) for f, n in lines)
        tasks = frozenset(str(t) for t in tasks)
        if len(lines) > MAX_BREAKPOINTS or len(tasks) > MAX_BREAKPOINTS:
            raise ValueError(
                f"at most {MAX_BREAKPOINTS} line and {MAX_BREAKPOINTS} task breakpoints"
            )
        if any(n <= 0 for _f, n in lines):
            raise ValueError("a line breakpoint's line counts from 1")
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "tasks", tasks)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Breakpoints are immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Breakpoints are immutable (cannot delete {name!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Breakpoints):
            return NotImplemented
        return self.lines == other.lines and self.tasks == other.tasks

    def __hash__(self) -> int:
        return hash((self.lines, self.tasks))

    def __bool__(self) -> bool:
        return bool(self.lines or self.tasks)

    def __repr__(self) -> str:
        return f"Breakpoints(lines={sorted(self.lines)!r}, tasks={sorted(self.tasks)!r})"

    def to_wire(self) -> dict:
        """The control record that arms exactly these (``{"cmd": "breakpoints", ...}``)."""
        return {
            "cmd": "breakpoints",
            "lines": [[f, n] for f, n in sorted(self.lines)],
            "tasks": sorted(self.tasks),
        }
