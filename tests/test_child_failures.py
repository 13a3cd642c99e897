"""The child runtime's own failures: told once per site, never raised into the program.

Each site where the runtime catches a failure of its own code (the step hook, the loop's
exception handler, the deadlock check, a helper thread...) reports the first failure as one
``tracer_failed`` warning naming the site (``child/failures.py``); the program runs on as
under plain Python and nothing is printed on its stdout or stderr. A failure is injected by
replacing the function the site calls with one that raises, in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import pytest
from helpers import ROOT, asyncplay

from asyncplay import decoder
from asyncplay.child import stdin
from asyncplay.child.channel import Channel
from asyncplay.child.failures import report_failure
from asyncplay.child.periodic import Periodic
from asyncplay.child.slow_steps import Watchdog
from asyncplay.child.tracer import Tracer

# Runs in a fresh interpreter: a Tracer writing into a temporary file, the site's function
# replaced by one that raises, the program, then the events decoded.
PROBE = r"""
import asyncio, gc, json, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
site, program, clock = sys.argv[2], sys.argv[3], sys.argv[4]
from asyncplay import decoder, protocol
from asyncplay.child import boot, cancels, cut_off, loop_complaints, running_loops
from asyncplay.child import step_hook, tracer as tracer_mod, virtual_clock
from asyncplay.child.channel import Channel

calls = []
def boom(*args, **kwargs):
    calls.append(site)
    raise RuntimeError("injected")

out = tempfile.TemporaryFile()
tracer = tracer_mod.Tracer(Channel(out.fileno()), time.perf_counter(), 0.01, clock)
if site == "warning hook":
    import warnings
    boot._install_warning_hook(tracer, warnings)
tracer.install(asyncio)
if site == "step record":
    tracer_mod.Tracer.describe = boom
elif site == "stdout flush":
    tracer.oflush = boom
    step_hook.set_oflush(boom)
elif site == "slow step report":
    step_hook._slow_step_warning = boom
elif site == "loop complaint":
    loop_complaints.on_loop_complaint = boom
elif site == "loop start":
    running_loops.loop_started = boom
elif site == "deadlock check":
    virtual_clock.maybe_check_deadlock = boom
elif site == "cut-off check":
    cut_off.warn_cut_off = boom
elif site == "cancel source":
    cancels.cancel_requested = boom
elif site == "warning hook":
    tracer_mod.Tracer.warn = boom
exec(compile(program, "<program>", "exec"), {"__name__": "__main__"})
gc.collect()
if tracer.watchdog is not None:
    tracer.watchdog.stop()
tracer.flush()
out.seek(0)
events = decoder.Decoder().feed(out.read())
failed = [e for e in events if e.get("event") == "warning" and e["kind"] == "tracer_failed"]
sys.stderr.flush()
print(json.dumps({"calls": len(calls), "failed": failed}))
"""

SLEEPS = """
import asyncio
async def main():
    for _ in range(3):
        await asyncio.sleep(0.001)
    print("ok")
asyncio.run(main())
"""

PROGRAMS = {
    "step record": ("real", SLEEPS),
    "stdout flush": ("real", SLEEPS),
    "slow step report": (
        "real",
        """
import asyncio, time
async def main():
    for _ in range(2):
        time.sleep(0.03)  # one slow step each: the threshold is 10 ms
        await asyncio.sleep(0)
    print("ok")
asyncio.run(main())
""",
    ),
    "loop complaint": (
        "real",
        """
import asyncio
async def main():
    loop = asyncio.get_running_loop()
    for _ in range(2):
        loop.call_soon(lambda: 1 / 0)
    await asyncio.sleep(0.01)
    print("ok")
asyncio.run(main())
""",
    ),
    "loop start": (
        "real",
        """
import asyncio
async def main():
    await asyncio.sleep(0)
asyncio.run(main())
asyncio.run(main())
print("ok")
""",
    ),
    "deadlock check": (
        "virtual",
        """
import asyncio
async def main():
    for _ in range(2):
        await asyncio.sleep(5)  # a long wait: the deadlock check runs before each
    print("ok")
asyncio.run(main())
""",
    ),
    "cut-off check": (
        "real",
        """
import asyncio
async def main():
    asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
asyncio.run(main())
asyncio.run(main())
print("ok")
""",
    ),
    "cancel source": (
        "real",
        """
import asyncio
async def main():
    tasks = [asyncio.create_task(asyncio.sleep(10)) for _ in range(2)]
    await asyncio.sleep(0)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert all(t.cancelled() for t in tasks)
    print("ok")
asyncio.run(main())
""",
    ),
    "warning hook": (
        "real",
        """
import gc
async def never():
    pass
async def nor_this():
    pass
never()  # two lines: Python shows a warning once per line
gc.collect()
nor_this()
gc.collect()
print("ok")
""",
    ),
}


@pytest.mark.parametrize("site", sorted(PROGRAMS))
def test_a_failure_at_a_site_is_told_once_and_the_program_runs_on(site: str) -> None:
    clock, program = PROGRAMS[site]
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT), site, program, clock],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    *printed, last = out.stdout.splitlines()
    result = json.loads(last)
    assert printed == ["ok"]  # the program ran to its end, its output untouched
    assert result["calls"] >= 2, "the failure was injected once only: the test proves nothing"
    (warning,) = result["failed"]
    assert warning["site"] == site
    assert f"failed in its {site} (RuntimeError: injected)" in warning["message"]
    # (not a word of asyncplay's, nor a frame of its package; an interpreter installed in
    # a folder named asyncplay-something, as .ci/debian-pythons does, is not asyncplay)
    assert not re.search(r"asyncplay(?![-\w])", out.stderr) and "injected" not in out.stderr
    if site == "loop complaint":  # asyncio's own handler still ran, for each callback
        assert out.stderr.count("ZeroDivisionError") == 2, out.stderr
    if site == "warning hook":  # Python still printed its RuntimeWarning
        assert "was never awaited" in out.stderr, out.stderr


def _events(fd: int) -> list[dict]:
    os.lseek(fd, 0, os.SEEK_SET)
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    return decoder.Decoder().feed(data)


def _failures(fd: int) -> list[dict]:
    return [e for e in _events(fd) if e.get("kind") == "tracer_failed"]


@pytest.fixture
def tracer() -> Iterator[Tracer]:
    with tempfile.TemporaryFile() as f:
        yield Tracer(Channel(f.fileno()), time.perf_counter())


def test_each_site_is_told_once_and_nothing_once_tracing_is_off(tracer: Tracer) -> None:
    for _ in range(3):
        report_failure(tracer, "one place", ValueError("bad"))
        report_failure(tracer, "another place", KeyError("k"))
    sent = _failures(tracer.channel.fd)
    assert [(e["site"], e["task"], e["file"], e["line"]) for e in sent] == [
        ("one place", None, None, None),
        ("another place", None, None, None),
    ]
    assert "(ValueError: bad)" in sent[0]["message"]
    tracer.enabled = False  # a forked child: its parent's channel is not its own
    report_failure(tracer, "a third place", ValueError("bad"))
    assert len(_failures(tracer.channel.fd)) == 2


def test_a_program_exception_message_is_not_run_through_its_own_str(tracer: Tracer) -> None:
    class Loud(Exception):
        def __str__(self) -> str:
            raise AssertionError("the runtime ran the program's __str__")

    report_failure(tracer, "somewhere", Loud(1, 2))
    (sent,) = _failures(tracer.channel.fd)
    assert (
        "(test_a_program_exception_message_is_not_run_through_its_own_str.<locals>.Loud)"
        in (sent["message"])
    )


def _wait_for(condition, timeout: float = 10.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_helper_thread_failing_every_tick_is_told_once(tracer: Tracer) -> None:
    """The watchdog's tick fails on every wake-up: one warning, and the thread goes on."""
    ticks = []

    def push_from_thread() -> None:
        ticks.append(1)
        raise OSError("injected")

    tracer.channel.push_from_thread = push_from_thread  # type: ignore[method-assign]
    wd = Watchdog(tracer, 0.02)
    assert wd.start()
    try:
        _wait_for(lambda: len(ticks) >= 3)
    finally:
        wd.stop()
    (sent,) = _failures(tracer.channel.fd)
    assert sent["site"] == "blocking detector"


def test_a_helper_thread_hands_each_failure_of_a_tick_to_on_error() -> None:
    """The bare helper swallows nothing: each failure goes to ``on_error``."""
    seen: list[BaseException] = []

    class Failing(Periodic):
        period = 0.005

        def tick(self) -> None:
            raise LookupError("tick")

    p = Failing()
    p.on_error = seen.append
    assert p.start()
    try:
        _wait_for(lambda: len(seen) >= 2)
    finally:
        p.stop()
    assert all(isinstance(e, LookupError) for e in seen)


def test_a_stdin_record_that_fails_is_told_once_and_the_read_still_reads(
    tracer: Tracer,
) -> None:
    r, w = os.pipe()
    try:
        os.write(w, b"line one\nline two\n")
        raw = stdin._RawIn(r, None, tracer)

        def tell(waiting: bool) -> None:
            raise RuntimeError("injected")

        raw._tell = tell  # type: ignore[method-assign]
        got = b""
        for _ in range(2):
            buf = bytearray(9)
            n = raw._read(buf, True)
            got += bytes(buf[:n])
        assert got == b"line one\nline two\n"
    finally:
        os.close(r)
        os.close(w)
    (sent,) = _failures(tracer.channel.fd)
    assert sent["site"] == "stdin record"


def test_a_failure_reaches_the_parent_as_one_warning_and_never_the_programs_output(
    tmp_path: os.PathLike,
) -> None:
    """End to end: a program that breaks the runtime's deadlock check (as a bug in it
    would) gets one tracer_failed warning in the run's events, and its own output only."""
    path = os.path.join(tmp_path, "breaks.py")
    with open(path, "w") as f:
        f.write(
            "import asyncio, sys\n"
            "sys.modules['asyncplay.child.virtual_clock'].maybe_check_deadlock = None\n"
            "async def main():\n"
            "    for _ in range(2):\n"
            "        await asyncio.sleep(5)\n"
            "    print('ok')\n"
            "asyncio.run(main())\n"
        )
    r = asyncplay("run", "--json", "--clock", "virtual", path)
    assert r.returncode == 0, r.stderr
    assert r.program_stdout == "ok\n"
    stderr = [e for e in r.kinds("output") if e["stream"] == "stderr"]
    assert stderr == []
    (warning,) = [w for w in r.kinds("warning") if w["kind"] == "tracer_failed"]
    assert warning["site"] == "deadlock check"
    assert "TypeError" in warning["message"]


def test_the_explanation_of_a_failed_site_says_the_run_was_traced_still() -> None:
    """A failure at one site is not "could not trace this run" (the install's failure)."""
    from asyncplay.views.explain import explain

    said = "asyncplay's tracer failed in its deadlock check (TypeError: x); the program ran on"
    part = explain({"kind": "tracer_failed", "message": said, "site": "deadlock check"})
    assert part.title == "asyncplay's tracer failed in part"
    assert said in part.what and "untraced" not in part.what
    whole = explain({"kind": "tracer_failed", "message": "could not trace asyncio here"})
    assert whole.title == "asyncplay could not trace this run" and "untraced" in whole.what
