"""Stepping the event loop (#17): pause before a task step, one step at a time, breakpoints.

The pause lives in the step hook, so nothing of the program's loop thread runs while
paused: the loop's thread blocks reading the control pipe (docs/protocol.md, the control
channel) until ``step`` or ``continue``. A run that is not stepped pays nothing on the hot
path: the hook with the pause in it, a twin of ``step_hook._HandleScaffold._run`` (of the
run's mode) with one line more (``_gate(self, rec, task)`` just before the step starts, built here from that
source, with the same file, name and callback line as asyncio's own ``Handle._run``), is
swapped in as ``Handle._run`` only while a pause is asked for, breakpoints are armed or a
clock correction is due; otherwise the plain hook runs.

Commands are read by the runtime's helper thread (``ControlWatcher``, riding on
``periodic``) while the loop runs, and by the loop's thread itself while paused (one
reader at a time: ``Stepper.lock``). Paused time is not the run's time: the tracer's zero
(``t0``) moves by it, under the virtual clock the loop's clock stands still too, and a
pause inside a step (a line breakpoint) is taken out of the step's duration. The control
bytes are untrusted (the program may read, write or close the pipe): anything odd and the
runtime gives the channel up and runs on unpaused, for good.

A stop of a paused run is a command too (``stop``): the interrupt is raised at the pause
itself, where a ^C at that moment would land under ``python`` (``_signal.raise_signal``
runs the program's SIGINT handler before it returns: Python's KeyboardInterrupt,
asyncio's cancel of the main task, the program's own, or nothing when it ignores SIGINT;
a loop on another thread than the main one goes on, and the main thread gets the SIGINT,
as from a terminal), and the run goes on unpaused for good. The parent sends no SIGINT then: one sent while the run unpaused could
land after ``main()`` ended, in the loop's cleanup or in the runtime's own callbacks.
"""

from __future__ import annotations

import _signal
import _thread
import os
import sys
import time
import types
import weakref

from asyncplay import protocol
from asyncplay.child import step_hook
from asyncplay.child.failures import report_failure
from asyncplay.child.line_breaks import LineBreaks
from asyncplay.child.own_frames import drop_own_frame
from asyncplay.child.pause_record import paused_record
from asyncplay.child.periodic import Periodic

__all__ = ["ControlReader", "Stepper", "build_gated_hook", "start"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

GATE_BEFORE = "prev = tracer.current"  # the hook's line the gate goes just above
# The gate returns True when a stop came while paused (the step is back in the ready
# queue): the interrupt is raised from the hook's own frame, by a C function (no frame of
# the runtime's in its traceback), and the step is left for the loop's next turn.
GATE_CALL = "if _gate(self, rec, task): return _interrupt()"
WAIT_SLICE = 0.5  # seconds a paused loop thread waits on the pipe before looking again


class ControlReader:
    """The child's end of the control pipe: whole ``J`` records, checked, or nothing.

    ``read`` returns the commands that arrived (waiting up to ``timeout`` seconds for
    one), or None once the channel is given up: end of file, an error, a file that is no
    longer the pipe it was (device and inode, as the event channel checks), or bytes that
    are not a valid control record."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        st = os.fstat(fd)
        self._ident = (st.st_dev, st.st_ino)
        os.set_blocking(fd, False)
        self._buf = bytearray()
        self.gone = False

    def read(self, timeout: float = 0.0) -> list[dict] | None:
        if self.gone:
            return None
        try:
            st = os.fstat(self.fd)
            if (st.st_dev, st.st_ino) != self._ident:
                return self._give_up()
            if timeout > 0:
                import select

                poll = select.poll()
                poll.register(self.fd, select.POLLIN)
                if not poll.poll(timeout * 1000):
                    return []
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return []
        except (OSError, ValueError):  # EBADF: the program closed it
            return self._give_up()
        if not data:
            return self._give_up()  # asyncplay closed its end: the run is over
        self._buf += data
        return self._records()

    def _records(self) -> list[dict] | None:
        out: list[dict] = []
        buf = self._buf
        head = protocol.HEADER.size
        while len(buf) >= head:
            kind, size = protocol.HEADER.unpack_from(buf)
            if kind != protocol.K_JSON or size > protocol.MAX_CONTROL_PAYLOAD:
                return self._give_up()
            if len(buf) < head + size:
                break
            try:
                obj = protocol.loads(bytes(buf[head : head + size]).decode("utf-8"))
            except (ValueError, RecursionError):  # (UnicodeDecodeError is a ValueError)
                return self._give_up()
            if protocol.control_problem(obj) is not None:
                return self._give_up()
            out.append(obj)  # type: ignore[arg-type]
            del buf[: head + size]
        return out

    def _give_up(self) -> None:
        self.gone = True
        self._buf.clear()
        return None


def build_gated_hook(plain: Any, source: list[str]) -> Any:
    """The stepping twin of the plain step hook ``plain``, built from its ``source``
    lines (``step_hook.hook_lines``: the scaffold's, specialised for the run's mode) with
    ``GATE_CALL`` inserted above the step's start; it shares the hook's module globals, so
    ``_gate`` and ``_interrupt`` are among them. The callback call keeps asyncio's line
    (one line more above it: it starts one line earlier)."""
    lines = list(source)
    at = [i for i, text in enumerate(lines) if text.strip() == GATE_BEFORE]
    if len(at) != 1:
        raise LookupError(f"the step hook has {len(at)} lines {GATE_BEFORE!r}, not one")
    text = lines[at[0]]
    lines.insert(at[0], text[: len(text) - len(text.lstrip())] + GATE_CALL + "\n")
    plain_code = plain.__code__
    code = step_hook.compile_run(lines, plain_code.co_filename)
    fields: dict[str, Any] = {"co_firstlineno": plain_code.co_firstlineno - 1}
    if sys.version_info >= (3, 11):
        fields["co_qualname"] = plain_code.co_qualname
    gated = types.FunctionType(code.replace(**fields), plain.__globals__, "_run")
    gated.__qualname__ = plain.__qualname__
    gated.__module__ = plain.__module__
    return gated


class ControlWatcher(Periodic):
    """Reads the control pipe while the loop runs (on the runtime's helper thread), once
    asyncio is traced (before, a command could do nothing: ``Stepper.traced`` reads what
    came meanwhile) and at most every ``every`` seconds: each look is two system calls,
    and a helper thread letting go of the GIL more often changes how the program's
    threads interleave their writes."""

    period = 0.05
    every = 0.1

    def __init__(self, stepper: Stepper) -> None:
        super().__init__()
        self.stepper = stepper
        self.on_error = lambda exc: report_failure(stepper.tracer, "control channel", exc)
        self.last = 0.0

    def tick(self) -> None:
        if self.stepper.hooks is None:
            return
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self.stepper.poll()


class Stepper:
    """The stepping state of a run: what is asked, what is armed, and the pause itself."""

    def __init__(self, tracer: Any, fd: int, spec: dict) -> None:
        self.tracer = tracer
        self.reader = ControlReader(fd)
        self.lock = _thread.allocate_lock()  # one reader of the pipe at a time
        # The pause asked for at the next task step (its reason), or None.
        self.wanted: str | None = "start" if spec.get("start_paused") is True else None
        self.paused = False
        self.how: str | None = None  # while paused: how the user said to go on
        self.stopping = False  # a stop came: the interrupt goes out at the next pause point
        self.tasks: frozenset[str] = frozenset()
        self.lines: dict[str, frozenset[int]] = {}
        self.lines_due = False  # the loop's thread must (dis)arm the line tracing
        self.t0_due = False  # a pause inside a step: the hook's zero moves at the next gate
        self.breaks = LineBreaks(self.line_reached)
        self.refused_lines = False
        self.loop_thread = 0
        self.main_thread = _thread.get_ident()  # (made at the start, on the main thread)
        self.loop: Any = None  # the loop of the last task step (a weak reference)
        self.hooks: tuple[type, Any, Any] | None = None  # (Handle, plain, gated)
        self.hook_globals: dict = {}
        self.watcher: ControlWatcher | None = None
        bp = spec.get("breakpoints")
        if type(bp) is dict:
            self.apply({"cmd": "breakpoints", **bp})

    # ---- commands (the pipe's reader holds ``lock``) -------------------------------------

    def apply(self, cmd: dict) -> None:
        if protocol.control_problem(cmd) is not None:
            return
        what = cmd["cmd"]
        if what == "breakpoints":
            lines: dict[str, set[int]] = {}
            for file, line in cmd["lines"]:
                lines.setdefault(file, set()).add(line)
            self.lines = {f: frozenset(ls) for f, ls in lines.items()}
            self.tasks = frozenset(cmd["tasks"])
            self.lines_due = True
        elif what == "pause":
            if not self.paused and self.wanted is None:
                self.wanted = "request"
        elif what == "step":
            if self.paused:
                self.how, self.wanted = "step", "step"
            elif self.wanted is None:
                self.wanted = "request"
        elif what == "continue":
            self.wanted = None
            if self.paused:
                self.how = "continue"
        elif what == "stop":
            self.stopping = True
            self.wanted = None
            if self.paused:
                self.how = "stop"

    def give_up(self) -> None:
        """The channel is lost: no pause ever again (breakpoints disarmed at the next step)."""
        self.reader.gone = True
        self.wanted = None
        self.tasks = frozenset()
        if self.lines:
            self.lines = {}
            self.lines_due = True
        if self.paused:
            self.how = "continue"

    def poll(self, wait: bool = False) -> None:
        """A look at the pipe while the loop runs (the helper thread's; ``wait``: for the
        lock too, as when asyncio has just been traced)."""
        if self.reader.gone or self.paused or not self.lock.acquire(wait):
            return
        stop = False
        try:
            if not self.paused:
                self._read()
                stop = self._take_stop()
        finally:
            self.lock.release()
        if stop:  # read while the run goes (sent as it left a pause): as a running stop,
            os.kill(os.getpid(), _signal.SIGINT)  # the SIGINT the parent would have sent
        self.arm()

    def _take_stop(self) -> bool:
        """A stop came and is not acted on yet (``lock`` held): it is this caller's to
        act on, once; the channel is given up (the run goes on unpaused for good)."""
        if self.stopping and not self.reader.gone:
            self.give_up()
            return True
        return False

    def _read(self) -> None:
        """Apply what the pipe holds now (``lock`` held)."""
        cmds = self.reader.read()
        if cmds is None:
            self.give_up()
        for cmd in cmds or ():
            self.apply(cmd)

    # ---- the hook ---------------------------------------------------------------------

    def armed(self) -> bool:
        return bool(
            self.wanted is not None or self.tasks or self.lines or self.lines_due or self.t0_due
        )

    def arm(self) -> None:
        """The gated hook while anything is armed, the plain one otherwise."""
        hooks = self.hooks
        if hooks is None:
            return
        handle_cls, plain, gated = hooks
        want = gated if self.armed() else plain
        if handle_cls.__dict__.get("_run") is not want:
            handle_cls._run = want

    def traced(self) -> None:
        """asyncio is traced now (``tracer.step_hook`` is set): build the gated hook."""
        import functools  # (loaded with asyncio already)

        tracer = self.tracer
        cls, plain, source = tracer.step_hook
        try:
            gated = build_gated_hook(plain, source)
        except Exception as exc:  # no source to build it from: stepping is off
            report_failure(tracer, "stepping hook", exc)
            self.give_up()
            return
        self.hook_globals = plain.__globals__
        self.hook_globals["_gate"] = self.gate
        # A C function: the interrupt raised in the hook's frame has no frame of ours.
        self.hook_globals["_interrupt"] = functools.partial(_signal.raise_signal, _signal.SIGINT)
        self.hooks = (cls, plain, gated)
        self.poll(wait=True)  # what was sent while the program started (arms the hook)
        self.arm()

    def gate(self, handle: Any, rec: Any, task: Any) -> bool:
        """Before a task step (the gated hook only, on the loop's thread). True: a stop
        came while paused, the hook raises the interrupt. A failure of the runtime's own
        is told once and ends stepping, never the program."""
        try:
            return self._gate(handle, rec, task)
        except Exception as exc:
            report_failure(self.tracer, "stepping", exc)
            self.give_up()
            return False
        except BaseException as exc:  # a ^C while paused (or a stop's SIGINT sent as the
            self._put_back(handle)  # run paused): as a stop here, the step stays queued
            drop_own_frame(exc)
            raise

    def _gate(self, handle: Any, rec: Any, task: Any) -> bool:
        if self.t0_due:
            self.t0_due = False
            self.hook_globals["_t0"] = self.tracer.t0
        self.loop_thread = _thread.get_ident()
        loop = handle._loop
        if self.loop is None or self.loop() is not loop:
            self.loop = weakref.ref(loop)
        if self.lines_due:
            self.lines_due = False
            if not self.breaks.set(self.lines) and not self.refused_lines:
                self.refused_lines = True
                self.tracer.warn(
                    "breakpoints_refused",
                    "line breakpoints cannot be armed: the program traces itself "
                    "(a debugger or coverage holds sys.settrace or sys.monitoring).",
                )
        reason = self.wanted
        if rec.internal:  # asyncio's own (asyncio.run's shutdown): not the program's step
            reason = None
        elif reason is None and self.tasks and rec.name in self.tasks:
            reason = "task"
        if reason is not None and self.pause(reason, rec, task):
            if self.loop_thread != self.main_thread:
                _signal.pthread_kill(self.main_thread, _signal.SIGINT)  # where ^C lands
                return False  # (this loop goes on with its step, as under a ^C)
            if self._put_back(handle):
                return True
            os.kill(os.getpid(), _signal.SIGINT)  # (not asyncio's own loop): as a running stop
            return False
        if not self.armed():
            with self.lock:
                self.arm()
        return False

    def _put_back(self, handle: Any) -> bool:
        """An interrupt before a step: the step goes back first in the loop's ready
        queue, where the interrupt leaves it for the loop's next turn or asyncio.run's
        cleanup (a task whose step was dropped would never end, and the cleanup would
        wait on it for ever)."""
        try:
            handle._loop._ready.appendleft(handle)
        except Exception as exc:
            report_failure(self.tracer, "stepping", exc)
            return False
        return True

    def line_reached(self, file: str, line: int) -> None:
        """A line breakpoint (``LineBreaks``): pause inside the running task step. A stop
        while paused raises the interrupt here, at the program's line (``LineBreaks``
        keeps the runtime's frames out of its traceback)."""
        tracer = self.tracer
        rec = tracer.current
        if rec is None or self.reader.gone or _thread.get_ident() != self.loop_thread:
            return  # not in a task step of the loop's thread
        tracer.current = None  # the watchdog must not see a step held by the pause
        stop = False
        try:
            tracer.flush_output(rec)  # what the step printed so far, before the pause
            stop = self.pause("line", rec, rec.tref(), at=(file, line))
        except Exception as exc:  # (a trace callback's exception would be the program's)
            report_failure(tracer, "stepping", exc)
            self.give_up()
        finally:
            tracer.current = rec
        if stop and self.loop_thread != self.main_thread:  # a ^C lands on the main thread
            _signal.pthread_kill(self.main_thread, _signal.SIGINT)
        elif stop:  # (raised here, in the runtime: LineBreaks drops its frames)
            _signal.raise_signal(_signal.SIGINT)

    # ---- the pause ----------------------------------------------------------------------

    def pause(self, reason: str, rec: Any, task: Any, at: tuple[str, int] | None = None) -> bool:
        """Pause here until the user goes on. True: a stop came (the channel is given up
        then), and the caller raises the interrupt where the program is."""
        tracer = self.tracer
        if not self.lock.acquire(timeout=1.0):  # (the helper holds it for a read only)
            return False
        began = time.perf_counter()
        how = None
        stop = False
        try:
            self._read()  # a continue that came meanwhile, or a pipe that is not ours
            if self._take_stop():  # it came as the run left a pause: stop here
                return True
            if self.reader.gone or (self.wanted is None and reason in ("start", "request", "step")):
                return False
            self.wanted = None
            self.paused = True
            self.how = None
            try:
                loop = self.loop() if self.loop is not None else None
                record = paused_record(tracer, reason, rec, task, loop, at)
            except Exception as exc:  # the tracer must never break the program
                report_failure(tracer, "pause record", exc)
                record = paused_record(tracer, reason, rec, None, None, at)
            began = time.perf_counter()
            record["t"] = began - tracer.t0  # (its resumed record gets the same time)
            tracer.send_json(record, now=True)
            how = "continue"
            how = self._wait()
        except BaseException:  # ^C or a stop while paused: the run is ending, never pause
            self.give_up()
            raise
        finally:
            self.paused = False
            stop = self._take_stop()  # (under the lock: acted on once)
            self.lock.release()
            if how is not None:  # (None: no pause was told)
                now = time.perf_counter()
                self._resumed(now - began, how, at is not None, now)
        self.arm()
        return stop

    def _wait(self) -> str:
        """Block the loop's thread until ``step`` or ``continue`` (or the channel goes)."""
        while self.how is None:
            cmds = self.reader.read(WAIT_SLICE)
            if cmds is None:
                self.give_up()
                break
            for cmd in cmds:
                self.apply(cmd)
        return self.how or "continue"

    def _resumed(self, paused: float, how: str, inside: bool, now: float) -> None:
        """Take the paused time off the run's clock (and the step's, when inside one):
        the ``resumed`` record has its ``paused`` record's time."""
        tracer = self.tracer
        g = self.hook_globals
        if tracer.clock == "virtual":
            tracer.offset -= paused  # loop.time() stands still: no program time passes
        tracer.t0 += paused
        if inside:
            # The running step's start (the watchdog) and its duration lose the pause; its
            # own record still uses the old zero (its start was taken before): the hook's
            # zero moves at the next gate.
            tracer.nested += paused
            g["_step_start"] = g.get("_step_start", 0.0) + paused
            self.t0_due = True
        else:
            g["_t0"] = tracer.t0
        tracer.send_json(
            {
                "event": "resumed",
                "t": max(0.0, now - tracer.t0),
                "how": "continue" if how == "stop" else how,
                "paused": min(paused, protocol.MAX_TIME),
            },
            now=True,
        )

    def forked(self) -> None:
        """A forked child: the pipe is the parent's; never read it, never pause."""
        self.reader.gone = True
        self.wanted = None
        self.tasks = frozenset()
        self.lines = {}


def start(tracer: Any, fd: int, spec: dict) -> Stepper | None:
    """Read the control pipe from now on (before the program's first line): on the
    runtime's helper thread, or a thread of its own when there is none."""
    try:
        stepper = Stepper(tracer, fd, spec)
    except OSError:  # the fd is not there (a hand-made spec): no stepping
        return None
    watcher = stepper.watcher = ControlWatcher(stepper)
    host = tracer.helper
    if host is not None and not host.failed:
        host.carry(watcher)
    else:
        watcher.install_fork_hooks()
        watcher.start()
    os.register_at_fork(after_in_child=stepper.forked)
    return stepper
