"""The session's logic without its I/O: spawning arguments, stream handling, limits, endings.

Two drivers share it: the asyncio ``RunSession`` (the TUI's API) and the blocking driver of
the headless command line, which must not pay for importing asyncio before the program
even starts. Whatever one driver decides, the other decides the same way.
"""

from __future__ import annotations

import _signal  # (the C half of ``signal``: its numbers, without its enum classes)
import os
import resource
import time

# (``signal``, ``fcntl``, ``struct`` and ``termios`` are imported where they are used: the
# run's spawn comes first, and ``signal`` brings ``enum``; ``sandbox/process.py``. The
# decoder and the output's merger load once the program is spawned: ``_make_readers``.)
from asyncplay import exits, policy, sandbox
from asyncplay.protocol import pack_spec
from asyncplay.runner import control as _control
from asyncplay.runner import rundir
from asyncplay.runner import spawn as _spawn
from asyncplay.runner.control import ControlPipe, PausedClock, PauseHold
from asyncplay.runner.spec import RunSpec
from asyncplay.sandbox import process as _process

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from asyncplay.decoder import Decoder
    from asyncplay.runner.output_merge import OutputMerger

# Kept under these names: tests and the TUI import them from here.
EXIT_USAGE = exits.USAGE
EXIT_INTERNAL = exits.INTERNAL
EXIT_PROCS = exits.PROCS
EXIT_OUTPUT = exits.OUTPUT
EXIT_MEMORY = exits.MEMORY
EXIT_CPU = exits.CPU
EXIT_TIMEOUT = exits.TIMEOUT
EXIT_EVENTS = exits.EVENTS
EXIT_STOPPED = exits.STOPPED

STOP_GRACE = 2.0  # seconds between SIGINT and SIGKILL on stop()
WATCH_EVERY = 0.05  # seconds between two looks at the run from outside (no cgroup)
DRAIN_GRACE = 0.5  # seconds to drain pipes a leftover grandchild still holds open
DRAIN_MAX = 30.0  # ... and at most this long while they still hold unread bytes

INJECT_DIR = _spawn.INJECT_DIR
SOURCE_STUB = "import asyncplay.child.boot as _b;_b.run_source()"

# Every limit: its flag, its name in the sentence, its unit, its exit status, and the
# Limits attribute that holds its value. One table for the message and the status.
LIMITS: dict[str, tuple[str, str, str, int, str]] = {
    "timeout": ("--timeout", "the wall-clock limit", "s", EXIT_TIMEOUT, "timeout"),
    "cpu": ("--cpu", "the CPU-time limit", "s", EXIT_CPU, "cpu"),
    "memory": ("--memory", "the memory limit", "MiB", EXIT_MEMORY, "memory_mib"),
    "output-limit": ("--output-limit", "the output limit", "MiB", EXIT_OUTPUT, "output_mib"),
    "procs": ("--procs", "the process limit", "", EXIT_PROCS, "procs"),
    "events": ("", "the event limit", "", EXIT_EVENTS, "max_events"),
}


# stdin: "null" (nothing to read), "inherit" (the terminal's, headless) or "pipe" (the TUI
# writes it through RunSession.send_stdin).
_STDIN = {"null": _process.DEVNULL, "inherit": None, "pipe": _process.PIPE}

# A batched decoder's events (decoder.Decoder): a record each in them.
_BATCHES = ("tasks_created", "tasks_done")

# Programs of every session in this process still running: never "orphans" of another run.
_LIVE_PIDS: set[int] = set()


class SessionCore:
    """One run: spawn, route bytes to events, enforce limits, describe the ending."""

    def __init__(
        self, spec: RunSpec, stdin: str = "null", control: bool = True, batched: bool = False
    ) -> None:
        self.spec = spec
        self.stdin = stdin
        # ``batched``: task records come as ``tasks_created``/``tasks_done`` events, for a
        # consumer that only folds them (``decoder.Decoder``).
        self.batched = batched
        # ``decoder`` and ``merger`` are made by ``spawn`` once the program is on its way
        # (their imports are off the start-up's path), or when first read (``__getattr__``).
        self.decoder: Decoder
        self.merger: OutputMerger
        self.proc: _process.Process | None = None
        self.start = 0.0
        self.run_dir = ""
        self._run_dir: rundir.RunDir | None = None
        self.channel_r = -1
        # The control channel (parent -> child): stepping's commands, queued until the
        # pipe exists (docs/protocol.md). The headless command line has none (it cannot
        # step): its child then starts no stepping at all.
        self.control = ControlPipe()
        self.control.closed = not control
        self.pause_hold = PauseHold()  # a pause waits for the output printed before it
        self.paused_clock = PausedClock()  # paused time, which --timeout does not count
        self.paused_clock.stepped = control and bool(spec.start_paused or spec.breakpoints)
        self.resume_asked: float | None = None  # a step/continue sent to a paused child
        self.output_bytes = 0
        self.events = 0
        self.kill_reason: str | None = None  # a limit's name, or "stopped"
        self.stop_requested_at: float | None = None
        self.saw_hello = False
        self._early_stderr = b""  # the run's stderr read while bwrap was watched
        self.saw_bye = False
        self.uncaught: dict | None = None  # the child's ``uncaught`` record, if any
        self.exited_at: float | None = None
        self.finished = False
        self.confinement: sandbox.Plan | None = None
        self.file_too_large = False
        self.rss_base = 0  # asyncplay's own resident memory when the run started
        self.trace_too_big = False
        self.watched_at = 0.0
        self.memory_checked_at = 0.0
        # False when this process exits right after the run (the headless command): the
        # sandbox's killed helpers are then left for init to reap, not waited for.
        self.reap_helpers = True

    # ---- spawning ------------------------------------------------------------------

    def __getattr__(self, name: str) -> object:  # (an attribute not set: decoder, merger)
        if name in ("decoder", "merger"):  # read before ``spawn`` (a core fed bytes alone)
            self._make_readers()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _make_readers(self) -> None:
        if "decoder" not in self.__dict__:  # (once)
            from asyncplay.decoder import Decoder
            from asyncplay.runner.output_merge import OutputMerger

            self.decoder = Decoder(self.batched)
            self.merger = OutputMerger()

    def spawn(self, meanwhile: Callable[[], None] | None = None) -> _process.Process:
        """Start the run. ``meanwhile``: the caller's work for later (its imports), done
        while the program's interpreter starts: during the wait for the network's helper
        where there is one, else once the program may start; once either way."""
        # A usage problem, before anything is made.
        sandbox.check(self.spec.sandbox, self.spec.write)
        # The lab policy, whichever front end built the spec (PolicyError, PolicyDenied).
        policy.load().enforce(self.spec)
        _spawn.check_interpreter(self.spec.python)
        # What killed asyncplays left is swept once the program is on its way (below).
        self._run_dir = rundir.make(sweep_first=False)
        self.run_dir = self._run_dir.path
        r, w = os.pipe()
        _spawn.grow_pipe(r)
        self.channel_r = r
        control_r = -1 if self.control.closed else self.control.open()
        # The start gate: the runtime runs the program once a byte comes (docs/protocol.md),
        # so what the sandbox finishes after the spawn (the network) overlaps the
        # interpreter's start, and a program never starts in a spawn given up on.
        gate_r, gate_w = os.pipe()
        spec_path = os.path.join(self.run_dir, "spec.marshal")
        fd = os.open(spec_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            # marshal, not JSON: the child reads it without importing json (docs/protocol.md)
            control = control_r if control_r >= 0 else None
            f.write(pack_spec(self.spec.child_spec(w, control, gate_r)))
        child_fds = (w, *([control_r] if control_r >= 0 else []), gate_r)
        done: list[bool] = []

        def once() -> None:
            if meanwhile is not None and not done:
                done.append(True)
                meanwhile()

        try:
            self.proc, self.confinement, self._early_stderr = _spawn.start(
                self.spec,
                self.run_dir,
                self.argv(),
                _STDIN[self.stdin],
                spec_path,
                child_fds,
                once,
            )
        except BaseException:
            os.close(r)
            os.close(gate_w)
            self.cleanup()
            raise
        finally:
            for child_fd in child_fds:
                os.close(child_fd)
        _LIVE_PIDS.add(self.proc.pid)
        _spawn.open_gate(gate_w)  # the program may start
        self.start = time.monotonic()
        try:
            self._make_readers()
            once()
            rundir.sweep_once()  # (never raises: a folder it cannot judge stays)
            self.confinement.sweep()  # (dead asyncplays' run cgroups: never raises)
        except BaseException:
            self.kill("stopped")
            self.cleanup()
            raise
        self.rss_base = _own_rss()  # (with what ``meanwhile`` loaded)
        os.set_blocking(r, False)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for f in (self.proc.stdout, self.proc.stderr):
            _spawn.grow_pipe(f.fileno(), 1024 * 1024)
        return self.proc

    def argv(self) -> list[str]:
        """The command line plain Python would be given: the program runs natively."""
        spec = self.spec
        if spec.module is not None:
            return [spec.python, "-m", spec.module, *spec.args]
        if spec.source is not None:
            return [spec.python, "-c", SOURCE_STUB]
        target = spec.argv0 or spec.path or ""
        if target.startswith("-"):
            target = os.path.join(".", target)
        return [spec.python, target, *spec.args]

    def now(self) -> float:
        return time.monotonic() - self.start

    def run_start_event(self) -> dict:
        spec = self.spec
        return {
            "event": "run_start",
            "t": 0.0,
            "python": spec.python,
            "mode": spec.mode,
            "target": spec.module or spec.path,
            "args": list(spec.args),
            "pid": self.proc.pid if self.proc else None,
            "limits": {
                "timeout": spec.limits.timeout,
                "memory": spec.limits.memory_mib,
                "cpu": spec.limits.cpu,
                "output_limit": spec.limits.output_mib,
                "procs": spec.limits.procs,
            },
            "sandbox": self.confinement.describe() if self.confinement else None,
        }

    # ---- incoming bytes ------------------------------------------------------------

    def on_output(self, stream: str, data: bytes) -> list[dict]:
        self.output_bytes += len(data)
        limit = self.spec.limits.output_mib
        if limit and self.output_bytes > limit * 1024 * 1024 and self.kill_reason is None:
            self.kill("output-limit")
        if not self.spec.output_records:  # passed through as it is, attributed to no one
            return []
        now = self.now()
        out = self._segments(self.merger.feed_raw(stream, data, now))
        return out + self.pause_hold.release(self.merger.pending(), now)

    def on_channel(self, data: bytes) -> list[dict]:
        out: list[dict] = []
        feed_chunk = self.merger.feed_chunk
        now = self.now()  # (the read's time: every record of it arrived then)
        for ev in self.decoder.feed(data):
            kind = ev["event"]
            if kind == "output_record":  # one a step that printed: kept lean
                out += self._segments(
                    feed_chunk(ev["stream"], ev["task"], ev["data"], ev["t"], now)
                )
                continue
            if kind == "hello":
                self.saw_hello = True
                if self.confinement is not None and self.proc is not None:
                    self.confinement.adopt_scope(self.proc.pid)
            elif kind == "bye":
                self.saw_bye = True
                continue
            elif kind == "uncaught":
                self.uncaught = ev  # evidence for end_event, not an event of the run
                continue
            elif kind in ("paused", "resumed"):
                self.paused_clock.see(kind, self.now())
                self.resume_asked = None
            elif kind in _BATCHES:  # (each task record counts, as its own event would)
                self.events += len(ev["tasks"]) - 1
            out.append(ev)
        self.events += len(out)
        if self.events > self.spec.limits.max_events and self.kill_reason is None:
            self.kill("events")
        return self.pause_hold.route(out, self.merger.pending(), self.now())

    def _segments(self, segs: list) -> list[dict]:
        return [
            {"event": "output", "t": t, "stream": stream, "text": text, "task": task}
            for stream, text, task, t in segs
        ]

    def tick(self) -> list[dict]:
        """Called a few times a second: wall-clock limit, stop escalation, held output."""
        now = self.now()
        if self.exited_at is None and self.proc is not None:
            timeout = self.spec.limits.timeout
            ran = now - self.paused_clock.discount(now)
            if timeout and ran > timeout and self.kill_reason is None:
                self.kill("timeout")
            if self.stop_requested_at is not None and now - self.stop_requested_at > STOP_GRACE:
                self.killpg(_signal.SIGKILL)
            self.control.flush()
            stuck = self._control_stuck(now)
            self._check_own_memory()
            self._watch_run()
        else:
            stuck = []
        out = self._segments(self.merger.tick(now, self.unread()))
        return out + self.pause_hold.release(self.merger.pending(), now) + stuck

    def unread(self) -> set[str]:
        """The pipes with bytes not read yet: the merge gives up on no output record or
        pipe bytes that may be waiting there (a busy parent reads behind the child)."""
        import fcntl
        import struct
        import termios

        names: set[str] = set()
        if self.proc is None or self.proc.stdout is None or self.proc.stderr is None:
            return names
        try:
            fds = self.fds()
        except ValueError:  # the pipes are closed: the run is over
            return names
        for fd, name in fds.items():
            try:
                buf = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
            except (OSError, ValueError):  # closed already: nothing more can come
                continue
            if struct.unpack("i", buf)[0]:
                names.add(name)
        return names

    def _control_stuck(self, now: float) -> list[dict]:
        """A paused child that does not answer a step or continue: the program took the
        command off the pipe. Closing it makes the child run on unpaused (docs/protocol.md)."""
        asked = self.resume_asked
        if asked is None or now - asked < _control.RESUME_WAIT or self.control.closed:
            return []
        self.control.close()
        return [
            {
                "event": "warning",
                "t": self.decoder.last_t,
                "kind": "stepping_lost",
                "message": "the program took asyncplay's control channel (its own code read "
                "or replaced it): stepping is off for this run, which goes on unpaused.",
                "task": None,
                "file": None,
                "line": None,
            }
        ]

    def _watch_run(self) -> None:
        """Where no cgroup does it, the sandbox looks at the run from outside: it keeps the
        run's CPU priority low and sums its memory and tmpfs use; past --memory asyncplay
        stops the run (a kill it made: the evidence of the limit)."""
        conf = self.confinement
        if self.kill_reason is not None or conf is None or self.proc is None:
            return
        now = time.monotonic()
        if now - self.watched_at < WATCH_EVERY:
            return
        self.watched_at = now
        limit = conf.watch(self.proc.pid)
        if limit is not None:
            self.kill(limit)

    def _check_own_memory(self) -> None:
        """The trace of a run lives in asyncplay (the model's tasks): a program that makes
        or forges millions of tasks would grow asyncplay without end. It may take as much
        of asyncplay's memory as --memory gives the program itself, no more."""
        limit = self.spec.limits.memory_mib
        if not limit or self.kill_reason is not None or not self.rss_base:
            return
        # Read from /proc at most every WATCH_EVERY: a flood wakes the driver thousands of
        # times a second, and an open + read per wake-up was a fifth of its CPU time.
        now = time.monotonic()
        if now - self.memory_checked_at < WATCH_EVERY:
            return
        self.memory_checked_at = now
        if _own_rss() - self.rss_base > limit * 1024 * 1024:
            self.trace_too_big = True
            self.kill("events")

    # ---- stopping ------------------------------------------------------------------

    def killpg(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def signal_program(self, sig: int) -> None:
        """Send ``sig`` to the program's process group, wherever the sandbox put it."""
        if self.proc is None:
            return
        if self.confinement is None:
            self.killpg(sig)
        else:
            self.confinement.signal_program(self.proc.pid, sig)

    def kill(self, reason: str) -> None:
        """asyncplay ends the run: a limit was hit. The whole process group goes at once."""
        self.kill_reason = reason
        self.killpg(_signal.SIGKILL)

    def request_stop(self) -> None:
        """An interrupt first, so ``finally`` blocks run; SIGKILL after a grace period
        (tick), also for a program that does not obey it.

        A run paused (as its ``paused`` record said) gets a ``stop`` command and no
        signal: the child raises the interrupt at the pause itself, as a ^C there would
        (docs/protocol.md). A SIGINT after the channel's end unpaused it could land after
        ``main()`` ended, in the loop's cleanup or the runtime's callbacks. A running
        run gets SIGINT; a pause it reached meanwhile ends with the channel."""
        if self.exited_at is not None or self.kill_reason is not None:
            return
        self.kill_reason = "stopped"
        self.stop_requested_at = self.now()
        if self.paused_clock.since is not None:
            self.control.send({"cmd": "stop"})
            if not self.control.closed:  # (closed: the child's end is gone)
                return
        self.control.close()
        self.signal_program(_signal.SIGINT)

    def fds(self) -> dict[int, str]:
        """The parent's ends of the three streams, by the name ``on_readable`` routes on."""
        assert self.proc is not None and self.proc.stdout and self.proc.stderr
        return {
            self.proc.stdout.fileno(): "stdout",
            self.proc.stderr.fileno(): "stderr",
            self.channel_r: "channel",
        }

    def on_readable(self, fd: int, name: str) -> tuple[list[dict], bytes, bool]:
        """Read what is there: (events, raw bytes for a pass-through view, end of stream)."""
        try:
            data = os.read(fd, 256 * 1024)
        except BlockingIOError:
            data = b""
            if not (name == "stderr" and self._early_stderr):
                return [], b"", False
        except OSError:
            data = b""
        if name == "stderr" and self._early_stderr:
            data, self._early_stderr = self._early_stderr + data, b""
            if data:
                return self.on_output(name, data), data, False
        if not data:
            return [], b"", True
        if name == "channel":
            return self.on_channel(data), b"", False
        return self.on_output(name, data), data, False

    # ---- the end -------------------------------------------------------------------

    def poll_exit(self) -> bool:
        """Reap the program if it has ended; True once it has."""
        if self.exited_at is None and self.proc is not None:
            st = wait_status(self.proc.pid)
            if st is not None:
                self.proc.returncode = st[0]
                self.on_exit(*st)
        return self.exited_at is not None

    def drained_enough(self, open_streams: int) -> bool:
        """After the exit, stop reading once the pipes closed or a leftover holds them
        open with nothing more in them: what the run wrote before its end is read whole,
        however far behind a busy parent is (the run's processes are killed at its end,
        so what is unread is bounded by the pipes' size)."""
        if self.exited_at is None:
            return False
        if open_streams == 0:
            return True
        waited = self.now() - self.exited_at
        return waited > DRAIN_GRACE and (waited > DRAIN_MAX or not self.unread())

    def pidfd(self) -> int | None:
        try:
            return os.pidfd_open(self.proc.pid) if self.proc is not None else None
        except (AttributeError, OSError):
            return None

    def on_exit(self, status: int, cpu: float | None) -> None:
        self.exited_at = self.now()
        self.wait_status = status
        self.cpu_used = cpu
        # The run is the whole tree: nothing it started may outlive it, not even a
        # grandchild that left the process group (we are its subreaper).
        self.killpg(_signal.SIGKILL)
        _LIVE_PIDS.discard(self.proc.pid if self.proc else -1)
        if self.confinement is not None:
            # Everything in the run's cgroup wherever it went, and the orphans reparented
            # to us: the run's, but not other sessions' programs.
            self.confinement.kill_all(_LIVE_PIDS)

    def send_control(self, command: dict) -> None:
        """A stepping command to the child (``ControlPipe``): never blocks, never raises;
        nothing once the run has ended or is being stopped."""
        if not self.finished and self.exited_at is None and self.kill_reason is None:
            self.paused_clock.stepped = not self.control.closed
            paused = self.paused_clock.since is not None
            if paused and command["cmd"] in ("step", "continue") and self.resume_asked is None:
                self.resume_asked = self.now()
            self.control.send(command)

    def finish(self) -> list[dict]:
        self.finished = True
        self.control.close()
        out = self._segments(self.merger.finish(self.now()))
        out += self.pause_hold.release(False, self.now(), final=True)
        end = self.end_event()
        if (
            self.saw_hello
            and not self.saw_bye
            and not self.decoder.broken
            and end["reason"] == "exited"
        ):
            out.append(
                {
                    "event": "warning",
                    "t": end["t"],
                    "kind": "channel_lost",
                    "message": "the program closed or lost asyncplay's event channel "
                    "(or left with os._exit): what it did after that is not shown.",
                    "task": None,
                    "file": None,
                    "line": None,
                }
            )
        kind, hint = self._sandbox_hint(end)
        if hint is not None:
            out.append(
                {
                    "event": "warning",
                    "t": end["t"],
                    "kind": kind,
                    "message": hint,
                    "task": None,
                    "file": None,
                    "line": None,
                }
            )
        out.append(end)
        self.cleanup()
        return out

    def _sandbox_hint(self, end: dict) -> tuple[str, str | None]:
        """(warning kind, one line) when the sandbox, not the program, explains why it
        failed: it died of a network error (the child's ``uncaught`` record, kind
        ``network``) in a run without a network, or of a write the sandbox refused (kind
        ``write``: its path and errno)."""
        conf = self.confinement
        if conf is None or end["reason"] != "exited" or end["exit_code"] == 0:
            return "", None
        u = self.uncaught
        if u is not None and u.get("kind") == "write":
            return "sandbox_write", conf.hint(u.get("path"), u.get("errno"))
        if u is None or u.get("kind") != "network":
            return "", None
        return "sandbox_network", sandbox.network.failure_hint(
            conf.network, getattr(self.spec, "network", "on"), u["exc_type"], u["errno"]
        )

    def end_event(self) -> dict:
        status = getattr(self, "wait_status", 0)
        conf = self.confinement
        if conf is not None and conf.pid_namespace and 128 < status <= 128 + 64:
            status = self._bwrap_status(status)
        signum = -status if status < 0 else 0
        code = 128 + signum if signum else status
        reason = "signal" if signum else "exited"
        by = "program"
        limit = None
        if self.kill_reason == "stopped":
            reason, by, code = "stopped", "asyncplay", EXIT_STOPPED
        elif self.kill_reason is not None:
            limit = self.kill_reason
        elif signum == _signal.SIGXCPU and self.spec.limits.cpu:
            limit = "cpu"
        elif status != 0 and self.spec.limits.memory_mib and self._memory_reached(conf):
            limit = "memory"
        elif signum == _signal.SIGKILL and self._cpu_spent():
            limit = "cpu"  # it ignored SIGXCPU: the kernel's SIGKILL at the hard limit
        elif status != 0 and self._procs_refused(conf):
            limit = "procs"
        elif status != 0 and self._uncaught_at_rlimit("file_size", resource.RLIMIT_FSIZE):
            limit, self.file_too_large = "output-limit", True
        elif not self.saw_hello and status != 0:
            reason, by, code = "crashed", "asyncplay", EXIT_INTERNAL
        if limit is not None:
            reason, by, code = limit, "asyncplay", LIMITS[limit][3]
        now = self.now()
        end = {
            "event": "run_end",
            # On the run's clock, as the child's records are: paused time is not run time
            # (the playground's "exit 0 - 1.20s" is the run's, however long it was paused).
            "t": now - self.paused_clock.discount(now),
            "exit_code": code,
            "reason": reason,
            "by": by,
            "status": status,
            "message": self.describe_end(reason, code, status) + self._procs_aside(reason, conf),
            "bye": self.saw_bye,  # the child sent its end (its last figures came first)
        }
        peak = conf.peak_procs() if conf is not None else None
        if peak is not None:
            end["procs_peak"] = peak
        return end

    def _cpu_spent(self) -> bool:
        """The run used up --cpu. Under bwrap the program is not reaped into the process
        asyncplay waits on, so its CPU time comes from the run's cgroup instead."""
        used = getattr(self, "cpu_used", None)
        conf = self.confinement
        if conf is not None and conf.pid_namespace:
            used = conf.cpu_seconds()
        return bool(self.spec.limits.cpu) and used is not None and used >= self.spec.limits.cpu

    def _bwrap_status(self, status: int) -> int:
        """bwrap reports a program killed by signal N as status 128+N. A program that exits
        by itself says goodbye first; so does Python before it kills itself with SIGINT
        for an uncaught KeyboardInterrupt (its runtime says so). An ``os._exit(128+N)`` is
        the one mix-up."""
        if not self.saw_bye:
            return -(status - 128)
        u = self.uncaught
        if status == 128 + _signal.SIGINT and u is not None and u["kind"] == "interrupt":
            return -_signal.SIGINT
        return status

    # ---- evidence: a limit is blamed on facts asyncplay holds, never on the program's text

    def _rlimit_set(self, res: int) -> int | None:
        """The soft limit asyncplay itself set on the run for ``res`` (None: it set none)."""
        conf = self.confinement
        for r, soft, _hard in getattr(conf.preexec if conf else None, "rlimits", ()):
            if r == res:
                return soft
        return None

    def _uncaught_at_rlimit(self, kind: str, res: int) -> bool:
        """The child runtime reports the program died of an uncaught error of ``kind``
        while the rlimit asyncplay set for it was in force (not one the program lowered)."""
        u = self.uncaught
        ours = self._rlimit_set(res)
        if u is None or u["kind"] != kind or ours is None:
            return False
        theirs = (u["rlimits"] or {}).get(_RLIMIT_KEYS[res], ours)
        return theirs == ours

    def _memory_reached(self, conf: sandbox.Plan | None) -> bool:
        """The kernel OOM-killed in the run's memory cgroup, or the program died of a
        MemoryError the interpreter raised (no message) under asyncplay's RLIMIT_AS, or of
        a thread start its address space had no room for (a stack)."""
        if conf is not None and conf.oom_kills():
            return True
        u = self.uncaught
        if u is None or not self._uncaught_at_rlimit(u["kind"], resource.RLIMIT_AS):
            return False
        if u["kind"] == "memory":
            return u["bare"]
        if u["kind"] == "thread":
            limits = u["rlimits"] or {}
            stack = limits.get("stack") or _DEFAULT_STACK
            size = u["vm_size"]
            ours = self._rlimit_set(resource.RLIMIT_AS) or 0
            return type(size) is int and type(stack) is int and size + stack > ours
        return False

    def _procs_refused(self, conf: sandbox.Plan | None) -> bool:
        """The kernel refused the run a process or thread: the pids cgroup counts its
        refusals; under RLIMIT_NPROC, the runtime reports the program died of EAGAIN
        from a fork or of a thread start while asyncplay's limit was in force."""
        if conf is None or not conf.procs_enforced:
            return False
        if conf.refused_forks():
            return True
        return self._uncaught_at_rlimit(
            "process", resource.RLIMIT_NPROC
        ) or self._uncaught_at_rlimit("thread", resource.RLIMIT_NPROC)

    def _procs_aside(self, reason: str, conf: sandbox.Plan | None) -> str:
        """A run that met --procs but ended of something else (a thread bomb whose
        threads keep it alive until the timeout) says so in the same sentence."""
        if reason in ("procs", "exited") or conf is None or not conf.refused_forks():
            return ""
        return f" (it had also reached the process limit, --procs {self.spec.limits.procs})"

    def describe_end(self, reason: str, code: int, status: int) -> str:
        secs = f"{self.exited_at if self.exited_at is not None else self.now():.2f} s"
        lim = self.spec.limits
        if reason == "exited":
            return f"the program exited with status {code} after {secs}"
        if reason == "signal":
            name = _signame(-status)
            return f"the program was killed by signal {-status} ({name}) after {secs}"
        if reason == "stopped":
            return f"asyncplay stopped the program on request after {secs}"
        if reason == "crashed":
            return (
                f"asyncplay could not start the program with {self.spec.python} "
                f"(status {status}); see the messages above"
            )
        flag, what, unit, _status, attr = LIMITS[reason]
        # asyncplay kills at the wall clock, output and event limits; at the others the
        # kernel refused or killed, and the program may have ended of it by itself.
        stopped = "asyncplay stopped the program" if self.kill_reason else "the program was stopped"
        value = getattr(lim, attr)
        value_s = f"{value:g}" if isinstance(value, float) else str(value)
        if reason == "output-limit" and self.file_too_large:
            size = sandbox.file_size_limit(lim) or 0
            return (
                f"{stopped} after {secs}: it wrote a file past the "
                f"file-size limit ({size // (1024 * 1024)} MiB, {sandbox.FILE_SIZE_FACTOR} x "
                f"{flag} {value_s} MiB); raise it with {flag}"
            )
        if reason == "events" and self.trace_too_big:
            return (
                f"asyncplay stopped the program after {secs}: its trace took more than "
                f"{lim.memory_mib} MiB of asyncplay's own memory (as much as --memory "
                f"{lim.memory_mib} MiB gives the program); raise it with --memory"
            )
        if reason == "events":
            return (
                f"asyncplay stopped the program after {secs}: it produced more than "
                f"{value_s} trace events"
            )
        return (
            f"{stopped} after {secs}: it reached {what} "
            f"({flag} {value_s}{' ' + unit if unit else ''}); raise it with {flag}"
        )

    def cleanup(self) -> None:
        self.control.close()
        if self.proc is not None:
            _LIVE_PIDS.discard(self.proc.pid)
        if self.confinement is not None:
            self.confinement.close(reap=self.reap_helpers)
        if self.channel_r >= 0:
            try:
                os.close(self.channel_r)
            except OSError:
                pass
            self.channel_r = -1
        if self._run_dir is not None:
            self._run_dir.remove()
            self._run_dir = None
            self.run_dir = ""


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _own_rss() -> int:
    """This process's resident memory in bytes (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


# The ``rlimits`` keys of the child's ``uncaught`` record (child/ending.py).
_RLIMIT_KEYS = {
    resource.RLIMIT_AS: "as",
    resource.RLIMIT_NPROC: "nproc",
    resource.RLIMIT_FSIZE: "fsize",
}
_DEFAULT_STACK = 8 * 1024 * 1024  # a new thread's stack where RLIMIT_STACK is unlimited


def _signame(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return "unknown"


def wait_status(pid: int) -> tuple[int, float | None] | None:
    """Reap ``pid`` if it has exited: (Popen-style returncode, CPU seconds used)."""
    try:
        got, status, usage = os.wait4(pid, os.WNOHANG)
    except ChildProcessError:
        return (0, None)
    if got == 0:
        return None
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime
