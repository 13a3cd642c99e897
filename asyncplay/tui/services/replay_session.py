"""A session that plays back recorded events: deterministic screens for tests and docs.

The app takes a session factory; this one ignores the spec's process and hands over a
fixed event list (a recorded run), optionally stopping part-way as if the run were still
going. Paths recorded as ``{PROGRAM}`` become the file the app runs the buffer under.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from asyncplay.runner.spec import RunSpec


def load_events(path: str | Path) -> list[dict]:
    """A JSON-lines event recording (``asyncplay run --json`` output)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


class ReplaySession:
    """The app's Session protocol over recorded events; ``until`` (seconds) holds the rest."""

    def __init__(self, events: Sequence[dict], until: float | None = None) -> None:
        self._events = events if isinstance(events, list) else list(events)
        self._until = until
        self._stopped = asyncio.Event()
        self._done = False
        self.stdin: list[bytes] = []
        self.pid = None

    @classmethod
    def factory(
        cls, events: Sequence[dict], until: float | None = None
    ) -> Callable[[RunSpec], asyncio.Future]:
        """A session factory for ``AsyncplayApp(session_factory=...)``."""

        async def start(spec: RunSpec) -> ReplaySession:
            program = spec.path or ""
            text = json.dumps(list(events)).replace("{PROGRAM}", program.replace("\\", "\\\\"))
            return cls(json.loads(text), until)

        return start  # type: ignore[return-value]

    @property
    def running(self) -> bool:
        return not self._done

    async def events(self) -> AsyncIterator[dict]:
        for ev in self._events:
            if self._until is not None and ev.get("t", 0.0) > self._until:
                await self._stopped.wait()  # "still running" until stopped
                break
            yield ev
            if ev.get("event") == "run_end":
                self._done = True
                return
        t = max((ev.get("t", 0.0) for ev in self._events), default=0.0)
        self._done = True
        yield {
            "event": "run_end",
            "t": t,
            "exit_code": 130,
            "reason": "stopped",
            "by": "asyncplay",
            "status": -2,
            "message": "asyncplay stopped the program on request",
        }

    async def stop(self, grace: float | None = None) -> dict:
        self._stopped.set()
        return {}

    async def aclose(self) -> None:
        self._stopped.set()

    def send_stdin(self, data: bytes) -> None:
        self.stdin.append(data)

    def close_stdin(self) -> None:
        self.stdin.append(b"")
