"""Where the last traceback on a run's stderr points in the program: pure text parsing.

Exceptions in tasks arrive as ``task_done`` events with their line, but some errors reach
the playground only as stderr text: a ``SyntaxError`` (the program never starts, so no task
exists) and an exception outside any task. The innermost ``File "<program>", line N`` of
the *last* traceback on stderr is where the editor's gutter marks the error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from asyncplay.model import OutputLine

_FILE_LINE = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
_HEADER = "Traceback (most recent call last):"
SCAN_LINES = 400  # how far back from the end of the output a traceback is looked for


def last_error_line(output: Sequence[OutputLine], program: str) -> int | None:
    """The 1-based line of ``program`` the last stderr traceback points at, innermost first."""
    program = os.path.abspath(program)
    start = max(0, len(output) - SCAN_LINES)
    for i in range(len(output) - 1, start - 1, -1):
        line = output[i]
        if line.stream != "stderr":
            continue
        if line.text.startswith(_HEADER):
            return None  # the last traceback's frames are all outside the program
        match = _FILE_LINE.match(line.text)
        if match and os.path.abspath(match.group("file")) == program:
            return int(match.group("line"))
    return None
