"""Start-up of the child runtime, inside the program's own interpreter.

A program file or module runs natively (``python FILE ARGS``, ``python -m MODULE``): the
runtime is loaded by ``inject/sitecustomize.py`` while ``site`` runs, ``setup`` wires the
event channel, the output attribution and the hooks, and then erases the injection, so
Python itself runs the program with its own ``__main__``, ``sys.argv``, ``sys.path[0]``,
tracebacks and exit status. The tracer is only installed once the program imports asyncio,
which keeps a hello-world's start-up cheap.

Unsaved editor text (``source`` mode) cannot run natively from a file; ``run_source``
compiles it under the buffer's file name and runs it as ``__main__``.
"""

from __future__ import annotations

import _thread
import atexit
import marshal
import os
import sys
import time

from asyncplay import protocol
from asyncplay.child import ending, output, periodic, stdin
from asyncplay.child.channel import Channel, hello
from asyncplay.child.failures import report_failure
from asyncplay.child.tracer import Tracer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HIGH_FD = 200
GATE_WITHDRAWN = 125  # the session gave the start up before the program could begin
ENV_SPEC = "ASYNCPLAY_CHILD_SPEC"
ENV_PATH = "ASYNCPLAY_ORIG_PYTHONPATH"  # the user's PYTHONPATH; absent when it was unset
ENV_TUNABLES = "ASYNCPLAY_ORIG_GLIBC_TUNABLES"  # "=" + the user's GLIBC_TUNABLES, or ""

_state: dict[str, Any] = {}


def _move_fd_high(fd: int) -> int:
    """Keep the channel away from the low fds a program may dup2 onto or reuse."""
    import fcntl

    try:
        new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, HIGH_FD)
    except OSError:
        return fd
    os.close(fd)
    return new


def _erase_injection(inject_dir: str) -> None:
    """Leave the environment, ``sys.path`` and ``sitecustomize`` as plain Python has them."""
    tunables = os.environ.pop(ENV_TUNABLES, None)
    if tunables is not None:  # asyncplay capped malloc's arenas (sandbox/memory.py)
        if tunables.startswith("="):
            os.environ["GLIBC_TUNABLES"] = tunables[1:]
        else:
            os.environ.pop("GLIBC_TUNABLES", None)
    orig = os.environ.pop(ENV_PATH, None)
    os.environ.pop(ENV_SPEC, None)
    if orig is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = orig
    while inject_dir in sys.path:
        sys.path.remove(inject_dir)
    sys.path_importer_cache.pop(inject_dir, None)
    ours = sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # noqa: F401  (the interpreter's own, if it has one)
    except ImportError:
        if ours is not None:  # site expects the module it is importing to exist
            sys.modules["sitecustomize"] = ours
    except Exception as exc:  # what site itself would print for a broken sitecustomize
        print(f"Error in sitecustomize; set PYTHONVERBOSE for traceback:\n{exc!r}", file=sys.stderr)


class _AsyncioHook:
    """A meta-path finder that installs the tracer right after asyncio is imported, and
    the warnings' hook right after ``warnings`` is (``watch``: module name -> what to do
    with the module once executed; the finder leaves ``sys.meta_path`` with the last)."""

    def __init__(self, watch: dict[str, Any], tracer: Tracer) -> None:
        self.watch = watch
        self.tracer = tracer

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        # Stays on sys.meta_path until the module is really executed: a probe such as
        # importlib.util.find_spec("asyncio") must not use up the hook.
        then = self.watch.get(name)
        if then is None:
            return None
        # importlib.machinery's own PathFinder, without importing importlib.machinery: on
        # 3.14+ its module __getattr__ imports warnings, one of the names watched here.
        import _frozen_importlib_external

        spec = _frozen_importlib_external.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        orig_exec = loader.exec_module  # type: ignore[attr-defined]

        hook = self

        def exec_module(module: Any) -> None:
            if hook.watch.pop(name, None) is not None and not hook.watch:
                if hook in sys.meta_path:
                    sys.meta_path.remove(hook)
            orig_exec(module)
            try:
                then(module)
            except Exception as exc:  # the program's import must never fail on the runtime's hook
                report_failure(hook.tracer, f"{name} import hook", exc)

        loader.exec_module = exec_module  # type: ignore[attr-defined]
        return spec


def _install_tracer(tracer: Tracer, asyncio_mod: Any) -> None:
    try:
        tracer.install(asyncio_mod)
    except Exception as exc:  # never break the program because tracing failed
        tracer.warn("tracer_failed", f"asyncplay could not trace asyncio here: {exc!r}")
        return
    stepper = _state.get("stepper")
    if stepper is not None:
        stepper.traced()  # a stepped run: the hook with the pause in it, when armed


def _install_warning_hook(tracer: Tracer, warnings: Any) -> None:
    """Report 'coroutine ... was never awaited' while Python still prints it as usual.

    ``warnings`` is the module, hooked once it is imported (by the program, asyncio, or
    the interpreter itself: a coroutine never awaited imports it to warn through it), not
    imported by the runtime: python's own start on 3.10 and 3.12+ does not load it, and a
    hello world's runtime paid 1.4 M instructions for it (docs/performance.md, round 8)."""
    # A file of the program's own named warnings.py shadows python's, as under python: it
    # has nothing to hook (and the interpreter's C warnings then do without it too).
    orig = vars(warnings).get("_showwarnmsg")
    if not callable(orig):
        return

    def _showwarnmsg(msg: Any) -> None:
        try:
            if msg.category is RuntimeWarning:
                text = str(msg.message)
                if "was never awaited" in text:
                    tracer.warn(
                        "never_awaited",
                        f"{text}: calling an async function only creates a coroutine "
                        "object; nothing runs until you await it (or wrap it in "
                        "asyncio.create_task).",
                        tracer.current,
                        msg.filename,
                        msg.lineno,
                    )
        except Exception as exc:  # the runtime must never break the program's warnings
            report_failure(tracer, "warning hook", exc)
        orig(msg)

    warnings._showwarnmsg = _showwarnmsg  # type: ignore[attr-defined]


def _read_spec(path: str) -> dict:
    """The session's spec: ``SPEC_MAGIC`` and marshal of plain values (no ``json`` import
    at start-up: with the ``re`` it brings, a third of the runtime's start-up), or JSON as
    hand-made specs write it. ValueError if it is neither."""
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(protocol.SPEC_MAGIC):
        try:
            spec = marshal.loads(data[len(protocol.SPEC_MAGIC) :])
        except (EOFError, TypeError) as exc:
            raise ValueError(f"a spec that is not marshal ({exc})") from None
    else:
        import json

        spec = json.loads(data)
    if type(spec) is not dict:
        raise ValueError("the spec is not a mapping")
    return spec


def setup(inject_dir: str) -> None:
    """Called from ``sitecustomize``: everything the runtime needs before the program."""
    t0 = time.perf_counter()
    spec_path = os.environ.get(ENV_SPEC, "")
    _erase_injection(inject_dir)
    try:
        spec = _read_spec(spec_path)
        fd = _move_fd_high(int(spec["channel_fd"]))
        channel = Channel(fd)
    except (OSError, ValueError, KeyError):
        return  # not ours to trace (a subprocess that inherited the environment)
    _state["spec"] = spec
    control = spec.get("control_fd")  # stepping's commands (docs/protocol.md)
    if type(control) is int and control >= 0:
        _state["control_fd"] = _move_fd_high(control)
    clock = spec.get("clock") if spec.get("clock") in ("real", "virtual") else "real"
    speed = _positive(spec.get("speed"), 1.0)
    tracer = Tracer(channel, t0, _positive(spec.get("slow_step"), 0.1), clock, speed)
    if spec.get("step_records") in ("figures", "both"):  # (step_figures.MODES)
        tracer.step_records = spec["step_records"]
    _state["tracer"] = tracer
    tracer.send_json(
        hello(clock, speed, tracer.slow_step),
        now=True,
    )
    try:
        _wire(tracer)
    except Exception as exc:  # the program must run, traced or not; the parent is told
        report_failure(tracer, "start-up", exc)
    gate = spec.get("gate_fd")
    if type(gate) is int and gate >= 0:
        _wait_at_gate(gate)
        # The run's time starts when the program may, as the session's does: else every
        # time the child sends ran ahead of the session's by its start-up and the wait
        # here (30-40 ms: a killed run's "figures as of" came out later than its end).
        tracer.start_clock(time.perf_counter())


def _wait_at_gate(fd: int) -> None:
    """The program starts when the session says so (docs/protocol.md): once the sandbox
    is complete (under ``--network on``, its network up), which it finishes while this
    interpreter started. No byte (the session gave this start up, or died): the program
    never runs."""
    try:
        go = os.read(fd, 1)
    except OSError:
        go = b""
    try:
        os.close(fd)
    except OSError:
        pass  # (the program's fd table is its own business from here)
    if go != b"1":
        os._exit(GATE_WITHDRAWN)


def _wire(tracer: Tracer) -> None:
    """Output attribution, stdin, the exit report, and the tracer (now or with asyncio)."""
    attribute = _state["spec"].get("output_records") is not False
    flusher = tracer.helper = output.install(tracer, attribute)
    periodic.hide_from_thread_count()
    stdin.install(tracer)
    main_thread = _thread.get_ident()

    def at_exit() -> None:
        # The last of the atexit callbacks (registered first): only the runtime runs now.
        # A stop's SIGINT landing here would leave a traceback of the runtime's and cut
        # the run's last records; the program has ended, so it is not delivered.
        if _thread.get_ident() == main_thread:
            import _signal  # (the C module: signal's enums cost start-up time)

            _signal.pthread_sigmask(_signal.SIG_BLOCK, (_signal.SIGINT,))
        if flusher is not None:
            flusher.stop()
        if tracer.watchdog is not None:
            tracer.watchdog.stop()
        if tracer.enabled:
            ending.report(tracer)
        tracer.at_exit()

    atexit.register(at_exit)
    control = _state.get("control_fd")
    if control is not None:  # stepping's commands, read from now on (child/stepping.py)
        from asyncplay.child import stepping

        _state["stepper"] = stepping.start(tracer, control, _state["spec"])
    watch: dict[str, Any] = {}
    for name, then in (
        ("warnings", lambda module: _install_warning_hook(tracer, module)),
        ("asyncio", lambda module: _install_tracer(tracer, module)),
    ):
        if name in sys.modules:
            then(sys.modules[name])
        else:
            watch[name] = then
    if watch:
        sys.meta_path.insert(0, _AsyncioHook(watch, tracer))


def _positive(value: Any, default: float) -> float:
    if type(value) in (int, float) and 0 < value < float("inf"):
        return float(value)
    return default


# ---- source mode: unsaved editor text --------------------------------------------------


def _own_code(code: Any) -> bool:
    return code.co_filename == __file__ or code.co_filename == "<string>"


def _strip_own_frames(exc: BaseException) -> Any:
    tb = exc.__traceback__
    while tb is not None and _own_code(tb.tb_frame.f_code):
        tb = tb.tb_next
    return tb


def run_source() -> None:
    """Run the buffer text from the spec as ``__main__`` under the buffer's file name."""
    spec = _state.get("spec") or {}
    path = spec["path"]
    pseudo = path.startswith("<") and path.endswith(">")  # "<stdin>": python - names it so
    if not pseudo:
        path = os.path.abspath(path)
    source = spec["source"]
    sys.argv = [spec.get("argv0") or spec["path"], *spec.get("args", [])]
    # python - puts "" (the current directory) first on the path
    sys.path[0] = "" if pseudo else os.path.dirname(os.path.realpath(path))
    import linecache

    if not pseudo:  # python shows no source lines for <stdin> in a traceback
        linecache.cache[path] = (len(source), None, source.splitlines(True), path)
    main = sys.modules["__main__"]
    d = main.__dict__
    builtins = d.get("__builtins__")
    d.clear()
    d.update(
        __name__="__main__",
        __doc__=None,
        __package__=None,
        __spec__=None,
        __file__=path,
        __cached__=None,
        __loader__=None,
        __builtins__=builtins,
    )
    try:
        exec(compile(source, path, "exec", dont_inherit=True), d)
    except SystemExit:
        raise
    except BaseException as exc:
        exc.__traceback__ = _strip_own_frames(exc)
        # What the interpreter keeps of an uncaught exception (child/ending.py reads it).
        sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, exc.__traceback__
        if sys.excepthook is sys.__excepthook__:
            # The default hook of 3.10-3.12 reads source lines from disk, not from
            # linecache, and an unsaved buffer is not on disk.
            import traceback

            traceback.print_exception(type(exc), exc, exc.__traceback__)
        else:
            sys.excepthook(type(exc), exc, exc.__traceback__)
        if isinstance(exc, KeyboardInterrupt):
            _die_of_sigint()
        sys.exit(1)


def _die_of_sigint() -> None:
    """Exit the way CPython does after an uncaught KeyboardInterrupt: killed by SIGINT."""
    import signal

    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
