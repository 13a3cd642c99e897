"""asyncplay's own code in the child, and keeping its frames out of the program's tracebacks.

The runtime wraps a few of asyncio's and the std streams' functions; an exception passing
through a wrapper must look as if the wrapper were not there (3.11+ keep the change across
a bare ``raise``; 3.10 re-adds the frame).
"""

from __future__ import annotations

import os

from asyncplay import protocol

__all__ = ["OWN", "drop_own_frame"]

# asyncplay's own code in the child: the runtime and the protocol. Not the whole package:
# installed, the bundled snippets live inside it and are the user's code.
OWN = (os.path.dirname(os.path.abspath(__file__)) + os.sep, os.path.abspath(protocol.__file__))


def drop_own_frame(exc: BaseException) -> None:
    """Remove the runtime's entries from an exception's traceback: the wrapper's own and
    the helpers it called on the way to Python's code (at its start), and those of
    runtime code it was raised in (a ^C or a stop landing while the runtime runs: paused
    at a line breakpoint, a wrapper's bookkeeping), which Python's own run would not have
    (3.11+ keeps the change across a bare ``raise``; 3.10 re-adds the frame)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(OWN):
        tb = tb.tb_next
    if tb is not exc.__traceback__:
        exc.__traceback__ = tb
    before = None
    while tb is not None:
        after = tb.tb_next
        while after is not None and after.tb_frame.f_code.co_filename.startswith(OWN):
            after = after.tb_next
        if after is not tb.tb_next:
            if before is not None and before.tb_frame is tb.tb_frame:
                # 3.10 enters a traced frame twice for an exception its trace function
                # raised (a stop at a line breakpoint): Python's own run shows it once.
                before.tb_next = after
                tb = before
            else:
                tb.tb_next = after
        before, tb = tb, after
