"""Find the CPython 3.10-3.15 interpreters installed here, for tests that run on each.

pyenv shims on PATH fail for versions that are not selected unless PYENV_VERSION is set, so
every candidate is verified by running it, and pyenv's real binaries are tried as well.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: The versions asyncplay supports, oldest first.
SUPPORTED_VERSIONS: tuple[str, ...] = ("3.10", "3.11", "3.12", "3.13", "3.14", "3.15")


def _candidates(version: str) -> list[str]:
    """Possible executables for ``version``, most likely first."""
    found: list[str] = []
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        found.append(sys.executable)
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(on_path)
    roots = {os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv"), "/root/.pyenv"}
    for root in sorted(r for r in roots if r):
        pattern = os.path.join(root, "versions", f"{version}*", "bin", f"python{version}")
        found.extend(sorted(glob.glob(pattern), reverse=True))  # newest patch release first
    return list(dict.fromkeys(found))


def _real_executable(executable: str, version: str) -> str | None:
    """The interpreter's own file if ``executable`` really runs and is ``version`` (shims
    may fail or lie, and need the caller's environment, which runs do not get)."""
    try:
        result = subprocess.run(
            [executable, "-c", "import sys; print(sys.version_info[:2]); print(sys.executable)"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor = version.split(".")
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) != 2 or lines[0] != f"({major}, {minor})":
        return None
    return lines[1] if os.path.isabs(lines[1]) and os.access(lines[1], os.X_OK) else executable


@functools.cache
def _find(version: str) -> str | None:
    """A working interpreter of ``version``, or None."""
    for candidate in _candidates(version):
        real = _real_executable(candidate, version)
        if real:
            return real
    return None


@functools.cache
def find_pythons(versions: tuple[str, ...] = SUPPORTED_VERSIONS) -> dict[str, str]:
    """Map each installed version of ``versions`` (by default the supported ones, "3.12")
    to a working interpreter path. The versions are probed at once (each probe starts an
    interpreter, a pyenv shim's bash first: seconds one after another, in every ``-n``
    worker's collection), each version once per process whatever ``versions`` it is in."""
    with ThreadPoolExecutor(max_workers=max(len(versions), 1)) as pool:
        found = dict(zip(versions, pool.map(_find, versions), strict=True))
    return {version: exe for version, exe in found.items() if exe}


def python_or_skip(version: str) -> str:
    """The interpreter of ``version``, or the calling test skipped, naming the version."""
    exe = find_pythons().get(version)
    if exe is None:
        import pytest  # here: ``python tests/pythons.py`` runs without pytest

        pytest.skip(f"CPython {version} is not installed here")
    return exe


if __name__ == "__main__":
    for found_version, path in find_pythons().items():
        print(found_version, path)
