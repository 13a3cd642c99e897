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
