"""Line breakpoints: calling back when a frame reaches one of the armed lines.

Armed only while line breakpoints exist (``stepping.py`` arms and disarms them, always on
the loop's thread), and then only code objects that hold one of the lines see a line
event: on 3.12+ ``sys.monitoring`` (a ``PY_START``/``PY_RESUME`` look at each code object
once, then ``LINE`` events on the few that hold a breakpoint line; every other location is
``DISABLE``d after its first event), on 3.10-3.11 ``sys.settrace`` on the loop's thread
(its call event returns no local tracer for code without a breakpoint line). A program
that traces itself already (a debugger, coverage) keeps its tracer: line breakpoints are
then refused, and the caller tells the user.

``on_line`` may raise (a stop while paused at the line raises the interrupt there): the
exception goes into the program's frame at that line, without the runtime's frames.
"""

from __future__ import annotations

import os
import sys

from asyncplay.child.own_frames import drop_own_frame

__all__ = ["LineBreaks"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    import types
    from collections.abc import Callable

_NONE: frozenset[int] = frozenset()
_MONITORING = sys.version_info >= (3, 12)


class LineBreaks:
    """``set(lines)`` arms exactly ``lines`` (file -> line numbers): ``on_line(file,
    line)`` is then called on the thread that reaches one, before the line runs."""

    def __init__(self, on_line: Callable[[str, int], None]) -> None:
        self.on_line = on_line
        self.lines: dict[str, frozenset[int]] = {}
        self._real: dict[str, frozenset[int]] = {}
        # id(code) -> (code, its breakpoint lines): ids of live code objects only, as the
        # code is kept here (hashing a code object hashes its whole contents).
        self._of: dict[int, tuple[types.CodeType, frozenset[int]]] = {}
        self._tool: int | None = None
        self._enabled: dict[int, types.CodeType] = {}  # code given LINE events (3.12+)

    def lines_of(self, code: types.CodeType) -> frozenset[int]:
        """The armed lines inside ``code`` itself (not its nested functions)."""
        hit = self._of.get(id(code))
        if hit is not None:
            return hit[1]
        want = self.lines.get(code.co_filename)
        if want is None and code.co_filename[:1] != "<":  # python ./x.py: "/dir/./x.py"
            want = self._real.get(os.path.realpath(code.co_filename))
        found = _NONE
        if want:
            found = frozenset(ln for _s, _e, ln in code.co_lines() if ln in want)
        self._of[id(code)] = (code, found)
        return found

    def set(self, lines: dict[str, frozenset[int]]) -> bool:
        """Arm ``lines`` (empty: disarm). On the loop's thread. False: refused (the
        program traces itself)."""
        self.lines = lines
        # The same files by their real paths: the program may be named another way
        # (a relative or symlinked path, "./"), and compiled under that name.
        self._real = {os.path.realpath(f): ls for f, ls in lines.items() if f[:1] != "<"}
        self._of.clear()
        if _MONITORING:
            return self._set_monitoring()
        current = sys.gettrace()
        if not lines:
            if current == self._trace_call:
                sys.settrace(None)
            return True
        if current is not None and current != self._trace_call:
            return False
        sys.settrace(self._trace_call)
        return True

    # ---- 3.10-3.11: sys.settrace on the loop's thread ----------------------------------

    def _trace_call(self, frame: types.FrameType, event: str, arg: object) -> object:
        if self.lines_of(frame.f_code):
            return self._trace_line
        return None

    def _trace_line(self, frame: types.FrameType, event: str, arg: object) -> object:
        if event == "line" and frame.f_lineno in self.lines_of(frame.f_code):
            try:
                self.on_line(frame.f_code.co_filename, frame.f_lineno)
            except BaseException as exc:  # the interrupt of a stop: the program's, at its line
                drop_own_frame(exc)  # (3.10 keeps this frame: the step hook drops it)
                raise
        return self._trace_line

    # ---- 3.12+: sys.monitoring ----------------------------------------------------------

    def _set_monitoring(self) -> bool:
        mon = sys.monitoring  # type: ignore[attr-defined]
        events = mon.events
        if self._tool is None:
            if not self.lines:
                return True
            free = [i for i in (4, 3, 2, 1) if mon.get_tool(i) is None]
            if not free:
                return False
            self._tool = free[0]
            mon.use_tool_id(self._tool, "asyncplay")
            mon.register_callback(self._tool, events.PY_START, self._start)
            mon.register_callback(self._tool, events.PY_RESUME, self._start)
            mon.register_callback(self._tool, events.LINE, self._line)
        tool = self._tool
        for code in self._enabled.values():
            mon.set_local_events(tool, code, 0)
        self._enabled.clear()
        if self.lines:
            mon.set_events(tool, events.PY_START | events.PY_RESUME)
            mon.restart_events()  # the locations DISABLEd for the lines armed before
        else:
            mon.set_events(tool, 0)
        return True

    def _start(self, code: types.CodeType, offset: int) -> object:
        mon = sys.monitoring  # type: ignore[attr-defined]
        if self.lines_of(code) and id(code) not in self._enabled and self._tool is not None:
            self._enabled[id(code)] = code
            mon.set_local_events(self._tool, code, mon.events.LINE)
        return mon.DISABLE

    def _line(self, code: types.CodeType, line: int) -> object:
        if line not in self.lines_of(code):
            return sys.monitoring.DISABLE  # type: ignore[attr-defined]
        try:
            self.on_line(code.co_filename, line)
        except BaseException as exc:  # the interrupt of a stop: the program's, at its line
            drop_own_frame(exc)
            raise
        return None
