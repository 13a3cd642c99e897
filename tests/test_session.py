"""The asyncio RunSession: the API the TUI drives, used exactly as it will be."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from asyncplay.limits import Limits
from asyncplay.model import RunModel, apply
from asyncplay.runner.core import EXIT_STOPPED, EXIT_TIMEOUT
from asyncplay.runner.session import RunSession
from asyncplay.runner.spec import RunSpec


async def _collect(session: RunSession) -> RunModel:
    model = RunModel()
    async for ev in session.events():
        apply(model, ev)
    return model


async def test_unsaved_source_runs_under_its_file_name(tmp_path) -> None:
    path = tmp_path / "buffer.py"  # never written: the buffer is unsaved
    source = "import asyncio\n\nasync def main():\n    print('from buffer')\n    1 / 0\n\nasyncio.run(main())\n"
    async with await RunSession.start(
        RunSpec(source=source, path=str(path), cwd=str(tmp_path))
    ) as s:
        model = await _collect(s)
    assert model.end is not None and model.end["exit_code"] == 1
    assert [o.text for o in model.output if o.stream == "stdout"] == ["from buffer"]
    err = "\n".join(o.text for o in model.output if o.stream == "stderr")
    assert f'File "{path}", line 5, in main' in err and "1 / 0" in err  # the buffer's lines
    main = next(t for t in model.tasks.values() if t.coro == "main")
    assert main.state == "failed" and main.exc_type == "ZeroDivisionError" and main.exc_line == 5


async def test_stop_sends_sigint_so_finally_runs(tmp_path) -> None:
    source = (
        "import asyncio\n"
        "async def main():\n"
        "    try:\n"
        "        print('started', flush=True)\n"
        "        await asyncio.sleep(60)\n"
        "    finally:\n"
        "        print('cleaned up', flush=True)\n"
        "asyncio.run(main())\n"
    )
    s = await RunSession.start(RunSpec(source=source, path=str(tmp_path / "b.py")))
    model = RunModel()
    async for ev in s.events():
        apply(model, ev)
        if ev["event"] == "output" and "started" in ev["text"]:
            break
    end = await s.stop()
    async for ev in s.events():
        apply(model, ev)
    await s.aclose()
    assert end["reason"] == "stopped" and end["exit_code"] == EXIT_STOPPED
    assert "cleaned up" in [o.text for o in model.output]


async def test_stop_kills_a_program_that_ignores_sigint(tmp_path) -> None:
    source = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('x', flush=True)\ntime.sleep(60)\n"
    s = await RunSession.start(RunSpec(source=source, path=str(tmp_path / "b.py")))
    async for ev in s.events():
        if ev["event"] == "output":
            break
    start = time.monotonic()
    end = await s.stop()
    await s.aclose()
    assert end["reason"] == "stopped" and time.monotonic() - start < 5


async def test_timeout_and_leftover_grandchild_are_killed(tmp_path) -> None:
    source = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import os, time; os.setsid(); time.sleep(60)'])\n"
        "time.sleep(60)\n"
    )
    s = await RunSession.start(
        RunSpec(source=source, path=str(tmp_path / "b.py"), limits=Limits(timeout=1))
    )
    end = await s.wait()
    await s.aclose()
    assert end["reason"] == "timeout" and end["exit_code"] == EXIT_TIMEOUT
    # The fixture no_leftover_processes proves the setsid() grandchild is gone too.


async def test_a_slow_consumer_never_deadlocks_a_chatty_child(tmp_path) -> None:
    source = (
        "import sys\nfor i in range(20000):\n    print('line', i)\n    sys.stderr.write('e\\n')\n"
    )
    s = await RunSession.start(RunSpec(source=source, path=str(tmp_path / "b.py")))
    await asyncio.sleep(1.0)  # consume nothing for a while
    model = await _collect(s)
    await s.aclose()
    assert model.end is not None and model.end["exit_code"] == 0
    assert len(model.output) == 10_000 and model.dropped_lines == 30_000  # bounded buffer
    assert model.output[-2].text == "line 19999" and model.output[-1].stream == "stderr"


async def test_program_killing_its_parent_is_reported(tmp_path) -> None:
    # The runtime's parent is this test process: a program that signals it must not be able
    # to. Here the child is in its own session, so os.kill(os.getppid()) would hit us; we
    # only check the program's own self-kill maps to 128+N.
    source = f"import os\nos.kill(os.getpid(), {int(signal.SIGKILL)})\n"
    s = await RunSession.start(RunSpec(source=source, path=str(tmp_path / "b.py")))
    end = await s.wait()
    await s.aclose()
    assert end["reason"] == "signal" and end["exit_code"] == 128 + 9


async def test_start_fails_cleanly_for_a_missing_interpreter(tmp_path, monkeypatch) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv("TMPDIR", str(runs))
    spec = RunSpec(source="pass", path=str(tmp_path / "b.py"), python="/nonexistent/python3")
    try:
        await RunSession.start(spec)
    except OSError:
        pass
    else:
        raise AssertionError("expected OSError")
    assert list(runs.iterdir()) == []  # the run directory was removed


# ---- two runs at once, and output outside any task step ---------------------------------------


async def test_two_sessions_at_once_do_not_kill_each_other(tmp_path) -> None:
    short = RunSpec(source="import time\ntime.sleep(0.3)\n", path=str(tmp_path / "a.py"))
    long = RunSpec(
        source="import time\ntime.sleep(1.5)\nprint('long done')\n", path=str(tmp_path / "b.py")
    )
    a = await RunSession.start(short)
    b = await RunSession.start(long)
    end_a, end_b = await asyncio.gather(a.wait(), b.wait())
    texts = [e.get("text", "") for e in b.drain() if e["event"] == "output"]
    await a.aclose()
    await b.aclose()
    assert end_a["reason"] == end_b["reason"] == "exited"
    assert end_b["t"] > 1.0 and "long done\n" in "".join(texts)


@pytest.mark.parametrize("unbuffered", ["1", ""])
async def test_long_synchronous_output_keeps_its_order_across_streams(
    tmp_path, monkeypatch, unbuffered
) -> None:
    """Code outside any task step has no step boundary to send output records at: the
    flusher thread sends them, so the parent never gives up on them (HOLD) and releases
    each stream's bytes as a block."""
    if unbuffered:
        monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    else:
        monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)
    source = (
        "import sys, time\n"
        "for i in range(30):\n"
        "    print('out', i)\n"
        "    sys.stderr.write(f'err {i}\\n')\n"
        "    time.sleep(0.03)\n"
    )
    s = await RunSession.start(RunSpec(source=source, path=str(tmp_path / "order.py")))
    lines = []
    async for ev in s.events():
        if ev["event"] == "output":
            lines.append((ev["stream"], ev["text"]))
    await s.aclose()
    runs: list[list] = []  # consecutive pieces of one stream joined (print writes in parts)
    for stream, chunk in lines:
        if runs and runs[-1][0] == stream:
            runs[-1][1] += chunk
        else:
            runs.append([stream, chunk])
    text = [(stream, t) for stream, chunk in runs for t in chunk.splitlines()]
    expected = [x for i in range(30) for x in (("stdout", f"out {i}"), ("stderr", f"err {i}"))]
    assert text == expected


def test_the_headless_driver_reads_a_flood_in_batches(tmp_path) -> None:
    """100,000 raw writes (as under ``python -u``): the driver lets them pile up between
    reads (cost, #15) instead of waking for every few hundred bytes; nothing is lost."""
    from asyncplay.runner import sync_driver

    (tmp_path / "flood.py").write_text(
        "import os\nfor i in range(100_000):\n    os.write(1, b'line %d\\n' % i)\n"
    )
    spec = RunSpec(path="flood.py", cwd=str(tmp_path), sandbox="none")
    reads: list[int] = []
    start = time.monotonic()
    end = sync_driver.run_blocking(
        spec, lambda ev: None, lambda name, data: reads.append(len(data)), stdin="null"
    )
    took = time.monotonic() - start
    assert end["exit_code"] == 0
    assert sum(reads) == sum(len(b"line %d\n" % i) for i in range(100_000))
    # One read per stream per COALESCE at most once busy (plus the first BUSY_STREAK):
    # without the batching this was one read per 1-4 writes, thousands.
    bound = sync_driver.BUSY_STREAK + 2 * took / sync_driver.COALESCE + 20
    assert len(reads) < bound, (len(reads), took)


def test_the_childs_times_start_when_the_program_may(tmp_path, monkeypatch) -> None:
    """The child's clock starts at the gate, as the session's own ("after X s"): it
    started at the runtime's start-up, before the wait for the sandbox to be complete, so
    every time the child sent ran ahead of the session's by that wait (a killed run's
    "figures as of" came out later than its end). The gate is held half a second here,
    as a slow sandbox set-up would."""
    from asyncplay.runner import spawn, sync_driver

    gate = spawn.open_gate

    def late(fd: int) -> None:
        time.sleep(0.5)  # (the stimulus: a set-up that takes long, not a wait for anything)
        gate(fd)

    monkeypatch.setattr(spawn, "open_gate", late)
    (tmp_path / "p.py").write_text("import asyncio\nasyncio.run(asyncio.sleep(0.2))\n")
    events: list[dict] = []
    spec = RunSpec(path="p.py", cwd=str(tmp_path), sandbox="none")
    end = sync_driver.run_blocking(spec, events.append, stdin="null")
    assert end["exit_code"] == 0
    (made,) = [e for e in events if e["event"] == "task_created" and e["id"] == 1]
    (done,) = [e for e in events if e["event"] == "task_done" and e["id"] == 1]
    assert made["t"] < 0.4, made  # (was past 0.5: the gate's wait counted)
    assert 0.2 <= done["t"] - made["t"] and done["t"] <= end["t"] + 0.005, (made, done, end)
