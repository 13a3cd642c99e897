"""The model's output (model_output.py): lines built only when read, yet exactly what
folding every event at once gave.

The reference below is the reducer's former eager fold, kept as the oracle: Hypothesis
throws event sequences at both (streams, partial lines, floods bigger than the bound,
typed input, the run's end, reads at any moment) and the lines, their streams, tasks and
times, the growing lines and the count of dropped lines must be the same.
"""

from __future__ import annotations

from collections import deque
from itertools import islice, repeat

from hypothesis import given, settings
from hypothesis import strategies as st

from asyncplay.model import OutputLine, RunModel, apply


class Eager:
    """The fold as it was: every event split into lines at once."""

    def __init__(self, maxlen: int) -> None:
        self.output: deque[OutputLine] = deque(maxlen=maxlen)
        self.partial: dict[str, OutputLine] = {}
        self.dropped_lines = 0

    def _append(self, line: OutputLine) -> None:
        if len(self.output) == self.output.maxlen:
            self.dropped_lines += 1
        self.output.append(line)

    def output_event(self, stream: str, text: str, task: int | None, t: float) -> None:
        head = self.partial.pop(stream, None)
        if "\n" not in text:
            if head is not None:
                head.text += text
                self.partial[stream] = head
            elif text:
                self.partial[stream] = line = OutputLine(stream, text, task, t)
                self._append(line)
            return
        pieces = text.split("\n")
        last = pieces.pop()
        first = 0
        if head is not None:
            head.text += pieces[0]
            first = 1
        out = self.output
        keep = out.maxlen or len(pieces)
        skip = max(0, len(pieces) - first - keep)
        if skip:
            self.dropped_lines += skip + len(out)
            out.clear()
            first += skip
        n = len(pieces) - first
        self.dropped_lines += max(0, len(out) + n - out.maxlen)
        out.extend(
            map(OutputLine, repeat(stream, n), islice(pieces, first, None), repeat(task), repeat(t))
        )
        if last:
            self.partial[stream] = line = OutputLine(stream, last, task, t)
            self._append(line)

    def typed(self, text: str, t: float) -> None:
        self.partial.clear()
        for line in text.removesuffix("\n").split("\n"):
            self._append(OutputLine("stdin", line, None, t))

    def end(self) -> None:
        self.partial.clear()


def _seen(output, partial, dropped) -> tuple:
    lines = [(o.stream, o.text, o.task, o.t) for o in output]
    growing = {s: (o.text, o.task, o.t) for s, o in partial.items()}
    return lines, growing, dropped


_piece = st.sampled_from(["", "a", "bc", "\n", "x\n", "\n\n", "line\nline\n", "é\n", "\r"])
_text = st.lists(_piece, max_size=12).map("".join)
_flood = st.integers(min_value=1, max_value=40).map(lambda n: "".join(f"{i}\n" for i in range(n)))
_step = st.one_of(
    st.tuples(st.just("out"), st.sampled_from(["stdout", "stderr"]), st.one_of(_text, _flood)),
    st.tuples(
        st.just("out"), st.sampled_from(["stdout", "stderr"]), _flood.map(lambda s: s + "open")
    ),
    st.tuples(st.just("read"), st.just(""), st.just("")),
    st.tuples(st.just("input"), st.just(""), st.sampled_from(["y\n", "a\nb\n", "\n"])),
)


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=1, max_value=12), st.lists(_step, max_size=40), st.booleans())
def test_lazy_output_is_the_eager_fold(maxlen: int, steps: list, end: bool) -> None:
    m = RunModel(max_lines=maxlen)
    ref = Eager(maxlen)
    for i, (kind, stream, text) in enumerate(steps):
        t = float(i)
        if kind == "out":
            apply(m, {"event": "output", "t": t, "stream": stream, "text": text, "task": i})
            ref.output_event(stream, text, i, t)
        elif kind == "input":
            apply(m, {"event": "input", "t": t, "text": text})
            ref.typed(text, t)
        else:  # a view reads the lines in the middle of the run
            assert _seen(m.output, m.partial, m.dropped_lines) == _seen(
                ref.output, ref.partial, ref.dropped_lines
            )
    if end:
        apply(m, {"event": "run_end", "t": 99.0, "exit_code": 0, "reason": "exited"})
        ref.end()
    assert _seen(m.output, m.partial, m.dropped_lines) == _seen(
        ref.output, ref.partial, ref.dropped_lines
    )


def test_a_flood_nobody_reads_builds_no_lines_and_keeps_little_text() -> None:
    """Folding 200,000 lines the headless command line never reads builds none of them,
    and the text kept for a later reader is about the newest ``max_lines`` lines."""
    m = RunModel(max_lines=1000)
    built = OutputLine.__init__
    calls = 0

    def counting(self, *args) -> None:  # noqa: ANN001, ANN002
        nonlocal calls
        calls += 1
        built(self, *args)

    OutputLine.__init__ = counting  # type: ignore[method-assign]
    try:
        for k in range(2000):
            text = "".join(f"line {k * 100 + i}\n" for i in range(100))
            apply(m, {"event": "output", "t": k, "stream": "stdout", "text": text, "task": 1})
        assert calls == 0
        kept = sum(len(p[1]) for p in m.output_log.pending)
        assert kept <= 2 * len(text) * 1000 // 100
        assert [o.text for o in m.output][-1] == "line 199999"
        assert len(m.output) == 1000 and m.dropped_lines == 199_000
        assert calls == 1000  # only the lines kept, once read
    finally:
        OutputLine.__init__ = built  # type: ignore[method-assign]


def test_one_event_bigger_than_the_bound_splits_only_its_end() -> None:
    m = RunModel(max_lines=3)
    apply(m, {"event": "output", "t": 0, "stream": "stdout", "text": "open", "task": 1})
    text = "".join(f"{i}\n" for i in range(10)) + "tail"
    apply(m, {"event": "output", "t": 1, "stream": "stdout", "text": text, "task": 2})
    assert [(o.text, o.task) for o in m.output] == [("8", 2), ("9", 2), ("tail", 2)]
    assert m.partial["stdout"].text == "tail"
    assert m.dropped_lines == 8  # "open0" (the line it finished) and "1" to "7"
