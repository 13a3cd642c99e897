"""The headless command line's driver: a plain ``epoll`` loop around ``SessionCore``.

No asyncio in the parent here: importing it would cost a hello-world run about as much as
the whole rest of asyncplay's start-up. Nor ``selectors`` and ``signal`` (their
``collections`` and ``enum`` classes): ``select.epoll`` and ``_signal`` are what they
wrap (docs/performance.md, the seventh start-up pass).
"""

from __future__ import annotations

import _signal  # (the C half of ``signal``, as ``sandbox/rlimit.py`` uses it)
import os
import time

from asyncplay.runner.core import SessionCore
from asyncplay.runner.spec import RunSpec
from asyncplay.sandbox import process

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    EventSink = Callable[[dict], None]
    RawSink = Callable[[str, bytes], None]

# A flood (a program printing or stepping as fast as it can) would wake the driver for every
# few hundred bytes: one read, one decode, one write each time, thousands a second, paid by
# the parent and by the program (whose every write then wakes a reader). After BUSY_STREAK
# wake-ups in a row that found data, the driver lets COALESCE seconds' worth pile up in the
# pipes (1 MiB each) before reading again: a few hundred reads a second at most, and output
# shown at most COALESCE later. A program that writes now and then never waits.
BUSY_STREAK = 8
COALESCE = 0.004


def run_blocking(
    spec: RunSpec,
    on_event: EventSink,
    on_raw: RawSink | None = None,
    stdin: str = "inherit",
    stop_on: Callable[[dict], bool] | None = None,
    exiting: bool = False,
    spawned: Callable[[], None] | None = None,
    batched: bool = False,
) -> dict:
    """Run ``spec`` to its end, feeding every event to ``on_event``; returns ``run_end``.

    Ctrl+C in the terminal stops the program (SIGINT to its group, SIGKILL after a grace
    period) instead of abandoning it; a second Ctrl+C kills it at once.

    ``exiting=True`` (the caller exits once the run is told): the sandbox's helpers,
    killed with the run, are not waited for (some 30 ms for the network's).

    ``stdin="inherit"`` passes asyncplay's stdin on, unless it is a terminal: the program
    never holds the user's tty (``tty_input``), it gets a pipe of what the user types.

    ``stop_on``: an event it says yes to ends the run at once (``asyncplay check`` ends a
    run stuck in a deadlock); the run ends as ``stopped``.

    ``spawned``: called once the program's process is started, before the first event
    (what the caller needs only from then on loads while the program's interpreter does,
    and the network's helper comes up: ``SessionCore.spawn``'s ``meanwhile``).

    ``batched``: a run of task records is one ``tasks_created`` or ``tasks_done`` event
    (``decoder.Decoder``), for a caller that only folds them into a model.
    """
    relay_tty = stdin == "inherit" and _is_tty(0)
    core = SessionCore(spec, stdin="pipe" if relay_tty else stdin, control=False, batched=batched)
    core.reap_helpers = not exiting

    # What the caller loads once the program is on its way: while the network's helper
    # comes up, or else while the program's interpreter starts.
    core.spawn(spawned)
    assert core.proc is not None

    tty = None
    if relay_tty and core.proc.stdin is not None:
        from asyncplay.runner.tty_input import TtyInput  # (a terminal's only)

        tty = TtyInput(0, core.proc.stdin)
    tty_watched = False
    on_event(core.run_start_event())
    sel = _Poller()
    streams = core.fds()
    for fd, name in streams.items():
        sel.register(fd, name)
    pidfd = core.pidfd()
    if pidfd is not None:
        sel.register(pidfd, "exit")
    open_streams = set(streams)
    exit_ready = True  # look once; then only when the pidfd says the program ended
    busy = 0
    end: dict = {}
    gone: list[int] = []

    def terminal_gone(signum: int, _frame: object) -> None:
        # SIGHUP (the SSH connection dropped) or SIGTERM: end the run now, report, exit.
        gone.append(signum)
        core.kill("stopped")

    previous = {}
    for s in (_signal.SIGHUP, _signal.SIGTERM):
        try:
            previous[s] = _signal.signal(s, terminal_gone)
        except ValueError:  # not the main thread: the caller handles signals
            break
    try:
        while True:
            try:
                if (pidfd is None or exit_ready) and core.poll_exit() and pidfd is not None:
                    sel.unregister(pidfd)
                    os.close(pidfd)
                    pidfd = None
                if core.drained_enough(len(open_streams)):
                    break
                if tty is not None:
                    if core.exited_at is not None:
                        tty.close()
                    if tty.wanted() != tty_watched:
                        tty_watched = not tty_watched
                        if tty_watched:
                            sel.register(tty.tty, "tty")
                        else:
                            sel.unregister(tty.tty)
                exit_ready = False
                got = False
                for fd, name in sel.select(0.05):
                    if name == "exit":
                        exit_ready = True
                        continue
                    if name == "tty":
                        tty.on_readable()  # type: ignore[union-attr]
                        continue
                    events, raw, eof = core.on_readable(fd, name)
                    got = got or bool(raw or events)
                    if raw and on_raw is not None:
                        on_raw(name, raw)
                    for ev in events:
                        on_event(ev)
                        if stop_on is not None and core.kill_reason is None and stop_on(ev):
                            core.kill("stopped")
                    if eof:
                        sel.unregister(fd)
                        open_streams.discard(fd)
                for ev in core.tick():
                    on_event(ev)
                busy = busy + 1 if got else 0
                if busy >= BUSY_STREAK and core.exited_at is None:
                    time.sleep(COALESCE)
            except KeyboardInterrupt:
                if core.kill_reason == "stopped":
                    core.killpg(9)
                core.request_stop()
        for ev in core.finish():
            if ev["event"] == "run_end":
                end = ev
            on_event(ev)
    finally:
        for s, handler in previous.items():
            _signal.signal(s, handler)
        if pidfd is not None:
            os.close(pidfd)
        if tty is not None:
            tty.close()
        sel.close()
        if not core.finished:
            core.kill("stopped")
            core.cleanup()
        if core.proc is not None:
            for f in (core.proc.stdout, core.proc.stderr):
                if f is not None:
                    f.close()
            if core.proc.returncode is None:
                # Killed above; a child still dying after a second is left to init (or
                # subprocess's bookkeeping), and the run's end is already told.
                process.wait(core.proc, 1)
    return end


def _is_tty(fd: int) -> bool:
    """A terminal on ``fd`` (whose input ``tty_input`` relays: it loads only then)."""
    try:
        return os.isatty(fd)
    except OSError:
        return False


class _Poller:
    """What the loop needs of ``selectors``' selector: a name per descriptor, and each
    descriptor ready to read (or hung up: a read then sees the end) with its name, by
    ``select.epoll`` (what ``selectors`` uses on Linux), else ``select.poll``. A descriptor
    is unregistered before it is closed."""

    def __init__(self) -> None:
        import select  # (made after the program's spawn: not on the start-up's path)

        self._select = select
        self._epoll = select.epoll() if hasattr(select, "epoll") else None
        self._poll = select.poll() if self._epoll is None else None
        self._names: dict[int, str] = {}

    def register(self, fd: int, name: str) -> None:
        (self._epoll or self._poll).register(fd, self._select.POLLIN)  # (EPOLLIN's value too)
        self._names[fd] = name

    def unregister(self, fd: int) -> None:
        (self._epoll or self._poll).unregister(fd)
        del self._names[fd]

    def select(self, timeout: float) -> list[tuple[int, str]]:
        # (either rounds the timeout up to whole milliseconds, as selectors asks them to)
        if self._epoll is not None:
            ready = self._epoll.poll(timeout, max(len(self._names), 1))
        else:
            ready = self._poll.poll(-(-timeout * 1000 // 1))  # type: ignore[union-attr]
        names = self._names
        return [(fd, names[fd]) for fd, _mask in ready if fd in names]

    def close(self) -> None:
        if self._epoll is not None:
            self._epoll.close()
