"""``asyncplay attach``: the child runtime inside a program asyncplay did not start.

The attacher (``runner/attach_session.py``) has the program's main thread run a small
script (``sys.remote_exec``, 3.14+) that imports this module from asyncplay's folder
(taken off ``sys.path`` and out of ``sys.modules`` right after) and calls ``start``.

``start`` connects to the attacher's socket and, as a loop callback (between two steps,
never mid-step), lists the tasks that already exist and installs the run's own tracer in
its ``attached`` form (``Tracer.install``), with a copy of what the program writes on its
``sys.stdout`` and ``sys.stderr`` (``attached_output``). A helper thread (a bare ``_thread``, outside
``threading.enumerate()``) sends the records and reads the attacher's word; the loop's
thread only appends to a buffer, so a slow attacher never blocks the program.

Detaching (the attacher's ``D``, its socket closing because it died, the loop closing,
the program exiting) turns the tracer off and puts back every attribute it replaced
(``Tracer.uninstall``), strips the per-object wrappers of the queues and locks made while
attached (``primitives.strip``, on the loop's thread), sends what is left and a
``detached`` event, and ends the helper thread: the program keeps its own classes,
objects, streams, threads, fds and modules. Nothing
here writes on the program's stdout or stderr; every failure goes to the attacher or nowhere.
"""

from __future__ import annotations

import _thread
import atexit
import socket
import sys
import time

from asyncplay import protocol
from asyncplay.child import attached_output, primitives
from asyncplay.child.channel import FLUSH_INTERVAL, Channel, hello
from asyncplay.child.output import records_from_thread
from asyncplay.child.slow_steps import Watchdog
from asyncplay.child.tracer import Tracer, load_rooms

__all__ = ["SendQueue", "start"]

# The bootstrap takes asyncplay off sys.path and out of sys.modules right after importing
# this module, so the tracer's rooms (which a run loads when asyncio is imported) are
# loaded now.
load_rooms()

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_UNSENT = 64 << 20  # bytes: an attacher this far behind is not reading; detach
SLOW_STEP = 0.1  # seconds: the blocking detector's threshold (told at the step's end)


class SendQueue(Channel):
    """The tracer's channel over the attach socket. The loop's thread only appends;
    ``flush`` (called by the tracer on the loop's thread) sends nothing, the helper
    thread's ``send`` does (``bytes(buf)`` then ``del buf[:n]``: each one C call under
    the GIL, so safe against the loop's appends)."""

    def __init__(self, sock: socket.socket) -> None:  # noqa: D107 - no fd checks: a socket
        self.sock = sock
        self.fd = sock.fileno()
        self.buf = bytearray()
        self.alive = True
        self.last_flush = time.perf_counter()
        self.flush_due = self.last_flush + FLUSH_INTERVAL
        self._lock = _thread.allocate_lock()

    def flush(self) -> None:
        self.last_flush = time.perf_counter()
        self.flush_due = self.last_flush + FLUSH_INTERVAL

    def push_from_thread(self) -> None:
        self.send()

    def send(self) -> None:
        with self._lock:
            if not self.alive:
                return
            data = bytes(self.buf)
            del self.buf[: len(data)]
            if data:
                try:
                    self.sock.sendall(data)
                except OSError:
                    self.alive = False


class _Session:
    def __init__(self, sock: socket.socket, loop: Any, asyncio_mod: Any) -> None:
        self.sock = sock
        self.loop = loop
        self.asyncio = asyncio_mod
        self.channel = SendQueue(sock)
        self.tracer = Tracer(self.channel, time.perf_counter(), SLOW_STEP)
        self.on = False
        # The blocking detector's sampling, ticked by the helper thread (no thread of
        # its own, no fork hook): a slow step names the line that held the loop.
        self.watchdog = Watchdog(self.tracer, SLOW_STEP)
        self.lock = _thread.allocate_lock()
        self.reason: str | None = None

    # ---- on the loop's thread, between two steps ----------------------------------

    def install(self) -> None:
        tracer = self.tracer
        try:
            tracer.send_json(hello("real", 1.0, SLOW_STEP, attached=True))
            existing = list(self.asyncio.tasks.all_tasks(self.loop))
            tracer.install(self.asyncio, attached=True)
            attached_output.install(tracer)  # a copy of what it prints, from now on
            for task in existing:
                self._existing(task)
            self.watchdog.loop_thread = _thread.get_ident()
            self.on = True
            atexit.register(self.at_exit)
            _thread.start_new_thread(self.helper, ())
        except BaseException as exc:  # noqa: BLE001 - never into the program
            tracer.uninstall()
            self._refuse(f"could not install: {type(exc).__name__}: {exc}")

    def _existing(self, task: Any) -> None:
        """A task that existed before the attach: its record, and where it waits now."""
        tracer = self.tracer
        rec = tracer.lookup(task)
        wait: tuple[int, int, int] = (0, 0, 0)
        if task._fut_waiter is not None or not task.done():
            wait = tracer.describe(rec, task)
        text = tracer.strings.text
        tracer.send_json(
            {
                "event": "task_existing",
                "id": rec.tid,
                "awaiting": text(wait[0]),
                "file": text(wait[1]),
                "line": wait[2] or None,
            }
        )

    def _refuse(self, why: str) -> None:
        try:
            self.sock.sendall(protocol.pack_json({"event": "refused", "t": 0.0, "why": why}))
        except OSError:
            pass
        self.sock.close()

    # ---- the helper thread -----------------------------------------------------------

    def helper(self) -> None:
        import select

        sock = self.sock
        channel = self.channel
        watchdog = self.watchdog
        try:
            while self.on:
                ready, _, _ = select.select([sock], [], [], watchdog.period)
                if ready:
                    data = sock.recv(64)
                    if not data:
                        self.detach("asyncplay went away")
                        break
                    if b"D" in data:
                        self.detach("detach asked")
                        break
                if len(channel.buf) > MAX_UNSENT:
                    self.detach("asyncplay did not keep up")
                    break
                try:
                    watchdog.tick()  # (its failures are told once, as in a run)
                except Exception as exc:
                    watchdog.on_error(exc)
                if self.tracer.chunks:  # printed between steps, or in a long one
                    records_from_thread(self.tracer)
                channel.send()
                if not channel.alive:
                    self.detach("the channel broke")
        except OSError as exc:
            self.detach(f"the channel broke ({type(exc).__name__})")

    def detach(self, reason: str) -> None:
        """Unhook, send the rest and a ``detached`` event, close (any thread, once)."""
        with self.lock:
            if not self.on:
                return
            self.on = False
            self.reason = reason
            kept = self.tracer.uninstall()
            self._strip_objects()
            atexit.unregister(self.at_exit)
            event: dict = {"event": "detached", "reason": reason}
            if kept:
                event["kept"] = kept
            self.tracer.enabled = True  # the last records: what it printed, then this
            self.tracer.flush_output(None, running=True)
            self.tracer.send_json(event)
            self.tracer.enabled = False
            self.channel.send()
            self.channel.alive = False
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.tracer.tasks.clear()
            self.tracer.failed.clear()

    def _strip_objects(self) -> None:
        """The queues and locks made while attached get asyncio's own methods back, on the
        loop's thread between two steps; a loop closed or gone keeps nothing to strip for."""
        reg = getattr(self.tracer, "primitives", None)
        if reg is None or not reg.live:
            return
        try:
            self.loop.call_soon_threadsafe(primitives.strip, reg)
        except RuntimeError:  # the loop is closed: its objects are done with
            pass

    def at_exit(self) -> None:
        """The program is exiting while attached: its last records go now (the helper
        thread dies with the interpreter)."""
        self.detach("the program exited")


def _find_loop(asyncio_mod: Any) -> Any:
    loop = asyncio_mod.events._get_running_loop()
    if loop is None and "gc" in sys.modules:  # a loop in another thread, if just one runs
        import gc

        base = asyncio_mod.base_events.BaseEventLoop
        running = [o for o in gc.get_objects() if isinstance(o, base) and o.is_running()]
        loop = running[0] if len(running) == 1 else None
    return loop


def start(sock_path: str, token: str) -> None:
    """Connect, say who we are, and have the loop install the session between steps."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(sock_path)
    sock.settimeout(None)
    sock.sendall(token.encode() + b"\n")
    asyncio_mod = sys.modules.get("asyncio")
    loop = _find_loop(asyncio_mod) if asyncio_mod is not None else None
    if loop is None or not isinstance(loop, asyncio_mod.base_events.BaseEventLoop):
        why = "no running asyncio loop" if loop is None else f"its loop is a {type(loop)}"
        sock.sendall(protocol.pack_json({"event": "refused", "t": 0.0, "why": why}))
        sock.close()
        return
    run = asyncio_mod.events.Handle.__dict__.get("_run")
    if getattr(run, "__module__", "") != asyncio_mod.events.__name__ or (
        getattr(run, "__globals__", {}).get("__name__") == "asyncplay.child.step_hook"
    ):
        sock.sendall(
            protocol.pack_json(
                {"event": "refused", "t": 0.0, "why": "another asyncplay is attached to it"}
            )
        )
        sock.close()
        return
    session = _Session(sock, loop, asyncio_mod)
    loop.call_soon_threadsafe(session.install)
