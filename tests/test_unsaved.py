"""Unsaved work kept per file, and the locks that keep two playgrounds apart."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from asyncplay import storage, unsaved
from asyncplay.storage import Autosave


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("ASYNCPLAY_HOME", str(path))
    return path


def test_keys_follow_the_real_path_and_tell_same_names_apart(tmp_path: Path, home) -> None:
    for folder in ("a", "b", "c"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "main.py").write_text("print()\n")
    (tmp_path / "link.py").symlink_to(tmp_path / "a" / "main.py")
    keys = {unsaved.key_of(Autosave("", path=str(tmp_path / f / "main.py"))) for f in "abc"}
    assert len(keys) == 3
    assert unsaved.key_of(Autosave("", path=str(tmp_path / "link.py"))) == unsaved.key_of(
        Autosave("", path=str(tmp_path / "a" / "main.py"))
    )
    assert unsaved.key_of(Autosave("", snippet="gather")) == "snippet:gather"
    assert unsaved.key_of(Autosave("", copy_id="x", copy_of="/p")) == "copy:x"


def test_three_main_py_keep_three_entries(tmp_path: Path, home) -> None:
    buffers = []
    for folder in ("a", "b", "c"):
        path = tmp_path / folder / "main.py"
        buffer = Autosave(f"edited {folder}\n", path=str(path), dirty=True)
        unsaved.save_entry(buffer, "print()\n")
        buffers.append(buffer)
    entries = {e.key: e for e in unsaved.list_entries()}
    assert len(entries) == 3
    for buffer in buffers:
        entry = unsaved.load_entry(unsaved.key_of(buffer))
        assert entry is not None and entry.buffer.text == buffer.text
        assert (entry.first_line, entry.first_text) == (1, buffer.text.strip())
    folder = unsaved.store_dir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.glob("*.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    unsaved.remove_entry(unsaved.key_of(buffers[0]))
    assert len(unsaved.list_entries()) == 2


def test_first_change() -> None:
    assert unsaved.first_change("a\nb\nc\n", "a\nx\nc\n") == (2, "b")
    assert unsaved.first_change("a\nb\n", "a\nb\nc\n") == (3, "")
    assert unsaved.first_change("a\nb\nnew\n", "a\nb\n") == (3, "new")
    assert unsaved.first_change("x\n", None) == (1, "x")
    # a blank line added, then the typed one: the typed one tells the buffer apart
    assert unsaved.first_change("import asyncio\n\n# mine\n", "import asyncio\n") == (3, "# mine")
    assert unsaved.first_change("a\n\n", "a\n") == (2, "")  # only a blank line added


def test_a_damaged_entry_is_quarantined_with_a_notice(home) -> None:
    folder = unsaved.store_dir()
    (folder / "0123.json").write_text("{broken")
    storage.take_notices()
    assert unsaved.list_entries() == []
    (bad,) = folder.glob("0123.json.bad-*")
    assert bad.read_text() == "{broken"
    assert any(str(bad) in n for n in storage.take_notices())


def test_lock_is_ours_then_released(home) -> None:
    key = "file:/x/lab1.py"
    assert unsaved.acquire(key) is None
    assert unsaved.acquire(key) is None  # taking it again is fine
    assert unsaved.live_holder(key) is None  # ours does not count
    lock = next(unsaved.store_dir().glob("*.lock"))
    data = json.loads(lock.read_text())
    assert data["host"] == socket.gethostname() and data["pid"] == os.getpid()
    assert unsaved.heartbeat(key)
    unsaved.release(key)
    assert not lock.exists()
    assert not unsaved.heartbeat(key)
    assert [p for p in unsaved.store_dir().iterdir() if p.name.endswith(".tmp")] == []


def _plant(key: str, **fields: object) -> Path:
    """A lock as another playground would have written it."""
    me = unsaved.Holder.me(key)
    data = {**asdict(me), **fields}
    path = unsaved.store_dir() / f"{unsaved._id(key)}.lock"
    path.write_text(json.dumps(data))
    return path


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_same_host_lock_of_a_dead_pid_is_stale(home) -> None:
    key = "file:/x/a.py"
    _plant(key, pid=_dead_pid())
    assert unsaved.live_holder(key) is None
    assert unsaved.acquire(key) is None  # taken over
    assert json.loads(next(unsaved.store_dir().glob("*.lock")).read_text())["pid"] == os.getpid()


def test_same_host_lock_of_a_reused_pid_is_stale(home) -> None:
    key = "file:/x/b.py"
    _plant(key, pid=os.getppid(), start="1")  # alive, but not the process that locked
    assert unsaved.live_holder(key) is None


def test_same_host_lock_of_a_live_process_holds(home) -> None:
    key = "file:/x/c.py"
    parent = os.getppid()
    _plant(key, pid=parent, start=unsaved._start_time(parent))
    holder = unsaved.live_holder(key)
    assert holder is not None and holder.pid == parent
    assert unsaved.acquire(key) == holder
    assert "this machine" in holder.describe()


def test_other_host_lock_holds_until_its_heartbeat_is_old(home) -> None:
    key = "file:/nfs/lab.py"
    lock = _plant(key, host="lab-other", boot="b", pid=1)
    holder = unsaved.live_holder(key)
    assert holder is not None and holder.host == "lab-other"
    assert "host lab-other" in holder.describe()
    old = time.time() - unsaved.STALE_AFTER - 30
    os.utime(lock, (old, old))
    assert unsaved.live_holder(key) is None
    assert unsaved.acquire(key) is None


def test_a_garbage_lock_is_stale(home) -> None:
    key = "file:/x/d.py"
    (unsaved.store_dir() / f"{unsaved._id(key)}.lock").write_text("garbage")
    assert unsaved.acquire(key) is None


HOLD = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from asyncplay import unsaved
print("won" if unsaved.acquire("file:/race.py") is None else "lost", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_two_processes_racing_for_a_lock_one_wins(home, tmp_path: Path) -> None:
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "ASYNCPLAY_HOME": str(home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HOLD, root, "3"], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(4)
    ]
    results = [p.stdout.readline().strip() for p in procs]
    for p in procs:
        p.wait(20)
    assert sorted(results) == ["lost", "lost", "lost", "won"]


def test_discard_also_clears_the_last_buffer_copy(home) -> None:
    buffer = Autosave("mine\n", path="/x/e.py", dirty=True)
    unsaved.save_entry(buffer, "")
    storage.save_autosave(buffer)
    unsaved.discard(unsaved.key_of(buffer))
    assert unsaved.load_entry(unsaved.key_of(buffer)) is None
    last = storage.load_autosave()
    assert last is not None and not last.dirty and "mine" not in last.text


def test_left_over_temp_and_lock_files_of_killed_writers_are_swept(home) -> None:
    folder = unsaved.store_dir()
    old = time.time() - storage.STALE_TEMP_SECONDS - 60
    leftovers = [folder / ".abc.json.x1.tmp", folder / ".abc.vm.12.34.lk.tmp"]
    for path in leftovers:
        path.write_text("{}")
        os.utime(path, (old, old))
    fresh = folder / ".def.json.x2.tmp"  # another playground writing right now
    fresh.write_text("{}")
    unsaved.list_entries()
    assert not any(p.exists() for p in leftovers) and fresh.exists()
