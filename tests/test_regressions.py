"""Programs that once made asyncplay differ from plain python (found in review)."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from helpers import asyncplay, plain

from asyncplay import protocol
from asyncplay.runner.session import RunSession
from asyncplay.runner.spec import RunSpec

FORGE = (
    "import os, sys\n"
    "payload = open(sys.argv[1], 'rb').read()\n"
    "record = b'J' + len(payload).to_bytes(4, 'little') + payload\n"
    "for fd in range(200, 260):\n"
    "    try:\n"
    "        os.write(fd, record)\n"
    "        break\n"
    "    except OSError:\n"
    "        pass\n"
    "print('program output')\n"
    "raise SystemExit(3)\n"
)


@pytest.mark.parametrize(
    "payload",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"event":"bye","t":1' + "0" * 400 + "}",
        '{"event":"task_renamed","t":1,"id":[1],"name":"x"}',
        '{"event":"warning","t":1,"kind":"k","message":"m","task":null,"file":123,"line":1}',
    ],
    ids=["deep", "huge-t", "bad-id", "bad-file"],
)
def test_forged_json_never_crashes_the_parent(tmp_path, payload) -> None:
    (tmp_path / "f.py").write_text(FORGE)
    (tmp_path / "payload").write_text(payload)
    r = asyncplay("run", "f.py", "payload", cwd=tmp_path)
    assert r.returncode == 3, r.stderr[-500:]
    assert r.stdout == b"program output\n"
    assert b"internal error" not in r.stderr


def test_decoder_survives_hostile_json() -> None:
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    events = protocol.Decoder().feed(protocol.HEADER.pack(protocol.K_JSON, len(deep)) + deep)
    assert [e["event"] for e in events] == ["protocol_error"]


def _same_as_plain(tmp_path, source: str, env_extra: dict | None = None) -> None:
    (tmp_path / "p.py").write_text(source)
    saved = dict(os.environ)
    os.environ.update(env_extra or {})
    try:
        ours = asyncplay("run", "--quiet", "p.py", cwd=tmp_path)
        theirs = plain(sys.executable, "p.py", cwd=tmp_path)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )


def test_stderr_still_works_after_stdout_is_closed(tmp_path) -> None:
    _same_as_plain(
        tmp_path,
        "import sys\nprint('partial', end='')\nsys.stdout.close()\n"
        "print('to stderr', file=sys.stderr)\n",
    )


def test_unbuffered_stdout_keeps_byte_order_with_os_write(tmp_path) -> None:
    _same_as_plain(
        tmp_path,
        "import os, subprocess\nprint('a', end='')\nos.write(1, b'b\\n')\nprint('c', end='')\n"
        "subprocess.run(['echo', 'd'])\n",
        {"PYTHONUNBUFFERED": "1"},
    )


def test_sigwait_on_a_blocked_signal(tmp_path) -> None:
    _same_as_plain(
        tmp_path,
        "import os, signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})\n"
        "os.kill(os.getpid(), signal.SIGUSR1)\nprint('got', signal.sigwait({signal.SIGUSR1}))\n",
    )


def test_a_replacement_stdout_is_never_flushed_behind_the_programs_back(tmp_path) -> None:
    _same_as_plain(
        tmp_path,
        "import sys, time\n"
        "class Counter:\n"
        "    flushes = 0\n"
        "    def write(self, s): return len(s)\n"
        "    def flush(self): Counter.flushes += 1\n"
        "real, sys.stdout = sys.stdout, Counter()\n"
        "time.sleep(0.3)\n"
        "sys.stdout = real\n"
        "print('flushes:', Counter.flushes)\n",
    )


async def test_empty_pythonpath_adds_nothing_to_sys_path(tmp_path, monkeypatch) -> None:
    source = "import sys\nprint(sys.path)\n"
    (tmp_path / "p.py").write_text(source)
    monkeypatch.setenv("PYTHONPATH", "")
    theirs = plain(sys.executable, "p.py", cwd=tmp_path)
    session = await RunSession.start(RunSpec(path="p.py", cwd=str(tmp_path)))
    await session.wait()
    ours = "".join(e["text"] for e in session.drain() if e["event"] == "output")
    await session.aclose()
    assert ours.encode() == theirs.stdout


def test_big_results_and_custom_exception_str_stay_the_programs(tmp_path) -> None:
    _same_as_plain(
        tmp_path,
        "import asyncio\n"
        "class Loud(Exception):\n"
        "    def __str__(self):\n"
        "        print('__str__ called')\n"
        "        return 'loud'\n"
        "async def big():\n    return [10 ** 5000]\n"
        "async def fail():\n    raise Loud()\n"
        "async def main():\n"
        "    print(len(await big()))\n"
        "    try:\n        await asyncio.create_task(fail())\n"
        "    except Loud:\n        print('caught')\n"
        "asyncio.run(main())\n",
    )


def test_probing_for_asyncio_does_not_switch_tracing_off(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "import importlib.util\nimportlib.util.find_spec('asyncio')\nimport asyncio\n"
        "async def main():\n    await asyncio.sleep(0)\nasyncio.run(main())\n"
    )
    r = asyncplay("run", "--json", "p.py", cwd=tmp_path)
    assert "main" in {e["coro"] for e in r.kinds("task_created")}


def test_a_name_set_late_is_reported(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "import asyncio\n"
        "async def slow():\n"
        "    await asyncio.sleep(0.01)\n"
        "    asyncio.current_task().set_name('renamed-later')\n"
        "async def main():\n    await asyncio.create_task(slow(), name='first')\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "--json", "p.py", cwd=tmp_path)
    assert "renamed-later" in {e["name"] for e in r.kinds("task_renamed")}


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
