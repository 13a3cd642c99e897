"""The ``asyncplay`` command: argument parsing and dispatch.

The ``run`` path imports neither Textual nor asyncio: start-up time is part of the
hello-world budget. Every usage problem is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys

import asyncplay

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


EXIT_USAGE = 2
EXIT_INTERNAL = 70


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive(kind: type, name: str, minimum: float = 0.0):  # noqa: ANN202
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} takes a number, not {text!r}") from None
        if value != value or value <= minimum:  # NaN or too small
            raise argparse.ArgumentTypeError(f"{name} must be more than {minimum:g}, not {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="asyncplay",
        description="A terminal playground for Python's asyncio: run a program and see "
        "every task it creates.",
    )
    p.add_argument("--version", action="version", version=f"asyncplay {asyncplay.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="run a program headless and summarise its tasks",
        description="Run FILE (or -m MODULE, or a bundled snippet NAME) like python would, "
        "with its output passed through unchanged, then summarise every task on stderr.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    run.add_argument("-m", dest="module", metavar="MODULE", help="run a module, like python -m")
    run.add_argument(
        "--timeout",
        type=_positive(float, "--timeout"),
        default=30.0,
        metavar="SECONDS",
        help="wall-clock limit (exit status 124 when reached)",
    )
    run.add_argument(
        "--memory",
        type=_positive(int, "--memory", 31),
        default=1024,
        metavar="MiB",
        help="address-space limit (exit status 122)",
    )
    run.add_argument(
        "--cpu",
        type=_positive(float, "--cpu"),
        default=30.0,
        metavar="SECONDS",
        help="CPU-time limit (exit status 123)",
    )
    run.add_argument(
        "--output-limit",
        type=_positive(float, "--output-limit"),
        default=8.0,
        metavar="MiB",
        help="stdout + stderr limit (exit status 121)",
    )
    run.add_argument(
        "--python",
        metavar="PATH",
        default=None,
        help="the CPython 3.10+ to run the program with (default: the one running asyncplay)",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="print the event protocol as JSON lines on stdout instead of the program's "
        "output (which travels inside 'output' events)",
    )
    run.add_argument("--quiet", action="store_true", help="no task summary at the end")
    run.add_argument(
        "--all-tasks", action="store_true", help="include asyncio's own tasks in the summary"
    )
    run.add_argument("target", nargs="?", metavar="FILE|NAME", help="the program to run")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="its arguments")

    sub.add_parser(
        "snippets",
        help="list the bundled snippets",
        description="List the bundled snippets: their names (for 'asyncplay run NAME') and titles.",
    )
    return p


def _resolve_target(target: str) -> str:
    """A file path always wins over a snippet name; ``./NAME`` forces a file."""
    if os.path.isfile(target):
        return target
    if os.path.isdir(target):
        raise UsageError(f"{target} is a directory, not a Python file")
    looks_like_path = os.sep in target or target.endswith(".py")
    try:
        from asyncplay import snippets
    except ImportError:  # pragma: no cover - the snippet library ships with the package
        snippets = None  # type: ignore[assignment]
    if snippets is not None and not looks_like_path:
        found = snippets.find_bundled(target)
        if found is not None:
            return str(found.path)
        close = snippets.close_matches(target)
        hint = (
            f"; close matches: {', '.join(close)}" if close else "; 'asyncplay snippets' lists them"
        )
        raise UsageError(f"no file or snippet named {target!r}{hint}")
    raise UsageError(f"no such file: {target}")


def _cmd_run(ns: argparse.Namespace) -> int:
    from asyncplay.runner import python as pyinfo
    from asyncplay.runner.spec import Limits, RunSpec

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
    limits = Limits(
        timeout=ns.timeout, memory_mib=ns.memory, cpu=ns.cpu, output_mib=ns.output_limit
    )
    spec = RunSpec(python=info.path, args=tuple(args), limits=limits, **target_kw)
    return _run_headless(spec, ns)


def _run_headless(spec, ns: argparse.Namespace) -> int:  # noqa: ANN001
    from asyncplay.model import RunModel, apply
    from asyncplay.runner.blocking import run_blocking

    model = RunModel()
    out = sys.stdout.buffer
    err = sys.stderr.buffer
    broken = set()

    def emit(stream, data: bytes) -> None:  # noqa: ANN001
        if stream in broken:
            return
        try:
            stream.write(data)
            stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            broken.add(stream)

    if ns.json:
        import json

        def on_event(ev: dict) -> None:
            apply(model, ev)
            emit(out, (json.dumps(ev, ensure_ascii=False) + "\n").encode("utf-8", "replace"))

        end = run_blocking(spec, on_event, None)
    else:

        def on_raw(name: str, data: bytes) -> None:
            emit(out if name == "stdout" else err, data)

        end = run_blocking(spec, lambda ev: apply(model, ev), on_raw)
        lines = []
        if not ns.quiet:
            from asyncplay import report

            width = _terminal_width()
            text = report.summary(model, all_tasks=ns.all_tasks, cwd=spec.cwd, width=width)
            if text:
                lines.append(text)
        if not ns.quiet or end.get("by") == "asyncplay":
            lines.append(f"asyncplay: {end.get('message', '')}")
        if lines:
            emit(err, ("\n".join(lines) + "\n").encode("utf-8", "replace"))
    return int(end.get("exit_code", EXIT_INTERNAL))


def _terminal_width() -> int:
    try:
        return int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(2).columns
    except (ValueError, OSError):
        return 0


def _cmd_snippets(ns: argparse.Namespace) -> int:
    from asyncplay import snippets

    for s in snippets.list_bundled():
        print(f"{s.name:<16} {s.title}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
        if ns.command == "run":
            return _cmd_run(ns)
        if ns.command == "snippets":
            return _cmd_snippets(ns)
        parser.print_help()
        return 0
    except UsageError as exc:
        print(f"asyncplay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an asyncplay bug: one line, a distinct status, no traceback
        print(f"asyncplay: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("ASYNCPLAY_DEBUG"):
            raise
        return EXIT_INTERNAL
