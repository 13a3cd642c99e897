"""Tracing asyncio from the inside: the Tracer, the run's trace state.

Every task step is run by the loop as a ``Handle._run`` callback: ``step_hook.py``
replaces it (the hottest code there is, in a module of its own with everything it reads a
module global) and calls back in here for what is rare (a task's first step, its end, what
it waits on). ``BaseEventLoop.create_task`` gives creation (and eager first steps on
3.12+) and ``events._set_running_loop`` every loop that starts (and loops we cannot trace).

The rest is wired in by ``install`` from modules of one concept each: the blocking
detector (``slow_steps``: each step's start goes into a global its watchdog thread
reads), the loop's waits (``virtual_clock``: every wait passes through the loop's
``_selector.select(timeout)``, where the virtual clock jumps and ``deadlocks`` are looked
for), cancel sources (``cancels``: tasks built as a subclass of asyncio's own ``Task``
whose ``cancel`` notes who called it), asyncio's complaints (``loop_complaints``) and
tasks cut off at the run's end (``cut_off``). They take the tracer as an argument and
never import this module.

The private names used are listed in ``private_names.py`` and checked on every installed
CPython by ``tests/test_private_asyncio.py``. A failure of the runtime's own code is told
once per site (``failures.py``), never raised into the program nor printed on its output.

Transparency rules: tasks and coroutines are held only through weak references; the
replacement ``Handle._run`` (step_hook.py) keeps the original's frame shape (same file, name and line for
the callback call), so stack depth and tracebacks are Python's own; the other wrappers drop
their own frame from exceptions that pass through them (3.11+; 3.10 re-raises with it).
"""

from __future__ import annotations

import _thread
import os
import time

from asyncplay import protocol
from asyncplay.child import quiet_import
from asyncplay.child.channel import Channel, Strings
from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import OWN as _OWN
from asyncplay.child.patches import Patches

__all__ = ["Tracer", "load_rooms"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    import types
    from typing import Any

    from asyncplay.child.task_record import TaskRecord as _Rec

# The rooms only a traced asyncio needs, loaded by ``install`` (``load_rooms``): a
# program that never imports asyncio never pays for them (tests/test_startup.py).
call_chains: Any = None
deadlocks: Any = None
waits: Any = None
cancels: Any = None
cut_off: Any = None
executor_jobs: Any = None
loop_complaints: Any = None
primitives: Any = None
running_loops: Any = None
slow_steps: Any = None
task_creation: Any = None
task_registry: Any = None
virtual_clock: Any = None
callback_failed: Any = None
_slow_step_warning: Any = None
step_hook: Any = None


def load_rooms() -> None:
    """Import the rooms above (``install`` does; ``attached`` before its bootstrap takes
    asyncplay off ``sys.path``), past the program's import hooks (``quiet_import``)."""
    global cancels, cut_off, executor_jobs, loop_complaints, primitives, running_loops
    global slow_steps, task_creation, task_registry, virtual_clock, callback_failed
    global _slow_step_warning, step_hook, call_chains, deadlocks, waits
    if cancels is not None:
        return  # (loaded: a name replaced since, by a test, stays replaced)
    (
        _record,
        _names,
        waits,
        deadlocks,
        call_chains,
        slow_steps,
        cancels,
        cut_off,
        executor_jobs,
        loop_complaints,
        _figures,
        _lines,
        primitives,
        virtual_clock,
        running_loops,
        task_creation,
        task_registry,
        step_hook,
    ) = quiet_import.load(*_ROOMS)
    callback_failed = loop_complaints.callback_failed
    for name in task_registry.METHODS:
        setattr(Tracer, name, getattr(task_registry, name))
    Tracer.describe = waits.describe  # type: ignore[method-assign]
    Tracer.wait_name = waits.wait_name  # type: ignore[method-assign]
    _slow_step_warning = slow_steps.slow_step_warning


# In the order they import each other (primitive_figures: primitives' own room). The first
# five were loaded at the runtime's start until the seventh start-up pass (a hello world's
# child paid 4.7 M instructions for them; docs/performance.md).
_ROOMS = ("task_record", "private_names", "waits", "deadlocks", "call_chains")
_ROOMS += ("slow_steps", "cancels", "cut_off", "executor_jobs", "loop_complaints")
_ROOMS += ("primitive_figures", "wait_lines", "primitives", "virtual_clock", "running_loops")
_ROOMS += ("task_creation", "task_registry", "step_hook")


MERGE_OUTPUT_FROM = 16  # more writes than this taken at once: one record per stream run


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
        # The task whose end was recorded last (id, record): its late name (3.10-3.12's
        # _set_task_name after an eager task finished) is still told.
        self.recent_id = 0
        self.recent_rec: _Rec | None = None
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
        self.walk_kinds: dict[int, int] = {}  # task_registry's walk to a creating line
        self.wait_kinds: dict[int, int] = {}  # waits.py: its caches, keyed as it says
        self.wait_lines: dict[int, dict[int, tuple[int, int]]] = {}
        self.wait_names: dict[Any, Any] = {}
        self.coro_info: dict[int, tuple[int, bool]] = {}
        self.last_coro: tuple = (None, None)  # (code, its coro_info) last looked up
        self.file_sids: dict[int, int] = {}
        self.create_lines: dict[int, dict] = {}  # id(code): {f_lasti: (file, line)}
        # (frame, where, spawned): the walk out from a frame of asyncio's that makes tasks
        # (``gather``'s) while it runs, kept for the step (task_registry._walk_from)
        self.walk_memo: tuple | None = None
        self.named_tasks: Any = None  # the task class whose set_name() tells (cancels.py)
        self.warned: set[str] = set()
        self.enabled = True
        self.chains: Any = None  # 3.14+: tasks whose chain may have changed (``install``)
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
        self.helper: Any = None  # the runtime's helper thread (output.Flusher); carries it
        # The running step's start (the watchdog's): ``step_hook``'s, once installed.
        self.step_start: Any = _no_step
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
        self.last_cycle_check = float("-inf")  # (the first look is due at once)
        self.all_tasks: Any = None  # asyncio's own all_tasks (ours wraps it)
        # How the last root task (asyncio.run's main) ended: (how, exception type name),
        # so a cut_off warning can say whether main() returned, raised or was stopped.
        self.main_end: tuple[str, str | None] | None = None
        # How the run was ending when asyncio.run cancelled what was left (warn_cut_off):
        # "interrupted" after Ctrl+C or a stop.
        self.shutdown_how: str | None = None
        # Cancel sources (cancels.py): asyncio's cancelling code, and the step hook's code
        # (a cancel from a plain callback is nobody's line).
        self.cancel_codes: dict[Any, str] = {}
        self.step_code: Any = None
        # The sites where the runtime's own code failed, each told once (failures.py).
        self.failure_sites: set[str] = set()
        self.failure_lock = _thread.allocate_lock()
        self.patches = Patches()  # what install replaced; uninstall puts it back
        self.step_hook: Any = None  # (Handle, the hook, its source lines): stepping's twin
        self.step_records = "steps"  # S records per step, or figures: step_figures.MODES
        self.held: list[_Rec] = []  # figures mode: the records to send at the next flush

    # ---- records -------------------------------------------------------------------

    def send_json(self, obj: dict, now: bool = False) -> None:
        if not self.enabled:
            return
        if self.held:  # figures mode: those the parent folds this against go first
            self.channel.pack_held_before(obj["event"])
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
        self.flush_output(None, running=True)
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

    def flush_output(self, rec: _Rec | None, running: bool = False) -> None:
        """Attribute what was written since the last call to ``rec`` (None: no task).

        ``running``: to the task whose step runs when the writes are taken, read under the
        lock right beside them. Another thread (the flusher, the watchdog) must ask so: the
        task it read before this call's stdout flush (which writes, letting the loop's
        thread run) may have ended its step meanwhile and the next task's writes be the
        ones taken."""
        try:
            self.oflush()
        except (OSError, ValueError):  # the program closed or broke stdout: stop trying
            self.oflush = _nothing
            if step_hook is not None:
                step_hook.set_oflush(None)
        except Exception as exc:  # the runtime's own stream failed: stop trying, and tell
            self.oflush = _nothing
            if step_hook is not None:
                step_hook.set_oflush(None)
            report_failure(self, "stdout flush", exc)
        chunks = self.chunks
        if not chunks:
            return
        with self.out_lock:
            taken = chunks[:]
            del chunks[: len(taken)]  # another thread may append meanwhile
            self.chunks_taken()
            if running:
                rec = self.current
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

    def flush(self) -> None:
        if self.chains is not None and self.chains.dirty:
            call_chains.send_changed(self)
        self.flush_output(None, running=True)
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

    # ---- tasks: register, attach, lookup, find, rename_if_needed, done: task_registry's
    # functions, bound here by ``load_rooms`` (they come with asyncio, as the rooms do).

    # What a task waits on (waits.py): plain functions taking the tracer as ``self``,
    # bound by ``load_rooms`` over these two (a tracer used before it: a test's).
    def describe(self, rec: _Rec, task: Any) -> tuple[int, int, int]:
        load_rooms()
        return self.describe(rec, task)

    def wait_name(self, frame: types.FrameType) -> str:
        load_rooms()
        return self.wait_name(frame)

    def record_step(self, rec: _Rec, task: Any, start: float, dur: float) -> None:
        """A finished step, then the task's end or what it now waits on. The step hook
        carries an inlined copy of this (it is the hottest path there is)."""
        if dur > self.slow_step:
            _slow_step_warning(self, rec, task, start, dur)
        ended = task.done()
        if ended or task._fut_waiter is None:
            a = f = ln = 0
        else:
            a, f, ln = self.describe(rec, task)
        s = start - self.t0
        if self.step_records != "figures":
            self.channel.buf += protocol.pack_step(rec.tid, s, dur, a, f, ln)
        if self.step_records != "steps":
            self.channel.count_step(self, rec, s, dur, a, f, ln)
        if ended:
            self.done(rec, task)

    # ---- installation ------------------------------------------------------------------

    def install(self, asyncio_mod: Any, attached: bool = False) -> None:
        """Wire the hooks in. ``attached`` (``asyncplay attach``, a program already
        running): only what ``uninstall`` can undo exactly: no traced Task class, no
        fork handler, no hook on loops that start later, the real clock."""
        from asyncio import base_events, events, runners, tasks

        load_rooms()
        if self.chains is None:
            self.chains = call_chains.make()
        loop_cls = base_events.BaseEventLoop
        self.aio_dir = os.path.dirname(asyncio_mod.__file__) + os.sep
        self.lib_dirs, self.main_dir = slow_steps.library_dirs()
        self.gathering = tasks._GatheringFuture
        if self.step_records != "steps":
            (step_figures,) = quiet_import.load("step_figures")
            step_figures.start(self)
        self.step_start = step_hook.current_step_start
        step_hook.install(self, events.Handle, callback_failed, _slow_step_warning)
        task_creation.install_create_task(self, loop_cls, tasks, traced=not attached)
        step_hook.set_traced_task(self.named_tasks)  # its tasks carry their record
        cancels.install_cancel_causes(self)
        loop_complaints.install_exception_handler(self, loop_cls)
        if not attached:
            running_loops.install_running_loop(self, events, loop_cls, step_hook.mark_gap)
        cut_off.install_cut_off_check(self, runners, tasks)
        task_creation.install_set_name(self, tasks)
        virtual_clock.install_wrap_future(self, asyncio_mod)
        # Queues, locks...: per object, never per step (attached: those made from now on;
        # the attach's detach strips their per-object wrappers, ``primitives.strip``).
        primitives.install(self, asyncio_mod, attached)
        executor_jobs.install(self, loop_cls)
        if attached:
            return
        if self.clock == "virtual" or self.speed != 1.0:
            virtual_clock.install_loop_time(self, loop_cls)
        os.register_at_fork(after_in_child=self._forked)

    def uninstall(self) -> list[str]:
        """Turn tracing off and put back every attribute ``install`` replaced (any
        thread: each is one store); the names someone replaced after us are returned."""
        self.enabled = False
        return self.patches.undo()

    def _forked(self) -> None:
        # A forked child must not write into the parent's channel or claim its tasks.
        self.enabled = False
        self.channel.alive = False

    def start_clock(self, t0: float) -> None:
        """The run's time starts at ``t0``: when the program may start (the gate), the
        moment the session counts its own time from ("after X s")."""
        self.t0 = t0
        if step_hook is not None:  # (installed: its copy of t0 follows)
            step_hook.set_t0(t0)

    def shift(self, delta: float) -> None:
        """Move virtual time ``delta`` seconds away from real time (only between steps)."""
        self.offset += delta
        self.t0 -= delta
        if step_hook is not None:  # (installed: its copy of t0 follows)
            step_hook.set_t0(self.t0)


def _nothing() -> None:
    pass


def _no_step() -> float:
    """No step runs before the step hook is installed (``step_hook.current_step_start``)."""
    return 0.0
