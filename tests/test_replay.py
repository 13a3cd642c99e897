"""--record and replay: the same summary, views and JSON as the live run; bad files refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import asyncplay, env, one_line
from streams import gather_run

from asyncplay import exits
from asyncplay.protocol import PROTOCOL_VERSION
from asyncplay.views.recording import FORMAT, RecordingError, read


@pytest.mark.parametrize("snippet", ["chain", "queues", "taskgroup"])
def test_replay_shows_what_the_live_run_showed(tmp_path, snippet) -> None:
    live = asyncplay("run", "--record", "r.jsonl", "--graph", "--timeline", snippet, cwd=tmp_path)
    assert live.returncode == 0, live.stderr
    again = asyncplay("replay", "--graph", "--timeline", "r.jsonl", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == live.stdout  # the program's output, from its output events
    assert again.stderr == live.stderr  # summary, graph, the closing sentence
    assert b"-- tasks (" in live.stderr.replace("─".encode(), b"-")


def test_replay_json_is_the_live_json(tmp_path) -> None:
    live = asyncplay(
        "run", "--json", "--record", "r.jsonl", "--sort", "steps", "chain", cwd=tmp_path
    )
    again = asyncplay("replay", "--json", "--sort", "steps", "r.jsonl", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == live.stdout
    assert [e["event"] for e in again.events][-2:] == ["summary", "run_end"]
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    head = json.loads(lines[0])
    assert head["asyncplay_recording"] == FORMAT and head["protocol"] == PROTOCOL_VERSION
    assert head["cwd"] == str(tmp_path) and head["target"].endswith("chain.py")
    assert [json.loads(x) for x in lines[1:]] == [e for e in live.events if e["event"] != "summary"]


def test_recordings_of_protocols_1_to_3_replay(tmp_path) -> None:
    """Protocol 4 changed the wire (an object's state is a binary record), not the events:
    a recording of 1, 2 or 3 (the same events: ``primitive_state`` and the rest) replays
    as one of 4 does."""
    live = asyncplay("run", "--record", "r.jsonl", "queues", cwd=tmp_path)
    assert live.returncode == 0, live.stderr
    lines = (tmp_path / "r.jsonl").read_text().splitlines(keepends=True)
    assert '"primitive_state"' in "".join(lines)
    assert json.loads(lines[0])["protocol"] == PROTOCOL_VERSION == 4
    # (against the replay of 4, not the live run: a live run prints a warning as it comes)
    now = asyncplay("replay", "r.jsonl", cwd=tmp_path)
    assert now.returncode == 0, now.stderr
    assert b"locks, semaphores" in now.stderr or b"queues (" in now.stderr
    for version in (1, 2, 3):
        head = {**json.loads(lines[0]), "protocol": version}
        (tmp_path / "old.jsonl").write_text(json.dumps(head) + "\n" + "".join(lines[1:]))
        again = asyncplay("replay", "old.jsonl", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert again.stderr == now.stderr and again.stdout == now.stdout == live.stdout


def test_replay_views_and_trace(tmp_path) -> None:
    _write(tmp_path / "g.jsonl", gather_run())
    r = asyncplay("replay", "--timeline", "--quiet", "--trace", "t.json", "g.jsonl", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert "── timeline" in err and "worker-C" in err and "── tasks" not in err
    assert r.stdout == b"worker-A: sleeping 2 s\n"
    doc = json.loads((tmp_path / "t.json").read_text())
    assert any(e["ph"] == "X" and e["tid"] == 3 for e in doc["traceEvents"])


def _write(path, events: list[dict], header: dict | None = None) -> None:  # noqa: ANN001
    head = header if header is not None else {"asyncplay_recording": 1, "protocol": 1}
    path.write_text("".join(json.dumps(e) + "\n" for e in [head, *events]))


@pytest.mark.parametrize(
    "content, status, needle",
    [
        (b"", exits.RECORDING, "is not an asyncplay recording"),
        (b"print('hi')\n", exits.RECORDING, "is not an asyncplay recording"),
        (b'{"asyncplay_recording": 2, "protocol": 1}\n', exits.RECORDING_VERSION, "format 2"),
        (b'{"asyncplay_recording": 1, "protocol": 5}\n', exits.RECORDING_VERSION, "version 5"),
        (b'{"asyncplay_recording": 1, "protocol": 0}\n', exits.RECORDING_VERSION, "version 0"),
        (b'{"asyncplay_recording": 1, "protocol": 1}\n', exits.RECORDING, "holds no run"),
        (
            b'{"asyncplay_recording": 1, "protocol": 1}\n{"event": "run_start", "t": 0}\n'
            b"garbage\n"
            b'{"event": "run_end", "t": 1}\n',
            exits.RECORDING,
            "line 3 is not an event",
        ),
        (
            b'{"asyncplay_recording": 1, "protocol": 1}\n{"event": "run_start", "t": 0}\n'
            b'{"event": "task_created", "t": 0, "id": 1}\n'
            b'{"event": "steps", "t": 1, "steps": [[1, "a"]]}\n{"event": "run_end", "t": 1}\n',
            exits.RECORDING,
            "line 4 is a 'steps' event with a malformed step",
        ),
        (
            b'{"asyncplay_recording": 1, "protocol": 1}\n{"event": "run_start", "t": 0}\n'
            b'{"event": "task_created", "t": 0, "id": 1, "name": 5}\n',
            exits.RECORDING,
            "line 3 is a 'task_created' event with a bad 'name'",
        ),
        (
            b'{"asyncplay_recording": 1, "protocol": 1}\n{"event": "run_start", "t": "x"}\n',
            exits.RECORDING,
            "a time that is not a number",
        ),
        (
            b'{"asyncplay_recording": 1, "protocol": 1}\n{"event": "run_start", "t": NaN}\n',
            exits.RECORDING,
            "line 2 holds a number out of range (NaN)",
        ),
        (
            b'{"asyncplay_recording": 1, "protocol": 1}\n{"event": "run_start", "t": 0}\n'
            b'{"event": "steps", "t": 1, "steps": [[1, Infinity, 0.1, null, null, 0]]}\n',
            exits.RECORDING,
            "line 3 holds a number out of range (Infinity)",
        ),
        (
            b'{"asyncplay_recording": 1, "protocol": 1}\n{"event": "run_start", "t": 0}\n'
            b'{"event": "steps", "t": 1, "steps": [[1, 1e300, 0.1, null, null, 0]]}\n',
            exits.RECORDING,
            "line 3 is a 'steps' event with a malformed step",
        ),
        (
            b'{"asyncplay_recording": 1, "protocol": 1}\n{"event": "run_start", "t": 0}\n'
            b'{"event": "warning", "t": 1, "kind": "slow_step", "message": "m", "duration": 1e400}\n',
            exits.RECORDING,
            "line 3 holds a number out of range (1e400)",
        ),
    ],
)
def test_bad_recordings_are_one_line_and_a_distinct_status(tmp_path, content, status, needle):
    (tmp_path / "r.jsonl").write_bytes(content)
    r = asyncplay("replay", "r.jsonl", cwd=tmp_path)
    assert r.returncode == status, r.stderr
    line = one_line(r.stderr)
    assert line.startswith("asyncplay: ") and needle in line


def test_a_cut_off_recording_shows_what_it_holds(tmp_path) -> None:
    _write(tmp_path / "r.jsonl", gather_run())
    data = (tmp_path / "r.jsonl").read_bytes()
    (tmp_path / "cut.jsonl").write_bytes(data[: data.rindex(b'{"event": "task_done"') + 20])
    r = asyncplay("replay", "cut.jsonl", cwd=tmp_path)
    assert r.returncode == exits.RECORDING
    err = r.stderr.decode()
    assert "worker-B" in err and "waiting" in err  # the summary of what it holds
    assert err.strip().splitlines()[-1].startswith("asyncplay: cut.jsonl is cut short")
    assert err.count("asyncplay:") == 1, err  # one closing line, as docs/cli.md says
    rec = read(str(tmp_path / "cut.jsonl"))
    assert rec.truncated == "its last line (23) is cut off" and len(rec.events) == 21
    (tmp_path / "x.jsonl").write_text("{}\n")
    with pytest.raises(RecordingError):
        read(str(tmp_path / "x.jsonl"))


def test_missing_file_and_directory_are_usage_errors(tmp_path) -> None:
    r = asyncplay("replay", "nope.jsonl", cwd=tmp_path)
    assert r.returncode == 2 and "cannot read nope.jsonl" in one_line(r.stderr)
    r = asyncplay("replay", ".", cwd=tmp_path)
    assert r.returncode == 2 and "is a directory" in one_line(r.stderr)


def test_unwritable_record_path_fails_before_the_run(tmp_path) -> None:
    (tmp_path / "p.py").write_text("open('ran', 'w').write('yes')\n")
    r = asyncplay("run", "--record", "no/dir/r.jsonl", "p.py", cwd=tmp_path)
    assert r.returncode == 2
    assert "cannot write the recording to no/dir/r.jsonl" in one_line(r.stderr)
    assert not (tmp_path / "ran").exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_write_failing_late_keeps_the_run_result(tmp_path) -> None:
    (tmp_path / "p.py").write_text("import sys\nprint('done')\nsys.exit(3)\n")
    r = asyncplay("run", "--record", "/dev/full", "--trace", "/dev/full", "p.py", cwd=tmp_path)
    assert r.returncode == 3 and r.stdout == b"done\n"
    err = r.stderr.decode()
    assert "the program exited with status 3" in err
    assert "could not write the recording /dev/full" in err
    assert "could not write the trace /dev/full" in err


def test_recorder_writes_in_chunks_in_order(tmp_path, monkeypatch) -> None:
    from asyncplay.views import recording

    monkeypatch.setattr(recording, "CHUNK", 3)
    events = gather_run()
    rec = recording.Recorder(str(tmp_path / "r.jsonl"), {"cwd": "/p"})
    for ev in events:
        rec.write(ev)
        assert len(rec._pending) < 3  # encoded a chunk at a time, not all at the end
    rec.close()
    assert rec.error is None
    back = read(str(tmp_path / "r.jsonl"))
    assert back.events == events and back.header["cwd"] == "/p" and back.truncated is None


def test_recorder_batches_by_steps_and_time(tmp_path, monkeypatch) -> None:
    """A tight loop sends few events of thousands of steps each: the batch is weighed in
    steps, so what waits in memory stays bounded whatever the run's length."""
    from asyncplay.views import recording

    monkeypatch.setattr(recording, "CHUNK", 5_000)
    step = [1, 0.5, 1e-06, None, None, 0]
    events = [{"event": "run_start", "t": 0.0}]
    events += [{"event": "steps", "t": 0.1 * i, "steps": [step] * 2_000} for i in range(10)]
    rec = recording.Recorder(str(tmp_path / "r.jsonl"), {})
    for ev in events:
        rec.write(ev)
        assert sum(len(e.get("steps", ())) for e in rec._pending) < 5_000
    rec.close()
    back = read(str(tmp_path / "r.jsonl"))
    assert len(back.events) == 11 and back.events[1]["steps"][0] == step
    monkeypatch.setattr(recording, "INTERVAL", 0.0)  # a slow trickle is written as it comes
    rec = recording.Recorder(str(tmp_path / "s.jsonl"), {})
    rec.write({"event": "output", "t": 2.0, "text": "x", "stream": "stdout", "task": None})
    assert rec._pending == []
    rec.close()


def test_recorder_stops_at_its_size_limit(tmp_path) -> None:
    from asyncplay.views import recording

    events = gather_run()
    path = tmp_path / "r.jsonl"
    rec = recording.Recorder(str(path), {}, limit_mib=1500 / 2**20)
    for ev in events:
        rec.write(ev)
    rec.close()
    assert rec.error is None and "stopped at its size limit" in (rec.cut or "")
    lines = path.read_bytes().splitlines(keepends=True)
    assert sum(map(len, lines[:-1])) <= 1500  # the cut line itself comes on top
    assert json.loads(lines[-1])["event"] == recording.CUT
    back = read(str(path))
    assert "size limit" in (back.truncated or "") and 0 < len(back.events) < len(events)
    assert back.events == events[: len(back.events)]


def test_a_capped_recording_keeps_the_run_going(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "import asyncio\n"
        "async def main():\n"
        "    for _ in range(30_000):\n"
        "        await asyncio.sleep(0)\n"
        "    print('end')\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "--record-limit", "0.1", "--record", "r.jsonl", "p.py", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == b"end\n", r.stderr
    err = r.stderr.decode()
    assert err.count("stopped at its size limit (0.1 MiB, --record-limit)") == 1, err
    assert (tmp_path / "r.jsonl").stat().st_size < 0.1 * 2**20 + 200
    again = asyncplay("replay", "r.jsonl", cwd=tmp_path)
    assert again.returncode == exits.RECORDING
    closing = [x for x in again.stderr.decode().splitlines() if x.startswith("asyncplay:")]
    assert len(closing) == 1 and "size limit" in closing[0], closing


def test_recording_a_long_run_keeps_asyncplay_small(tmp_path) -> None:
    """A yield loop makes ~100 MB of events a second: they must not pile up in memory."""
    (tmp_path / "p.py").write_text(
        "import asyncio\nasync def main():\n    while True:\n        await asyncio.sleep(0)\n"
        "asyncio.run(main())\n"
    )
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run([sys.executable, '-m', 'asyncplay', 'run', '--quiet', '--timeout', '3', "
        "'--record', 'r.jsonl', 'p.py'])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env(), capture_output=True, timeout=120
    )
    maxrss_mib = int(p.stdout) / 1024
    assert maxrss_mib < 120, f"{maxrss_mib:.0f} MiB"  # unbatched: 300 MiB and more


def test_the_record_limit_default_is_the_recorders() -> None:
    from asyncplay.cli import args as cli
    from asyncplay.views import recording

    assert cli.RUN_OPTIONS["--record-limit"][2] == recording.LIMIT_MIB
    assert b"(default: 256)" in asyncplay("run", "--help").stdout


PROGRAM = "import asyncio\n\n\nasync def main():\n    print('héllo')\n\n\nasyncio.run(main())\n"


def _header(path) -> dict:  # noqa: ANN001
    with open(path, encoding="utf-8") as f:
        return json.loads(f.readline())


def test_the_recording_carries_the_program_source(tmp_path) -> None:
    """A replay can show the program: its text as it ran, under the path its events use."""
    (tmp_path / "p.py").write_text(PROGRAM, encoding="utf-8")
    r = asyncplay("run", "--quiet", "--record", "r.jsonl", "p.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    head = _header(tmp_path / "r.jsonl")
    assert head["source"] == PROGRAM and "source_note" not in head
    assert head["source_path"] == str(tmp_path / "p.py")
    files = {e.get("file") for e in read(str(tmp_path / "r.jsonl")).events if e.get("file")}
    assert head["source_path"] in files  # the editor's gutter marks need this match
    r = asyncplay("run", "--quiet", "--record", "s.jsonl", "-", cwd=tmp_path, stdin=b"print(1)\n")
    head = _header(tmp_path / "s.jsonl")
    assert head["source"] == "print(1)\n" and head["source_path"] == "<stdin>"


def test_a_module_run_records_the_module_file(tmp_path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text(PROGRAM, encoding="utf-8")
    (pkg / "__main__.py").write_text("print('main')\n")
    asyncplay("run", "--quiet", "--record", "m.jsonl", "-m", "pkg.mod", cwd=tmp_path)
    head = _header(tmp_path / "m.jsonl")
    assert head["source"] == PROGRAM and head["source_path"] == str(pkg / "mod.py")
    asyncplay("run", "--quiet", "--record", "p.jsonl", "-m", "pkg", cwd=tmp_path)
    assert _header(tmp_path / "p.jsonl")["source_path"] == str(pkg / "__main__.py")


def test_source_that_cannot_be_kept_is_said_in_a_note(tmp_path) -> None:
    from asyncplay.views.recording import program_source

    big = "x = 1\n" * 10_000  # 60 KB: more than a quarter of a 0.1 MiB cap
    (tmp_path / "big.py").write_text(big)
    keys = program_source("big.py", None, None, str(tmp_path), int(0.1 * 2**20))
    assert "source" not in keys and "bigger than" in keys["source_note"]
    assert keys["source_path"] == str(tmp_path / "big.py")
    assert program_source("big.py", None, None, str(tmp_path), 2**20)["source"] == big
    keys = program_source(None, None, big, str(tmp_path), int(0.1 * 2**20))
    assert "source" not in keys and "bigger than" in keys["source_note"]
    (tmp_path / "latin.py").write_bytes(b"s = '\xe9'\n")
    assert (
        "not UTF-8" in program_source("latin.py", None, None, str(tmp_path), 2**20)["source_note"]
    )
    keys = program_source(None, "no_such_module_here", None, str(tmp_path), 2**20)
    assert keys == {"source_note": "the file of module no_such_module_here was not found"}
    r = asyncplay(
        "run", "--quiet", "--record-limit", "0.1", "--record", "r.jsonl", "big.py", cwd=tmp_path
    )
    head = _header(tmp_path / "r.jsonl")
    assert r.returncode == 0 and "source" not in head and "bigger than" in head["source_note"]
