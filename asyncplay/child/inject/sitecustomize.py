"""Loads asyncplay's child runtime while ``site`` starts the interpreter.

asyncplay runs a program as ``python FILE ARGS`` (or ``python -m MODULE``), exactly as the
user would, with this folder first on ``PYTHONPATH``: so no frame of asyncplay's sits under
the program's, and tracebacks, ``sys.argv``, ``sys.path`` and exit handling are Python's own.
``boot.setup`` then removes every trace of the injection (this folder from ``sys.path``,
the environment variables) and chains to the interpreter's own ``sitecustomize``, if any.
Nothing may escape from here: whatever fails, the program runs as plain Python would.
"""

import os
import sys


def _inject() -> None:
    import gc

    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    # The runtime's own modules are never garbage: no collection while they load.
    collecting = gc.isenabled()
    gc.disable()
    sys.path.insert(0, root)
    try:
        from asyncplay.child import boot
    finally:
        del sys.path[0]
        if collecting:
            gc.enable()
    boot.setup(here)


if os.environ.get("ASYNCPLAY_CHILD_SPEC"):
    try:
        _inject()
    except Exception:  # site would print "Error in sitecustomize" into the program's stderr
        # Nothing to tell it through: boot.setup reports its own failures once the event
        # channel is open, so this is a failure before it (the runtime not importable, the
        # channel not there). The program runs untraced and the parent sees no hello.
        pass
    else:
        # The interpreter has no sitecustomize of its own (boot.setup imported it
        # otherwise, and it is the module site gets): site is told so as python tells it,
        # and leaves no sitecustomize in sys.modules.
        if getattr(sys.modules.get("sitecustomize"), "__dict__", None) is globals():
            del _inject
            raise ModuleNotFoundError("No module named 'sitecustomize'", name="sitecustomize")
del _inject
