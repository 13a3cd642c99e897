"""The one reader of a session's batches (tui/services/event_batches.py), which a run's
session thread and an attach's reader thread share: every event in order across batches,
``run_end`` the last, the end told once it was read, a batch from another thread."""

from __future__ import annotations

import asyncio
import threading

from asyncplay.tui.services.event_batches import read_through_end, to_ui


async def test_events_in_order_through_run_end_then_the_end_told() -> None:
    batches: asyncio.Queue[list[dict]] = asyncio.Queue()
    ends: list[dict] = []
    end = {"event": "run_end", "t": 2.0}
    batches.put_nowait([{"event": "a"}, {"event": "b"}])
    batches.put_nowait([])
    batches.put_nowait([{"event": "c"}, end, {"event": "after"}])
    batches.put_nowait([{"event": "never"}])
    seen = []
    async for ev in read_through_end(batches, ends.append):
        seen.append(ev["event"])
        if ev is end:
            assert ends == []  # told when the reader asks past it
    assert seen == ["a", "b", "c", "run_end"]
    assert ends == [end]


async def test_a_batch_handed_from_a_thread_arrives_and_a_closed_loop_is_no_error() -> None:
    batches: asyncio.Queue[list[dict]] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    t = threading.Thread(target=to_ui, args=(loop, batches.put_nowait, [{"event": "run_end"}]))
    t.start()
    t.join()
    got = [ev async for ev in read_through_end(batches, lambda _e: None)]
    assert got == [{"event": "run_end"}]
    closed = asyncio.new_event_loop()
    closed.close()
    to_ui(closed, batches.put_nowait, [{"event": "x"}])  # nobody listening: nothing
    assert batches.empty()
