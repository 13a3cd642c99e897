"""The ``asyncplay`` command: dispatch (the console script is ``asyncplay.cli:main``).

``args`` reads the command line, ``run``, ``replay``, ``check`` (and ``exercises``) and
``doctor`` are the commands, and
without one the editor opens. The ``run`` path imports neither Textual nor asyncio, and a
well-formed ``run`` command line is parsed without argparse: start-up time is part of the
hello-world budget. Every usage problem is one line on stderr and exit status 2; an
asyncplay bug is one line and ``exits.INTERNAL``, never a traceback.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

from asyncplay.cli.args import UsageError, build_parser, fast_parse, parse_args
from asyncplay.exits import INTERNAL as EXIT_INTERNAL
from asyncplay.exits import USAGE as EXIT_USAGE

__all__ = ["main"]


def _cmd_snippets(ns: SimpleNamespace) -> int:
    from asyncplay import snippets

    for s in snippets.list_bundled():
        print(f"{s.name:<16} {s.title}")
    return 0


_COMMANDS = ("run", "snippets", "replay", "doctor", "attach", "check", "exercises")


def _cmd_tui(argv: list[str]) -> int:
    """``asyncplay [FILE|NAME]``: the editor. Textual is imported only here."""
    if len(argv) > 1:
        raise UsageError(
            f"the editor opens one FILE or snippet NAME, not {len(argv)} "
            "(to run a program with arguments: asyncplay run FILE ARGS...)"
        )
    target = argv[0] if argv else None
    from asyncplay import policy

    try:  # a policy that cannot be used stops the editor too, before it takes the screen
        policy.load()
    except policy.PolicyError as exc:
        raise UsageError(f"{exc} (nothing runs until it is fixed)", exc.status) from None
    from asyncplay.runner import rundir

    rundir.sweep_once()  # what killed asyncplays left, before the editor takes the screen
    from asyncplay.tui.launch import launch, opening

    try:
        buffer, note = opening(target)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the editor needs a terminal; 'asyncplay run FILE' runs headless")
    return launch(buffer, note)


def _exit_now(status: int) -> None:
    """End ``asyncplay run`` once everything is told, without tearing the interpreter
    down (some 5 ms of CPU of a hello world's: every module and object freed one by one).
    Its files are closed and its run cleaned up by then; no thread, no atexit work of its
    own; the kernel frees the rest."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # (a closed or broken pipe: nothing more reaches it anyway)
    os._exit(status)


def _fill_std_fds() -> None:
    """A standard descriptor closed at the start (``asyncplay run p.py >&-``) gets
    /dev/null: else the next descriptor asyncplay opens takes its number, and a pipe of
    the run (or its event channel) would become the program's stdin or stdout, and
    ``sys.stdout`` is None (python leaves it so: the program's prints go nowhere, as
    they do into /dev/null)."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            got = os.open(os.devnull, os.O_RDWR)  # the lowest free: ``fd`` (0, 1, 2 in turn)
            if got != fd:
                os.dup2(got, fd)
                os.close(got)
            os.set_inheritable(fd, True)  # (os.open's are not: the run inherits it)
        if getattr(sys, name) is None:
            stream = open(fd, mode, closefd=False, errors="backslashreplace")  # noqa: SIM115
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)


def main(argv: list[str] | None = None) -> int:
    real = argv is None  # the real command (tests call main(argv) in their own process)
    if real:
        # First of all: whatever opens a file next takes a closed 0-2's number (on a
        # Debian 3.15 selfguard's ctypes left libffi's open as descriptor 0).
        _fill_std_fds()
        from asyncplay import selfguard

        # Before anything else: no program may trace or read asyncplay. Linux always
        # has the prctl: where it fails (libc or _ctypes moved, a seccomp filter), say so.
        if not selfguard.guard() and sys.platform.startswith("linux"):
            print(
                "asyncplay: warning: could not make asyncplay's process non-dumpable"
                " (prctl PR_SET_DUMPABLE): a program run without the full sandbox could"
                " trace it or read its memory",
                file=sys.stderr,
            )
        try:
            os.getcwd()
        except OSError:
            print(
                "asyncplay: the current folder no longer exists (deleted, or not reachable):"
                " cd to one that does and run asyncplay again",
                file=sys.stderr,
            )
            return EXIT_USAGE
    argv = sys.argv[1:] if argv is None else argv
    if real and argv[:1] == ["run"]:
        # No collection, to the end: nothing asyncplay loads is garbage (some 2 ms of a
        # hello world's CPU), and neither is what a run leaves alive (its model only
        # grows; every other object it makes is freed by its count alone: tests/
        # test_parent_side.py pins it). A collection only scanned the tasks kept, some
        # 10 ms of the 20,000-task run's parent. Its memory stays watched (--memory).
        import gc

        gc.disable()
    try:
        if not argv or (argv[0] not in _COMMANDS and not argv[0].startswith("-")):
            return _cmd_tui(argv)
        ns = fast_parse(argv)
        if ns is None:
            ns = parse_args(argv)
        if ns.command == "run":
            from asyncplay.cli.run import run

            status = run(ns)
            if real:
                _exit_now(status)
            return status
        if ns.command == "snippets":
            return _cmd_snippets(ns)
        if ns.command == "replay":
            from asyncplay.cli.replay import replay

            return replay(ns)
        if ns.command == "attach":
            from asyncplay.cli.attach import attach

            return attach(ns)
        if ns.command == "check":
            from asyncplay.cli.check import check

            return check(ns)
        if ns.command == "exercises":
            from asyncplay.cli.check import exercises

            return exercises(ns)
        if ns.command == "doctor":
            from asyncplay.cli.doctor import doctor

            return doctor(ns)
        build_parser().print_help()
        return 0
    except UsageError as exc:
        print(f"asyncplay: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an asyncplay bug: one line, a distinct status, no traceback
        print(f"asyncplay: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("ASYNCPLAY_DEBUG"):
            raise
        return EXIT_INTERNAL
