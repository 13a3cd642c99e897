"""``--python``: which interpreter a run really uses."""

from __future__ import annotations

import os
import sys

import pytest

from asyncplay.runner import interpreter as pyinfo


def test_a_shim_resolves_to_the_interpreter_it_starts(tmp_path) -> None:
    """Runs get a scrubbed environment, in which a pyenv-style shim cannot pick a Python:
    the run must use the interpreter's own file."""
    real = os.path.realpath(sys.executable)
    shim = tmp_path / "python3-shim"
    shim.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    info = pyinfo.resolve(str(shim))
    assert os.path.realpath(info.path) == real
    assert info.version[:2] == sys.version_info[:2]


def test_a_venv_python_stays_the_venv_python() -> None:
    info = pyinfo.resolve(sys.executable)
    assert info.path == sys.executable  # not the base interpreter: its site-packages differ


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("#!/bin/sh\necho 'cpython 2 7 18'\necho /usr/bin/python2\n", "too old"),
        ("#!/bin/sh\necho 'pypy 3 10 1'\n", "not supported"),
        ("#!/bin/sh\nexit 3\n", "not a working Python"),
    ],
)
def test_interpreters_that_cannot_run_a_program_are_named(tmp_path, script, words) -> None:
    fake = tmp_path / "python"
    fake.write_text(script)
    fake.chmod(0o755)
    with pytest.raises(pyinfo.PythonError, match=words):
        pyinfo.resolve(str(fake))


def test_the_probe_service_says_what_the_settings_screen_shows(tmp_path) -> None:
    """The settings screen's words come from the service (the screen starts no process)."""
    from asyncplay.tui.services.python_probe import probe

    ok, note = probe(sys.executable)
    assert ok and note.startswith(f"CPython {sys.version_info[0]}.{sys.version_info[1]}.")
    assert probe(str(tmp_path / "no-such-python")) == (False, "no such interpreter")


def test_the_settings_screen_starts_no_process() -> None:
    """Its module imports nothing that runs a program: the probe is the app's service."""
    import ast
    import inspect

    from asyncplay.tui.screens import settings

    tree = ast.parse(inspect.getsource(settings))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {n for n in names if n.startswith(("asyncplay.runner", "subprocess"))}
    assert "asyncplay.tui.services.python_probe" not in names
