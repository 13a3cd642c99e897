"""Tracing asyncio from the inside: the one module that touches CPython's asyncio internals.

Every task step, whatever the task class or factory, is run by the loop as a
``Handle._run`` callback whose ``__self__`` is the task (see ENGINE-NOTES.md), so one patch
there sees all steps. ``BaseEventLoop.create_task`` gives creation (and eager first steps on
3.12+), ``call_exception_handler`` asyncio's complaints, ``runners._cancel_all_tasks`` the
tasks cut off when ``main`` returned, ``events._set_running_loop`` every loop that starts
(and loops we cannot trace). The private names used here are checked by
``tests/test_private_asyncio.py``, which fails loudly when one moves.

Tasks and coroutines are held only through weak references, so nothing lives longer than
it would under plain Python.
"""

from __future__ import annotations

import _thread
import os
import sys
import time
import types
import weakref

from asyncplay import protocol
from asyncplay.child.recorder import Channel, Strings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_CHILD_DIR = os.path.dirname(os.path.abspath(__file__))
_PKG_DIR = os.path.dirname(_CHILD_DIR)

# Private asyncio names this module depends on (verified by a test on every 3.1X).
PRIVATE_NAMES = {
    "asyncio.events.Handle": ("_run", "_callback"),
    "asyncio.events": ("_set_running_loop",),
    "asyncio.base_events.BaseEventLoop": ("create_task", "call_exception_handler"),
    "asyncio.runners": ("_cancel_all_tasks",),
    "asyncio.tasks": ("_GatheringFuture", "__sleep0"),
    "asyncio.tasks.Task": ("_fut_waiter", "_exception", "_result"),
}

# asyncio's public calls that create a task on the caller's behalf. A task is asyncio's own
# ("internal") when its coroutine is asyncio's and other asyncio code stands between it and
# the user's code (the shutdown tasks asyncio.run creates); create_task(asyncio.sleep(1))
# is the user's.
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
    }
)

FLUSH_INTERVAL = 0.05
FLUSH_BYTES = 256 * 1024


class _Rec:
    __slots__ = ("tid", "tref", "cref", "name", "fresh", "where")

    def __init__(self, tid: int, task: Any, coro: Any, name: str) -> None:
        self.tid = tid
        self.fresh = True  # no step seen yet: its name may still be set after creation
        self.where: tuple[int, int] = (0, 0)
        self.tref = weakref.ref(task)
        try:
            self.cref = weakref.ref(coro) if coro is not None else None
        except TypeError:
            self.cref = None
        self.name = name


class Tracer:
    """Holds the run's trace state; ``install`` wires it into asyncio."""

    def __init__(self, channel: Channel, t0: float, main_file: str | None) -> None:
        self.channel = channel
        self.strings = Strings(channel)
        self.t0 = t0
        self.main_file = main_file
        self.tasks: dict[int, _Rec] = {}
        self.next_tid = 1
        self.current: _Rec | None = None
        self.cur_thread = 0
        self.out: list[str] = []  # the current run of writes, all of kind out_key
        self.out_key = 1
        self.segs: list[tuple[int, list[str]]] = []
        self.code_kind: dict[types.CodeType, int] = {}
        self.wait_names: dict[types.CodeType, Any] = {}
        self.coro_info: dict[types.CodeType, tuple[int, bool]] = {}
        self.file_sids: dict[types.CodeType, int] = {}
        self.warned: set[str] = set()
        self.enabled = True
        self.nested = 0.0
        self.aio_dir = ""
        self.flush_stdout: Any = _nothing

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
    ) -> None:
        self.flush_output(None)
        self.send_json(
            {
                "event": "warning",
                "kind": kind,
                "message": message,
                "task": task.tid if task else None,
                "file": file,
                "line": line,
            },
            now=True,
        )

    def switch_output(self, key: int) -> None:
        """Start a new run of writes: another stream, or attributed versus not.

        Writes are kept as runs of plain strings so a print flood costs one list append
        per write and one ``join`` per run, not a tuple per write.
        """
        if self.out:
            self.segs.append((self.out_key, self.out))
            self.out = []
        self.out_key = key

    def flush_output(self, rec: _Rec | None) -> None:
        if not self.out:
            return
        segs = self.segs
        segs.append((self.out_key, self.out))
        self.segs = []
        self.out = []
        tid = rec.tid if rec is not None else 0
        t = time.perf_counter() - self.t0
        buf = self.channel.buf
        for key, parts in segs:
            # key: 1/2 stdout/stderr written by the running task, 3/4 by another thread.
            attributed = key < 3
            buf += protocol.pack_output(
                key if attributed else key - 2, tid if attributed else 0, t, "".join(parts)
            )

    def flush(self) -> None:
        self.flush_output(self.current)
        self.flush_stdout()
        self.channel.flush()

    def at_exit(self) -> None:
        if not self.enabled:
            return
        self.flush_output(None)
        self.send_json({"event": "bye"})
        self.flush()

    # ---- code classification ---------------------------------------------------------

    def kind_of(self, code: types.CodeType) -> int:
        """0: the user's code, 1: asyncio, 2: asyncplay or the interpreter's frozen bits."""
        k = self.code_kind.get(code)
        if k is None:
            fn = code.co_filename
            if self.aio_dir and fn.startswith(self.aio_dir):
                k = 1
            elif fn.startswith(_PKG_DIR) or fn.startswith("<frozen"):
                k = 2
            else:
                k = 0
            self.code_kind[code] = k
        return k

    def user_frame(self, frame: types.FrameType | None) -> types.FrameType | None:
        kind_of = self.kind_of
        while frame is not None:
            if kind_of(frame.f_code) == 0:
                return frame
            frame = frame.f_back
        return None

    def rename_if_needed(self, rec: _Rec, task: Any) -> None:
        rec.fresh = False
        try:
            name = task.get_name()
        except Exception:
            return
        if name != rec.name:
            rec.name = name
            self.send_json({"event": "task_renamed", "id": rec.tid, "name": name})

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

    # ---- tasks -----------------------------------------------------------------------

    def register(self, task: Any, coro: Any, frame: types.FrameType | None) -> _Rec:
        tid = self.next_tid
        self.next_tid = tid + 1
        try:
            name = task.get_name()
        except Exception:
            name = f"Task-{tid}"
        rec = _Rec(tid, task, coro, name)
        self.tasks[id(task)] = rec
        code = coro.cr_code if type(coro) is types.CoroutineType else None
        if code is None:
            code = getattr(coro, "gi_code", None)
        info = self.coro_info.get(code) if code is not None else None
        if info is None:
            if code is not None:
                qual = getattr(coro, "__qualname__", None) or code.co_name
                info = (self.strings.sid(qual), self.kind_of(code) == 1)
                self.coro_info[code] = info
            else:
                info = (self.strings.sid(type(coro).__qualname__), False)
        # Where it was created: the first frame of the user's code, walking out.
        kind_get = self.code_kind.get
        spawned_by_asyncio = False
        while frame is not None:
            c = frame.f_code
            k = kind_get(c)
            if k is None:
                k = self.kind_of(c)
            if k == 0:
                break
            if k == 1 and c.co_name not in _SPAWNERS:
                spawned_by_asyncio = True
            frame = frame.f_back
        internal = info[1] and (spawned_by_asyncio or frame is None)
        if frame is not None:
            c = frame.f_code
            file = self.file_sids.get(c)
            if file is None:
                file = self.file_sids[c] = self.strings.sid(c.co_filename)
            line = frame.f_lineno or 0
        else:
            file = line = 0
        rec.where = (file, line)
        parent = self.current
        self.channel.buf += protocol.pack_created(
            tid,
            parent.tid if parent is not None else 0,
            time.perf_counter() - self.t0,
            info[0],
            file,
            line,
            internal,
            name,
        )
        return rec

    def lookup(self, task: Any) -> _Rec:
        rec = self.tasks.get(id(task))
        if rec is None or rec.tref() is not task:
            try:
                coro = task.get_coro()
            except Exception:
                coro = None
            rec = self.register(task, coro, None)
        return rec

    def describe(self, rec: _Rec, task: Any) -> tuple[int, int, int]:
        """What the task now waits on (a person's words) and the user's line it waits at.

        The name comes from the innermost public asyncio function below the user's last
        frame (``async with lock`` waits in ``Lock.acquire``, not ``__aenter__``), else the
        outermost asyncio one, else the future itself (a task, a gather, a plain future).
        """
        cref = rec.cref
        c = cref() if cref is not None else None
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
            k = kind_get(f.f_code)
            if k is None:
                k = kind_of(f.f_code)
            if k == 0:
                user = f
                aio = public = None
            elif k == 1:
                if aio is None:
                    aio = f
                if f.f_code.co_name[0] != "_":
                    public = f
            c = nxt
        if aio is not None:
            what = self.wait_name(public or aio)
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
            return sid(what), 0, 0
        return sid(what), sid(user.f_code.co_filename), user.f_lineno or 0

    def wait_name(self, frame: types.FrameType) -> str:
        code = frame.f_code
        fn = self.wait_names.get(code)
        if fn is None:
            fn = self._wait_namer(code)
            self.wait_names[code] = fn
        try:
            return fn(frame) if callable(fn) else fn
        except Exception:
            return code.co_name + "()"

    def _wait_namer(self, code: types.CodeType) -> Any:
        name = code.co_name
        if name == "sleep":
            return lambda f: f"sleep({f.f_locals.get('delay')!r})"
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

    def done(self, rec: _Rec, task: Any) -> None:
        self.tasks.pop(id(task), None)
        if rec.fresh:
            self.rename_if_needed(rec, task)
        t = time.perf_counter() - self.t0
        if task.cancelled():
            state, exc_sid, file, line, text = 1, 0, 0, 0, ""
        else:
            exc = task._exception
            if exc is not None:
                file, line = self.tb_where(exc)
                exc_sid = self.strings.sid(type(exc).__qualname__)
                state = 2
                try:
                    text = _short(str(exc))
                except Exception:
                    text = "<unprintable>"
            else:
                state, exc_sid, file, line = 0, 0, 0, 0
                text = safe_repr(task._result)
        self.channel.buf += protocol.pack_done(rec.tid, t, state, exc_sid, file, line, text)

    # ---- installation ------------------------------------------------------------------

    def install(self, asyncio_mod: Any) -> None:
        from asyncio import base_events, events, runners, tasks

        self.aio_dir = os.path.dirname(asyncio_mod.__file__) + os.sep
        self.gathering = tasks._GatheringFuture
        self._install_step_hook(events.Handle)
        self._install_create_task(base_events.BaseEventLoop)
        self._install_exception_handler(base_events.BaseEventLoop)
        self._install_running_loop(events, base_events.BaseEventLoop)
        self._install_cancel_all(runners, tasks)
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        # A forked child must not write into the parent's channel or claim its tasks.
        self.enabled = False
        self.channel.alive = False

    def _install_step_hook(self, handle_cls: type) -> None:
        """Wrap ``Handle._run``: the hottest path there is, so everything is a local.

        Per step it records the task, start and duration. What the task now waits on (the
        frame walk) is only worked out when it suspends on a future: a bare yield
        (``sleep(0)``) means "ready again at once", and walking for it would double the
        cost of a busy program (see the bench/ figures in the README).
        """
        orig_run = handle_cls._run
        tracer = self
        perf = time.perf_counter
        get_ident = _thread.get_ident
        cb_kinds: dict[type, int] = {}
        step_names = frozenset(
            {"task_wakeup", "__step", "__wakeup", "_Task__step", "_Task__wakeup"}
        )
        channel = self.channel
        pack_step = protocol.STEP_RECORD.pack
        k_step, step_size = protocol.K_STEP, protocol.STEP.size
        tasks = self.tasks
        t0 = self.t0

        def cb_kind(cb: Any) -> int:
            tcb = type(cb)
            if tcb.__name__ == "TaskStepMethWrapper":
                k = 1
            elif isinstance(cb, (types.MethodType, types.BuiltinMethodType)):
                k = 2
            else:
                k = 0
            cb_kinds[tcb] = k
            return k

        def _run(self: Any) -> None:
            cb = self._callback
            k = cb_kinds.get(type(cb))
            if k is None:
                k = cb_kind(cb)
            if k == 0:
                return orig_run(self)
            task = cb.__self__
            if k == 2 and (cb.__name__ not in step_names or not hasattr(type(task), "get_coro")):
                return orig_run(self)
            if not tracer.enabled:
                return orig_run(self)
            rec = tasks.get(id(task))
            if rec is None or rec.tref() is not task:
                rec = tracer.lookup(task)
            if rec.fresh:
                tracer.rename_if_needed(rec, task)
            if tracer.out:
                tracer.flush_output(None)
            prev = tracer.current
            prev_nested = tracer.nested
            tracer.current = rec
            tracer.cur_thread = get_ident()
            tracer.nested = 0.0
            start = perf()
            try:
                orig_run(self)
            finally:
                end = perf()
                dur = end - start - tracer.nested
                tracer.nested = prev_nested
                if tracer.out:
                    tracer.flush_output(rec)
                    tracer.flush_stdout()
                tracer.current = prev
                if prev is None:
                    tracer.cur_thread = 0
                if task.done():
                    channel.buf += pack_step(k_step, step_size, rec.tid, start - t0, dur, 0, 0, 0)
                    tracer.done(rec, task)
                elif task._fut_waiter is None:
                    channel.buf += pack_step(k_step, step_size, rec.tid, start - t0, dur, 0, 0, 0)
                else:
                    a, f, ln = tracer.describe(rec, task)
                    channel.buf += pack_step(k_step, step_size, rec.tid, start - t0, dur, a, f, ln)
                if end - channel.last_flush > FLUSH_INTERVAL:
                    channel.flush()

        handle_cls._run = _run

    def _install_create_task(self, loop_cls: type) -> None:
        orig = loop_cls.create_task
        tracer = self
        perf = time.perf_counter
        eager_possible = sys.version_info >= (3, 12)
        coro_t = types.CoroutineType

        def create_task(self: Any, coro: Any, *args: Any, **kwargs: Any) -> Any:
            if not tracer.enabled:
                return orig(self, coro, *args, **kwargs)
            start = perf()
            task = orig(self, coro, *args, **kwargs)
            rec = tracer.register(task, coro, sys._getframe(1))
            if (
                eager_possible
                and type(coro) is coro_t
                and (coro.cr_suspended or coro.cr_frame is None)
            ):
                # The eager first step ran inside create_task: record it, and take its
                # time out of the step of the task that created it.
                dur = perf() - start
                tracer.nested += dur
                if task.done():
                    tracer.channel.buf += protocol.pack_step(
                        rec.tid, start - tracer.t0, dur, 0, 0, 0
                    )
                    tracer.done(rec, task)
                else:
                    a, f, ln = tracer.describe(rec, task)
                    tracer.channel.buf += protocol.pack_step(
                        rec.tid, start - tracer.t0, dur, a, f, ln
                    )
            return task

        create_task.__wrapped__ = orig  # type: ignore[attr-defined]
        loop_cls.create_task = create_task

    def _install_exception_handler(self, loop_cls: type) -> None:
        orig = loop_cls.call_exception_handler
        tracer = self

        def call_exception_handler(self: Any, context: dict) -> Any:
            try:
                tracer.on_loop_complaint(context)
            except Exception:
                pass
            return orig(self, context)

        loop_cls.call_exception_handler = call_exception_handler

    def on_loop_complaint(self, context: dict) -> None:
        message = str(context.get("message", ""))
        fut = context.get("task") or context.get("future")
        rec = self.tasks.get(id(fut)) if fut is not None else None
        if rec is not None and rec.tref() is not fut:
            rec = None
        name = rec.name if rec is not None else getattr(fut, "get_name", lambda: "a task")()
        file = line = None
        if "exception was never retrieved" in message:
            f, ln = self.tb_where(context.get("exception"))
            exc = context.get("exception")
            self.warn(
                "exception_never_retrieved",
                f"{name} failed with {type(exc).__name__}: {exc}, and nothing ever awaited it "
                "or asked for its result, so the error went unnoticed until the task was "
                "garbage-collected.",
                rec,
                self._str(f),
                ln or None,
            )
            return
        if "destroyed but it is pending" in message:
            if rec is not None:
                _a, f, ln = self.describe(rec, fut)
                if not ln:
                    f, ln = rec.where
                file, line = self._str(f), ln or None
            self.warn(
                "destroyed_pending",
                f"{name} was garbage-collected while still waiting: nothing kept a reference "
                "to it, so it never finished (keep tasks you create, e.g. in a set or a "
                "TaskGroup).",
                rec,
                file,
                line,
            )
            return
        exc = context.get("exception")
        if exc is not None:
            f, ln = self.tb_where(exc)
            file, line = self._str(f), ln or None
        self.warn("loop_error", f"the event loop reported: {message}", rec, file, line)

    def _str(self, sid: int) -> str | None:
        if not sid:
            return None
        for text, i in self.strings._ids.items():
            if i == sid:
                return text
        return None

    def _install_running_loop(self, events_mod: Any, base_cls: type) -> None:
        orig = events_mod._set_running_loop
        tracer = self
        instrumented: weakref.WeakSet[Any] = weakref.WeakSet()

        def _set_running_loop(loop: Any) -> None:
            if loop is not None and tracer.enabled:
                if not isinstance(loop, base_cls):
                    key = type(loop).__module__ + "." + type(loop).__qualname__
                    if key not in tracer.warned:
                        tracer.warned.add(key)
                        tracer.warn(
                            "untraceable_loop",
                            f"this program runs its own event loop ({key}), which asyncplay "
                            "cannot trace: its tasks are not visible.",
                        )
                elif loop not in instrumented:
                    instrumented.add(loop)
                    tracer._wrap_selector(loop)
            return orig(loop)

        events_mod._set_running_loop = _set_running_loop
        # asyncio re-exports it; code that calls asyncio._set_running_loop must hit the hook.
        import asyncio

        if getattr(asyncio, "_set_running_loop", None) is orig:
            asyncio._set_running_loop = _set_running_loop

    def _wrap_selector(self, loop: Any) -> None:
        """Flush buffered events whenever the loop is about to block, so views stay live."""
        sel = getattr(loop, "_selector", None)
        if sel is None:
            return
        orig_select = sel.select
        tracer = self

        def select(timeout: float | None = None) -> Any:
            if timeout is None or timeout > 0:
                if tracer.enabled and (tracer.channel.buf or tracer.out):
                    tracer.flush()
            return orig_select(timeout)

        try:
            sel.select = select
        except AttributeError:
            pass

    def _install_cancel_all(self, runners_mod: Any, tasks_mod: Any) -> None:
        orig = runners_mod._cancel_all_tasks
        tracer = self

        def _cancel_all_tasks(loop: Any) -> Any:
            try:
                for task in tasks_mod.all_tasks(loop):
                    if task.done():
                        continue
                    rec = tracer.tasks.get(id(task))
                    if rec is None or rec.tref() is not task:
                        continue
                    _a, f, ln = tracer.describe(rec, task)
                    if not ln:
                        f, ln = rec.where
                    tracer.warn(
                        "cut_off",
                        f"{rec.name} was still running when main() returned, so asyncio.run "
                        "cancelled it: await it (or gather it) if it must finish.",
                        rec,
                        tracer._str(f),
                        ln or None,
                    )
            except Exception:
                pass
            return orig(loop)

        runners_mod._cancel_all_tasks = _cancel_all_tasks


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
        if len(value) <= 10 and all(type(x) in _PLAIN or type(x) in _TEXT for x in flat):
            return _short(repr(value), limit)
        return f"<{t.__name__} of {len(value)} items>"
    return (
        f"<{t.__module__}.{t.__qualname__} object>"
        if t.__module__ != "builtins"
        else f"<{t.__qualname__}>"
    )


def _nothing() -> None:
    pass


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
