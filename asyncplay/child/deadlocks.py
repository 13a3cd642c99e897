"""Deadlocks: tasks that can never finish, told as soon as it happens.

Looked for only when the loop is about to wait long or for ever (from the loop's wait
wrapper, ``virtual_clock.wait``), never per step: a cycle of tasks awaiting each other
(directly or through ``gather``), or, with no timer at all, every task waiting while
nothing outside the loop's timers could wake it (a stall). See docs/protocol.md,
``deadlock``.
"""

from __future__ import annotations

import os
import sys
import time

__all__ = ["DEADLOCK_CHECK_AFTER", "find_cycle", "maybe_check_deadlock", "real_pending"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEADLOCK_CHECK_AFTER = 1.0  # a wait this long (s) is checked for cycles, once a second at most


def maybe_check_deadlock(tracer: Any, loop: Any, timeout: float | None) -> None:
    """The loop is about to wait long or for ever. About to block for good (no
    timer, nothing real pending: only a signal can wake it), always look, once per
    wait; otherwise (a long timer, or I/O that may wake it any moment) look for cycles
    at most once a second, so a busy I/O program or a virtual clock jumping from
    timer to timer pays for the walk over its tasks at most once a second."""
    if timeout is None and not real_pending(tracer, loop):
        check_deadlock(tracer, loop, True)
        return
    now = time.perf_counter()
    if now - tracer.last_cycle_check >= DEADLOCK_CHECK_AFTER:
        tracer.last_cycle_check = now
        check_deadlock(tracer, loop, False)


def check_deadlock(tracer: Any, loop: Any, stuck: bool) -> None:
    """``stuck``: nothing but the program's tasks could wake the loop; then a stall
    (every task waiting) is a deadlock too."""
    tasks = [t for t in tracer.all_tasks(loop) if not t.done()]
    if not tasks:
        return
    awaits: dict[Any, list[Any]] = {}
    stalled = True  # every task waits on a future
    for t in tasks:
        w = t._fut_waiter
        if w is None:
            stalled = False
            continue
        if type(w) is tracer.gathering:
            awaits[t] = [c for c in w._children if hasattr(type(c), "get_coro")]
        elif hasattr(type(w), "get_coro"):
            awaits[t] = [w]
    cycle = find_cycle(awaits, lambda t: tracer.lookup(t).tid)
    if cycle:
        report_deadlock(tracer, cycle, True, stuck)
    elif stuck and stalled:
        report_deadlock(tracer, tasks, False, True)


def report_deadlock(tracer: Any, tasks: list[Any], cycle: bool, stuck: bool = False) -> None:
    """One warning per distinct deadlock (the loop may wake and wait again); a cycle
    first told while a timer or I/O could still wake the loop is told once more, with
    ``stuck``, when nothing can: a consumer may end the run there."""
    recs = [(tracer.lookup(t), t) for t in tasks]
    if not cycle:
        recs = sorted((p for p in recs if not p[0].internal), key=lambda p: p[0].tid)
        if not recs:
            return
    key = (cycle, frozenset(r.tid for r, _t in recs))
    if key in tracer.deadlocks and (not stuck or (key, "stuck") in tracer.deadlocks):
        return
    tracer.deadlocks.add(key)
    if stuck:
        tracer.deadlocks.add((key, "stuck"))
    text = tracer.strings.text
    parts = []
    where: list[tuple[str | None, int]] = []
    for rec, task in recs:
        a, f, ln = tracer.describe(rec, task)
        file = text(f) if ln else None
        where.append((file, ln))
        at = f" at {os.path.basename(file)}:{ln}" if file else ""
        parts.append(f"{rec.name} awaits {text(a) or 'a future'}{at}")
    if cycle:
        names = [r.name for r, _t in recs]
        message = (
            f"deadlock: {' awaits '.join(names)}, which awaits {names[0]} again: "
            f"{'none of them' if len(names) > 2 else 'neither'} can ever finish. "
            f"{'; '.join(parts)}."
        )
    else:
        message = (
            "deadlock: every task is waiting and nothing is left that could wake them "
            "(no timer, I/O, thread or subprocess): "
            f"{'; '.join(parts)}. The program hangs until it is stopped."
        )
    first, _task0 = recs[0]
    tracer.flush_output(tracer.current)
    tracer.send_json(
        {
            "event": "warning",
            "kind": "deadlock",
            "message": message,
            "task": first.tid,
            "file": where[0][0],
            "line": where[0][1] or None,
            "tasks": [r.tid for r, _t in recs],
            "cycle": cycle,
            "stuck": stuck,
        },
        now=True,
    )


def real_pending(tracer: Any, loop: Any) -> bool:
    """Whether something outside the loop's timers may wake it: a registered reader
    or writer other than its own self-pipe (sockets, subprocess pipes, a pidfd), a
    concurrent future asyncio waits on, or a live thread other than the loop's own
    and the executors' workers (a subprocess watcher, the program's own threads, and
    the main thread when the loop runs in another one)."""
    ssock = getattr(loop, "_ssock", None)
    own = ssock.fileno() if ssock is not None else -1
    for fd in loop._selector.get_map():
        if fd != own:
            return True
    if tracer.executor_pending:
        return True
    threading = sys.modules.get("threading")
    if threading is None:
        return False
    cft = sys.modules.get("concurrent.futures.thread")
    workers = cft._threads_queues if cft is not None else {}
    here = threading.get_ident()
    for t in threading.enumerate():
        if t.ident == here or t in workers:
            continue
        return True
    return False


def find_cycle(awaits: dict[Any, list[Any]], order: Any) -> list[Any]:
    """A cycle in the graph "task -> tasks it awaits", starting at its lowest ``order``
    and in await order; [] when there is none."""
    state: dict[Any, int] = {}  # 1: on the current path, 2: finished
    for root in sorted(awaits, key=order):
        if root in state:
            continue
        path = [root]
        iters = [iter(awaits.get(root, ()))]
        state[root] = 1
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iters.pop()
                continue
            s = state.get(nxt)
            if s == 1:
                cycle = path[path.index(nxt) :]
                low = min(range(len(cycle)), key=lambda i: order(cycle[i]))
                return cycle[low:] + cycle[:low]
            if s is None:
                state[nxt] = 1
                path.append(nxt)
                iters.append(iter(awaits.get(nxt, ())))
    return []
