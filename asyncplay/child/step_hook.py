"""The step hook: the replacement ``Handle._run``, the hottest code there is.

Every task step, whatever the task class or factory, is run by the loop as a
``Handle._run`` callback whose ``__self__`` is the task (a task schedules each of its
steps with ``loop.call_soon(self.__step)`` or its C twin, and a wake-up from a future is
such a callback too), so one replacement there sees all steps. Everything it reads is a
module global of this module (``LOAD_GLOBAL`` is as fast as a closure cell), set by
``install``; the ``Tracer`` (``tracer.py``) holds the run's state and calls in here.

One source, a hook per mode: ``_HandleScaffold._run`` below is written for every mode,
its mode's branches under ``if _steps_out:``, ``if _figures_kept:`` and ``if
_flush_each:``. ``install`` compiles that source again with the names replaced by the
run's ``True``/``False`` (``step_records``: figures mode, the headless run's, keeps no
step-record branch and steps mode no figures branch; a run whose writes are not
attributed no per-step stdout flush: the compiler drops a branch on a constant), so the
modes cannot drift apart; stepping's gated twin (``stepping.build_gated_hook``) is built from
the same specialised lines. (The hook was always placed by its source: asyncio's
callback line is found in it.)

Transparency: the hook's code gets asyncio's file name, qualified name and, for the
callback call, the very line of ``events.py``'s own ``Handle._run``, so stack depth,
tracebacks and debuggers see Python's own frame (tests/test_transparency*).
"""

from __future__ import annotations

import sys
import time
import types

from asyncplay import protocol
from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import drop_own_frame as _drop_own_frame
from asyncplay.child.private_names import STEP_NAMES as _STEP_NAMES
from asyncplay.child.task_record import EarlyRecord as _EarlyRecord
from asyncplay.child.task_record import TaskRecord as _TaskRecord

__all__ = [
    "build",
    "compile_run",
    "current_step_start",
    "hook_lines",
    "install",
    "mark_gap",
    "set_oflush",
    "set_t0",
    "set_traced_task",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Module globals, set by install: the replacement below must be a plain function of
# this module.
_tracer: Any = None
_gap = True  # code other than a task step may have written output since the last flush
_oflush: Any = None
_chunks: list = []
_tasks: dict = {}
_channel: Any = None
_t0 = 0.0
_cb_kinds: dict = {}
_step_type: Any = ()  # TaskStepMethWrapper (C tasks' step callback): kind 1 without a lookup
# The traced Task class (cancels.traced_task_class, Tracer.named_tasks): its tasks carry
# their record in a slot (task_registry.register), the others are found by id.
_traced_task: Any = None
_rec_types: Any = ()  # (TaskRecord, EarlyRecord): what the slot holds unless the program wrote it
_gate: Any = None  # stepping's pause: only its twin of the hook calls it (child/stepping.py)
_step_start = 0.0  # the running step's start (read by the watchdog thread)
_slow = float("inf")  # the blocking detector's threshold, seconds
# The mode (Tracer.step_records): an S record per step ("steps", "both"), figures kept
# on the task's record ("figures", "both"). Constants in the specialised hook.
_steps_out = True
_figures_kept = False
# stdout flushed at each step's end (``Tracer.flush_each_step``: its writes are attributed,
# O records); without, stdout goes at the loop's waits and the flusher's period, and the
# hook has no per-step flush at all (was a call of a no-op at every step: ~1 % of a
# 20,000-task run's child on 3.11). A constant in the specialised hook, as the mode.
_flush_each = True
_held: list = []  # Tracer.held: records whose figures changed since they were last sent
callback_failed: Any = None  # loop_complaints.callback_failed
_slow_step_warning: Any = None  # slow_steps.slow_step_warning
_perf = time.perf_counter
_pack_step = protocol.STEP_RECORD.pack
_K_STEP = protocol.K_STEP
_STEP_SIZE = protocol.STEP.size
_MODE_NAMES = ("_steps_out", "_figures_kept", "_flush_each")


def _cb_kind(cb: Any) -> int:
    """0: not a task's callback; 1: a C task's step; 2: a bound method (a step when
    its name is one of ``STEP_NAMES`` and its ``__self__`` a task)."""
    global _step_type
    tcb = type(cb)
    if tcb.__name__ == "TaskStepMethWrapper":
        k = 1
        _step_type = tcb
    elif isinstance(cb, (types.MethodType, types.BuiltinMethodType)):
        k = 2
    else:
        k = 0
    _cb_kinds[tcb] = k
    return k


class _HandleScaffold:
    """Holds the replacement ``Handle._run`` so that its call of the callback sits at the
    same indentation as in asyncio's events.py; ``install`` then gives its code events.py's
    file name and line, and the frame looks exactly like the original's."""

    def _run(self):  # noqa: ANN001, ANN202 - the shape must match asyncio's
        global _gap, _step_start
        cb = self._callback
        rec = None
        if type(cb) is _step_type:  # a C task's step: the common case, no lookup
            k = 1
        else:
            k = _cb_kinds.get(type(cb))
            if k is None:
                k = _cb_kind(cb)
            if k == 2 and (
                cb.__name__ not in _STEP_NAMES or not hasattr(type(cb.__self__), "get_coro")
            ):
                k = 0
        if k and _tracer.enabled:
            task = cb.__self__
            tracer = _tracer
            if type(task) is _traced_task:  # the record is on the task (one slot read)
                try:
                    rec = task._asyncplay_record
                except AttributeError:  # built by the program from type(task): not yet
                    rec = tracer.lookup(task)
                else:
                    if type(rec) not in _rec_types:  # the program set it: found by id
                        rec = tracer.lookup(task)
            else:  # another class (a task factory's): by id, its name looked at once
                rec = _tasks.get(id(task))
                if rec is None or rec() is not task:  # (rec() is rec.tref(), cheaper)
                    rec = tracer.lookup(task)
                if rec.fresh:
                    tracer.rename_if_needed(rec, task)
            if _flush_each:
                if _gap:  # code other than a step ran since the last step: its output
                    _gap = False
                    try:
                        _oflush()
                    except (OSError, ValueError):  # the program closed or broke stdout
                        set_oflush(None)
                    except Exception as exc:
                        set_oflush(None)
                        report_failure(tracer, "stdout flush", exc)
            if _chunks:
                tracer.flush_output(None)
            prev = tracer.current
            tracer.current = rec
            # Only grows: an eager task's first step inside this one adds its time
            # (task_creation), a pause at a line breakpoint the paused time.
            nested = tracer.nested
            start = _step_start = _perf()
        try:
            self._context.run(self._callback, *self._args)
        except (SystemExit, KeyboardInterrupt) as exc:
            _drop_own_frame(exc)  # (a ^C or stop that landed in the runtime: not its frames)
            raise
        except BaseException as exc:
            callback_failed(self, exc)
        finally:
            if rec is None:
                _gap = True
            else:
                end = _perf()
                dur = end - start
                if tracer.nested is not nested:
                    dur -= tracer.nested - nested
                if _flush_each:
                    try:
                        _oflush()
                    except (OSError, ValueError):  # the program closed or broke stdout
                        set_oflush(None)
                    except Exception as exc:
                        set_oflush(None)
                        report_failure(tracer, "stdout flush", exc)
                if _chunks:
                    tracer.flush_output(rec)
                tracer.current = prev
                if tracer.walk_memo is not None:  # (task_registry._walk_from's: let go)
                    tracer.walk_memo = None
                if dur > _slow:  # the blocking detector (the watchdog sampled the line)
                    try:
                        _slow_step_warning(tracer, rec, task, start, dur)
                    except Exception as exc:  # the tracer must never break the program
                        report_failure(tracer, "slow step report", exc)
                try:  # inlined Tracer.record_step
                    s = start - _t0
                    ended = task.done()
                    if ended or task._fut_waiter is None:
                        a = 0
                        if _steps_out:
                            f = ln = 0
                    else:
                        a, f, ln = tracer.describe(rec, task)
                        if _figures_kept:  # where it waits (step_figures.count)
                            if a:
                                rec.waited = a
                            if ln:
                                rec.wfile = f
                                rec.wline = ln
                    if _figures_kept:  # inlined step_figures.count: the parent's sums
                        n = rec.steps
                        rec.steps = n + 1
                        if n:
                            rec.running += dur
                            if dur > rec.longest:
                                rec.longest = dur
                        else:
                            rec.first = s
                            rec.running = rec.longest = dur
                            rec.queued = False
                        rec.last = s + dur
                        rec.awaits = a
                        if not rec.queued:
                            rec.queued = True
                            _held.append(rec)
                    if _steps_out:
                        _channel.buf += _pack_step(_K_STEP, _STEP_SIZE, rec.tid, s, dur, a, f, ln)
                    if ended:
                        tracer.done(rec, task)
                except Exception as exc:  # the tracer must never break the program
                    report_failure(tracer, "step record", exc)
                # Send when the loop is about to wait (nothing else ready) or every 50 ms.
                if not self._loop._ready or end > _channel.flush_due:
                    tracer.flush()
        # Needed to break cycles when an exception occurs: a failed step's traceback
        # holds this frame (through f_back), and its locals must not hold the task.
        self = task = cb = None


_CALL = "self._context.run(self._callback, *self._args)"


def _call_at(lines: list[str]) -> int:
    """The index in ``lines`` of the callback call (one, or LookupError)."""
    at = [i for i, text in enumerate(lines) if text.strip() == _CALL]
    if len(at) != 1:
        raise LookupError(f"{len(at)} callback calls in the step hook's source, not one")
    return at[0]


def _file_lines(fn: Any) -> list[str]:
    """The lines of the file ``fn`` was compiled from, through ``linecache`` as
    ``inspect`` reads them (its loader asked when the file is not there); OSError: none."""
    import linecache

    lines = linecache.getlines(fn.__code__.co_filename, fn.__globals__)
    if not lines:
        raise OSError(f"no source for {fn.__qualname__}")
    return lines


def _method_lines(fn: Any) -> list[str]:
    """A method's source lines, from its ``def`` to the last line indented under it
    (blank and comment lines inside). ``inspect.getsourcelines`` gives the same for the
    scaffold, but its tokenizer (and the pattern it compiles) cost 3-4 ms of every traced
    run's start on 3.11, more than the hook's compile: this is a look at indentation,
    which the scaffold (our own source, no multi-line string) is written to."""
    lines = _file_lines(fn)
    first = fn.__code__.co_firstlineno - 1
    head = lines[first]
    indent = len(head) - len(head.lstrip())
    end = first + 1
    while end < len(lines):
        text = lines[end]
        body = text.lstrip()
        if body and not body.startswith("#") and len(text) - len(body) <= indent:
            break
        end += 1
    while not lines[end - 1].strip():  # (the blank lines before the next statement)
        end -= 1
    return lines[first:end]


def _call_line(fn: Any) -> int:
    """The line of ``fn``'s file where it calls the callback (asyncio's ``Handle._run``):
    the one line of its code that reads ``_CALL`` (LookupError: not one; OSError: no
    source). Its code's own line table, not a parse of its source."""
    lines = _file_lines(fn)
    at = {
        ln
        for _start, _end, ln in fn.__code__.co_lines()
        if ln is not None and 0 < ln <= len(lines) and lines[ln - 1].strip() == _CALL
    }
    if len(at) != 1:
        raise LookupError(f"{len(at)} callback calls in {fn.__qualname__}, not one")
    return at.pop()


def hook_lines(steps_out: bool, figures_kept: bool, flush_each: bool = True) -> list[str]:
    """The scaffold's source lines for one mode: ``_steps_out``, ``_figures_kept`` and
    ``_flush_each`` replaced by constants (OSError: no source)."""
    lines = _method_lines(_HandleScaffold._run)
    values = {
        "_steps_out": str(steps_out),
        "_figures_kept": str(figures_kept),
        "_flush_each": str(flush_each),
    }
    out = []
    for text in lines:
        for name in _MODE_NAMES:
            if name in text:
                text = text.replace(name, values[name])
        out.append(text)
    return out


def compile_run(lines: list[str], filename: str) -> types.CodeType:
    """The code of the method whose source is ``lines``, compiled inside a class as it
    was written (not dedented: the columns, which 3.11+ tracebacks underline, stay
    asyncio's own)."""
    module = compile(
        "class _HandleScaffold:\n" + "".join(lines), filename, "exec", dont_inherit=True
    )
    (body,) = [c for c in module.co_consts if isinstance(c, types.CodeType)]
    (code,) = [c for c in body.co_consts if isinstance(c, types.CodeType)]
    return code


def build(lines: list[str], orig: Any) -> Any:
    """The hook compiled from ``lines`` (the scaffold's source) as ``orig``
    (asyncio's ``Handle._run``): its file, names, and the callback call at its line; the
    globals are this module's."""
    code_orig = orig.__code__
    call_line = _call_line(orig)
    code = compile_run(lines, code_orig.co_filename)
    fields: dict[str, Any] = {"co_name": "_run", "co_firstlineno": call_line - _call_at(lines)}
    if sys.version_info >= (3, 11):
        fields["co_qualname"] = code_orig.co_qualname
    run = types.FunctionType(code.replace(**fields), globals(), "_run")
    run.__qualname__ = orig.__qualname__
    run.__module__ = orig.__module__
    return run


def install(tracer: Any, handle_cls: type, callback_failed_: Any, slow_warning: Any) -> None:
    """Replace ``Handle._run`` with the hook of the tracer's mode (``step_records``).

    Per step it records the task, start and duration. What the task now waits on (the
    frame walk) is only worked out when it suspends on a future: a bare yield
    (``sleep(0)``) means "ready again at once", and walking for it would double the cost
    of a busy program (bench/tasks.py measures it).
    """
    global _tracer, _tasks, _channel, _t0, _chunks, _slow, callback_failed
    global _steps_out, _figures_kept, _flush_each, _held, _slow_step_warning
    _tracer, _tasks, _channel, _t0 = tracer, tracer.tasks, tracer.channel, tracer.t0
    callback_failed, _slow_step_warning = callback_failed_, slow_warning
    _steps_out = tracer.step_records != "figures"
    _figures_kept = tracer.step_records != "steps"
    _held = tracer.held
    _slow = tracer.slow_step if tracer.slow_step > 0 else float("inf")
    _chunks = tracer.chunks
    _flush_each = bool(getattr(tracer, "flush_each_step", True))
    set_oflush(tracer.oflush if _flush_each else None)
    lines = hook_lines(_steps_out, _figures_kept, _flush_each)
    run = build(lines, handle_cls._run)
    tracer.step_code = run.__code__
    tracer.patches.set(handle_cls, "_run", run)
    tracer.step_hook = (handle_cls, run, lines)


def _nothing() -> None:
    pass


def set_traced_task(cls: Any) -> None:
    """The task class whose instances carry their record (``RECORD_SLOT``; None: none)."""
    global _traced_task, _rec_types
    _traced_task = cls
    _rec_types = (_TaskRecord, _EarlyRecord)


def set_t0(t0: float) -> None:
    global _t0
    _t0 = t0


def mark_gap() -> None:
    global _gap
    _gap = True


def set_oflush(fn: Any) -> None:
    """What flushes stdout's layers into the chunks (None: nothing, for good)."""
    global _oflush
    _oflush = _nothing if fn is None else fn


def current_step_start() -> float:
    """The running step's start, for the watchdog thread (``slow_steps.Watchdog``)."""
    return _step_start
