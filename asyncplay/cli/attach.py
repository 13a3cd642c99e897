"""``asyncplay attach PID``: watch an asyncio program that asyncplay did not start.

At a terminal (and without ``--json``, ``--timeline``, ``--graph``, ``--quiet`` or
``--print``) the playground opens on it (``tui/attach_mode.py``); otherwise the headless form prints the tasks at the end (the
summary, the views asked for) or the events as JSON lines. ``--timeout``, Ctrl+C, SIGTERM
or SIGHUP detach and exit 0: the program goes on as before. A process that cannot be
attached to is one line and its own exit status (``exits.py``). No sandbox applies: the
program runs as it was started (docs/cli.md, "attach").
"""

from __future__ import annotations

import selectors
import signal
import sys
import time
from types import SimpleNamespace

from asyncplay.cli import printed
from asyncplay.cli.args import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from asyncplay.runner.attach_session import AttachSession

__all__ = ["attach"]


def attach(ns: SimpleNamespace) -> int:
    from asyncplay.runner.attach_session import AttachSession, Refused

    try:
        pid = int(ns.pid)
    except ValueError:
        raise UsageError(f"attach needs a process id (a number), not {ns.pid!r}") from None
    session = AttachSession(pid)
    playground = not (ns.json or ns.timeline or ns.graph or ns.print_only or ns.quiet)
    playground = playground and sys.stdin.isatty() and sys.stdout.isatty()
    try:
        first = session.start()
    except Refused as exc:
        print(f"asyncplay: cannot attach: {exc}", file=sys.stderr)
        return exc.status
    if playground:
        from asyncplay.tui.launch import launch_attach

        launch_attach(session, first, ns.timeout)
        session.close()  # (detached by the app; closed here in any case)
        return 0
    return _headless(session, first, ns)


def _headless(session: AttachSession, first: list[dict], ns: SimpleNamespace) -> int:
    from asyncplay.model import RunModel, apply
    from asyncplay.runner.attach_session import NO_SANDBOX

    model = RunModel()
    out = sys.stdout.buffer
    err = sys.stderr.buffer

    def emit(stream, data: bytes) -> None:  # noqa: ANN001
        try:
            stream.write(data)
            stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def on_event(ev: dict) -> None:
        apply(model, ev)
        if ns.json:
            if ev.get("event") == "run_end":
                emit(out, printed.summary_line(model, ns))
            emit(out, printed.json_line(ev))

    target = session.target
    assert target is not None
    if not ns.quiet:
        emit(
            err,
            (
                f"asyncplay: attached to process {target.pid} (Python {target.label}) in "
                f"{session.attach_ms:.0f} ms ({NO_SANDBOX}); Ctrl+C detaches\n"
            ).encode(),
        )
    end = drive(session, first, on_event, ns.timeout)
    text = printed.end_text(model, ns, ".", end)
    if text:
        emit(err, (text + "\n").encode("utf-8", "replace"))
    return int(end.get("exit_code", 0))


def drive(
    s: AttachSession, first: list[dict], on_event: Callable[[dict], None], timeout: float | None
) -> dict:
    """Feed the session's events to ``on_event`` until it ends; detach at ``timeout``
    seconds, on Ctrl+C, SIGTERM or SIGHUP. Returns the ``run_end`` event (also fed)."""
    asked: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        asked.append(signal.Signals(signum).name)

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            previous[sig] = signal.signal(sig, on_signal)
        except ValueError:  # not the main thread
            break
    deadline = None if timeout is None else time.monotonic() + timeout
    for ev in first:
        on_event(ev)
    sel = selectors.DefaultSelector()
    sel.register(s.fileno(), selectors.EVENT_READ)
    try:
        while not s.ended:
            if asked:
                s.detach("Ctrl+C" if asked[0] == "SIGINT" else asked[0])
            elif deadline is not None and time.monotonic() >= deadline:
                s.detach(f"--timeout {timeout:g} s")
            sel.select(0.1)
            for ev in s.read():
                on_event(ev)
            s.tick()
    finally:
        sel.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    end = s.finish()
    on_event(end)
    return end
