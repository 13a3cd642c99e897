"""``asyncplay attach``: a copy of what the program writes through sys.stdout and sys.stderr.

A run owns its program's streams (``output.py`` puts its own under them). An attached
program's streams stay its own: the same objects, of the same type, with the same
buffering, writing the same bytes to the same place. Only ``write`` is shadowed, by an
attribute of each stream object (``print``, ``logging``, ``warnings`` and the interpreter's
tracebacks look ``write`` up on the object, so they find it before the class's method). It
calls the stream's own ``write`` first, unchanged, then keeps a UTF-8 copy of the text in
the tracer's chunks, which the step hook attributes to the task whose step wrote it, as in
a run (the helper thread takes what is written between steps). Detaching deletes the
attribute (``Patches``). Not seen: writes through ``sys.stdout.buffer``, ``os.write``, C
code or child processes, and a stream the program puts in ``sys.stdout`` after attaching.
"""

from __future__ import annotations

import io
import sys

from asyncplay.child.failures import report_failure
from asyncplay.child.own_frames import drop_own_frame

__all__ = ["MAX_PENDING", "install"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_PENDING = 4 * 1024 * 1024  # bytes copied and not yet taken: past it, writes go uncopied


def install(tracer: Any) -> list[str]:
    """Shadow ``write`` on the program's ``sys.stdout`` and ``sys.stderr`` (each a plain
    ``io.TextIOWrapper`` without a ``write`` of its own); the names of those copied."""
    pending = [0]  # bytes appended since the tracer last took the chunks
    done: dict[int, str] = {}
    for name, stream_id in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name, None)
        if (
            not isinstance(stream, io.TextIOWrapper)
            or id(stream) in done  # sys.stderr is sys.stdout: copied once, as stdout
            or "write" in vars(stream)  # someone's own write already: theirs stays alone
        ):
            continue
        tracer.patches.set(stream, "write", _copying(tracer, stream.write, stream_id, pending))
        done[id(stream)] = name

    def taken() -> None:
        pending[0] = 0

    tracer.chunks_taken = taken
    return list(done.values())


def _copying(tracer: Any, write: Any, stream_id: int, pending: list) -> Any:
    append = tracer.chunks.append

    def write_copied(s: Any) -> Any:
        try:
            n = write(s)
        except BaseException as exc:  # the program's own error, without our frame
            drop_own_frame(exc)
            raise
        if pending[0] <= MAX_PENDING and tracer.enabled:
            try:
                data = str.encode(s, "utf-8", "replace")
                pending[0] += len(data)
                append((stream_id, data))
            except Exception as exc:  # never into the program: told once, as a run does
                report_failure(tracer, "output copy", exc)
        return n

    return write_copied
