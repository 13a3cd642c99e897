"""--trace: Chrome Trace Event format, checked against the format's rules."""

from __future__ import annotations

import json
import os

import pytest
from helpers import asyncplay
from streams import Stream, gather_run

from asyncplay.model import build
from asyncplay.views import chrome_trace as trace

NUM = (int, float)
# Required keys and their types per phase (Trace Event Format, "JSON Object Format").
REQUIRED = {
    "X": {"name": str, "ph": str, "ts": NUM, "dur": NUM, "pid": int, "tid": int},
    "i": {"name": str, "ph": str, "ts": NUM, "pid": int, "s": str},
    "M": {"name": str, "ph": str, "pid": int, "args": dict},
}
METADATA = {"process_name", "thread_name", "thread_sort_index", "process_sort_index"}


def validate(doc: dict) -> list[dict]:
    """Every rule the viewers rely on; returns the events."""
    assert isinstance(doc, dict) and isinstance(doc["traceEvents"], list)
    assert doc.get("displayTimeUnit", "ms") in ("ms", "ns")
    last: dict[tuple, float] = {}
    busy_until: dict[tuple, float] = {}
    for ev in doc["traceEvents"]:
        ph = ev["ph"]
        assert ph in REQUIRED, ev
        for key, kind in REQUIRED[ph].items():
            assert isinstance(ev.get(key), kind), (key, ev)
        if "args" in ev:
            assert isinstance(ev["args"], dict)
        if ph == "M":
            assert ev["name"] in METADATA
            if ev["name"] == "thread_name":
                assert isinstance(ev["args"]["name"], str) and isinstance(ev["tid"], int)
            continue
        if ph == "i":
            assert ev["s"] in ("g", "p", "t")
            if ev["s"] == "t":
                assert isinstance(ev.get("tid"), int)
        track = (ev["pid"], ev.get("tid"))
        assert ev["ts"] >= last.get(track, float("-inf")), f"ts goes back on {track}: {ev}"
        last[track] = ev["ts"]
        if ph == "X":
            assert ev["dur"] >= 0
            assert ev["ts"] >= busy_until.get(track, float("-inf")), f"overlap: {ev}"
            busy_until[track] = ev["ts"] + ev["dur"]
    return doc["traceEvents"]


def _roundtrip(model) -> dict:  # noqa: ANN001
    return json.loads(json.dumps(trace.build(model)))


def test_gather_trace_tracks_steps_and_names() -> None:
    events = validate(_roundtrip(build(gather_run())))
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert names == {
        1: "Task-1 (main)",
        2: "worker-A (worker)",
        3: "worker-B (worker)",
        4: "worker-C (worker)",
    }
    steps = [e for e in events if e["ph"] == "X" and e["tid"] == 3]
    assert [v for s in steps for v in (s["ts"], s["dur"])] == pytest.approx(
        [3000, 100, 3003000, 100]
    )
    assert steps[0]["args"]["line"] == 22 and steps[0]["args"]["awaiting"] == "sleep(3)"
    assert steps[1]["args"]["resumed_at"] == "x.py:22"
    ends = [e for e in events if e["ph"] == "i" and e["tid"] == 3]
    assert [e["name"] for e in ends] == ["created", "done"]


def test_warnings_cancel_and_failure_are_instants() -> None:
    s = Stream().task(1, 0.0, "main").task(2, 0.0, "victim").task(3, 0.0, "bad")
    s.step(1, 0.0, 0.001, "sleep(1)", 3).step(2, 0.1, 0.002, "sleep(9)", 4)
    s.events.append(
        {"event": "cancel_source", "t": 0.5, "id": 2, "cause": "cancel", "by": 1,
         "file": "/p/x.py", "line": 12}
    )  # fmt: skip
    s.done(2, 0.5, "cancelled").step(3, 0.2, 0.001).done(3, 0.2, "failed", "ValueError")
    s.warn("slow_step", 0.3, task=1, duration=0.2).warn("loop_error", 0.4)
    events = validate(_roundtrip(build(s.end(1.0))))
    by_name = {e["name"]: e for e in events if e["ph"] == "i"}
    assert by_name["cancelled"]["args"]["cancel_source"]["by"] == 1
    assert by_name["failed: ValueError"]["args"]["message"] == "boom"
    assert by_name["warning: slow_step"]["s"] == "t" and by_name["warning: slow_step"]["tid"] == 1
    assert by_name["warning: loop_error"]["s"] == "g"


def test_merged_spans_say_how_many_steps(monkeypatch) -> None:
    from asyncplay import model_steps

    monkeypatch.setattr(model_steps, "MAX_SPANS_PER_TASK", 8)
    s = Stream().task(1, 0.0, "spin")
    for i in range(40):
        s.step(1, i * 0.01, 0.004, "sleep(0)", 3)
    events = validate(_roundtrip(build(s.end(1.0))))
    xs = [e for e in events if e["ph"] == "X"]
    assert 4 <= len(xs) < 8 and sum(e["args"].get("steps", 1) for e in xs) == 40
    assert sum(e["args"].get("busy_us", e["dur"]) for e in xs) == pytest.approx(40 * 4000)


def test_overlapping_rounding_never_goes_backwards() -> None:
    s = Stream().task(1, 0.0, "t")
    s.step(1, 0.1, 0.0000015, "x", 1).step(1, 0.1000014, 0.000001, "x", 1)  # 0.1 us overlap
    validate(_roundtrip(build(s.end(1.0))))


def test_cli_trace_real_run(tmp_path) -> None:
    r = asyncplay("run", "--quiet", "--trace", "out.json", "chain", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    events = validate(json.loads((tmp_path / "out.json").read_text()))
    main = [e for e in events if e["ph"] == "X" and e["args"].get("awaiting") == "sleep(0.5)"]
    assert main and main[0]["args"]["line"] > 0  # the line of the await, in args


def test_unwritable_trace_path_fails_before_the_run(tmp_path) -> None:
    (tmp_path / "p.py").write_text("open('ran', 'w').write('yes')\n")
    target = tmp_path / "no" / "such" / "dir" / "t.json"
    r = asyncplay("run", "--trace", str(target), "p.py", cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("asyncplay: cannot write the trace to")
    assert not (tmp_path / "ran").exists()  # checked before the program started
    if os.geteuid() != 0:  # root writes anywhere
        (tmp_path / "ro").mkdir(mode=0o500)
        r = asyncplay("run", "--trace", "ro/t.json", "p.py", cwd=tmp_path)
        assert r.returncode == 2 and b"Permission denied" in r.stderr
