"""``asyncplay run``: one program, headless, its output passed through unchanged and its
tasks summarised on stderr at the end.

The lab policy is applied to the options first (a request above a ceiling is a usage
error), then the target is resolved (a file wins over a snippet name), the sandbox is
checked, and the run is driven by the runner's synchronous driver; the live warnings
(``live_warnings``) and the end (``printed``) go to stderr.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

from asyncplay.cli.args import UsageError, given_options
from asyncplay.exits import INTERNAL as EXIT_INTERNAL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from asyncplay.cli.live_warnings import LineTracker, LiveWarnings
    from asyncplay.model import RunModel
    from asyncplay.runner.spec import RunSpec

__all__ = ["STEP_OPTIONS", "run", "step_records"]


def _apply_policy(ns: SimpleNamespace, given: set[str]) -> None:
    """The lab policy (docs/sandbox.md): an option the user gave must be within its
    ceilings; one they did not give takes the policy's default."""
    from asyncplay import policy

    try:
        pol = policy.load()
        for key in (*policy.LIMITS, *policy.CHOICES):
            dest = key.replace("-", "_")
            if not hasattr(ns, dest):  # (an option this command line does not have)
                continue
            if dest in given:
                pol.check(key, getattr(ns, dest), f"--{key}")
            else:
                setattr(ns, dest, pol.default(key, getattr(ns, dest)))
    except policy.PolicyDenied as exc:
        raise UsageError(str(exc), exc.status) from None
    except policy.PolicyError as exc:
        raise UsageError(f"{exc} (nothing runs until it is fixed)", exc.status) from None


def _resolve_target(target: str) -> str:
    """A file path always wins over a snippet name; ``./NAME`` forces a file."""
    if os.path.isdir(target):  # python runs a directory's __main__.py: so does run
        if os.path.isfile(os.path.join(target, "__main__.py")):
            return target
        raise UsageError(f"{target} is a directory with no __main__.py, not a Python file")
    if os.path.exists(target):  # a file, or anything python can read (/dev/stdin, a fifo)
        return target
    if not (os.sep in target or target.endswith(".py")):
        from asyncplay import snippets

        found = snippets.find_bundled(target)
        if found is not None:
            return str(found.path)
        close = snippets.close_matches(target)
        hint = (
            f"; close matches: {', '.join(close)}" if close else "; 'asyncplay snippets' lists them"
        )
        raise UsageError(f"no file or snippet named {target!r}{hint}")
    raise UsageError(f"no such file: {target}")


def _read_stdin() -> str:
    """The program of ``asyncplay run -``, read whole before it starts (as python does)."""
    try:
        data = sys.stdin.buffer.read()
    except (OSError, ValueError, AttributeError) as exc:
        raise UsageError(f"cannot read the program from stdin: {exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("the program read from stdin is not UTF-8 text") from None


def run(ns: SimpleNamespace) -> int:
    """Run the program ``ns`` names; its exit status (or asyncplay's: exits.py)."""
    _apply_policy(ns, given_options(ns))
    from asyncplay import sandbox

    # As root, the project folder's user namespace is made while the rest of asyncplay is
    # imported and the run prepared (some 10-30 ms of a hello world's wall time).
    sandbox.prestart(os.getcwd())
    try:
        return _run(ns)
    except sandbox.SandboxError as exc:  # (--sandbox bwrap, whose bwrap failed to start)
        raise UsageError(str(exc)) from None
    finally:
        sandbox.forget_prestarted()


def _run(ns: SimpleNamespace) -> int:
    from asyncplay.limits import Limits
    from asyncplay.runner import interpreter as pyinfo
    from asyncplay.runner.spec import RunSpec

    args = list(ns.args)
    if ns.module is not None:
        if ns.target is not None:
            args.insert(0, ns.target)
        if not ns.module or ns.module.startswith("-"):
            raise UsageError(f"-m needs a module name, not {ns.module!r}")
        target_kw: dict = {"module": ns.module}
    else:
        if ns.target is None:
            raise UsageError("run needs a FILE, a snippet NAME or -m MODULE")
        if ns.target == "-":  # like python -: the program is read from stdin first
            target_kw = {"source": _read_stdin(), "path": "<stdin>", "argv0": "-"}
        else:
            path = _resolve_target(ns.target)
            target_kw = {"path": path, "argv0": ns.target if path == ns.target else path}
    try:
        info = pyinfo.resolve(ns.python) if ns.python else pyinfo.current()
    except pyinfo.PythonError as exc:
        raise UsageError(str(exc)) from None
    if info.untested:
        print(
            f"asyncplay: Python {info.label} is untested; tracing may miss tasks",
            file=sys.stderr,
        )
    from asyncplay import sandbox

    try:
        sandbox.check(ns.sandbox, getattr(ns, "write", ()))
    except sandbox.SandboxError as exc:
        raise UsageError(str(exc)) from None
    limits = Limits(
        timeout=ns.timeout,
        memory_mib=ns.memory,
        cpu=ns.cpu,
        output_mib=ns.output_limit,
        procs=ns.procs,
    )
    spec = RunSpec(
        python=info.path,
        args=tuple(args),
        limits=limits,
        slow_step=ns.slow_step / 1000,
        clock=ns.clock,
        speed=ns.speed,
        sandbox=ns.sandbox,
        network=ns.network,
        write=tuple(os.path.abspath(d) for d in getattr(ns, "write", ())),
        step_records=step_records(ns),
        # The tasks' output (``output`` events) is read by --json and --record only:
        # otherwise the program's bytes are passed through and nothing attributes them.
        output_records=bool(getattr(ns, "json", False) or getattr(ns, "record", None)),
        **target_kw,
    )
    return _run_headless(spec, ns)


#: The options whose output needs every step (docs/protocol.md, the spec's ``step_records``):
#: ``--json`` prints the ``steps`` events, ``--record`` keeps them for a replay's every view,
#: ``--timeline`` and ``--trace`` draw each task's steps, and ``--graph`` asks whether a
#: task stepped after a deadlock warning (``graph.stuck``).
STEP_OPTIONS = ("json", "record", "timeline", "trace", "graph")


def step_records(ns: SimpleNamespace) -> str:
    """ "figures" when nothing the run prints needs its steps one by one: the summary, the
    warnings and the exit line are made of each task's figures, which the child then adds
    up itself and sends in batches (``child/step_figures.py``); "steps" otherwise."""
    return "steps" if any(getattr(ns, name, None) for name in STEP_OPTIONS) else "figures"


def _run_headless(spec: RunSpec, ns: SimpleNamespace) -> int:
    from asyncplay.runner.sync_driver import run_blocking

    out = sys.stdout.buffer
    err = sys.stderr.buffer
    broken = set()
    trace_file, recorder = _open_outputs(spec, ns)
    # The model and what prints load once the program is spawned (``spawned``), while its
    # interpreter starts: off the start-up's path, before the first event.
    model: RunModel
    live: LiveWarnings
    cursor: LineTracker

    def spawned() -> None:
        nonlocal model, live, cursor, apply, printed
        from asyncplay.cli import printed
        from asyncplay.cli.live_warnings import LineTracker, LiveWarnings
        from asyncplay.model import RunModel, apply

        # Deferred: the events' work on the tasks is done when something reads them (the
        # summary, a view, a deadlock's graph), never under ``--quiet`` (model.RunModel).
        model = RunModel(deferred=True)
        live = LiveWarnings(model, ns, spec.cwd)
        cursor = LineTracker()

    apply = printed = None  # (set by spawned)

    def emit(stream, data: bytes) -> None:  # noqa: ANN001
        if stream in broken:
            return
        try:
            stream.write(data)
            stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            broken.add(stream)

    def fold(ev: dict) -> None:
        if recorder is not None:
            recorder.write(ev)
        apply(model, ev)
        kind = ev.get("event")
        if kind == "run_start":  # the sandbox's notices come first
            emit(err, printed.first_lines(ev, ns))
        elif kind == "warning":
            told = live.text(ev)
            if told:  # never inside a line the program is printing: on a line of its own
                emit(err, cursor.newline() + told.encode("utf-8", "replace"))

    if ns.json:

        def on_event(ev: dict) -> None:
            fold(ev)
            if ev.get("event") == "run_end":  # the final per-task figures, just before it
                emit(out, printed.summary_line(model, ns))
            emit(out, printed.json_line(ev))

        end = run_blocking(spec, on_event, None, exiting=True, spawned=spawned)
    else:

        def on_raw(name: str, data: bytes) -> None:
            cursor.feed(name, data)
            emit(out if name == "stdout" else err, data)

        # Nothing but the model reads the task records here (no --json; a recording keeps
        # each event): they come in batches, no event each (decoder.Decoder).
        batched = recorder is None
        end = run_blocking(spec, fold, on_raw, exiting=True, spawned=spawned, batched=batched)
    problems = []
    if recorder is not None:
        recorder.close()
        problems += [recorder.cut, recorder.error]
    if trace_file is not None:
        problems.append(printed.write_trace(model, trace_file, ns))
    text = printed.end_text(model, ns, spec.cwd, end)
    lines = [text] if text else []
    lines += [f"asyncplay: {p}" for p in problems if p]
    if lines:
        emit(err, cursor.newline() + ("\n".join(lines) + "\n").encode("utf-8", "replace"))
    return int(end.get("exit_code", EXIT_INTERNAL))


def _open_outputs(spec: RunSpec, ns: SimpleNamespace):  # noqa: ANN202
    """--trace and --record files, opened before the program starts (a bad path is a
    usage error now, not a lost result later)."""
    trace_file = recorder = None
    try:
        if ns.trace:
            from asyncplay.cli import printed

            trace_file = printed.open_output(ns.trace, "trace")
        if ns.record:
            from asyncplay.views.recording import Recorder, program_source

            header = {
                "target": spec.module or spec.path,
                "mode": spec.mode,
                "args": list(spec.args),
                "python": spec.python,
                "cwd": spec.cwd,
            }
            limit = int(ns.record_limit * (1 << 20))
            header.update(program_source(spec.path, spec.module, spec.source, spec.cwd, limit))
            try:
                recorder = Recorder(ns.record, header, limit_mib=ns.record_limit)
            except OSError as exc:
                raise OSError(
                    f"cannot write the recording to {ns.record}: {exc.strerror or exc}"
                ) from None
    except OSError as exc:
        if trace_file is not None:
            trace_file.close()
        raise UsageError(str(exc)) from None
    return trace_file, recorder
