"""Hand-made event streams for the view tests: deterministic, no processes."""

from __future__ import annotations


class Stream:
    """Builds a protocol event list the way the child and session would send it."""

    def __init__(self, target: str = "/p/x.py") -> None:
        self.target = target
        self.events: list[dict] = [
            {"event": "run_start", "t": 0.0, "target": target, "mode": "file"},
            {"event": "hello", "t": 0.0, "version": 1, "python": "3.11.7"},
        ]

    def task(
        self,
        tid: int,
        t: float,
        coro: str = "worker",
        name: str | None = None,
        parent: int | None = None,
        internal: bool = False,
        line: int = 10,
    ) -> Stream:
        self.events.append(
            {
                "event": "task_created",
                "t": t,
                "id": tid,
                "name": name or f"Task-{tid}",
                "coro": coro,
                "parent": parent,
                "internal": internal,
                "file": self.target,
                "line": line,
            }
        )
        return self

    def step(
        self, tid: int, start: float, dur: float, awaiting: str | None = None, line: int = 0
    ) -> Stream:
        step = [tid, start, dur, awaiting, self.target if line else None, line]
        self.events.append({"event": "steps", "t": start + dur, "steps": [step]})
        return self

    def done(self, tid: int, t: float, state: str = "done", exc: str | None = None) -> Stream:
        self.events.append(
            {
                "event": "task_done",
                "t": t,
                "id": tid,
                "state": state,
                "result": "None" if state == "done" else None,
                "exc_type": exc,
                "exc_msg": "boom" if exc else None,
                "file": self.target if exc else None,
                "line": 5 if exc else None,
            }
        )
        return self

    def warn(self, kind: str, t: float, task: int | None = None, line: int = 7, **kw) -> Stream:
        ev = {
            "event": "warning",
            "t": t,
            "kind": kind,
            "message": f"{kind} here",
            "task": task,
            "file": self.target,
            "line": line,
        }
        ev.update(kw)
        self.events.append(ev)
        return self

    def output(self, t: float, text: str, task: int | None = None) -> Stream:
        self.events.append(
            {"event": "output", "t": t, "stream": "stdout", "text": text, "task": task}
        )
        return self

    def end(self, t: float, exit_code: int = 0) -> list[dict]:
        self.events.append(
            {
                "event": "run_end",
                "t": t,
                "exit_code": exit_code,
                "reason": "exited",
                "by": "program",
                "status": exit_code,
                "message": f"the program exited with status {exit_code} after {t:.2f} s",
            }
        )
        return self.events


def gather_run() -> list[dict]:
    """The tutorial's gather: main awaits gather(3) of workers sleeping 2, 3 and 1 s."""
    s = Stream()
    s.task(1, 0.0, "main", line=40)
    for tid, name in ((2, "worker-A"), (3, "worker-B"), (4, "worker-C")):
        s.task(tid, 0.001, "worker", name=name, parent=1, line=32)
    s.step(1, 0.0005, 0.0004, "gather(3)", line=35)
    s.output(0.002, "worker-A: sleeping 2 s\n", 2)
    s.step(2, 0.002, 0.0001, "sleep(2)", line=22)
    s.step(3, 0.003, 0.0001, "sleep(3)", line=22)
    s.step(4, 0.004, 0.0001, "sleep(1)", line=22)
    s.step(4, 1.004, 0.0001).done(4, 1.0042)
    s.step(2, 2.002, 0.0001).done(2, 2.0022)
    s.step(3, 3.003, 0.0001).done(3, 3.0032)
    s.step(1, 3.004, 0.0002).done(1, 3.0043)
    s.task(5, 3.005, "BaseEventLoop.shutdown_asyncgens", internal=True)
    s.step(5, 3.005, 0.00001).done(5, 3.00502)
    return s.end(3.01)
