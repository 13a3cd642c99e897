"""Checking the interpreter a run uses (``--python``): CPython 3.10 or newer."""

from __future__ import annotations

import os
import sys

MIN = (3, 10)
TESTED = ((3, 10), (3, 11), (3, 12), (3, 13), (3, 14), (3, 15))
# Valid in Python 2 too, so an old interpreter is named as too old, not as broken. The second
# line is the interpreter's own executable: a pyenv/asdf shim is a script that needs the
# user's environment to pick a Python, and runs get a scrubbed one, so runs use the real file.
_PROBE = (
    "import sys;sys.stdout.write('%s %d %d %d\\n%s' % ("
    "(getattr(getattr(sys, 'implementation', None), 'name', 'cpython'),)"
    " + tuple(sys.version_info[:3]) + (sys.executable or '',)))"
)


class PythonError(ValueError):
    """The interpreter cannot run asyncplay's child runtime; the message says why."""


class PythonInfo:
    __slots__ = ("path", "version")

    def __init__(self, path: str, version: tuple[int, ...]) -> None:
        self.path = path
        self.version = version

    @property
    def untested(self) -> bool:
        return self.version[:2] not in TESTED

    @property
    def label(self) -> str:
        return ".".join(map(str, self.version))


PROBE_TIMEOUT = 15.0  # seconds a --python has to answer the probe


def current() -> PythonInfo:
    return PythonInfo(sys.executable, tuple(sys.version_info[:3]))  # type: ignore[arg-type]


def resolve(name: str) -> PythonInfo:
    """Find and probe ``name`` (a path or a command on PATH)."""
    import subprocess  # (only ``--python`` probes: not at every run's start)

    if os.sep in name:
        path: str | None = name
    else:
        from asyncplay.sandbox.which import which

        path = which(name)
    if not path or not os.path.exists(path):
        raise PythonError(f"--python {name}: no such interpreter")
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise PythonError(f"--python {name}: not an executable file")
    try:
        proc = subprocess.run(
            [path, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise PythonError(
            f"--python {name}: not a working Python interpreter "
            f"(it did not answer within {PROBE_TIMEOUT:g} s)"
        ) from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise PythonError(f"--python {name}: could not run it ({exc})") from None
    first, _, executable = proc.stdout.partition("\n")
    words = first.split()
    if proc.returncode != 0 or len(words) != 4 or not all(w.isdigit() for w in words[1:]):
        detail = (proc.stderr.strip().splitlines() or [""])[0]
        if "python" not in detail.lower() or "sys.stdout" in detail or len(detail) > 160:
            # a Python's own complaint is kept ("Fatal Python error: ..."); a shell's or
            # another program's complaint about the probe would only puzzle
            detail = "it did not answer like Python"
        raise PythonError(f"--python {name}: not a working Python interpreter ({detail})")
    impl, version = words[0], tuple(int(w) for w in words[1:])
    if impl != "cpython":
        raise PythonError(f"--python {name}: {impl} is not supported; asyncplay needs CPython")
    if version[:2] < MIN or version[0] != 3:
        raise PythonError(
            f"--python {name}: Python {'.'.join(map(str, version))} is too old; "
            "asyncplay needs Python 3.10 or newer"
        )
    real = executable.strip()
    if not (os.path.isabs(real) and os.path.isfile(real) and os.access(real, os.X_OK)):
        real = os.path.abspath(path)
    return PythonInfo(real, version)  # type: ignore[arg-type]
