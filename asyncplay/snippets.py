"""The snippet library: bundled example programs and the metadata in their docstrings.

Standard library only and cheap to import: ``asyncplay snippets`` and ``asyncplay run NAME``
use it before anything else is loaded, and the TUI reuses the same parser.

A snippet is a runnable ``.py`` file whose module docstring has this layout::

    Title on the first line (at most 60 characters)

    One or more paragraphs explaining what it teaches.

    What to look for: what to watch when it runs -- which task waits on
    what, what order the lines come in, how long it takes.

    Exit status: 1
    Requires Python: 3.11
    Checks:
        finishes within 1.2 s
        every task finishes

- The title is the first line, followed by a blank line.
- The explanation is everything between the title and the first field line.
  It must not be empty.
- Field lines start at the beginning of a line with a known label followed by a colon:
  ``What to look for:`` (required), ``Exit status:`` (optional, an integer 0-255, default 0:
  the status on a Python the snippet supports) and ``Requires Python:`` (optional, ``3.N``).
  A field's text runs until the next field line, so "What to look for" may span paragraphs.
- ``Checks:`` (optional) makes the snippet an exercise: one check per line, in the
  vocabulary of ``asyncplay.views.checks`` (docs/exercises.md). They are kept here as
  ``(line of the file, text)`` pairs, so a malformed one is reported at its line.
- A snippet that declares ``Requires Python: 3.N`` must, on an older Python, print one line
  to stderr and exit with status 1 (:data:`UNSUPPORTED_EXIT_STATUS`) instead of failing with a
  traceback; ``sys.exit("...message...")`` does exactly that.

Bundled exercises live in ``snippets/exercises/``: ``NAME.py`` is the starting code (its
docstring holds the task and the checks) and ``NAME.solution.py`` a solution, kept apart.

Bundled snippets live in the top-level ``snippets/`` folder of a source checkout, which the
wheel ships as the package ``asyncplay.snippets_data``. Their course order is :data:`COURSE`;
names stay plain (``gather``, not ``04_gather``) so they can be typed on the command line.
User snippets (from the user's data directory) use the same format via :func:`load_snippet`.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "COURSE",
    "MAX_TITLE_LENGTH",
    "UNSUPPORTED_EXIT_STATUS",
    "Snippet",
    "SnippetError",
    "SnippetMeta",
    "bundled_dir",
    "close_matches",
    "exercise_paths",
    "exercises_dir",
    "find_bundled",
    "find_exercise",
    "list_exercises",
    "list_bundled",
    "load_snippet",
    "parse_metadata",
    "reflow",
    "resolve_program",
]

#: Bundled snippet names in course order: each builds on the ones before it. The TUI opens
#: the first one on first use. Snippets missing from this list sort after it, by name.
COURSE: tuple[str, ...] = (
    "sequential",
    "chain",
    "create_task",
    "forgotten",
    "gather",
    "exceptions",
    "gather_errors",
    "blocking",
    "executor",
    "async_iter",
    "async_gen",
    "async_with",
    "cancel",
    "wait_for",
    "timeout",
    "shield",
    "as_completed",
    "taskgroup",
    "queues",
    "lock",
    "semaphore",
    "event",
)

#: Longest allowed title, so ``f"{name:<16} {title}"`` fits an 80-column terminal.
MAX_TITLE_LENGTH = 60

#: Exit status of a snippet run on a Python older than its ``Requires Python:``.
UNSUPPORTED_EXIT_STATUS = 1

_LOOK_FOR = "What to look for"
_EXIT_STATUS = "Exit status"
_REQUIRES = "Requires Python"
_CHECKS = "Checks"
_FIELD_RE = re.compile(
    rf"^({re.escape(_LOOK_FOR)}|{_EXIT_STATUS}|{_REQUIRES}|{_CHECKS}):(.*)$", re.IGNORECASE
)
_CANONICAL_FIELD = {label.lower(): label for label in (_LOOK_FOR, _EXIT_STATUS, _REQUIRES, _CHECKS)}
_VERSION_RE = re.compile(r"^3\.(\d{1,2})$")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SnippetError(ValueError):
    """A snippet whose docstring does not follow the format; the message is one line."""


@dataclass(frozen=True)
class SnippetMeta:
    """What a snippet's docstring says about it."""

    title: str
    explanation: str
    look_for: str
    exit_status: int = 0
    requires_python: tuple[int, int] | None = None
    checks: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Snippet:
    """A snippet file together with its parsed metadata."""

    name: str
    path: Path
    title: str
    explanation: str
    look_for: str
    exit_status: int = 0
    bundled: bool = False
    requires_python: tuple[int, int] | None = None
    #: The exercise's checks, ``(line of the file, text)``; empty for a plain lesson.
    checks: tuple[tuple[int, str], ...] = ()
    #: A bundled exercise's solution (``NAME.solution.py``), when it has one.
    solution: Path | None = None

    def supports(self, version: tuple[int, ...] | None = None) -> bool:
        """Whether the snippet can do its job on ``version`` (default: this interpreter)."""
        if self.requires_python is None:
            return True
        current = tuple(version if version is not None else sys.version_info)[:2]
        return current >= self.requires_python

    def expected_exit_status(self, version: tuple[int, ...] | None = None) -> int:
        """The status a run on ``version`` should end with, per the docstring convention."""
        return self.exit_status if self.supports(version) else UNSUPPORTED_EXIT_STATUS


def reflow(text: str) -> str:
    """Join a docstring's hard-wrapped lines so the pane wraps them at its own width.

    Paragraphs (blank-line separated) stay apart; indented lines and list items
    keep their own line.
    """
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        joinable = (
            out
            and out[-1]
            and stripped
            and not line.startswith((" ", "\t"))
            and not stripped.startswith(("- ", "* "))
        )
        if joinable:
            out[-1] += " " + stripped
        else:
            out.append(line.rstrip())
    return "\n".join(out)


def parse_metadata(source: str, name: str) -> SnippetMeta:
    """Parse the module docstring of ``source``; ``name`` only labels error messages."""
    try:
        module = ast.parse(source, filename=f"{name}.py")
    except SyntaxError as exc:
        raise SnippetError(f"{name}: syntax error on line {exc.lineno}: {exc.msg}") from None
    except ValueError as exc:  # e.g. source containing NUL bytes
        raise SnippetError(f"{name}: cannot parse: {exc}") from None
    docstring = ast.get_docstring(module, clean=True)
    if docstring is None:
        raise SnippetError(f"{name}: no module docstring (it holds the title and explanation)")
    lines = docstring.strip().splitlines()
    title = lines[0].strip() if lines else ""
    if not title:
        raise SnippetError(f"{name}: empty title (the docstring's first line)")
    if _FIELD_RE.match(title):
        raise SnippetError(f"{name}: the first docstring line must be the title, not a field")
    if len(title) > MAX_TITLE_LENGTH:
        raise SnippetError(
            f"{name}: title is {len(title)} characters long, at most {MAX_TITLE_LENGTH} allowed"
        )
    if len(lines) > 1 and lines[1].strip():
        raise SnippetError(f"{name}: the title must be a single line followed by a blank line")

    explanation: list[str] = []
    fields: dict[str, list[str]] = {}
    current = explanation
    for line in lines[1:]:
        match = _FIELD_RE.match(line)
        if match:
            label = _CANONICAL_FIELD[match.group(1).lower()]
            if label in fields:
                raise SnippetError(f"{name}: field '{label}:' appears twice")
            current = fields[label] = [match.group(2).strip()]
        else:
            current.append(line)

    explanation_text = "\n".join(explanation).strip()
    if not explanation_text:
        raise SnippetError(f"{name}: no explanation between the title and '{_LOOK_FOR}:'")
    look_for = "\n".join(fields.get(_LOOK_FOR, [])).strip()
    if _LOOK_FOR not in fields:
        raise SnippetError(f"{name}: missing a '{_LOOK_FOR}:' line")
    if not look_for:
        raise SnippetError(f"{name}: '{_LOOK_FOR}:' has no text")
    return SnippetMeta(
        title=title,
        explanation=explanation_text,
        look_for=look_for,
        exit_status=_parse_exit_status(fields.get(_EXIT_STATUS), name),
        requires_python=_parse_requires(fields.get(_REQUIRES), name),
        checks=_check_lines(module) if _CHECKS in fields else (),
    )


def _check_lines(module: ast.Module) -> tuple[tuple[int, str], ...]:
    """The ``Checks:`` field's lines with their line in the file (the docstring's raw
    text, whose lines are the file's from where the string starts)."""
    node = module.body[0]
    assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    raw = str(node.value.value).splitlines()
    found: list[tuple[int, str]] = []
    inside = False
    for k, text in enumerate(raw):
        match = _FIELD_RE.match(text.strip())
        if match:
            inside = match.group(1).lower() == _CHECKS.lower()
            text = match.group(2) if inside else ""
        if inside and text.strip():
            found.append((node.lineno + k, text.strip()))
    return tuple(found)


def _parse_exit_status(lines: list[str] | None, name: str) -> int:
    """Read ``Exit status: N``; missing means 0."""
    if lines is None:
        return 0
    text = " ".join(lines).strip()
    if not re.fullmatch(r"\d{1,3}", text) or int(text) > 255:
        raise SnippetError(f"{name}: '{_EXIT_STATUS}:' must be an integer 0-255, got {text!r}")
    return int(text)


def _parse_requires(lines: list[str] | None, name: str) -> tuple[int, int] | None:
    """Read ``Requires Python: 3.N``; missing means any supported Python."""
    if lines is None:
        return None
    text = " ".join(lines).strip()
    match = _VERSION_RE.match(text)
    if not match:
        raise SnippetError(f"{name}: '{_REQUIRES}:' must look like 3.11, got {text!r}")
    return (3, int(match.group(1)))


def load_snippet(path: Path, *, bundled: bool = False) -> Snippet:
    """Read and parse one snippet file; its name is the file name without ``.py``."""
    path = Path(path)
    name = path.stem
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SnippetError(f"{name}: cannot read {path}: {exc}") from None
    meta = parse_metadata(source, name)
    return Snippet(
        name=name,
        path=path,
        title=meta.title,
        explanation=meta.explanation,
        look_for=meta.look_for,
        exit_status=meta.exit_status,
        bundled=bundled,
        requires_python=meta.requires_python,
        checks=meta.checks,
    )


def bundled_dir() -> Path:
    """The folder holding the bundled snippets, in an installed wheel or a source checkout."""
    try:
        spec = importlib.util.find_spec("asyncplay.snippets_data")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    # Source checkout without an install: the package maps the top-level snippets/ folder.
    return Path(__file__).resolve().parent.parent / "snippets"


def _bundled_paths() -> dict[str, Path]:
    """Bundled snippet files by name; ``__init__.py`` and private files are not snippets."""
    directory = bundled_dir()
    if not directory.is_dir():
        return {}
    return {
        path.stem: path
        for path in directory.glob("*.py")
        if not path.name.startswith("_") and path.is_file()
    }


def _course_key(name: str) -> tuple[int, str]:
    """Sort key: course position first, unknown names after, alphabetically."""
    try:
        return (COURSE.index(name), name)
    except ValueError:
        return (len(COURSE), name)


def bundled_names() -> list[str]:
    """Names of the bundled snippets in course order, without parsing them."""
    return sorted(_bundled_paths(), key=_course_key)


def list_bundled() -> list[Snippet]:
    """All bundled snippets in course order; raises :class:`SnippetError` on a broken one."""
    paths = _bundled_paths()
    return [load_snippet(paths[name], bundled=True) for name in sorted(paths, key=_course_key)]


def find_bundled(name: str) -> Snippet | None:
    """The bundled snippet called ``name`` (a lesson, else an exercise), or None."""
    if not _NAME_RE.match(name) or name.startswith("_"):
        return None
    path = bundled_dir() / f"{name}.py"
    if not path.is_file():
        return find_exercise(name)
    return load_snippet(path, bundled=True)


def close_matches(name: str) -> list[str]:
    """Bundled names that look like ``name``, best first, for "did you mean" messages."""
    import difflib  # only needed on this error path; keeps the module's import cheap

    names = bundled_names()
    lowered = name.lower()
    matches = difflib.get_close_matches(lowered, names, n=5, cutoff=0.6)
    if lowered:
        matches += [n for n in names if lowered in n and n not in matches]
    return matches[:5]


def resolve_program(arg: str) -> Path | None:
    """What ``asyncplay run ARG`` should run: a file path always wins over a snippet name.

    Returns ``Path(arg)`` when ``arg`` is an existing file or looks like a path (contains a
    path separator, so ``./gather`` forces a file, or ends with ``.py``) -- even if that file
    does not exist, so the caller reports it missing. Otherwise returns the bundled snippet
    named ``arg``, or None when there is none.
    """
    if not arg:
        return None
    path = Path(arg)
    separators = [os.sep] + ([os.altsep] if os.altsep else [])
    if path.is_file() or any(sep in arg for sep in separators) or arg.endswith(".py"):
        return path
    return _bundled_paths().get(arg)


def exercises_dir() -> Path:
    """The folder of the bundled exercises."""
    return bundled_dir() / "exercises"


def exercise_paths() -> list[Path]:
    """The bundled exercises' starting files, by name, without parsing them."""
    paths = _exercise_paths()
    return [paths[name] for name in sorted(paths)]


def _exercise_paths() -> dict[str, Path]:
    directory = exercises_dir()
    if not directory.is_dir():
        return {}
    return {
        path.stem: path
        for path in directory.glob("*.py")
        if not path.name.startswith("_") and "." not in path.stem and path.is_file()
    }


def _with_solution(snippet: Snippet) -> Snippet:
    from dataclasses import replace

    solution = snippet.path.with_name(f"{snippet.name}.solution.py")
    return replace(snippet, solution=solution if solution.is_file() else None)


def list_exercises() -> list[Snippet]:
    """The bundled exercises, by name; raises :class:`SnippetError` on a broken one."""
    paths = _exercise_paths()
    return [_with_solution(load_snippet(paths[n], bundled=True)) for n in sorted(paths)]


def find_exercise(name: str) -> Snippet | None:
    """The bundled exercise called ``name``, or None."""
    path = _exercise_paths().get(name) if _NAME_RE.match(name) else None
    return _with_solution(load_snippet(path, bundled=True)) if path is not None else None
