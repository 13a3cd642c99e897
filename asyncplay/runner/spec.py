"""What to run and within which limits: the input of every run, from the CLI or the TUI."""

from __future__ import annotations

import os
import sys

CLOCKS = ("real", "virtual")
# The words of --sandbox and --network, kept here (a module every front end imports cheaply)
# so the CLI, the settings, the lab policy and the sandbox share one list.
SANDBOXES = ("auto", "bwrap", "rlimit", "none")
NETWORKS = ("on", "host", "off")


class Limits:
    """Every limit a run is held to; each names the flag that raises it in its message.

    A plain class rather than a dataclass: importing dataclasses costs the headless ``run``
    path a measurable slice of its start-up budget.
    """

    __slots__ = ("timeout", "memory_mib", "cpu", "output_mib", "procs", "max_events")

    def __init__(
        self,
        timeout: float = 30.0,  # wall clock, seconds (--timeout)
        memory_mib: int = 1024,  # address space, MiB (--memory)
        cpu: float = 30.0,  # CPU seconds (--cpu)
        output_mib: float = 8.0,  # stdout + stderr, MiB (--output-limit)
        procs: int = 64,  # processes of the run alive at once (--procs)
        max_events: int = 5_000_000,  # events the parent takes before it stops the run
    ) -> None:
        self.timeout = timeout
        self.memory_mib = memory_mib
        self.cpu = cpu
        self.output_mib = output_mib
        self.procs = procs
        self.max_events = max_events

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"Limits({fields})"


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

    def child_spec(self, channel_fd: int) -> dict:
        """The JSON document the child runtime reads at start-up."""
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
        return spec
