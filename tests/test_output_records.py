"""The spec's ``output_records``: a run whose output nobody attributes sends no copy of it.

The headless ``asyncplay run`` without ``--json`` or ``--record`` passes the program's
pipes through and prints nothing made of the ``output`` events; the child then keeps no
copy of its writes and sends no ``O`` record, and the session merges nothing (a line at
every step: 3.3x -> 2.2x python's CPU, docs/performance.md). Everything else about the
streams is the same: the bytes, their order, the flushes.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys

import pytest
from helpers import ROOT

from asyncplay.child.output import _Raw
from asyncplay.runner.core import SessionCore
from asyncplay.runner.spec import RunSpec

PROGRAM = """\
import asyncio

async def worker(name):
    for i in range(3):
        print(name, i)
        await asyncio.sleep(0)

async def main():
    await asyncio.gather(*(asyncio.create_task(worker(n), name=n) for n in ("a", "b")))

asyncio.run(main())
"""


def test_the_raw_layer_keeps_no_copy_when_told() -> None:
    r, w = os.pipe()
    try:
        kept: list = []
        _Raw(w, 1, kept, None).write(b"kept\n")
        assert kept == [(1, b"kept\n")]
        none: list = []
        raw = _Raw(w, 1, none, None, copy=False)
        assert raw.write(b"not kept\n") == 9
        assert none == [] and raw.tell() == 9
        assert os.read(r, 100) == b"kept\nnot kept\n"
    finally:
        os.close(r)
        os.close(w)


def _run(spec: RunSpec, merge: bool) -> tuple[list[dict], dict[str, bytes]]:
    """Run ``spec`` to its end; ``merge``: the session attributes what arrives whatever the
    spec told the child (so that a child which sent records anyway is seen)."""
    core = SessionCore(spec, control=False)
    core.spawn()
    core.spec = RunSpec(path=spec.path, cwd=spec.cwd, sandbox="none", output_records=merge)
    events: list[dict] = []
    raw = {"stdout": b"", "stderr": b""}
    sel = selectors.DefaultSelector()
    try:
        fds = core.fds()
        for fd, name in fds.items():
            sel.register(fd, selectors.EVENT_READ, name)
        open_fds = set(fds)
        while not core.drained_enough(len(open_fds)):
            core.poll_exit()
            for key, _mask in sel.select(0.05):
                evs, data, eof = core.on_readable(key.fd, key.data)
                events += evs
                if key.data in raw:
                    raw[key.data] += data
                if eof:
                    sel.unregister(key.fd)
                    open_fds.discard(key.fd)
            events += core.tick()
        events += core.finish()
    finally:
        sel.close()
        if not core.finished:
            core.kill("stopped")
            core.cleanup()
        for f in (core.proc.stdout, core.proc.stderr):
            if f is not None:
                f.close()
    return events, raw


@pytest.mark.parametrize("told", [True, False], ids=["records", "no records"])
def test_the_child_sends_records_only_when_asked(tmp_path, told: bool) -> None:
    """Told not to, the child sends no ``O`` record: a session that merges all the same
    finds every byte and attributes none; told to, every line is its task's."""
    (tmp_path / "p.py").write_text(PROGRAM)
    spec = RunSpec(path="p.py", cwd=str(tmp_path), sandbox="none", output_records=told)
    events, raw = _run(spec, merge=True)
    want = "".join(f"{n} {i}\n" for i in range(3) for n in ("a", "b"))
    assert raw["stdout"].decode() == want
    out = [e for e in events if e["event"] == "output" and e["stream"] == "stdout"]
    assert "".join(e["text"] for e in out) == want
    tasks = {e["task"] for e in out}
    if told:
        assert None not in tasks and len(tasks) == 2
    else:
        assert tasks == {None}


def test_a_session_not_asked_to_merges_nothing(tmp_path) -> None:
    (tmp_path / "p.py").write_text(PROGRAM)
    spec = RunSpec(path="p.py", cwd=str(tmp_path), sandbox="none", output_records=False)
    events, raw = _run(spec, merge=False)
    assert raw["stdout"].decode().count("\n") == 6
    assert not [e for e in events if e["event"] == "output"]
    assert spec.child_spec(3)["output_records"] is False
    assert "output_records" not in RunSpec(path="p.py").child_spec(3)


@pytest.mark.parametrize("option", [None, "--json", "--record"])
def test_asyncplay_run_asks_for_records_only_for_json_and_record(tmp_path, option) -> None:
    """The same bytes pass through either way; --json's output events (and a recording's)
    are their tasks'."""
    (tmp_path / "p.py").write_text(PROGRAM)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = [] if option is None else [option] if option == "--json" else [option, "rec.jsonl"]
    run = subprocess.run(
        [sys.executable, "-m", "asyncplay", "run", "--sandbox", "none", "--quiet", *args, "p.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    want = "".join(f"{n} {i}\n" for i in range(3) for n in ("a", "b"))
    if option == "--json":
        lines = [json.loads(line) for line in run.stdout.decode().splitlines()]
    else:
        assert run.stdout.decode() == want
        if option is None:
            return
        lines = [json.loads(line) for line in (tmp_path / "rec.jsonl").read_text().splitlines()]
    out = [e for e in lines if e.get("event") == "output"]
    assert "".join(e["text"] for e in out) == want
    assert None not in {e["task"] for e in out}


@pytest.mark.parametrize(
    ("args", "asked"),
    [([], False), (["--json"], True), (["--record", "r.jsonl"], True), (["--timeline"], False)],
)
def test_the_command_line_asks_for_records_only_for_json_and_record(
    tmp_path, monkeypatch, args, asked
) -> None:
    from asyncplay import cli
    from asyncplay.cli import run as run_mod

    (tmp_path / "p.py").write_text("pass\n")
    monkeypatch.chdir(tmp_path)
    specs: list[RunSpec] = []
    monkeypatch.setattr(run_mod, "_run_headless", lambda spec, ns: specs.append(spec) or 0)
    assert cli.main(["run", "--sandbox", "none", *args, "p.py"]) == 0
    assert [s.output_records for s in specs] == [asked]


COUNTING = """\
import asyncio, sys

raw = sys.stdout.buffer.raw
writes = []
real = raw.write
raw.write = lambda b: writes.append(len(b)) or real(b)  # (the raw layer's own is per object)

async def main():
    for i in range(200):
        print("line", i)
        await asyncio.sleep(0)
    sys.stderr.write(f"{len(writes)} writes\\n")

asyncio.run(main())
"""


def test_without_records_a_printing_step_costs_no_write_of_its_own(tmp_path, monkeypatch) -> None:
    """With records, each step that printed is flushed (its bytes for its record); without,
    the buffer fills as under python and goes out at the loop's waits, the flusher's period
    (FLUSH_EVERY), stderr's writes and the end: 200 steps printing a line, 200 writes
    against a few (each was a third of such a step's cost)."""
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)  # (-u: a write per print anyway)
    (tmp_path / "p.py").write_text(COUNTING)
    counts = {}
    for told in (True, False):
        spec = RunSpec(path="p.py", cwd=str(tmp_path), sandbox="none", output_records=told)
        _events, raw = _run(spec, merge=told)
        assert raw["stdout"].decode() == "".join(f"line {i}\n" for i in range(200))
        counts[told] = int(raw["stderr"].decode().split()[0])
    assert counts[True] >= 200
    assert counts[False] < 50  # (the flusher's period may flush a few under load)
