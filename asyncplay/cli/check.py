"""``asyncplay check`` and ``asyncplay exercises``: run an exercise and judge the run.

The program (a file, or a bundled exercise's starting code or ``--solution``) runs headless
under the virtual clock by default, with its output kept, not shown; then each check of the
exercise's ``Checks:`` field (``views.checks``) gets one line, ``✓`` or ``✗`` with its
reason from the run. A run that can never go on (every task waiting, nothing that could
wake one: the child's ``deadlock`` warning with ``stuck``) is ended at once. Exit status 0
when every check passes, 1 when one fails, 2 for usage.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

from asyncplay.cli.args import RUN_OPTIONS, UsageError, given_options
from asyncplay.exits import CHECKS_FAILED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from asyncplay.snippets import Snippet

__all__ = ["check", "exercises", "find_target"]


def exercises(ns: SimpleNamespace) -> int:
    """One line per bundled exercise: the name ``check`` takes, then its title."""
    from asyncplay import snippets

    try:
        found = snippets.list_exercises()
    except snippets.SnippetError as exc:
        raise UsageError(f"a bundled exercise is broken: {exc}") from None
    width = max((len(s.name) for s in found), default=0)
    out = "".join(f"{s.name:<{width}}  {s.title}\n" for s in found)
    sys.stdout.buffer.write(out.encode("utf-8"))
    sys.stdout.flush()
    return 0


def find_target(target: str, solution: bool) -> tuple[Snippet, Path]:
    """The exercise ``target`` names (a file wins over a bundled name) and the program
    to run: the file itself, or with ``solution`` its ``NAME.solution.py``."""
    from asyncplay import snippets

    looks_like_path = os.sep in target or target.endswith(".py") or os.path.exists(target)
    try:
        if looks_like_path:
            if not os.path.isfile(target):
                raise UsageError(f"no such file: {target}")
            snippet = snippets.load_snippet(Path(target))
        else:
            found = snippets.find_exercise(target) or snippets.find_bundled(target)
            if found is None:
                names = [s.name for s in snippets.list_exercises()]
                import difflib

                close = difflib.get_close_matches(target, names, n=3, cutoff=0.5)
                hint = f"; close matches: {', '.join(close)}" if close else ""
                raise UsageError(
                    f"no file or exercise named {target!r}{hint} ('asyncplay exercises' lists them)"
                )
            snippet = found
    except snippets.SnippetError as exc:
        raise UsageError(f"{target}: {exc}") from None
    if not snippet.checks:
        raise UsageError(
            f"{snippet.path} has no 'Checks:' in its docstring, so there is nothing to check "
            "(docs/exercises.md)"
        )
    program = snippet.path
    if solution:
        beside = snippet.path.with_name(f"{snippet.name}.solution.py")
        if not beside.is_file():
            raise UsageError(f"{snippet.name} has no solution ({beside.name} beside it)")
        program = beside
    return snippet, program


def check(ns: SimpleNamespace) -> int:
    from asyncplay.cli.run import _apply_policy
    from asyncplay.limits import Limits
    from asyncplay.model import RunModel, apply
    from asyncplay.runner import interpreter as pyinfo
    from asyncplay.runner.spec import RunSpec
    from asyncplay.runner.sync_driver import run_blocking
    from asyncplay.views import checks as vc

    snippet, program = find_target(ns.target, ns.solution)
    try:
        wanted = vc.parse(snippet.checks)
    except vc.CheckError as exc:
        raise UsageError(f"{snippet.path.name}: {exc}") from None
    opts = SimpleNamespace(**{d: getattr(ns, d, None) for d, *_r in RUN_OPTIONS.values()})
    given = given_options(opts)
    if "clock" not in given:
        opts.clock = "virtual"
        given.add("clock")
    _apply_policy(opts, given)
    try:
        info = pyinfo.resolve(opts.python) if opts.python else pyinfo.current()
    except pyinfo.PythonError as exc:
        raise UsageError(str(exc)) from None
    if not snippet.supports(info.version):
        need = ".".join(map(str, snippet.requires_python or ()))
        raise UsageError(f"{snippet.name} needs Python {need}; this is Python {info.label}")
    from asyncplay import sandbox

    try:
        sandbox.check(opts.sandbox, ())
    except sandbox.SandboxError as exc:
        raise UsageError(str(exc)) from None
    spec = RunSpec(
        python=info.path,
        args=(),
        limits=Limits(
            timeout=opts.timeout,
            memory_mib=opts.memory,
            cpu=opts.cpu,
            output_mib=opts.output_limit,
            procs=opts.procs,
        ),
        slow_step=opts.slow_step / 1000,
        clock=opts.clock,
        speed=opts.speed,
        sandbox=opts.sandbox,
        network=opts.network,
        path=str(program),
        argv0=str(program),
    )
    model = RunModel()
    try:
        run_blocking(
            spec, lambda ev: apply(model, ev), None, stdin="null", stop_on=vc.stuck_deadlock
        )
    except sandbox.SandboxError as exc:  # (--sandbox bwrap, whose bwrap failed to start)
        raise UsageError(str(exc)) from None
    verdicts = vc.evaluate(model, wanted)
    passed = sum(v.passed for v in verdicts)
    if ns.json:
        record = {
            "exercise": snippet.name,
            "program": str(program),
            "solution": bool(ns.solution),
            "passed": passed,
            "total": len(verdicts),
            "ok": passed == len(verdicts),
            "time": round(vc.program_time(model), 6),
            "exit_code": model.exit_code,
            "stopped_at_deadlock": vc.stopped_at_deadlock(model) is not None,
            "checks": [v.as_dict() for v in verdicts],
        }
        text = json.dumps(record, ensure_ascii=False) + "\n"
    else:
        what = "the solution" if ns.solution else program.name
        lines = [f"{snippet.name}: {snippet.title} ({what})"]
        for v in verdicts:
            lines.append(f"{'✓' if v.passed else '✗'} {v.check.text}: {v.reason}")
        lines.append(f"{passed}/{len(verdicts)} checks pass")
        text = "\n".join(lines) + "\n"
    sys.stdout.buffer.write(text.encode("utf-8", "replace"))
    sys.stdout.flush()
    return 0 if passed == len(verdicts) else CHECKS_FAILED
