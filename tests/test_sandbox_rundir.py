"""Nothing left behind: the run folders a killed asyncplay leaves (holding the program's
source) are swept at the next start, and only those whose owner is provably dead - never a
live run's, another user's, or anything behind a symlink."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import env

from asyncplay.runner import rundir

DEAD_BOOT = "00000000-0000-0000-0000-000000000000"


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def folder(base: Path, name: str = "a", record: str | None = f"1 {DEAD_BOOT} 1\n") -> Path:
    """A run folder as asyncplay makes it, by default of an owner from another boot."""
    path = base / (rundir.PREFIX + name)
    path.mkdir(mode=0o700)
    (path / "spec.json").write_text('{"source": "secret"}')
    if record is not None:
        (path / rundir.OWNER).write_text(record)
    return path


def runs(base: Path) -> list[str]:
    return sorted(p.name for p in base.iterdir() if p.name.startswith(rundir.PREFIX))


def test_a_run_folder_is_locked_by_its_owner_and_removed_at_the_end(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    made = rundir.make()
    path = Path(made.path)
    assert path.parent == tmp_path and (path.stat().st_mode & 0o777) == 0o700
    pid, boot, start = (path / rundir.OWNER).read_text().split()
    assert int(pid) == os.getpid() and start == rundir._start_time(os.getpid())
    fd = os.open(path / rundir.OWNER, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):  # held for as long as the owner lives
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)
    assert rundir.sweep(str(tmp_path)) == [] and path.exists()  # a live one is never swept
    made.remove()
    assert not path.exists()


def test_dead_owners_folders_are_swept(tmp_path) -> None:
    other_boot = folder(tmp_path, "boot")
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)  # fmt: skip
    gone = folder(tmp_path, "pid", f"{done.stdout.strip()} {rundir._boot_id()} 1\n")
    reused = folder(tmp_path, "reused", f"{os.getpid()} {rundir._boot_id()} 1\n")  # not our start
    removed = rundir.sweep(str(tmp_path))
    assert sorted(removed) == sorted(map(str, (other_boot, gone, reused)))
    assert runs(tmp_path) == []


def test_a_folder_whose_lock_is_held_is_kept(tmp_path) -> None:
    """A live owner the record cannot name (another PID namespace sharing /tmp) holds the
    lock: the folder stays, whatever the record says."""
    path = folder(tmp_path)
    fd = os.open(path / rundir.OWNER, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert rundir.sweep(str(tmp_path)) == [] and path.exists()
    finally:
        os.close(fd)
    assert rundir.sweep(str(tmp_path)) == [str(path)]


def test_a_live_owner_keeps_its_folder_even_unlocked(tmp_path) -> None:
    me = f"{os.getpid()} {rundir._boot_id()} {rundir._start_time(os.getpid())}\n"
    path = folder(tmp_path, record=me)
    assert rundir.sweep(str(tmp_path)) == [] and path.exists()


def test_folders_without_a_record(tmp_path) -> None:
    """An older asyncplay's folder, or one killed before its record: only an empty one, an
    hour old, goes."""
    full = folder(tmp_path, "full", record=None)
    empty_new = tmp_path / (rundir.PREFIX + "new")
    empty_old = tmp_path / (rundir.PREFIX + "old")
    empty_new.mkdir()
    empty_old.mkdir()
    an_hour_ago = time.time() - rundir.EMPTY_GRACE - 60
    for path in (full, empty_old):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert rundir.sweep(str(tmp_path)) == [str(empty_old)]
    assert full.exists() and empty_new.exists()
    broken = folder(tmp_path, "broken", record="not a record\n")
    assert rundir.sweep(str(tmp_path)) == [] and broken.exists()


def test_symlinks_are_never_followed(tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("precious")
    target = folder(outside, "target")  # a dead owner's folder, but reached by a link
    base = tmp_path / "tmp"
    base.mkdir()
    (base / (rundir.PREFIX + "link")).symlink_to(target)
    dead = folder(base, "dead")
    (dead / "escape").symlink_to(outside)  # inside a dead folder: removed as a link only
    record_link = folder(base, "record-link", record=None)
    (record_link / rundir.OWNER).symlink_to(target / rundir.OWNER)
    assert rundir.sweep(str(base)) == [str(dead)]
    assert target.exists() and (outside / "keep.txt").read_text() == "precious"
    assert record_link.exists() and (base / (rundir.PREFIX + "link")).is_symlink()


def test_another_users_folders_are_never_touched(tmp_path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making another user's folder needs root")
    path = folder(tmp_path)
    os.chown(path, 65534, 65534)
    assert rundir.sweep(str(tmp_path)) == [] and path.exists()


def _start(tmp_path: Path, program: str, layer: str) -> tuple[subprocess.Popen, Path]:
    (tmp_path / "p.py").write_text(program)
    out = tmp_path / f"out-{time.monotonic_ns()}.txt"
    e = env()
    e["TMPDIR"] = str(tmp_path / "tmp")
    app = subprocess.Popen(
        [sys.executable, "-m", "asyncplay", "run", "--quiet", "--sandbox", layer, "p.py"],
        cwd=tmp_path, env=e, stdin=subprocess.DEVNULL, stdout=out.open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    return app, out


SLEEPER = "import time\nprint('up', flush=True)\ntime.sleep(60)\n"


@pytest.mark.parametrize("layer", ["auto", "rlimit"])
def test_a_sigkilled_asyncplays_folder_is_swept_by_the_next_start(tmp_path, layer) -> None:
    base = tmp_path / "tmp"
    base.mkdir()
    live, live_out = _start(tmp_path, SLEEPER, layer)  # a run that goes on meanwhile
    killed, out = _start(tmp_path, SLEEPER, layer)
    try:
        wait_until(lambda: b"up" in out.read_bytes() and b"up" in live_out.read_bytes())
        assert len(runs(base)) == 2
        killed.send_signal(signal.SIGKILL)  # no clean-up possible
        killed.wait()
        wait_until(lambda: len(runs(base)) == 2)  # its folder (with the source) stays
        (tmp_path / "p.py").write_text("print('next')\n")
        e = env()
        e["TMPDIR"] = str(base)
        nxt = subprocess.run([sys.executable, "-m", "asyncplay", "run", "--quiet", "p.py"],
                             cwd=tmp_path, env=e, capture_output=True, timeout=60)  # fmt: skip
        assert nxt.stdout == b"next\n", nxt.stderr
        left = runs(base)
        assert len(left) == 1  # the live run's folder, only
        assert (base / left[0] / rundir.OWNER).read_text().split()[0] == str(live.pid)
    finally:
        live.send_signal(signal.SIGTERM)  # a clean end removes its own folder
        live.wait(timeout=30)
        if killed.poll() is None:
            killed.kill()
            killed.wait()
    assert runs(base) == []


def test_the_editors_start_sweeps_too(tmp_path) -> None:
    """The playground sweeps when it starts, before any run (here it stops at once: no
    terminal)."""
    base = tmp_path / "tmp"
    base.mkdir()
    dead = folder(base)
    e = env()
    e["TMPDIR"] = str(base)
    r = subprocess.run([sys.executable, "-m", "asyncplay", "p.py"], cwd=tmp_path, env=e,
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=60)  # fmt: skip
    assert b"needs a terminal" in r.stderr
    assert not dead.exists()


def test_a_tree_deeper_than_the_recursion_limit_is_removed(tmp_path) -> None:
    """A program can nest folders in its run folder deeper than Python's recursion limit:
    the removal is a loop, not recursion (no RecursionError out of asyncplay), and removes
    what it holds at every level, files, links and folders closed to us' siblings."""
    base = tmp_path / "tmp"
    base.mkdir()
    dead = folder(base, "deep")
    depth = sys.getrecursionlimit() + 100
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < depth + 100:  # one descriptor a level while it works
        if hard != resource.RLIM_INFINITY and hard < depth + 100:
            pytest.skip(f"{hard} file descriptors at most here")
        resource.setrlimit(resource.RLIMIT_NOFILE, (depth + 100, hard))
        request_restore = True
    else:
        request_restore = False
    fd = os.open(dead, os.O_RDONLY | os.O_DIRECTORY)
    try:  # made through descriptors: a path this deep is past PATH_MAX
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            with open(os.open("f", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "w") as f:
                f.write("x")
            os.symlink(str(tmp_path), "link", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    try:
        assert rundir.sweep(str(base)) == [str(dead)]
    finally:
        if request_restore:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert not dead.exists() and tmp_path.exists()
