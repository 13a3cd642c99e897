"""A program's file on ``PATH``, as ``shutil.which`` finds it, in a few lines of ``os``.

``asyncplay run`` looks up bwrap, ``true`` and the network helper on every run, and
``shutil`` would bring ``fnmatch`` (so ``re``), ``bz2``, ``lzma`` and ``zlib`` into its
start-up for it (docs/performance.md, the hello world).
"""

from __future__ import annotations

import os

__all__ = ["which"]


def which(name: str, path: str | None = None) -> str | None:
    """The first executable file ``name`` in ``path`` (default ``$PATH``, else
    ``os.defpath``); a name holding a ``/`` is checked as it is."""
    if os.sep in name:
        return name if _runnable(name) else None
    if path is None:
        path = os.environ.get("PATH", os.defpath)
    for folder in path.split(os.pathsep):
        candidate = os.path.join(folder, name)  # (an empty entry: the current folder)
        if _runnable(candidate):
            return candidate
    return None


def _runnable(path: str) -> bool:
    return os.access(path, os.X_OK) and not os.path.isdir(path)
