"""What to run and within which limits: the input of every run, from the CLI or the TUI."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    """Every limit a run is held to; each names the flag that raises it in its message."""

    timeout: float = 30.0  # wall clock, seconds (--timeout)
    memory_mib: int = 1024  # address space, MiB (--memory)
    cpu: float = 30.0  # CPU seconds (--cpu)
    output_mib: float = 8.0  # stdout + stderr bytes, MiB (--output-limit)
    procs: int = 64  # processes of the run alive at once (--procs)
    max_events: int = 5_000_000  # events the parent keeps before it stops the run


@dataclass(frozen=True)
class RunSpec:
    """A program to run: exactly one of ``path`` (a file), ``module`` or ``source``.

    ``source`` is unsaved editor text; it is compiled under ``path`` so tracebacks and task
    lines point at the buffer's own line numbers.
    """

    path: str | None = None
    module: str | None = None
    source: str | None = None
    args: tuple[str, ...] = ()
    python: str = field(default_factory=lambda: sys.executable)
    cwd: str = field(default_factory=os.getcwd)
    limits: Limits = field(default_factory=Limits)
    argv0: str | None = None

    def __post_init__(self) -> None:
        chosen = (self.path is not None and self.source is None) + (self.module is not None)
        chosen += self.source is not None
        if chosen != 1:
            raise ValueError("a RunSpec needs exactly one of a file, a module or source text")
        if self.source is not None and not self.path:
            raise ValueError("source text needs a file name to be compiled under")

    @property
    def mode(self) -> str:
        if self.module is not None:
            return "module"
        return "source" if self.source is not None else "file"

    def child_spec(self, channel_fd: int) -> dict:
        """The JSON document the child runtime reads at start-up."""
        spec: dict = {
            "mode": self.mode,
            "channel_fd": channel_fd,
            "args": list(self.args),
            "memory_limit": self.limits.memory_mib,
        }
        if self.module is not None:
            spec["module"] = self.module
        else:
            spec["path"] = os.path.join(self.cwd, self.path or "")
            spec["argv0"] = self.argv0 or self.path
        if self.source is not None:
            spec["source"] = self.source
        return spec
