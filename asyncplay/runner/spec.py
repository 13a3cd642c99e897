"""What to run and within which limits: the input of every run, from the CLI or the TUI."""

from __future__ import annotations

import os
import sys

from asyncplay.breakpoints import Breakpoints
from asyncplay.limits import CLOCKS, Limits

__all__ = ["STEP_RECORDS", "RunSpec"]

STEP_RECORDS = ("steps", "figures", "both")  # (the child's step_figures.MODES)


class RunSpec:
    """A program to run: exactly one of ``path`` (a file), ``module`` or ``source``.

    ``source`` is unsaved editor text; it is compiled under ``path`` so tracebacks and task
    lines point at the buffer's own line numbers.
    """

    def __init__(
        self,
        path: str | None = None,
        module: str | None = None,
        source: str | None = None,
        args: tuple[str, ...] = (),
        python: str | None = None,
        cwd: str | None = None,
        limits: Limits | None = None,
        argv0: str | None = None,
        slow_step: float = 0.1,
        clock: str = "real",
        speed: float = 1.0,
        sandbox: str = "auto",
        network: str = "on",
        write: tuple[str, ...] = (),
        start_paused: bool = False,
        breakpoints: Breakpoints | None = None,
        step_records: str = "steps",
        output_records: bool = True,
    ) -> None:
        self.path = path
        self.module = module
        self.source = source
        self.args = tuple(args)
        self.python = python or sys.executable
        self.cwd = cwd or os.getcwd()
        self.limits = limits or Limits()
        self.argv0 = argv0
        # How the child runs the loop: the blocking detector's threshold (seconds), the
        # loop's clock ("real" or "virtual": timer-only waits are skipped) and the rate of
        # the waits that are not skipped (0.25: four times slower).
        self.slow_step = slow_step
        self.clock = clock
        self.speed = speed
        if clock not in CLOCKS:
            raise ValueError(f"clock must be one of {', '.join(CLOCKS)}, not {clock!r}")
        if not (slow_step > 0 and speed > 0):
            raise ValueError("slow_step and speed must be more than 0")
        self.sandbox = sandbox  # auto, bwrap, rlimit or none (asyncplay/sandbox/)
        self.network = network  # on, host or off (asyncplay/sandbox/network.py)
        self.write = tuple(write)  # more folders the program may write (--write DIR)
        # Stepping (docs/protocol.md, the control channel): paused before the first task
        # step, and the breakpoints armed from the start (later ones come over the channel).
        self.start_paused = bool(start_paused)
        self.breakpoints = breakpoints or Breakpoints()
        # What the child sends of each task step (docs/protocol.md, the spec): "steps",
        # a record per step (every view can be made); "figures", each task's figures in
        # batches instead (the headless summary's, all it prints); "both" (tests).
        if step_records not in STEP_RECORDS:
            raise ValueError(f"step_records must be one of {', '.join(STEP_RECORDS)}")
        self.step_records = step_records
        # Whether the child copies each write through sys.stdout/sys.stderr to the channel
        # (``O`` records) for the session to attribute the output to tasks: False when
        # nothing the run prints reads the ``output`` events (the headless run without
        # --json or --record passes the pipes through as they are).
        self.output_records = bool(output_records)
        chosen = (path is not None and source is None) + (module is not None) + (source is not None)
        if chosen != 1:
            raise ValueError("a RunSpec needs exactly one of a file, a module or source text")
        if source is not None and not path:
            raise ValueError("source text needs a file name to be compiled under")

    @property
    def mode(self) -> str:
        if self.module is not None:
            return "module"
        return "source" if self.source is not None else "file"

    def child_spec(
        self, channel_fd: int, control_fd: int | None = None, gate_fd: int | None = None
    ) -> dict:
        """The document the child runtime reads at start-up (docs/protocol.md)."""
        spec: dict = {
            "mode": self.mode,
            "channel_fd": channel_fd,
            "args": list(self.args),
            "slow_step": self.slow_step,
            "clock": self.clock,
            "speed": self.speed,
        }
        if self.module is not None:
            spec["module"] = self.module
        else:
            # "<stdin>" (asyncplay run -) stays as python names it in tracebacks.
            pseudo = bool(self.path) and self.path.startswith("<") and self.path.endswith(">")
            spec["path"] = self.path if pseudo else os.path.join(self.cwd, self.path or "")
            spec["argv0"] = self.argv0 or self.path
        if self.source is not None:
            spec["source"] = self.source
        if self.step_records != "steps":
            spec["step_records"] = self.step_records
        if not self.output_records:
            spec["output_records"] = False
        if gate_fd is not None:
            spec["gate_fd"] = gate_fd
        if control_fd is not None:
            spec["control_fd"] = control_fd
            spec["start_paused"] = self.start_paused
            bp = self.breakpoints.to_wire()
            spec["breakpoints"] = {"lines": bp["lines"], "tasks": bp["tasks"]}
        return spec
