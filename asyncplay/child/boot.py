"""Entry point of the child process: run the program the way ``python FILE`` would.

Started as ``python -c BOOTSTRAP SPEC_PATH``; the bootstrap imports this module and removes
asyncplay's directory from ``sys.path`` again, so the program sees the interpreter's own
path with the program's directory first, exactly as under plain Python. The tracer is only
installed once the program imports asyncio, which keeps a hello-world's start-up cheap.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time

from asyncplay import protocol
from asyncplay.child import output
from asyncplay.child.recorder import Channel
from asyncplay.child.tracer import Tracer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_THIS = os.path.abspath(__file__)
HIGH_FD = 200


def _move_fd_high(fd: int) -> int:
    """Keep the channel away from the low fds a program may dup2 onto or reuse."""
    import fcntl

    try:
        new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, HIGH_FD)
    except OSError:
        return fd
    os.close(fd)
    return new


class _AsyncioHook:
    """A meta-path finder that installs the tracer right after asyncio is imported."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "asyncio":
            return None
        sys.meta_path.remove(self)
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        orig_exec = loader.exec_module  # type: ignore[attr-defined]
        tracer = self.tracer

        def exec_module(module: Any) -> None:
            orig_exec(module)
            _install_tracer(tracer, module)

        loader.exec_module = exec_module  # type: ignore[attr-defined]
        return spec


def _install_tracer(tracer: Tracer, asyncio_mod: Any) -> None:
    try:
        tracer.install(asyncio_mod)
    except Exception as exc:  # never break the program because tracing failed
        tracer.warn("tracer_failed", f"asyncplay could not trace asyncio here: {exc!r}")


def _install_warning_hook(tracer: Tracer) -> None:
    """Report 'coroutine ... was never awaited' while Python still prints it as usual."""
    import warnings

    orig = warnings._showwarnmsg  # type: ignore[attr-defined]

    def _showwarnmsg(msg: Any) -> None:
        try:
            text = str(msg.message)
            if msg.category is RuntimeWarning and "was never awaited" in text:
                tracer.warn(
                    "never_awaited",
                    f"{text}: calling an async function only creates a coroutine object; "
                    "nothing runs until you await it (or wrap it in asyncio.create_task).",
                    tracer.current,
                    msg.filename,
                    msg.lineno,
                )
        except Exception:
            pass
        orig(msg)

    warnings._showwarnmsg = _showwarnmsg  # type: ignore[attr-defined]


def _strip_own_frames(exc: BaseException) -> Any:
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == _THIS:
        tb = tb.tb_next
    return tb


def _report_uncaught(exc: BaseException, spec: dict, tracer: Tracer) -> None:
    tb = _strip_own_frames(exc)
    exc.__traceback__ = tb
    if isinstance(exc, MemoryError) and spec.get("memory_limit"):
        tracer.send_json({"event": "limit", "name": "memory"}, now=True)
    if spec["mode"] == "source" and sys.excepthook is sys.__excepthook__:
        # The default hook of 3.10-3.12 reads source lines from disk, not from linecache,
        # and an unsaved buffer is not on disk.
        import traceback

        traceback.print_exception(type(exc), exc, tb)
    else:
        sys.excepthook(type(exc), exc, tb)


def _prepare_main(path: str, spec: dict) -> dict:
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
        __builtins__=builtins,
    )
    if spec["mode"] == "file":
        from importlib.machinery import SourceFileLoader

        d["__loader__"] = SourceFileLoader("__main__", path)
    else:
        d["__loader__"] = None
    return d


def _run(spec: dict) -> None:
    mode = spec["mode"]
    args = list(spec.get("args", []))
    if mode == "module":
        import runpy

        sys.argv = ["-m", *args]
        sys.path[0] = os.getcwd()
        runpy._run_module_as_main(spec["module"], True)  # type: ignore[attr-defined]
        return
    path = os.path.abspath(spec["path"])
    sys.argv = [spec.get("argv0", spec["path"]), *args]
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    if mode == "source":
        source = spec["source"]
        import linecache

        lines = source.splitlines(True)
        linecache.cache[path] = (len(source), None, lines, path)
    else:
        with open(path, "rb") as f:
            source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    exec(code, _prepare_main(path, spec))


def main() -> None:
    t0 = time.perf_counter()
    spec_path = sys.argv[1]
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    fd = _move_fd_high(spec["channel_fd"])
    channel = Channel(fd)
    main_file = os.path.abspath(spec["path"]) if spec.get("path") else None
    tracer = Tracer(channel, t0, main_file)
    tracer.send_json(
        {
            "event": "hello",
            "t": 0.0,
            "version": protocol.PROTOCOL_VERSION,
            "python": ".".join(map(str, sys.version_info[:3])),
            "implementation": sys.implementation.name,
            "pid": os.getpid(),
        },
        now=True,
    )
    flusher = output.install(tracer)

    def at_exit() -> None:
        if flusher is not None:
            flusher.stop()
        tracer.at_exit()

    atexit.register(at_exit)
    _install_warning_hook(tracer)
    if "asyncio" in sys.modules:
        _install_tracer(tracer, sys.modules["asyncio"])
    else:
        sys.meta_path.insert(0, _AsyncioHook(tracer))
    try:
        _run(spec)
    except SystemExit:
        raise
    except KeyboardInterrupt as exc:
        _report_uncaught(exc, spec, tracer)
        _die_of_sigint(tracer)
    except BaseException as exc:
        _report_uncaught(exc, spec, tracer)
        sys.exit(1)


def _die_of_sigint(tracer: Tracer) -> None:
    """Exit the way CPython does after an uncaught KeyboardInterrupt: killed by SIGINT."""
    import signal

    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        sys.exit(130)
