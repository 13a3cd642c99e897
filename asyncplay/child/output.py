"""Attributing ``sys.stdout`` / ``sys.stderr`` writes to the task that made them.

The replacement streams are ``io.TextIOWrapper`` subclasses over the very same buffers, so
``isinstance(sys.stdout, io.TextIOWrapper)`` still holds and the bytes reach fd 1/2 as
before. A write only appends the text to a list; the tracer turns the list into records at
task-switch points (a task cannot switch in the middle of a step), which is what keeps
200,000 prints within budget. Writes from a thread other than the one running a step are
recorded as unattributed. Writes through ``sys.stdout.buffer``, ``os.write`` or child
processes reach the fd untouched and are never seen here.
"""

from __future__ import annotations

import io
import sys
import threading
from typing import Any


def install(tracer: Any) -> None:
    get_ident = threading.get_ident
    tw_write = io.TextIOWrapper.write

    def make(stream_id: int) -> type:
        unattributed = stream_id + 2

        class _Traced(io.TextIOWrapper):
            def write(self, s: str) -> int:
                n = tw_write(self, s)
                if tracer.enabled:
                    tracer.out.append(
                        (stream_id if get_ident() == tracer.cur_thread else unattributed, s)
                    )
                return n

        _Traced.__name__ = _Traced.__qualname__ = "TextIOWrapper"
        return _Traced

    for name, stream_id in (("stdout", 1), ("stderr", 2)):
        old = getattr(sys, name)
        if not isinstance(old, io.TextIOWrapper):
            continue
        old.flush()
        new = make(stream_id)(
            old.buffer,
            encoding=old.encoding,
            errors=old.errors,
            newline="\n",
            # Live output: line-buffered even into a pipe, as a terminal would be.
            line_buffering=True,
            write_through=stream_id == 2,
        )
        try:
            new.mode = old.mode  # type: ignore[misc]
        except AttributeError:
            pass
        old.detach()
        setattr(sys, name, new)
        setattr(sys, "__" + name + "__", new)
