"""Output taken on another thread (the flusher, the watchdog) goes to the task whose step
ran when it was written, even when the loop's thread ends that step and starts the next
one while the other thread flushes stdout (a write: the loop's thread runs meanwhile)."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator

import pytest

from asyncplay import decoder
from asyncplay.child import output
from asyncplay.child.channel import Channel
from asyncplay.child.task_record import EarlyRecord, new_record
from asyncplay.child.tracer import Tracer


@pytest.fixture
def tracer() -> Iterator[Tracer]:
    with tempfile.TemporaryFile() as f:
        yield Tracer(Channel(f.fileno()), time.perf_counter())


def _outputs(tracer: Tracer) -> list[tuple[int | None, bytes]]:
    tracer.channel.flush()
    fd = tracer.channel.fd
    os.lseek(fd, 0, os.SEEK_SET)
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    return [
        (e.get("task"), e["data"])
        for e in decoder.Decoder().feed(data)
        if e.get("event") == "output_record"
    ]


def _step_switch_during_flush(tracer: Tracer) -> tuple[EarlyRecord, EarlyRecord]:
    """Task A's step is running and has written; the other thread's stdout flush lets
    the loop's thread end A's step (taking A's writes) and run B, which writes."""
    a, b = new_record(None, 1, "a"), new_record(None, 2, "b")
    tracer.current = a
    tracer.chunks.append((1, b"from a\n"))
    switched = []

    def flush_lets_the_loop_run() -> None:
        if switched:
            return
        switched.append(True)
        tracer.flush_output(a)  # the loop's thread at the end of A's step
        tracer.current = b  # B's step starts
        tracer.chunks.append((1, b"from b\n"))

    tracer.oflush = flush_lets_the_loop_run
    return a, b


@pytest.mark.parametrize(
    "take",
    [
        pytest.param(lambda t: output.records_from_thread(t), id="flusher"),
        pytest.param(lambda t: t.flush(), id="periodic flush"),
        pytest.param(lambda t: t.warn("slow_step", "held"), id="warning"),
    ],
)
def test_writes_go_to_the_step_that_ran_when_they_were_taken(tracer: Tracer, take) -> None:
    a, b = _step_switch_during_flush(tracer)
    take(tracer)
    assert _outputs(tracer) == [(a.tid, b"from a\n"), (b.tid, b"from b\n")]


def test_a_named_task_still_gets_what_was_written(tracer: Tracer) -> None:
    a, b = _step_switch_during_flush(tracer)
    tracer.oflush = lambda: None
    tracer.flush_output(b)
    assert _outputs(tracer) == [(b.tid, b"from a\n")]
