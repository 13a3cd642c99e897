"""The runtime's own failures inside the run: told once per site, never printed.

The child runtime must never break the program nor write on its stdout or stderr, so a
failure of its own code is caught where it happens. It is not dropped: the first failure
at each site (a short name of the place: ``"step hook"``, ``"deadlock check"``) becomes
one ``tracer_failed`` warning with that ``site``; later ones there are not told again (a
site on the per-step path could fail on every step). A report is one JSON record appended
in one ``buf +=`` and pushed at once, so any thread may make it (the watchdog, the output
flusher, a worker thread reading stdin).
"""

from __future__ import annotations

import time

from asyncplay import protocol
from asyncplay.child.safe_repr import safe_message

__all__ = ["report_failure"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def report_failure(tracer: Any, site: str, exc: BaseException) -> None:
    """Tell the parent that the runtime failed at ``site`` (the first time only)."""
    try:
        with tracer.failure_lock:
            if site in tracer.failure_sites:
                return
            tracer.failure_sites.add(site)
        if not tracer.enabled:
            return
        said = safe_message(exc)  # never the program's own __str__
        what = type(exc).__qualname__ + (f": {said}" if said else "")
        event = {
            "event": "warning",
            "t": time.perf_counter() - tracer.t0,
            "kind": "tracer_failed",
            "message": (
                f"asyncplay's tracer failed in its {site} ({what}); the program ran on, but "
                "what asyncplay shows of it may be incomplete from here."
            ),
            "task": None,
            "file": None,
            "line": None,
            "site": site,
        }
        channel = tracer.channel
        channel.buf += protocol.pack_json(event)
        channel.flush()
    except (MemoryError, RecursionError):
        # Out of memory or of stack where the failure happened: nothing is left to tell
        # it with, and the report must not become the program's exception either.
        return
