"""Tracing asyncio from the inside: the one module that touches CPython's asyncio internals.

Every task step, whatever the task class or factory, is run by the loop as a
``Handle._run`` callback whose ``__self__`` is the task (see ENGINE-NOTES.md), so one
replacement there sees all steps. ``BaseEventLoop.create_task`` gives creation (and eager
first steps on 3.12+), ``call_exception_handler`` asyncio's complaints, ``tasks.all_tasks``
called from ``runners._cancel_all_tasks`` the tasks cut off when ``main`` returned, and
``events._set_running_loop`` every loop that starts (and loops we cannot trace).

The concurrency diagnostics: each step's start goes into a global the blocking detector's
watchdog thread reads (``watchdog.py``); every wait of a loop passes through its
``_selector.select(timeout)``, wrapped per loop, where the virtual clock jumps (with
``BaseEventLoop.time`` = real time + the jumps) and deadlocks are looked for;
``futures.wrap_future`` counts the thread work asyncio waits on; ``create_task`` builds
its tasks as a subclass of asyncio's own ``Task`` whose ``cancel`` notes who called it.

The private names used here are listed in ``PRIVATE_NAMES`` (and the version-specific
ones in ``PRIVATE_NAMES_BY_VERSION``) and checked on every installed CPython by
``tests/test_private_asyncio.py``.

Transparency rules: tasks and coroutines are held only through weak references; the
replacement ``Handle._run`` keeps the original's frame shape (same file, name and line for
the callback call), so stack depth and tracebacks are Python's own; the other wrappers drop
their own frame from exceptions that pass through them (3.11+; 3.10 re-raises with it).
"""

from __future__ import annotations

import _thread
import os
import sys
import time
import types
import weakref

from asyncplay import protocol
from asyncplay.child.channel import Channel, Strings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# asyncplay's own code in the child: the runtime and the protocol. Not the whole package:
# installed, the bundled snippets live inside it and are the user's code.
_CHILD_DIR = os.path.dirname(os.path.abspath(__file__))
_OWN = (_CHILD_DIR + os.sep, os.path.abspath(protocol.__file__))

# Private asyncio names this module depends on (verified by a test on every 3.1X).
PRIVATE_NAMES = {
    "asyncio.events.Handle": ("_run", "_callback", "_args", "_context", "_loop"),
    "asyncio.events": ("_set_running_loop",),
    "asyncio.base_events.BaseEventLoop": (
        "create_task",
        "call_exception_handler",
        "_asyncgen_finalizer_hook",
    ),
    "asyncio.base_events.BaseEventLoop()": ("_ready", "_selector", "_ssock", "_task_factory"),
    "concurrent.futures.thread": ("_threads_queues",),
    "asyncio.runners": ("_cancel_all_tasks",),
    "asyncio.tasks": ("_GatheringFuture", "__sleep0", "all_tasks"),
    "asyncio.tasks.Task": ("_fut_waiter", "_exception", "_result"),
    "asyncio.format_helpers": ("_format_callback_source",),
}

# Private names used on some versions only: (owner, name, first, last version). The
# test checks each where its range says; "local" names are a function's local variables,
# "assigned" ones attributes a function sets (instance attributes of a class hard to build).
PRIVATE_NAMES_BY_VERSION = (
    ("assigned asyncio.tasks._GatheringFuture.__init__", "_children", (3, 10), None),
    ("asyncio.runners.Runner", "_on_sigint", (3, 11), None),
    ("asyncio.timeouts.Timeout", "_on_timeout", (3, 11), None),
    ("asyncio.timeouts.Timeout()", "_task", (3, 11), None),
    ("asyncio.taskgroups.TaskGroup", "_abort", (3, 11), None),
    ("asyncio.taskgroups.TaskGroup", "_on_task_done", (3, 11), None),
    ("local asyncio.taskgroups.TaskGroup._on_task_done", "task", (3, 11), None),
    ("asyncio.tasks", "_cancel_and_wait", (3, 10), (3, 11)),
    ("local asyncio.tasks.wait_for", "waiter", (3, 10), (3, 11)),
)

# Where asyncio cancels tasks itself (the cancellation source; see Tracer.cancel_cause).
_CANCEL_CAUSES = (
    ("asyncio.runners.Runner", "_on_sigint", "shutdown"),  # Ctrl+C cancels the main task
    ("asyncio.tasks", "_cancel_and_wait", "wait_for"),  # 3.10-3.11 wait_for's inner task
    ("asyncio.timeouts.Timeout", "_on_timeout", "timeout"),  # timeout(); wait_for on 3.12+
    ("asyncio.taskgroups.TaskGroup", "_abort", "taskgroup"),
    ("asyncio.taskgroups.TaskGroup", "_on_task_done", "taskgroup"),
)

# asyncio's public calls that create a task on the caller's behalf. A task is asyncio's own
# ("internal") when asyncio code other than these stands between it and the user's code
# and its coroutine is asyncio's (the shutdown tasks asyncio.run creates), or when
# asyncio's async-generator finalizer made it; create_task(asyncio.sleep(1)) is the user's.
_SPAWNERS = frozenset(
    {
        "create_task",
        "ensure_future",
        "_ensure_future",
        "gather",
        "shield",
        "wait_for",
        "as_completed",
        "wait",
        "_wait",
        "run_until_complete",
        "run_coroutine_threadsafe",
        "__aexit__",
        "_aexit",
        "_wrap_awaitable",
        "staggered_race",
    }
)
# A wait is named by the outermost public asyncio call the program made (queue.join()
# waits in an Event.wait(), as_completed in a Queue.get()), looking through wait_for to what
# it waits for (sleep(10)), and by these private frames when the program called into one.
SEE_THROUGH = frozenset({"wait_for"})
NAMED_PRIVATE = frozenset({"_wait_for_one"})  # as_completed()
_STEP_NAMES = frozenset({"task_wakeup", "__step", "__wakeup", "_Task__step", "_Task__wakeup"})

FLUSH_INTERVAL = 0.05
PUSH_AFTER = 0.1  # records older than this (s) are sent by a helper thread (a step hangs)
ONGOING_AFTER = 2.0  # a step still running after this (s) is reported while it runs
STEP_OPEN_AFTER = 0.1  # a step running this long (s) is told as in progress (step_open) ...
STEP_OPEN_EVERY = 0.25  # ... and again this often while it runs, with the time it has run
REAL_WAIT_SLICE = 0.05  # real seconds a virtual-clock loop waits before it looks again
DEADLOCK_CHECK_AFTER = 1.0  # a wait this long (s) is checked for cycles, once a second at most
JUMP_SLACK = 0.001  # seconds a virtual-clock jump goes past the next timer (see Tracer.wait)
MAX_FAILED = 10_000  # failed tasks remembered for "exception was never retrieved"
MERGE_OUTPUT_FROM = 16  # more writes than this taken at once: one record per stream run


class _Rec:
    """What the tracer keeps per task. No reference to the coroutine: ``describe`` asks
    the (still pending) task for it, and a pending task's ``get_coro()`` is safe (the
    3.12.1 segfault is for eagerly *completed* tasks)."""

    __slots__ = ("tid", "tref", "name", "fresh", "where", "wait", "root", "internal", "cancel")

    def __init__(self, tid: int, tref: Any, name: str) -> None:
        self.tid = tid
        self.tref = tref
        self.name = name
        self.fresh = True  # no step seen yet: its name may still be set after creation
        self.where: tuple[int, int] = (0, 0)  # (file sid, line) of its creation
        self.wait: tuple[int, int, int] = (0, 0, 0)  # the last (awaiting, file, line)
        self.root = False  # created outside any task (asyncio.run's main task)
        self.internal = False  # asyncio's own
        self.cancel: tuple | None = None  # who asked first: (cause, by, file, line)


class Tracer:
    """Holds the run's trace state; ``install`` wires it into asyncio."""

    def __init__(
        self,
        channel: Channel,
        t0: float,
        slow_step: float = 0.1,
        clock: str = "real",
        speed: float = 1.0,
    ) -> None:
        self.channel = channel
        self.strings = Strings(channel)
        self.t0 = t0
        self.tasks: dict[int, _Rec] = {}
        self.failed: dict[int, _Rec] = {}
        self.recent_done: tuple[int, _Rec | None] = (0, None)
        self.next_tid = 1
        self.current: _Rec | None = None
        # Output: chunks the std streams' raw layers wrote (any thread), taken and
        # attributed at step boundaries (see output.py).
        self.chunks: list[tuple[int, bytes]] = []
        self.oflush: Any = _nothing  # flushes stdout's text and buffer layers into chunks
        self.chunks_taken: Any = _nothing
        # Chunks are taken on the loop's thread (a step that printed) and on the flusher
        # thread (synchronous code printing for long): one at a time, or a chunk could be
        # taken twice. Only paths that have output pay for the lock.
        self.out_lock = _thread.allocate_lock()
        # Caches keyed by id(code): hashing a code object hashes its contents (slow, more
        # so on 3.13). The code objects are kept alive in ``codes`` so no id is reused.
        self.codes: list[types.CodeType] = []
        self.code_kind: dict[int, int] = {}
        self.wait_names: dict[int, Any] = {}
        self.coro_info: dict[int, tuple[int, bool]] = {}
        self.file_sids: dict[int, int] = {}
        self.warned: set[str] = set()
        self.enabled = True
        self.nested = 0.0
        self.aio_dir = ""
        self.gathering: Any = None
        self.flush_stdout: Any = _nothing
        # The blocking detector: steps longer than slow_step (seconds) are reported; the
        # watchdog thread leaves (step start, file, line) of what it saw in slow_sample.
        self.slow_step = slow_step
        self.slow_sample: tuple[float, str, int] | None = None
        # The start of the step whose slow_step warning is out (sent by the watchdog while
        # the step still runs, or by the step hook at its end): one warning per step, so
        # whichever claims it first under slow_lock sends it.
        self.slow_warned = -1.0
        self.slow_lock = _thread.allocate_lock()
        # (start, file, line) of the step the watchdog reported while it ran: its end
        # sends an update of that warning with the real duration.
        self.ongoing: tuple[float, str | None, int] | None = None
        self.watchdog: Any = None
        self.lib_dirs: tuple[str, ...] = ()
        self.main_dir = ""
        self.own_code: dict[int, bool] = {}
        self.clock = clock
        self.speed = speed
        # The loop's clock: virtual time = real time + offset, where the offset changes
        # only while the loop waits (a jump to the next timer, or a wait run at --speed).
        self.offset = 0.0
        # concurrent.futures handed to asyncio (run_in_executor, to_thread, wrap_future)
        # and not finished yet: a thread is working, so time must run at the real rate.
        self.executor_pending: set = set()
        self.deadlocks: set = set()  # the deadlocks reported (cycle?, task ids)
        self.last_cycle_check = -DEADLOCK_CHECK_AFTER
        self.all_tasks: Any = None  # asyncio's own all_tasks (ours wraps it)
        # How the last root task (asyncio.run's main) ended: (how, exception type name),
        # so a cut_off warning can say whether main() returned, raised or was stopped.
        self.main_end: tuple[str, str | None] | None = None
        # How the run was ending when asyncio.run cancelled what was left (warn_cut_off):
        # "interrupted" after Ctrl+C or a stop.
        self.shutdown_how: str | None = None

    # ---- records -------------------------------------------------------------------

    def send_json(self, obj: dict, now: bool = False) -> None:
        if not self.enabled:
            return
        obj.setdefault("t", time.perf_counter() - self.t0)
        self.channel.buf += protocol.pack_json(obj)
        if now:
            self.flush()

    def warn(
        self,
        kind: str,
        message: str,
        task: _Rec | None = None,
        file: str | None = None,
        line: int | None = None,
        extra: dict | None = None,
    ) -> None:
        self.flush_output(self.current)
        event = {
            "event": "warning",
            "kind": kind,
            "message": message,
            "task": task.tid if task else None,
            "file": file,
            "line": line,
        }
        if extra:
            event.update(extra)
        self.send_json(event, now=True)

    def flush_output(self, rec: _Rec | None) -> None:
        """Attribute what was written since the last call to ``rec`` (None: no task)."""
        try:
            self.oflush()
        except Exception:  # the program closed or broke stdout: stop trying
            self.oflush = _nothing
            _set_oflush(_nothing)
        chunks = self.chunks
        if not chunks:
            return
        with self.out_lock:
            taken = chunks[:]
            del chunks[: len(taken)]  # another thread may append meanwhile
            self.chunks_taken()
            tid = rec.tid if rec is not None else 0
            t = time.perf_counter() - self.t0
            buf = self.channel.buf
            pack = protocol.pack_output
            if len(taken) <= MERGE_OUTPUT_FROM:
                for stream, data in taken:
                    buf += pack(stream, tid, t, data)
                return
            # A flood (python -u makes each write of a print a chunk of its own): one
            # record per run of one stream's writes, as the parent pays for every record.
            # Bytes another way (os.write) wrote between two of them then make the merge
            # release that run unattributed; a few writes keep a record each, exactly.
            stream = taken[0][0]
            parts: list[bytes] = []
            for s, data in taken:
                if s != stream:
                    buf += pack(stream, tid, t, b"".join(parts))
                    stream, parts = s, []
                parts.append(data)
            buf += pack(stream, tid, t, b"".join(parts))

    def flush_records_from_thread(self) -> None:
        """The flusher thread's share: output written long after the last step boundary
        (synchronous code, a long step) reaches the parent now, which then keeps the order
        across stdout and stderr instead of giving up on records that come too late."""
        if not self.enabled:
            return
        if self.chunks:
            self.flush_output(self.current)
            self.channel.flush()
        else:
            self.push_from_thread()

    def push_from_thread(self) -> None:
        """A helper thread's share: records waiting longer than ``PUSH_AFTER`` go now.
        The loop's thread sends at step ends and loop waits; a step that never ends (an
        endless loop in a task) would otherwise keep even its task's creation back.
        ``Channel.flush`` cuts only the prefix it took, and every record is appended in
        one ``buf +=`` (string-table entries before the records using them), so the loop's
        thread appending meanwhile is safe."""
        channel = self.channel
        if channel.buf and time.perf_counter() - channel.last_flush > PUSH_AFTER:
            channel.flush()

    def flush(self) -> None:
        self.flush_output(self.current)
        self.flush_stdout()
        self.channel.flush()
        wd = self.watchdog
        if wd is not None and wd.wanted:  # stopped for a fork: back at work
            wd.ensure_running()

    def at_exit(self) -> None:
        if not self.enabled:
            return
        self.flush_output(None)
        self.send_json({"event": "bye"})
        self.flush()

    # ---- code classification ---------------------------------------------------------

    def kind_of(self, code: types.CodeType) -> int:
        """0: the user's code, 1: asyncio, 2: asyncplay or the interpreter's frozen bits."""
        k = self.code_kind.get(id(code))
        if k is None:
            fn = code.co_filename
            if self.aio_dir and fn.startswith(self.aio_dir):
                k = 1
            elif fn.startswith(_OWN) or fn.startswith("<frozen"):
                k = 2
            else:
                k = 0
            self.code_kind[id(code)] = k
            self.codes.append(code)
        return k

    def tb_where(self, exc: BaseException | None) -> tuple[int, int]:
        """The user's line where an exception was raised (the innermost user frame)."""
        if exc is None:
            return 0, 0
        tb = exc.__traceback__
        best: tuple[int, int] = (0, 0)
        while tb is not None:
            code = tb.tb_frame.f_code
            if self.kind_of(code) == 0:
                best = (self.strings.sid(code.co_filename), tb.tb_lineno)
            tb = tb.tb_next
        return best

    # ---- where cancellations come from -------------------------------------------------

    def _install_cancel_causes(self, asyncio_mod: Any) -> None:
        """The asyncio code whose ``cancel()`` calls have a cause of their own. Looked up
        by code object when a cancel is requested (rare), never per step."""
        from asyncio import runners

        causes: dict[Any, str] = {runners._cancel_all_tasks.__code__: "shutdown"}
        for owner, name, cause in _CANCEL_CAUSES:
            obj = sys.modules.get(owner)
            if obj is None:  # a class: module.Class
                mod_name, _, cls = owner.rpartition(".")
                obj = getattr(sys.modules.get(mod_name), cls, None)
            code = getattr(getattr(obj, name, None), "__code__", None)
            if code is not None:  # not on this version: that cause is just not told
                causes[code] = cause
        self.cancel_codes = causes

    def cancel_requested(self, task: Any, frame: types.FrameType | None) -> tuple:
        """``task.cancel()`` was called (``frame``: the caller). Returns the source, which
        a cancel this one passes on (to the task or gather it awaits) inherits; sends a
        ``cancel_source`` event the first time a task is asked."""
        rec = self.lookup(task)
        src = _cancel_sources[-1] if _cancel_sources else self.cancel_cause(frame)
        if rec.cancel is None or _withdrawn(task):
            # A fresh request: the first, or one after an earlier cancel was withdrawn
            # (asyncio.timeout uncancels the task when its block turns the cancel into
            # TimeoutError), so a later stop is not blamed on that old deadline.
            self.send_cancel_source(rec, src)
        return src

    def send_cancel_source(self, rec: _Rec, src: tuple) -> None:
        rec.cancel = src
        cause, by, file, line = src
        self.send_json(
            {
                "event": "cancel_source",
                "id": rec.tid,
                "cause": cause,
                "by": by,
                "file": file,
                "line": line or None,
            }
        )

    def cancel_cause(self, frame: types.FrameType | None) -> tuple:
        """(cause, by, file, line) from the frames that called ``cancel()``: asyncio's
        own cancelling code first, else the program's line and the running task."""
        codes = self.cancel_codes
        while frame is not None:
            code = frame.f_code
            if code is _STEP_CODE:
                break  # a plain callback (call_later(1, task.cancel)): nobody's line
            cause = codes.get(code)
            if cause is not None:
                return self._asyncio_cause(cause, frame)
            if self.kind_of(code) == 0:
                cur = self.current
                by = cur.tid if cur is not None else None
                return ("cancel", by, code.co_filename, frame.f_lineno or 0)
            frame = frame.f_back
        return ("unknown", None, None, 0)

    def _asyncio_cause(self, cause: str, frame: types.FrameType) -> tuple:
        cur = self.current
        if cause == "shutdown":
            return ("shutdown", None, None, 0)
        if cause == "wait_for":  # 3.10-3.11: on its timeout, or passing on a cancel
            outer = frame.f_back
            waiter = outer.f_locals.get("waiter") if outer is not None else None
            if waiter is not None and waiter.cancelled() and cur is not None and cur.cancel:
                return cur.cancel  # wait_for itself was cancelled: the same source
            user = self.program_line(outer)
            return ("timeout", None, *(user or (None, 0)))
        if cause == "timeout":  # Timeout._on_timeout, from a timer: the task's own line
            task = frame.f_locals.get("self")
            task = getattr(task, "_task", None)
            rec = self.tasks.get(id(task)) if task is not None else None
            if rec is not None and rec.tref() is task:
                _a, f, ln = rec.wait
                return ("timeout", None, self.strings.text(f) if ln else None, ln)
            return ("timeout", None, None, 0)
        # taskgroup: a child failed (_on_task_done), or the body raised (__aexit__)
        by, file, line = (cur.tid if cur is not None else None), None, 0
        failed = None
        f: types.FrameType | None = frame
        while f is not None and f.f_code in self.cancel_codes:
            if f.f_code.co_name == "_on_task_done":
                failed = f.f_locals.get("task")
                break
            f = f.f_back
        if failed is not None:
            rec = self.find(failed)
            by = rec.tid if rec is not None else by
            exc = getattr(failed, "_exception", None)  # exception() would mark it seen
            fs, line = self.tb_where(exc)
            file = self.strings.text(fs)
        return ("taskgroup", by, file, line)

    # ---- the blocking detector ---------------------------------------------------------

    def is_program_code(self, code: types.CodeType) -> bool:
        """The program's own files: not asyncio or asyncplay, not the standard library or
        site-packages — unless under the program's own directory (a bundled snippet lives
        inside the installed asyncplay)."""
        own = self.own_code.get(id(code))
        if own is None:
            fn = code.co_filename
            own = self.kind_of(code) == 0 and (
                not fn.startswith(self.lib_dirs)
                or bool(self.main_dir and fn.startswith(self.main_dir))
            )
            self.own_code[id(code)] = own
        return own

    def program_line(self, frame: types.FrameType | None) -> tuple[str, int] | None:
        """(file, line) of the innermost frame of the program's own code, else of any
        code that is not asyncio's or asyncplay's. Runs on the watchdog thread too: it
        only reads frames and fills caches, never writes to the channel."""
        fallback = None
        while frame is not None:
            code = frame.f_code
            if self.is_program_code(code):
                return code.co_filename, frame.f_lineno or 0
            if fallback is None and self.kind_of(code) == 0:
                fallback = (code.co_filename, frame.f_lineno or 0)
            frame = frame.f_back
        return fallback

    def start_watchdog(self) -> None:
        """At the first loop start: the thread that samples slow steps."""
        import _thread

        from asyncplay.child.slow_steps import Watchdog

        wd = self.watchdog
        if wd is None:
            wd = self.watchdog = Watchdog(self, self.slow_step)
            wd.install_fork_hooks()
        wd.loop_thread = _thread.get_ident()
        if not wd.running:
            wd.wanted = False
            wd.start()

    def claim_slow_step(self, start: float) -> bool:
        """Whether the caller is the one to report the step that started at ``start``."""
        with self.slow_lock:
            if self.slow_warned == start:
                return False
            self.slow_warned = start
            return True

    def slow_step_warning(self, rec: _Rec, task: Any, start: float, dur: float) -> None:
        """A step held the loop longer than the threshold: one warning, at the line the
        watchdog saw it held at, else the line the step resumed at (where it waited);
        none if the watchdog reported it while it ran (``ongoing_slow_step``)."""
        sample = self.slow_sample
        self.slow_sample = None
        if not self.claim_slow_step(start):
            ongoing = self.ongoing
            if ongoing is not None and ongoing[0] == start:  # told while it ran: update it
                self.ongoing = None
                self.flush_output(self.current)
                ev = self._slow_step_event(rec, start, ongoing[1], ongoing[2], dur, False)
                ev["update"] = True
                self.send_json(ev, now=True)
            return
        if sample is not None and sample[0] == start:
            file, line = sample[1], sample[2]
        else:
            _a, f, line = rec.wait
            if not line and task is not None and not task.done():
                _a, f, line = self.describe(rec, task)
            file = self.strings.text(f) if line else None
        self.flush_output(self.current)
        self.send_json(self._slow_step_event(rec, start, file, line, dur, False), now=True)

    def ongoing_slow_step(self, rec: _Rec, start: float, held: float, where: Any) -> None:
        """The watchdog thread: a step has held the loop ``held`` seconds and still runs
        (perhaps for ever, until the time limit kills the run): report it now, with the
        line it is held at. Only JSON and output records (no string ids) are appended
        here, each in one ``buf +=``; the channel is pushed at once."""
        if not self.enabled:
            return
        file, line = where if where is not None else (None, 0)
        # Noted before the claim: the step may end meanwhile, and its end looks here.
        self.ongoing = (start, file, line)
        if not self.claim_slow_step(start):
            return
        self.flush_output(rec)
        self.send_json(self._slow_step_event(rec, start, file, line, held, True))
        self.channel.flush()

    def step_open(self, rec: _Rec, start: float, now: float) -> None:
        """The watchdog thread: ``rec``'s step, begun at ``start``, still runs at ``now``
        (perf_counter seconds). Told so that a task spinning in a loop shows as running,
        with its running time growing, not as waiting; its ``S`` record closes it. Once
        the step is slow, with the line it is held at: a run cut short (a stop, a limit)
        before the step ends still has its slow_step warning, made by the reducer."""
        if not self.enabled:
            return
        t0 = self.t0
        ev = {"event": "step_open", "t": now - t0, "id": rec.tid, "start": start - t0}
        sample = self.slow_sample
        if sample is not None and sample[0] == start and sample[2]:
            ev["file"], ev["line"] = sample[1], sample[2]
        self.channel.buf += protocol.pack_json(ev)
        self.channel.flush()

    def _slow_step_event(
        self, rec: _Rec, start: float, file: str | None, line: int, dur: float, ongoing: bool
    ) -> dict:
        held = (
            f"has held the event loop for {dur:.2f} s so far"
            if ongoing
            else f"held the event loop for {dur:.2f} s"
        )
        ev = {
            "event": "warning",
            "kind": "slow_step",
            "message": protocol.slow_step_message(rec.name, held),
            "task": rec.tid,
            "file": file,
            "line": line or None,
            "duration": dur,
            "step": start - self.t0,  # the step's start: an update names the same step
        }
        if ongoing:
            ev["ongoing"] = True
        return ev

    # ---- tasks -----------------------------------------------------------------------

    def register(
        self, task: Any, coro: Any, frame: types.FrameType | None, name: Any = None
    ) -> _Rec:
        """Record a new task. ``task`` is None when it is registered before it exists (an
        eager task's first step runs inside its constructor); ``attach`` completes it."""
        tid = self.next_tid
        self.next_tid = tid + 1
        if task is not None:
            try:
                name = task.get_name()
            except Exception:
                name = None
        if not isinstance(name, str):
            name = f"Task-{tid}"
        rec = _Rec(tid, weakref.ref(task) if task is not None else _no_task, name)
        if task is not None:
            self.tasks[id(task)] = rec
        code = coro.cr_code if type(coro) is types.CoroutineType else None
        if code is None:
            code = getattr(coro, "gi_code", None)
        info = self.coro_info.get(id(code)) if code is not None else None
        if info is None:
            if code is not None:
                qual = getattr(coro, "__qualname__", None) or code.co_name
                info = (self.strings.sid(qual), self.kind_of(code) == 1)
                self.coro_info[id(code)] = info
                self.codes.append(code)
            else:
                info = (self.strings.sid(type(coro).__qualname__), False)
        # Where it was created: the first frame of the user's code, walking out.
        kind_get = self.code_kind.get
        spawned_by_asyncio = False
        while frame is not None:
            c = frame.f_code
            k = kind_get(id(c))
            if k is None:
                k = self.kind_of(c)
            if k == 0:
                break
            if k == 1 and c.co_name not in _SPAWNERS:
                spawned_by_asyncio = True
            frame = frame.f_back
        asyncio_made = info[1] or type(coro).__name__ == "async_generator_athrow"
        internal = asyncio_made and (spawned_by_asyncio or frame is None)
        if frame is not None:
            c = frame.f_code
            file = self.file_sids.get(id(c))
            if file is None:
                file = self.file_sids[id(c)] = self.strings.sid(c.co_filename)
                self.codes.append(c)
            line = frame.f_lineno or 0
        else:
            file = line = 0
        rec.where = (file, line)
        parent = self.current
        rec.root = parent is None and not internal
        rec.internal = internal
        data = name.encode("utf-8", "replace")
        # One append per record: the flusher thread may append output records between
        # two of them (see flush_records_from_thread).
        self.channel.buf += (
            _pack_created_head(
                _K_CREATED,
                _CREATED_SIZE + len(data),
                tid,
                parent.tid if parent is not None else 0,
                time.perf_counter() - self.t0,
                info[0],
                file,
                line,
                internal,
            )
            + data
        )
        return rec

    def attach(self, rec: _Rec, task: Any) -> None:
        rec.tref = weakref.ref(task)
        self.tasks[id(task)] = rec
        self.rename_if_needed(rec, task)

    def lookup(self, task: Any) -> _Rec:
        rec = self.tasks.get(id(task))
        if rec is None or rec.tref() is not task:
            try:
                coro = task.get_coro()
            except Exception:
                coro = None
            rec = self.register(task, coro, None)
        return rec

    def find(self, task: Any) -> _Rec | None:
        """The record of a task being finalized: its weak reference may already be dead,
        but its id cannot have been reused while the object still exists."""
        key = id(task)
        rec = self.tasks.get(key) or self.failed.get(key)
        if rec is not None and rec.tref() not in (task, None):
            return None
        return rec

    def rename_if_needed(self, rec: _Rec, task: Any) -> None:
        rec.fresh = False
        try:
            name = task.get_name()
        except Exception:
            return
        if name != rec.name:
            rec.name = name
            self.send_json({"event": "task_renamed", "id": rec.tid, "name": name})

    def describe(self, rec: _Rec, task: Any) -> tuple[int, int, int]:
        """What the task now waits on (a person's words) and the user's line it waits at.

        The name comes from the innermost public asyncio function below the user's last
        frame (``async with lock`` waits in ``Lock.acquire``, not ``__aenter__``), else the
        outermost asyncio one, else the future itself (a task, a gather, a plain future).
        """
        try:
            c = task.get_coro()
        except Exception:
            c = None
        user = None
        aio = None
        public = None
        kind_get = self.code_kind.get
        kind_of = self.kind_of
        coro_t = types.CoroutineType
        gen_t = types.GeneratorType
        while c is not None:
            tc = type(c)
            if tc is coro_t:
                f = c.cr_frame
                nxt = c.cr_await
            elif tc is gen_t:
                f = c.gi_frame
                nxt = c.gi_yieldfrom
            else:
                break
            if f is None:
                break
            code = f.f_code
            k = kind_get(id(code))
            if k is None:
                k = kind_of(code)
            if k == 0:
                user = f
                aio = public = None
            elif k == 1:
                if aio is None:
                    aio = f
                if (
                    public is None
                    and f.f_code.co_name[0] != "_"
                    and f.f_code.co_name not in SEE_THROUGH
                ):
                    public = f  # the outermost: what the program called (Queue.join)
            c = nxt
        if aio is not None:
            # The asyncio call the program made, not what it uses inside: queue.join()
            # waits in an Event.wait(), as_completed in a Queue.get().
            what = self.wait_name(aio if aio.f_code.co_name in NAMED_PRIVATE else public or aio)
        else:
            w = task._fut_waiter
            if w is None:
                what = None
            else:
                tw = type(w)
                if tw is self.gathering:
                    what = f"gather({len(w._children)})"
                elif hasattr(tw, "get_coro"):
                    wrec = self.tasks.get(id(w))
                    what = wrec.name if wrec is not None else w.get_name()
                else:
                    what = "future"
        sid = self.strings.sid
        if user is None:
            result = (sid(what), 0, 0)
        else:
            result = (sid(what), sid(user.f_code.co_filename), user.f_lineno or 0)
        rec.wait = result
        return result

    def wait_name(self, frame: types.FrameType) -> str:
        code = frame.f_code
        fn = self.wait_names.get(id(code))
        if fn is None:
            fn = self._wait_namer(code)
            self.wait_names[id(code)] = fn
            self.codes.append(code)
        try:
            return fn(frame) if callable(fn) else fn
        except Exception:
            return code.co_name + "()"

    def _wait_namer(self, code: types.CodeType) -> Any:
        name = code.co_name
        if name == "sleep":
            return lambda f: f"sleep({short_number(f.f_locals.get('delay'))})"
        if name == "__sleep0":
            return "sleep(0)"
        if name == "wait_for":
            return "wait_for(...)"
        if name == "to_thread":
            return lambda f: f"to_thread({getattr(f.f_locals.get('func'), '__qualname__', '?')})"
        if name == "_wait_for_one":
            return "as_completed()"
        if name in ("wait", "_wait") and code.co_varnames[:1] == ("fs",):
            return lambda f: f"wait({len(f.f_locals.get('fs') or ())})"
        if code.co_varnames[:1] == ("self",):
            return lambda f: f"{type(f.f_locals['self']).__name__}.{name}()"
        return name + "()"

    def record_step(self, rec: _Rec, task: Any, start: float, dur: float) -> None:
        """A finished step, then the task's end or what it now waits on. The step hook
        carries an inlined copy of this (it is the hottest path there is)."""
        if dur > self.slow_step:
            self.slow_step_warning(rec, task, start, dur)
        if task.done():
            self.channel.buf += protocol.pack_step(rec.tid, start - self.t0, dur, 0, 0, 0)
            self.done(rec, task)
        else:
            a, f, ln = (0, 0, 0) if task._fut_waiter is None else self.describe(rec, task)
            self.channel.buf += protocol.pack_step(rec.tid, start - self.t0, dur, a, f, ln)

    def done(self, rec: _Rec, task: Any) -> None:
        self.tasks.pop(id(task), None)
        self.recent_done = (id(task), rec)  # no strong reference: see _set_task_name
        self.rename_if_needed(rec, task)  # set_name() may have come at any point
        if rec.root:
            self.main_end = _how_ended(rec, task)
        t = time.perf_counter() - self.t0
        if task.cancelled():
            state, exc_sid, file, line, text = 1, 0, 0, 0, ""
            if rec.cancel is None:  # not a _TracedTask (a task factory's), or never asked
                self.send_cancel_source(rec, ("unknown", None, None, 0))
        else:
            exc = task._exception
            if exc is not None:
                file, line = self.tb_where(exc)
                exc_sid = self.strings.sid(type(exc).__qualname__)
                state = 2
                text = safe_message(exc)
                if len(self.failed) < MAX_FAILED:
                    self.failed[id(task)] = rec  # for "exception was never retrieved"
            else:
                result = task._result
                if result is None:
                    self.channel.buf += _DONE_NONE(
                        _K_DONE, _DONE_SIZE + 4, rec.tid, t, 0, 0, 0, 0, b"None"
                    )
                    return
                state, exc_sid, file, line = 0, 0, 0, 0
                text = safe_repr(result)
        self.channel.buf += protocol.pack_done(rec.tid, t, state, exc_sid, file, line, text)

    # ---- installation ------------------------------------------------------------------

    def install(self, asyncio_mod: Any) -> None:
        from asyncio import base_events, events, runners, tasks

        self.aio_dir = os.path.dirname(asyncio_mod.__file__) + os.sep
        self.lib_dirs, self.main_dir = _library_dirs()
        self.gathering = tasks._GatheringFuture
        _install_step_hook(self, events.Handle)
        self._install_create_task(base_events.BaseEventLoop, tasks)
        self._install_cancel_causes(asyncio_mod)
        self._install_exception_handler(base_events.BaseEventLoop)
        self._install_running_loop(events, base_events.BaseEventLoop)
        self._install_cut_off_check(runners, tasks)
        self._install_set_name(tasks)
        self._install_wrap_future(asyncio_mod)
        if self.clock == "virtual" or self.speed != 1.0:
            self._install_loop_time(base_events.BaseEventLoop)
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        # A forked child must not write into the parent's channel or claim its tasks.
        self.enabled = False
        self.channel.alive = False

    def _install_create_task(self, loop_cls: type, tasks_mod: Any) -> None:
        """Creation (and eager first steps). Without a task factory the task is built as
        ``_TracedTask``, asyncio's own Task class with a ``cancel`` that notes who called
        it (see ``_TracedTask``): ``loop.create_task`` builds ``tasks.Task(...)``, so the
        module's name points at it for the time of that one call."""
        orig = loop_cls.create_task
        tracer = self
        base_task = tasks_mod.Task
        traced_task = _traced_task_class(base_task)
        perf = time.perf_counter
        eager_possible = sys.version_info >= (3, 12)
        coro_t = types.CoroutineType

        def create_task(self: Any, coro: Any, *args: Any, **kwargs: Any) -> Any:
            if not tracer.enabled:
                return orig(self, coro, *args, **kwargs)
            # Only a task factory can start tasks eagerly (eager_task_factory, 3.12+).
            eager = eager_possible and self._task_factory is not None
            if eager:
                # Its first step may run inside the constructor: register it first, and
                # make it the running task meanwhile (tasks it creates are its children).
                tracer.flush_output(tracer.current)  # what came before belongs to the parent
                rec = tracer.register(None, coro, sys._getframe(1), kwargs.get("name"))
                outer, outer_nested = tracer.current, tracer.nested
                tracer.current, tracer.nested = rec, 0.0
            swap = self._task_factory is None and tasks_mod.Task is base_task
            start = perf()
            try:
                if swap:
                    tasks_mod.Task = traced_task
                    try:
                        task = orig(self, coro, *args, **kwargs)
                    finally:
                        tasks_mod.Task = base_task
                else:
                    task = orig(self, coro, *args, **kwargs)
            except BaseException as exc:
                if eager:
                    tracer.current, tracer.nested = outer, outer_nested
                drop_own_frame(exc)
                raise
            if eager:
                inner = tracer.nested  # eager grandchildren's steps, inside this one
                tracer.current, tracer.nested = outer, outer_nested
                tracer.attach(rec, task)
            else:
                rec = tracer.register(task, coro, sys._getframe(1))
            if eager and type(coro) is coro_t and (coro.cr_suspended or coro.cr_frame is None):
                # The eager first step ran inside create_task: record it (and its output),
                # and take its time out of the step of the task that created it.
                total = perf() - start
                dur = total - inner
                tracer.nested = outer_nested + total
                tracer.flush_output(rec)
                tracer.record_step(rec, task, start, dur)
            return task

        create_task.__wrapped__ = orig  # type: ignore[attr-defined]
        create_task.__qualname__ = orig.__qualname__
        create_task.__doc__ = orig.__doc__
        loop_cls.create_task = create_task

    def _install_set_name(self, tasks_mod: Any) -> None:
        """3.10-3.12 name a task after ``loop.create_task`` returns (``create_task(name=)``,
        task factories): report the name then, even for an eager task already finished."""
        orig = getattr(tasks_mod, "_set_task_name", None)
        if orig is None:
            return
        tracer = self

        def _set_task_name(task: Any, name: Any) -> None:
            orig(task, name)
            if name is not None and tracer.enabled:
                rec = tracer.tasks.get(id(task))
                if rec is None and tracer.recent_done[0] == id(task):
                    rec = tracer.recent_done[1]
                if rec is not None and rec.tref() is task:
                    tracer.rename_if_needed(rec, task)

        tasks_mod._set_task_name = _set_task_name

    def _install_exception_handler(self, loop_cls: type) -> None:
        orig = loop_cls.call_exception_handler
        tracer = self

        def call_exception_handler(self: Any, context: dict) -> Any:
            try:
                tracer.on_loop_complaint(context)
            except Exception:
                pass
            try:
                return orig(self, context)
            except BaseException as exc:
                drop_own_frame(exc)
                raise

        call_exception_handler.__qualname__ = orig.__qualname__
        call_exception_handler.__doc__ = orig.__doc__
        loop_cls.call_exception_handler = call_exception_handler

    def on_loop_complaint(self, context: dict) -> None:
        message = str(context.get("message", ""))
        fut = context.get("task") or context.get("future")
        rec = self.find(fut) if fut is not None else None
        try:
            name = rec.name if rec is not None else fut.get_name()  # type: ignore[union-attr]
        except Exception:
            name = "a task"
        if "exception was never retrieved" in message:
            exc = context.get("exception")
            f, ln = self.tb_where(exc)
            if fut is not None:
                self.failed.pop(id(fut), None)
            self.warn(
                "exception_never_retrieved",
                f"{name} failed with {type(exc).__name__}: {exc}, and nothing ever awaited it "
                "or asked for its result, so the error went unnoticed until the task was "
                "garbage-collected.",
                rec,
                self.strings.text(f),
                ln or None,
            )
            return
        if "destroyed but it is pending" in message:
            interrupted = "interrupted" in (self.shutdown_how, (self.main_end or ("",))[0])
            if interrupted:
                # Left over by an interrupted shutdown (Ctrl+C, a stop): not a task the
                # program lost; the cut_off warnings have told what the interrupt cut.
                return
            file = line = None
            if rec is not None:
                _a, f, ln = rec.wait
                if not ln:
                    f, ln = rec.where
                file, line = self.strings.text(f), ln or None
            if rec is not None and rec.cancel is not None and rec.cancel[0] == "shutdown":
                # asyncio.run cancelled it at the end and it never finished: whatever
                # kept it, the program did not lose it.
                what = (
                    f"{name} was still waiting when the program ended: asyncio.run cancelled "
                    "it, but the cancel never got through (tasks awaiting each other, or "
                    "one that swallows its cancel), so it was discarded unfinished."
                )
                extra: dict | None = {"cancelled_at_exit": True}
            else:
                extra = None
                what = (
                    f"{name} was garbage-collected while still waiting: nothing kept a "
                    "reference to it, so it never finished (keep tasks you create, e.g. in "
                    "a set or a TaskGroup)."
                )
            self.warn("destroyed_pending", what, rec, file, line, extra)
            return
        exc = context.get("exception")
        file = line = None
        if exc is not None:
            f, ln = self.tb_where(exc)
            file, line = self.strings.text(f), ln or None
        self.warn("loop_error", f"the event loop reported: {message}", rec, file, line)

    def _install_running_loop(self, events_mod: Any, base_cls: type) -> None:
        orig = events_mod._set_running_loop
        tracer = self

        def _set_running_loop(loop: Any) -> None:
            _mark_gap()  # a loop starts or stops: what ran outside it is nobody's step
            if loop is not None and tracer.enabled and isinstance(loop, base_cls):
                try:
                    tracer.loop_started(loop)
                except Exception:
                    pass
            if loop is not None and tracer.enabled and not isinstance(loop, base_cls):
                key = type(loop).__module__ + "." + type(loop).__qualname__
                if key not in tracer.warned:
                    tracer.warned.add(key)
                    tracer.warn(
                        "untraceable_loop",
                        f"this program runs its own event loop ({key}), which asyncplay "
                        "cannot trace: its tasks are not visible.",
                    )
            return orig(loop)

        events_mod._set_running_loop = _set_running_loop
        # asyncio re-exports it; code that calls asyncio._set_running_loop must hit the hook.
        import asyncio

        if getattr(asyncio, "_set_running_loop", None) is orig:
            asyncio._set_running_loop = _set_running_loop

    def loop_started(self, loop: Any) -> None:
        """A traced loop starts running (in this thread)."""
        if self.slow_step > 0:
            self.start_watchdog()
        self._wrap_selector(loop)

    # ---- the loop's waits: the virtual clock, --speed ------------------------------------

    def _install_loop_time(self, loop_cls: type) -> None:
        """``loop.time()`` is the virtual clock: every timer (sleep, call_later, wait_for,
        timeout) follows it. ``time.time()``/``time.monotonic()`` are left alone."""
        orig = loop_cls.time
        monotonic = time.monotonic
        tracer = self

        def loop_time(self: Any) -> float:
            return monotonic() + tracer.offset

        loop_time.__name__ = "time"
        loop_time.__qualname__ = orig.__qualname__
        loop_time.__doc__ = orig.__doc__
        loop_cls.time = loop_time

    def _install_wrap_future(self, asyncio_mod: Any) -> None:
        """Count the concurrent futures asyncio waits on (``run_in_executor``,
        ``to_thread`` and ``wrap_future`` all pass here) until their thread is done."""
        from asyncio import futures

        orig = futures.wrap_future
        pending = self.executor_pending
        import concurrent.futures

        cf_future = concurrent.futures.Future

        def wrap_future(future: Any, *, loop: Any = None) -> Any:
            try:
                new = orig(future, loop=loop)
            except BaseException as exc:
                drop_own_frame(exc)
                raise
            if isinstance(future, cf_future) and not future.done():
                pending.add(future)
                future.add_done_callback(pending.discard)
            return new

        wrap_future.__qualname__ = orig.__qualname__
        wrap_future.__doc__ = orig.__doc__
        futures.wrap_future = wrap_future
        if getattr(asyncio_mod, "wrap_future", None) is orig:
            asyncio_mod.wrap_future = wrap_future

    def _wrap_selector(self, loop: Any) -> None:
        """Every wait of a selector loop passes through ``loop._selector.select(timeout)``
        (``_run_once`` computes the timeout: 0 when work is ready, None when there is no
        timer): the one place to see the loop about to wait, and to skip or scale it."""
        sel = getattr(loop, "_selector", None)
        if sel is None or "select" in getattr(sel, "__dict__", {"select": None}):
            return  # not a selector loop, or wrapped already
        # Weak references: the wrapper lives in the selector's __dict__, and a cycle
        # through it would leave an unclosed loop to the garbage collector instead of
        # freeing it (and warning about it) when the program drops it, as Python does.
        select_fn = type(sel).select
        sel_ref = weakref.ref(sel)
        loop_ref = weakref.ref(loop)
        tracer = self

        def select(timeout: float | None = None) -> Any:
            orig = select_fn.__get__(sel_ref())
            if timeout == 0 or not tracer.enabled:
                return orig(timeout)
            lp = loop_ref()
            if lp is None:
                return orig(timeout)
            return tracer.wait(lp, orig, timeout)

        sel.select = select

    def wait(self, loop: Any, select: Any, timeout: float | None) -> Any:
        """The loop is about to wait ``timeout`` seconds (None: no timer at all).

        Virtual clock: when only timers are pending (no I/O, thread or subprocess), look
        once without waiting (a thread's wake-up or a ready socket wins), then jump to the
        next timer. ``_run_once`` computes the timeout only when no callback is ready, so
        zero-delay callbacks have all run and a later timer never fires before an earlier
        one. The jump overshoots by ``JUMP_SLACK``, as a real wake-up is late by about
        that much: timers set a few microseconds apart (one step each) then fire in the
        same loop turn, in the same order as under the real clock. Any other wait runs at
        ``speed`` (1: real time).

        Deadlocks are looked for here too, only when the wait is long or endless (never
        per step): a cycle of tasks awaiting each other, or, with no timer at all, every
        task waiting while nothing outside the loop's timers could wake it.
        """
        if timeout is None or timeout >= DEADLOCK_CHECK_AFTER:
            try:
                self.maybe_check_deadlock(loop, timeout)
            except Exception:  # the tracer must never break the program
                pass
        if self.clock == "virtual" and timeout is not None:
            if not self.real_pending(loop):
                events = select(0)
                if not events:
                    self.shift(timeout + JUMP_SLACK)
                return events
            # Look again soon: the thread or process may end without waking the loop
            # (a subprocess watcher thread outlives the wake-up it sends by a moment).
            timeout = min(timeout, REAL_WAIT_SLICE * self.speed)
        speed = self.speed
        if speed == 1.0:
            return select(timeout)
        start = time.perf_counter()
        events = select(None if timeout is None else timeout / speed)
        self.shift((speed - 1.0) * (time.perf_counter() - start))
        return events

    # ---- deadlocks ----------------------------------------------------------------------

    def maybe_check_deadlock(self, loop: Any, timeout: float | None) -> None:
        """The loop is about to wait long or for ever. About to block for good (no
        timer, nothing real pending: only a signal can wake it), always look, once per
        wait; otherwise (a long timer, or I/O that may wake it any moment) look for cycles
        at most once a second, so a busy I/O program or a virtual clock jumping from
        timer to timer pays for the walk over its tasks at most once a second."""
        if timeout is None and not self.real_pending(loop):
            self.check_deadlock(loop, True)
            return
        now = time.perf_counter()
        if now - self.last_cycle_check >= DEADLOCK_CHECK_AFTER:
            self.last_cycle_check = now
            self.check_deadlock(loop, False)

    def check_deadlock(self, loop: Any, stuck: bool) -> None:
        """``stuck``: nothing but the program's tasks could wake the loop; then a stall
        (every task waiting) is a deadlock too."""
        tasks = [t for t in self.all_tasks(loop) if not t.done()]
        if not tasks:
            return
        awaits: dict[Any, list[Any]] = {}
        stalled = True  # every task waits on a future
        for t in tasks:
            w = t._fut_waiter
            if w is None:
                stalled = False
                continue
            if type(w) is self.gathering:
                awaits[t] = [c for c in w._children if hasattr(type(c), "get_coro")]
            elif hasattr(type(w), "get_coro"):
                awaits[t] = [w]
        cycle = _find_cycle(awaits, lambda t: self.lookup(t).tid)
        if cycle:
            self.report_deadlock(cycle, True)
        elif stuck and stalled:
            self.report_deadlock(tasks, False)

    def report_deadlock(self, tasks: list[Any], cycle: bool) -> None:
        """One warning per distinct deadlock (the loop may wake and wait again)."""
        recs = [(self.lookup(t), t) for t in tasks]
        if not cycle:
            recs = sorted((p for p in recs if not p[0].internal), key=lambda p: p[0].tid)
            if not recs:
                return
        key = (cycle, frozenset(r.tid for r, _t in recs))
        if key in self.deadlocks:
            return
        self.deadlocks.add(key)
        text = self.strings.text
        parts = []
        where: list[tuple[str | None, int]] = []
        for rec, task in recs:
            a, f, ln = self.describe(rec, task)
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
        first, task0 = recs[0]
        self.flush_output(self.current)
        self.send_json(
            {
                "event": "warning",
                "kind": "deadlock",
                "message": message,
                "task": first.tid,
                "file": where[0][0],
                "line": where[0][1] or None,
                "tasks": [r.tid for r, _t in recs],
                "cycle": cycle,
            },
            now=True,
        )

    def shift(self, delta: float) -> None:
        """Move virtual time ``delta`` seconds away from real time (only between steps)."""
        self.offset += delta
        self.t0 -= delta
        _set_t0(self.t0)

    def real_pending(self, loop: Any) -> bool:
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
        if self.executor_pending:
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

    def _install_cut_off_check(self, runners_mod: Any, tasks_mod: Any) -> None:
        """Warn about tasks still pending when ``main()`` returned.

        ``runners._cancel_all_tasks`` starts with ``tasks.all_tasks(loop)``: hooking that
        call (and returning at once) leaves no frame of ours on the stack while asyncio
        cancels them, so tracebacks stay Python's own.
        """
        orig = self.all_tasks = tasks_mod.all_tasks
        shutdown_code = runners_mod._cancel_all_tasks.__code__
        tracer = self

        def all_tasks(loop: Any = None) -> Any:
            result = orig(loop)
            try:
                if sys._getframe(1).f_code is shutdown_code and tracer.enabled:
                    tracer.warn_cut_off(result)
            except Exception:
                pass
            return result

        all_tasks.__doc__ = orig.__doc__
        tasks_mod.all_tasks = all_tasks
        import asyncio

        if getattr(asyncio, "all_tasks", None) is orig:
            asyncio.all_tasks = all_tasks

    def warn_cut_off(self, pending: Any) -> None:
        recs = []
        ended = self.main_end
        stopping = sys.exc_info()[1]  # on its way out of asyncio.run, if anything
        for task in pending:
            if task.done():
                continue
            rec = self.tasks.get(id(task))
            if rec is None or rec.tref() is not task:
                continue
            if rec.root:
                # main() itself did not return: an exception is on its way out. Only
                # Ctrl+C (or a stop) is told: the loop was left between two steps.
                if not isinstance(stopping, KeyboardInterrupt):
                    return
                ended = ("interrupted", None)
                continue
            recs.append((rec, task))
        if isinstance(stopping, KeyboardInterrupt):
            ended = ("interrupted", None)
        how, exc = ended or ("returned", None)
        self.shutdown_how = how
        for rec, task in recs:
            if rec.cancel is None and not isinstance(task, _TracedTask):
                self.send_cancel_source(rec, ("shutdown", None, None, 0))
            if rec.internal:
                continue
            _a, f, ln = self.describe(rec, task)
            if not ln:
                f, ln = rec.where
            self.warn(
                "cut_off",
                _cut_off_message(rec.name, how, exc),
                rec,
                self.strings.text(f),
                ln or None,
                {"main_ended": how, "main_exc": exc} if exc else {"main_ended": how},
            )


def short_number(value: Any) -> str:
    """A number as a label shows it: ``1.81`` for 1.8093983775872016, yet ``10``,
    ``0.25``, ``1e-05`` and ``1500`` whole (3 significant digits, never cutting the
    integer part); anything else as its repr."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, float) or value != value or value in (float("inf"), -float("inf")):
        return repr(value)
    if abs(value) >= 1e16:
        return f"{value:.3g}"
    if value.is_integer():
        return str(int(value))
    if abs(value) >= 100:
        return str(round(value))
    return f"{value:.3g}"


def _how_ended(rec: _Rec, task: Any) -> tuple[str, str | None]:
    """How a finished root task ended: returned, raised (with the exception's type name),
    cancelled, or interrupted (Ctrl+C, or asyncplay's stop: SIGINT)."""
    if task.cancelled():
        # 3.11+: Runner._on_sigint cancels the main task (a "shutdown" cause on a task
        # still running: _cancel_all_tasks never cancels main, it is done by then).
        cause = rec.cancel[0] if rec.cancel else None
        return ("interrupted", None) if cause == "shutdown" else ("cancelled", None)
    exc = task._exception
    if exc is None:
        return ("returned", None)
    if isinstance(exc, KeyboardInterrupt):
        return ("interrupted", None)
    return ("raised", type(exc).__qualname__)


def _cut_off_message(name: str, how: str, exc: str | None) -> str:
    """The cut_off warning's sentence, for how main() ended (see ``_how_ended``)."""
    if how == "raised":
        return (
            f"{name} was still running when main() raised {exc or 'an exception'}, so "
            "asyncio.run cancelled it on the way out: the exception is what to fix."
        )
    if how == "cancelled":
        return (
            f"{name} was still running when main() was cancelled, so asyncio.run cancelled it too."
        )
    if how == "interrupted":
        return (
            f"{name} was still running when the run was interrupted (Ctrl+C or a stop), "
            "so asyncio.run cancelled it."
        )
    return (
        f"{name} was still running when main() returned, so asyncio.run "
        "cancelled it: await it (or gather it) if it must finish."
    )


def _library_dirs() -> tuple[tuple[str, ...], str]:
    """The standard library's and site-packages' folders (not the program's own code, for
    the blocking detector), and the program's own folder."""
    dirs = {os.path.dirname(os.__file__)}
    try:
        import site

        dirs.update(site.getsitepackages())
        dirs.add(site.getusersitepackages())
    except Exception:
        pass
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv else "")
    main_dir = os.path.dirname(os.path.abspath(main_file)) + os.sep if main_file else ""
    return tuple(os.path.join(d, "") for d in dirs if d), main_dir


def drop_own_frame(exc: BaseException) -> None:
    """Remove the wrapper's own entry from an exception passing through it (3.11+ keeps
    the change across a bare ``raise``; 3.10 re-adds the frame)."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OWN):
        exc.__traceback__ = tb.tb_next


# ---- the step hook ---------------------------------------------------------------------
# Module globals, set by _install_step_hook: LOAD_GLOBAL is as fast as a closure cell, and
# the replacement below must be a plain function of this module.
_tracer: Any = None
_gap = True  # code other than a task step may have written output since the last flush
_oflush: Any = None
_chunks: list = []
_tasks: dict = {}
_channel: Any = None
_t0 = 0.0
_cb_kinds: dict = {}
_STEP_CODE: Any = None  # the code of the replacement Handle._run
_step_start = 0.0  # the running step's start (read by the watchdog thread)
_slow = float("inf")  # the blocking detector's threshold, seconds
_perf = time.perf_counter
_pack_step = protocol.STEP_RECORD.pack
_K_STEP = protocol.K_STEP
_STEP_SIZE = protocol.STEP.size
_pack_created_head = protocol.CREATED_RECORD.pack
_DONE_NONE = protocol.struct.Struct("<BIIdBIII4s").pack  # a done record whose result is None
_K_DONE = protocol.K_DONE
_DONE_SIZE = protocol.DONE.size
_K_CREATED = protocol.K_CREATED
_CREATED_SIZE = protocol.CREATED.size


def _cb_kind(cb: Any) -> int:
    tcb = type(cb)
    if tcb.__name__ == "TaskStepMethWrapper":
        k = 1
    elif isinstance(cb, (types.MethodType, types.BuiltinMethodType)):
        k = 2
    else:
        k = 0
    _cb_kinds[tcb] = k
    return k


def _callback_failed(handle: Any, exc: BaseException) -> None:
    """What ``Handle._run`` does with an exception from a callback (all of 3.10-3.13)."""
    from asyncio import format_helpers

    try:
        cb = format_helpers._format_callback_source(
            handle._callback, handle._args, debug=handle._loop.get_debug()
        )
    except TypeError:
        cb = format_helpers._format_callback_source(handle._callback, handle._args)
    context = {"message": f"Exception in callback {cb}", "exception": exc, "handle": handle}
    if handle._source_traceback:
        context["source_traceback"] = handle._source_traceback
    handle._loop.call_exception_handler(context)


class _HandleScaffold:
    """Holds the replacement ``Handle._run`` so that its call of the callback sits at the
    same indentation as in asyncio's events.py; ``_install_step_hook`` then gives its code
    events.py's file name and line, and the frame looks exactly like the original's."""

    def _run(self):  # noqa: ANN001, ANN202 - the shape must match asyncio's
        global _gap, _step_start
        cb = self._callback
        k = _cb_kinds.get(type(cb))
        if k is None:
            k = _cb_kind(cb)
        tracer = _tracer
        rec = None
        if k and tracer.enabled:
            task = cb.__self__
            if k == 1 or (cb.__name__ in _STEP_NAMES and hasattr(type(task), "get_coro")):
                rec = _tasks.get(id(task))
                if rec is None or rec.tref() is not task:
                    rec = tracer.lookup(task)
                if rec.fresh:
                    tracer.rename_if_needed(rec, task)
                if _gap:  # code other than a step ran since the last step: its output
                    _gap = False
                    try:
                        _oflush()
                    except Exception:
                        _set_oflush(_nothing)
                if _chunks:
                    tracer.flush_output(None)
                prev = tracer.current
                prev_nested = tracer.nested
                tracer.current = rec
                tracer.nested = 0.0
                start = _step_start = _perf()
        try:
            self._context.run(self._callback, *self._args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            _callback_failed(self, exc)
        finally:
            if rec is None:
                _gap = True
            else:
                end = _perf()
                dur = end - start - tracer.nested
                tracer.nested = prev_nested
                try:
                    _oflush()
                except Exception:
                    _set_oflush(_nothing)
                if _chunks:
                    tracer.flush_output(rec)
                tracer.current = prev
                if dur > _slow:  # the blocking detector (the watchdog sampled the line)
                    try:
                        tracer.slow_step_warning(rec, task, start, dur)
                    except Exception:
                        pass
                try:  # inlined Tracer.record_step
                    if task.done():
                        _channel.buf += _pack_step(
                            _K_STEP, _STEP_SIZE, rec.tid, start - _t0, dur, 0, 0, 0
                        )
                        tracer.done(rec, task)
                    elif task._fut_waiter is None:
                        _channel.buf += _pack_step(
                            _K_STEP, _STEP_SIZE, rec.tid, start - _t0, dur, 0, 0, 0
                        )
                    else:
                        a, f, ln = tracer.describe(rec, task)
                        _channel.buf += _pack_step(
                            _K_STEP, _STEP_SIZE, rec.tid, start - _t0, dur, a, f, ln
                        )
                except Exception:  # the tracer must never break the program
                    pass
                # Send when the loop is about to wait (nothing else ready) or every 50 ms.
                if not self._loop._ready or end - _channel.last_flush > FLUSH_INTERVAL:
                    tracer.flush()
        self = None  # Needed to break cycles when an exception occurs.


_CALL = "self._context.run(self._callback, *self._args)"


def _call_line(func: Any) -> int:
    """The absolute line number of the callback call in ``func``'s source."""
    import inspect

    lines, first = inspect.getsourcelines(func)
    for i, text in enumerate(lines):
        if text.strip() == _CALL:
            return first + i
    raise LookupError(f"no callback call found in {func.__qualname__}")


def _install_step_hook(tracer: Tracer, handle_cls: type) -> None:
    """Replace ``Handle._run``: the hottest path there is, so everything is a global.

    Per step it records the task, start and duration. What the task now waits on (the
    frame walk) is only worked out when it suspends on a future: a bare yield
    (``sleep(0)``) means "ready again at once", and walking for it would double the cost
    of a busy program (see the bench/ figures in the README).
    """
    global _tracer, _tasks, _channel, _t0, _chunks, _slow
    _tracer, _tasks, _channel, _t0 = tracer, tracer.tasks, tracer.channel, tracer.t0
    _slow = tracer.slow_step if tracer.slow_step > 0 else float("inf")
    _chunks = tracer.chunks
    _set_oflush(tracer.oflush)
    orig = handle_cls._run
    code = _HandleScaffold._run.__code__
    shift = _call_line(orig) - _call_line(_HandleScaffold._run)
    fields: dict[str, Any] = {
        "co_filename": orig.__code__.co_filename,
        "co_name": "_run",
        "co_firstlineno": code.co_firstlineno + shift,
    }
    if sys.version_info >= (3, 11):
        fields["co_qualname"] = orig.__code__.co_qualname
    global _STEP_CODE
    _STEP_CODE = code.replace(**fields)
    run = types.FunctionType(_STEP_CODE, globals(), "_run")
    run.__qualname__ = orig.__qualname__
    run.__module__ = orig.__module__
    handle_cls._run = run


def _nothing() -> None:
    pass


def _no_task() -> None:
    """The weak reference of a task registered before its constructor returned."""


# Sources of the cancels in progress: a cancel passes itself on to the future the task
# awaits (another task, a gather), whose cancel then inherits the outer one's source.
_cancel_sources: list[tuple] = []


def _withdrawn(task: Any) -> bool:
    """Is no cancel pending on ``task`` (3.11+: ``cancelling()`` is back to 0)? On 3.10
    there is no count: the first request stays the only one told."""
    cancelling = getattr(task, "cancelling", None)
    try:
        return cancelling is not None and cancelling() == 0
    except Exception:
        return False


class _TracedTask:
    """Marker base: the tasks built as ``_traced_task_class(asyncio's Task)``."""

    __slots__ = ()


def _traced_task_class(base: type) -> type:
    """asyncio's own Task class (C or Python), with one Python method on top: ``cancel``
    notes who called it, then calls the original. A C type's methods cannot be patched,
    and an instance has nowhere to hold one, so the subclass is how a cancel request is
    seen at all; it costs nothing per step (steps never look ``cancel`` up) and about
    0.1 us per task created. Named, documented and represented as ``Task``; ``type(t) is
    asyncio.Task`` is False for these tasks (``isinstance`` holds)."""
    base_cancel = base.cancel

    class Task(base, _TracedTask):  # type: ignore[valid-type, misc]
        __slots__ = ()

        def cancel(self, msg: Any = None) -> bool:  # asyncio's signature, 3.10-3.13
            tracer = _tracer
            if tracer is None or not tracer.enabled or self.done():
                return base_cancel(self, msg)
            try:
                src = tracer.cancel_requested(self, sys._getframe(1))
            except Exception:  # the tracer must never break the program
                return base_cancel(self, msg)
            _cancel_sources.append(src)
            try:
                return base_cancel(self, msg)
            finally:
                _cancel_sources.pop()

    Task.cancel.__doc__ = base_cancel.__doc__
    Task.__module__ = base.__module__
    Task.__qualname__ = base.__qualname__
    Task.__doc__ = base.__doc__
    return Task


def _find_cycle(awaits: dict[Any, list[Any]], order: Any) -> list[Any]:
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


def _set_t0(t0: float) -> None:
    global _t0
    _t0 = t0


def _mark_gap() -> None:
    global _gap
    _gap = True


def _set_oflush(fn: Any) -> None:
    global _oflush
    _oflush = fn


_PLAIN = (type(None), bool, int, float, complex)
_TEXT = (str, bytes)
_CONTAINERS = (list, tuple, set, frozenset)


def safe_repr(value: Any, limit: int = 200) -> str:
    """A result's repr without running the program's own ``__repr__`` inside the tracer
    (it could print, block or raise there)."""
    t = type(value)
    if t in _PLAIN:
        if t is int and value.bit_length() > 600:
            return f"<int of {value.bit_length()} bits>"
        return repr(value)
    if t in _TEXT:
        return _short(repr(value[: limit + 1]), limit)
    if t in _CONTAINERS or t is dict:
        items = list(value.items())[:11] if t is dict else list(value)[:11]
        flat = [x for pair in items for x in pair] if t is dict else items
        if len(value) <= 10 and all(
            (type(x) in _PLAIN and not (type(x) is int and x.bit_length() > 600))
            or (type(x) in _TEXT and len(x) <= limit)
            for x in flat
        ):
            return _short(repr(value), limit)
        return f"<{t.__name__} of {len(value)} items>"
    if t.__module__ == "builtins":
        return f"<{t.__qualname__}>"
    return f"<{t.__module__}.{t.__qualname__} object>"


def safe_message(exc: BaseException) -> str:
    """An exception's message without running the program's own ``__str__``."""
    if type(exc).__module__ == "builtins":
        try:
            return _short(str(exc))
        except Exception:
            return ""
    args = exc.args
    if len(args) == 1 and type(args[0]) is str:
        return _short(args[0])
    return ""


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
