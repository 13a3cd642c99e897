"""The program's output as the model keeps it: lines, built only when someone looks.

The reducer hands each ``output`` event to ``OutputLog.add``, which keeps the text as it
came (with how many lines it adds) and builds nothing. Lines are built when a view reads
``RunModel.output``/``partial``/``dropped_lines`` (``settle``), and only the newest
``maxlen`` of them: a flood of 200,000 lines folded by the headless command line, which
never reads them, builds none; the playground, which reads them at each refresh, builds
at most ``maxlen`` per refresh. Text that later lines are sure to push out (the newest
pending events add ``maxlen`` lines after it) is counted and let go at once, so the
pending text stays bounded too.

What the views see is exactly what folding each event at once gave (tests/test_output_model.py
checks it against that reference): a line without its newline yet is in ``output`` already
(where it began, as on a terminal) and ``partial`` points at it while it grows; only the
newest ``maxlen`` lines are kept, and ``dropped_lines`` counts the ones pushed out.
"""

from __future__ import annotations

from collections import deque
from itertools import islice, repeat

__all__ = ["OutputLine", "OutputLog"]


class OutputLine:
    __slots__ = ("stream", "text", "task", "t")

    def __init__(self, stream: str, text: str, task: int | None, t: float) -> None:
        self.stream = stream
        self.text = text  # without the trailing newline
        self.task = task
        self.t = t

    def __repr__(self) -> str:
        return f"<OutputLine {self.stream} task={self.task} {self.text!r}>"


# A pending event: (stream, text, task, t, lines it adds to ``output``); or, with stream
# _LINE, a line of asyncplay's own in place of the task; with stream _END, unfinished
# lines end there.
_Pending = tuple[str, str, "int | None", float, int]
_LINE = 0  # never a stream name (those are str): safe through pickling too
_END = 1


class OutputLog:
    """``lines`` (the newest ``maxlen``), ``partial`` (stream -> its growing line) and
    ``dropped`` (lines pushed out), as of the events before ``pending``."""

    __slots__ = ("lines", "partial", "dropped", "pending", "pending_lines", "heads")

    def __init__(self, maxlen: int | None) -> None:
        self.lines: deque[OutputLine] = deque(maxlen=maxlen)
        self.partial: dict[str, OutputLine] = {}
        self.dropped = 0
        self.pending: deque[_Pending] = deque()
        self.pending_lines = 0  # lines the pending events add, in all
        self.heads: set[str] = set()  # streams with a line still growing after ``pending``

    def add(self, stream: str, text: str, task: int | None, t: float) -> None:
        """One ``output`` event: kept as it is, with the number of lines it adds."""
        heads = self.heads
        nl = text.count("\n")
        if not nl:
            if stream in heads or not text:
                lines = 0
            else:
                lines = 1
                heads.add(stream)
        else:
            lines = nl - (stream in heads)
            if text[-1] == "\n":
                heads.discard(stream)
            else:
                lines += 1
                heads.add(stream)
        self.pending.append((stream, text, task, t, lines))
        self.pending_lines += lines
        keep = self.lines.maxlen
        if keep is not None:
            pending = self.pending
            while len(pending) > 1 and self.pending_lines - pending[0][4] >= keep:
                self._skip(*pending.popleft())

    def settle(self) -> None:
        """Build the lines of the pending events (called before anyone reads them)."""
        pending = self.pending
        while pending:
            self._fold(*pending.popleft())
        self.pending_lines = 0

    def append(self, line: OutputLine) -> None:
        """A line of asyncplay's own (typed input), after everything pending."""
        self.pending.append((_LINE, "", line, 0.0, 1))  # type: ignore[arg-type]
        self.pending_lines += 1

    def end_lines(self) -> None:
        """Unfinished lines are over (typed input, the run's end): what comes next is
        below them. They stay in ``lines`` where they began."""
        self.pending.append((_END, "", None, 0.0, 0))
        self.heads.clear()

    def _skip(self, stream: str, text: str, task: int | None, t: float, lines: int) -> None:
        """An event whose lines the later pending ones push out: counted, not built (but
        for the line it leaves growing, which ``partial`` must hold)."""
        self.pending_lines -= lines
        self.dropped += len(self.lines) + lines
        self.lines.clear()  # older than lines being pushed out: pushed out too
        partial = self.partial
        if stream == _END:
            partial.clear()
            return
        if stream == _LINE:
            return
        head = partial.pop(stream, None)
        i = text.rfind("\n")
        if i < 0:
            if head is not None:
                head.text += text
                partial[stream] = head
            elif text:
                partial[stream] = OutputLine(stream, text, task, t)
            return
        if head is not None:
            head.text += text[: text.find("\n")]
        if i + 1 < len(text):
            partial[stream] = OutputLine(stream, text[i + 1 :], task, t)

    def _fold(self, stream: str, text: str, task: int | None, t: float, lines: int) -> None:
        partial = self.partial
        if stream == _END:
            partial.clear()
            return
        if stream == _LINE:
            if len(self.lines) == self.lines.maxlen:
                self.dropped += 1
            self.lines.append(task)  # type: ignore[arg-type]
            return
        head = partial.pop(stream, None)
        out = self.lines
        keep = out.maxlen
        if "\n" not in text:
            if head is not None:  # the growing line grows
                head.text += text
                partial[stream] = head
            elif text:
                partial[stream] = line = OutputLine(stream, text, task, t)
                if len(out) == keep:
                    self.dropped += 1
                out.append(line)
            return
        last_open = text[-1] != "\n"
        if keep is not None and lines > keep:
            # Everything before the newest ``keep`` lines of this event is pushed out
            # (the line it completes too): split only those off the end of the text.
            self.dropped += len(out) + lines - keep
            out.clear()
            pieces = text.rsplit("\n", keep if last_open else keep + 1)
            last = pieces.pop()
            first = 1
            head = None
        else:
            pieces = text.split("\n")
            last = pieces.pop()
            first = 0
            if head is not None:  # already in ``lines``, where it began: it just grows
                head.text += pieces[0]
                first = 1
            n = len(pieces) - first + bool(last)
            if keep is not None:  # the oldest lines the new ones push out
                self.dropped += max(0, len(out) + n - keep)
        n = len(pieces) - first
        # One C loop building the lines (a flood is thousands of lines an event).
        out.extend(
            map(OutputLine, repeat(stream, n), islice(pieces, first, None), repeat(task), repeat(t))
        )
        if last:
            partial[stream] = line = OutputLine(stream, last, task, t)
            out.append(line)
