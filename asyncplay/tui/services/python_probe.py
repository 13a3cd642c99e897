"""Probing a ``--python`` off the UI's path: the settings screen asks, the answer comes back.

Probing starts the interpreter (up to :data:`~asyncplay.runner.interpreter.PROBE_TIMEOUT`
seconds), so it runs in a thread worker, and screens start no process: the app hands the
settings screen a :class:`PythonProbe`, the screen calls :meth:`PythonProbe.ask` with a
callback, and the callback (called from the worker's thread) posts the answer to the
screen as a message.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.dom import DOMNode

from asyncplay.runner import interpreter

__all__ = ["Answer", "PythonProbe", "probe"]

Answer = Callable[[bool, str], None]  # (usable, what to say): called from the worker thread


def probe(text: str) -> tuple[bool, str]:
    """Run the interpreter ``text`` names once: ``(True, "CPython 3.12.1")`` or
    ``(False, the reason it cannot run a program)``. Blocks: never on the UI's thread."""
    try:
        info = interpreter.resolve(text)
    except interpreter.PythonError as exc:
        return False, str(exc).split(": ", 1)[-1]
    return True, f"CPython {info.label}" + (" (untested)" if info.untested else "")


class PythonProbe:
    """The service a screen asks: each probe is a thread worker of the asking node (so
    it ends with the screen, and ``app.workers`` sees it)."""

    GROUP = "python-probe"

    def ask(self, node: DOMNode, text: str, answer: Answer) -> None:
        def work() -> None:
            answer(*probe(text))

        node.run_worker(work, thread=True, group=self.GROUP, exit_on_error=False)
