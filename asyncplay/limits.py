"""The limits of a run and the words of its modes, in one neutral place.

Every layer needs them and none owns them: the command line's flags, the settings
(``storage``), the lab policy, the sandbox and the runner's ``RunSpec`` all import them
from here, so none of those has to import another for a tuple of words. A plain module of
constants and one small class: the headless ``run`` path imports it on every start.
"""

from __future__ import annotations

__all__ = ["CLOCKS", "NETWORK_MODES", "SANDBOX_MODES", "SORT_KEYS", "Limits"]

#: ``--clock``: real waits, or timer-only waits jumped over.
CLOCKS = ("real", "virtual")
#: ``--sandbox`` (``asyncplay/sandbox/``).
SANDBOX_MODES = ("auto", "bwrap", "rlimit", "none")
#: ``--network`` (``asyncplay/sandbox/network.py``).
NETWORK_MODES = ("on", "host", "off")
#: ``--sort``: creation order, or the biggest first by one of a task's figures
#: (``views/sorting.py`` sorts by them; the parser checks the word before the program starts).
SORT_KEYS = ("created", "running", "waiting", "steps")


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
