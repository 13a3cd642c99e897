"""The command line's words: the options of ``run`` and ``replay`` (one table each, read
by both parsers and by ``replay``), the two parsers, and the usage error.

A well-formed ``run`` command line is parsed without argparse (``fast_parse``): start-up
time is part of the hello-world budget, so this module imports neither argparse nor
anything of the runner at the top. Every usage problem is a :class:`UsageError`: one line
on stderr and exit status 2.
"""

from __future__ import annotations

from types import SimpleNamespace

import asyncplay
from asyncplay.exits import USAGE as EXIT_USAGE
from asyncplay.limits import CLOCKS, NETWORK_MODES, SANDBOX_MODES, SORT_KEYS

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import NoReturn

__all__ = [
    "CHECK_OPTIONS",
    "REPLAY_FLAGS",
    "REPLAY_OPTIONS",
    "RUN_FLAGS",
    "RUN_OPTIONS",
    "SORT_CHOICES",
    "WRITE_FLAG",
    "UsageError",
    "build_parser",
    "fast_parse",
    "given_options",
    "parse_args",
    "split_module",
]


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2 (or ``status``: a
    request the lab policy refuses, a policy file that cannot be used)."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def _number(x: float) -> str:
    """A bound as a person writes it: 1048576, not 1.04858e+06."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class _Value:
    """A checked option value: the one definition both parsers use. A value must be a
    finite number in (``minimum``, ``maximum``] (from ``least`` when given): ``inf`` or
    ``1e400`` would reach the limits' arithmetic and overflow there."""

    def __init__(
        self, kind: type, name: str, minimum: float, maximum: float, least: float | None = None
    ) -> None:
        self.kind, self.name, self.minimum, self.maximum = kind, name, minimum, maximum
        self.least = least
        if least is None and kind is int:
            least = int(minimum // 1) + 1  # a whole number above minimum: "from 32"
        self.range = (
            f"from {_number(least)} to {_number(maximum)}"
            if least is not None
            else f"more than {_number(minimum)} and at most {_number(maximum)}"
        )

    def __call__(self, text: str) -> object:
        try:
            value = self.kind(text)
        except ValueError:
            what = "a whole number" if self.kind is int else "a number"
            raise ValueError(f"{self.name} takes {what}, not {text!r}") from None
        if (
            not (self.minimum < value <= self.maximum)  # NaN fails every comparison
            or (self.least is not None and value < self.least)
            or value - value != 0  # infinite
        ):
            raise ValueError(f"{self.name} must be {self.range}, not {text!r}")
        return value


class _Choice:
    """One of a few words (``--sort running``)."""

    def __init__(self, name: str, choices: tuple[str, ...]) -> None:
        self.name, self.choices = name, choices

    def __call__(self, text: str) -> str:
        if text not in self.choices:
            raise ValueError(f"{self.name} takes one of {', '.join(self.choices)}, not {text!r}")
        return text


WEEK = 7 * 24 * 3600.0  # seconds: the upper bound of the time limits
SORT_CHOICES = SORT_KEYS  # defined once, by the summary that sorts

# The options of ``run``: flag -> (destination, converter, default, metavar, help).
RUN_OPTIONS: dict[str, tuple[str, _Value | _Choice | None, object, str, str]] = {
    "-m": ("module", None, None, "MODULE", "run a module, like python -m"),
    "--timeout": (
        "timeout",
        _Value(float, "--timeout", 0, WEEK),
        30.0,
        "SECONDS",
        "wall-clock limit; exit status 124 when reached",
    ),
    "--memory": (
        "memory",
        _Value(int, "--memory", 31, 1 << 20),
        1024,
        "MiB",
        "memory limit (a memory cgroup where available, else address space); exit status 122",
    ),
    "--cpu": (
        "cpu",
        _Value(float, "--cpu", 0, WEEK),
        30.0,
        "SECONDS",
        "CPU-time limit; exit status 123",
    ),
    "--output-limit": (
        "output_limit",
        _Value(float, "--output-limit", 0, 1 << 20),
        8.0,
        "MiB",
        "stdout + stderr limit (a written file may be 8 times as big); exit status 121",
    ),
    "--procs": (
        "procs",
        _Value(int, "--procs", 0, 1 << 20),
        64,
        "N",
        "processes and threads of the run alive at once; exit status 120",
    ),
    "--sandbox": (
        "sandbox",
        _Choice("--sandbox", SANDBOX_MODES),
        "auto",
        "MODE",
        "auto (the strongest that works here), bwrap (read-only files, own network, own "
        "PIDs), rlimit (no bwrap), none (limits only, environment passed through); "
        "'asyncplay doctor' says what works",
    ),
    "--network": (
        "network",
        _Choice("--network", NETWORK_MODES),
        "on",
        "on|host|off",
        "on: outbound connections and DNS, the host's own services out of reach; host: "
        "the machine's network as python sees it; off: loopback only",
    ),
    "--slow-step": (
        "slow_step",
        _Value(float, "--slow-step", 0, WEEK * 1000),
        100.0,
        "MS",
        "warn about any task step that holds the event loop longer than this",
    ),
    "--clock": (
        "clock",
        _Choice("--clock", CLOCKS),
        "real",
        "real|virtual",
        "virtual: when every task waits on a timer, jump to the next one instead of "
        "sleeping (time.time() in the program is not affected)",
    ),
    "--speed": (
        "speed",
        _Value(float, "--speed", 0, 1000, least=0.001),
        1.0,
        "X",
        "run the waits that are not skipped X times as fast (0.25: four times slower)",
    ),
    "--python": (
        "python",
        None,
        None,
        "PATH",
        "the CPython 3.10+ to run the program with (default: the one running asyncplay)",
    ),
    "--sort": (
        "sort",
        _Choice("--sort", SORT_CHOICES),
        None,
        "KEY",
        "order of the task summary: created (default), or the most running, waiting or steps first",
    ),
    "--filter": (
        "filter",
        None,
        None,
        "TEXT",
        "only tasks whose name or coroutine contains TEXT (any case) in the summary",
    ),
    "--trace": (
        "trace",
        None,
        None,
        "OUT.json",
        "write the run as a Chrome trace (Perfetto, chrome://tracing) to OUT.json",
    ),
    "--record": (
        "record",
        None,
        None,
        "OUT.jsonl",
        "save every event of the run to OUT.jsonl, for 'asyncplay replay'",
    ),
    "--record-limit": (
        "record_limit",
        _Value(float, "--record-limit", 0, 1 << 20),
        256.0,
        "MiB",
        "size cap of the --record file: past it the recording stops (replay says so), "
        "the run goes on",
    ),
}
# ``run``'s one repeatable option: a folder the program may write, besides its own.
WRITE_FLAG = "--write"
WRITE_HELP = (
    "let the program write DIR too (repeatable); its working directory and its own folder "
    "are writable already, the rest of the machine is read-only (docs/sandbox.md)"
)

# The options of ``run`` that ``check`` takes too.
CHECK_OPTIONS = ("--clock", "--python", "--timeout", "--slow-step", "--sandbox", "--network")
# The options of ``run`` that ``replay`` takes too: they only shape the views.
REPLAY_OPTIONS = ("--sort", "--filter", "--trace")
REPLAY_FLAGS = ("--json", "--quiet", "--all-tasks", "--timeline", "--queue-sizes", "--graph")
RUN_FLAGS: dict[str, tuple[str, str]] = {
    "--json": (
        "json",
        "print the event protocol as JSON lines on stdout instead of the program's output "
        "(which travels inside 'output' events)",
    ),
    "--quiet": ("quiet", "no task summary at the end"),
    "--all-tasks": ("all_tasks", "include asyncio's own tasks in the summary"),
    "--timeline": (
        "timeline",
        "draw a timeline of the tasks on stderr at the end (one lane per task, even with --quiet)",
    ),
    "--queue-sizes": (
        "queue_sizes",
        "with --timeline, a lane per asyncio queue the program made: its size over time",
    ),
    "--graph": (
        "graph",
        "draw who awaits whom as a tree on stderr at the end (and at a deadlock warning)",
    ),
}


def fast_parse(argv: list[str]) -> SimpleNamespace | None:
    """``run`` with well-formed options, without importing argparse (about 8 ms of a
    hello world's start-up). Anything else — help, errors, other commands, abbreviated
    flags — returns None and goes to argparse, which says it properly."""
    if not argv or argv[0] != "run":
        return None
    ns = SimpleNamespace(command="run", target=None, args=[])
    for dest, _conv, _default, _meta, _help in RUN_OPTIONS.values():
        setattr(ns, dest, None)  # filled by given_options (the lab policy's defaults)
    for dest, _help in RUN_FLAGS.values():
        setattr(ns, dest, False)
    ns.write = []
    i = 1
    while i < len(argv):
        token = argv[i]
        if token in RUN_FLAGS:
            setattr(ns, RUN_FLAGS[token][0], True)
            i += 1
            continue
        module = _module_at(argv, i)
        if module is not None:  # as with python -m: what follows belongs to the module
            ns.module, ns.args = module
            break
        name, eq, inline = token.partition("=")
        if name == WRITE_FLAG:
            if not eq and (i + 1 >= len(argv) or argv[i + 1].startswith("-")):
                return None
            ns.write.append(inline if eq else argv[i + 1])
            i += 1 if eq else 2
            continue
        if name in RUN_OPTIONS:
            if not eq and i + 1 >= len(argv):
                return None
            dest, conv, _default, _meta, _help = RUN_OPTIONS[name]
            text = inline if eq else argv[i + 1]
            if not eq and text.startswith("-") and not _is_number(text):
                return None
            try:
                setattr(ns, dest, conv(text) if conv is not None else text)
            except ValueError:
                return None
            i += 1 if eq else 2
            continue
        if token.startswith("-") and token != "-":  # a lone - is the program on stdin
            return None
        ns.target = token
        ns.args = argv[i + 1 :]
        break
    return ns


def _module_at(argv: list[str], i: int) -> tuple[str, list[str]] | None:
    """``-m MODULE ARGS...`` (or ``-mMODULE``) at ``argv[i]``: (MODULE, ARGS), else None.
    Everything after the module is its own, options included (``-m pytest -x``)."""
    token = argv[i]
    if token == "-m":
        if i + 1 >= len(argv):
            return None  # argparse says what is missing
        return argv[i + 1], argv[i + 2 :]
    if token.startswith("-m") and not token.startswith("--"):
        return token[2:], argv[i + 1 :]
    return None


def split_module(argv: list[str]) -> tuple[list[str], list[str]]:
    """``run`` options up to and including ``-m MODULE``, and the module's own arguments,
    for argparse (which would otherwise take ``-x`` after the module for its own)."""
    i = 1
    while i < len(argv):
        token = argv[i]
        if token == "--" or not token.startswith("-") or token == "-":
            break  # the program (a FILE, a NAME, -) and its arguments
        if _module_at(argv, i) is not None:
            end = i + 2 if token == "-m" else i + 1
            return argv[:end], argv[end:]
        name, eq, _inline = token.partition("=")
        i += 2 if name in RUN_OPTIONS and not eq else 1
    return argv, []


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def build_parser() -> argparse.ArgumentParser:
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise UsageError(f"{message} (see '{self.prog} --help')")

    def checked(conv: _Value | _Choice):  # noqa: ANN202
        def parse(text: str) -> object:
            try:
                return conv(text)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None

        return parse

    p = Parser(
        prog="asyncplay",
        usage="asyncplay [FILE|NAME] | asyncplay COMMAND ...",
        description="A terminal playground for Python's asyncio: run a program and see "
        "every task it creates. Without a command it opens the editor: on the last buffer, "
        "on FILE (created when saved), or on a copy of the bundled snippet NAME.",
    )
    p.add_argument("--version", action="version", version=f"asyncplay {asyncplay.__version__}")
    # prog: else each command's prog is built from the custom usage above, and its errors
    # would point at "asyncplay [FILE|NAME] | asyncplay COMMAND ... run --help".
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, prog="asyncplay")

    run = sub.add_parser(
        "run",
        help="run a program headless and summarise its tasks",
        description="Run FILE (or -m MODULE, or a bundled snippet NAME) like python would, "
        "with its output passed through unchanged, then summarise every task on stderr.",
    )
    for flag, (dest, conv, default, metavar, help_) in RUN_OPTIONS.items():
        kwargs: dict = {"dest": dest, "metavar": metavar, "help": help_}
        if conv is not None:
            kwargs["type"] = checked(conv)
        if default is not None:  # (not argparse's default: given_options fills it in)
            shown = f"{default:g}" if isinstance(default, float | int) else default
            kwargs["help"] = f"{help_} (default: {shown})"
        run.add_argument(flag, **kwargs)
    for flag, (dest, help_) in RUN_FLAGS.items():
        run.add_argument(flag, dest=dest, action="store_true", help=help_)
    run.add_argument(
        WRITE_FLAG, dest="write", action="append", default=[], metavar="DIR", help=WRITE_HELP
    )
    run.add_argument("target", nargs="?", metavar="FILE|NAME", help="the program to run")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="its arguments")

    replay = sub.add_parser(
        "replay",
        help="show a recorded run again (from 'run --record'), without running anything",
        description="Read FILE (made by 'asyncplay run --record FILE') and show it again. At "
        "a terminal it opens in the editor (read-only program source, output, tasks, timeline "
        "(F4) and await graph, played back from the first task step: F5 plays, F10 steps, shift+F10 "
        "steps back, Esc shows it whole; nothing runs); with --print, any option below, or a "
        "pipe, it prints what "
        "the run showed: its output, the task summary, and the views asked for.",
    )
    replay.add_argument(
        "--print",
        dest="print_only",
        action="store_true",
        help="print the recording (output, task summary) instead of opening the editor",
    )
    for flag in REPLAY_OPTIONS:
        dest, conv, _default, metavar, help_ = RUN_OPTIONS[flag]
        kwargs = {"dest": dest, "metavar": metavar, "help": help_}
        if conv is not None:
            kwargs["type"] = checked(conv)
        replay.add_argument(flag, **kwargs)
    for flag in REPLAY_FLAGS:
        dest, help_ = RUN_FLAGS[flag]
        replay.add_argument(flag, dest=dest, action="store_true", help=help_)
    replay.add_argument("file", metavar="FILE", help="a recording")

    att = sub.add_parser(
        "attach",
        help="watch an asyncio program that is already running (Python 3.14+), then detach",
        description="Attach to process PID, an asyncio program of yours started without "
        "asyncplay (Python 3.14 or later: sys.remote_exec), and show its tasks from now on: "
        "those that already exist (with where each waits), new ones, their steps, warnings. "
        "--timeout, Ctrl+C, SIGTERM or SIGHUP detach and exit 0; the program goes on exactly "
        "as before, every hook removed. No sandbox applies: asyncplay did not start the "
        "program, it runs as it was started. Refusals (another user's process, Python before "
        "3.14, remote debugging disabled, ptrace restrictions, no running loop) are one line "
        "each with their own exit status (docs/cli.md, attach).",
    )
    att.add_argument(
        "--timeout",
        dest="timeout",
        metavar="SECONDS",
        type=checked(_Value(float, "--timeout", 0, WEEK)),
        help="detach after SECONDS (default: when you press Ctrl+C)",
    )
    att.add_argument(
        "--print",
        dest="print_only",
        action="store_true",
        help="print the task summary at the end instead of opening the playground "
        "(the default without a terminal)",
    )
    for flag in REPLAY_OPTIONS[:2]:
        dest, conv, _default, metavar, help_ = RUN_OPTIONS[flag]
        kwargs = {"dest": dest, "metavar": metavar, "help": help_}
        if conv is not None:
            kwargs["type"] = checked(conv)
        att.add_argument(flag, **kwargs)
    att.add_argument(
        "--json",
        dest="json",
        action="store_true",
        help="print the event protocol as JSON lines on stdout (with a copy of what the "
        "program writes through sys.stdout and sys.stderr, which still goes to its own "
        "terminal)",
    )
    for flag in ("--quiet", "--all-tasks", "--timeline", "--graph"):
        dest, help_ = RUN_FLAGS[flag]
        att.add_argument(flag, dest=dest, action="store_true", help=help_)
    att.add_argument("pid", metavar="PID", help="the process to attach to")

    sub.add_parser(
        "doctor",
        help="say which sandbox layers work on this machine, and the lab policy in force",
        description="One line per sandbox layer (bwrap, cgroup, rlimit): whether it works "
        "here, and why not; then the lab policy in force (its files, each ceiling and "
        "default; docs/sandbox.md).",
    )
    chk = sub.add_parser(
        "check",
        help="run an exercise and say which of its checks pass (exit 0: all, 1: not all)",
        description="Run FILE (or the bundled exercise NAME's starting code, or with "
        "--solution its solution) and print one line per check of its docstring's 'Checks:' "
        "(docs/exercises.md): passed or not, and why, from the run. The virtual clock is "
        "the default; a run stuck in a deadlock is ended at once.",
    )
    chk.add_argument("--solution", action="store_true", help="check the exercise's solution")
    chk.add_argument("--json", action="store_true", help="one JSON object (for an autograder)")
    for flag in CHECK_OPTIONS:
        dest, conv, default, metavar, help_ = RUN_OPTIONS[flag]
        kwargs = {"dest": dest, "metavar": metavar, "help": help_}
        if conv is not None:
            kwargs["type"] = checked(conv)
        if flag == "--clock":
            kwargs["help"] = f"{help_} (default here: virtual)"
        chk.add_argument(flag, **kwargs)
    chk.add_argument("target", metavar="FILE|NAME", help="an exercise file or a bundled name")
    sub.add_parser(
        "exercises",
        help="list the bundled exercises",
        description="List the bundled exercises: their names (for 'asyncplay check NAME') "
        "and titles.",
    )
    sub.add_parser(
        "snippets",
        help="list the bundled snippets",
        description="List the bundled snippets: their names (for 'asyncplay run NAME') and titles.",
    )
    return p


def given_options(ns: SimpleNamespace) -> set[str]:
    """The ``run`` options the user gave (destinations); the others get their defaults."""
    given = set()
    for dest, _conv, default, _meta, _help in RUN_OPTIONS.values():
        if getattr(ns, dest, None) is None:
            setattr(ns, dest, default)
        else:
            given.add(dest)
    return given


def parse_args(argv: list[str]) -> argparse.Namespace:
    """argparse's reading of the command line, ``-m MODULE``'s arguments left to it."""
    head, module_args = split_module(argv) if argv[:1] == ["run"] else (argv, [])
    ns = build_parser().parse_args(head)
    if module_args:  # the head ends with -m MODULE: no target, no arguments of its own
        ns.args = module_args
    return ns
