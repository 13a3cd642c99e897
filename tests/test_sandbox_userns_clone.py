"""The idmapped project folder's user namespace (``sandbox/userns_clone.py``, ``mounts``):
made by a clone of asyncplay's own process, no program started, the mapping exactly the
helper's; and the ``unshare`` helper where the clone way is not to be had.

Root's only (a root asyncplay's runs drop to ``nobody`` and see root's project folder
through an idmapped mount); skipped otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from helpers import env

from asyncplay import sandbox
from asyncplay.sandbox import mounts, process, user, userns_clone

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="a root asyncplay's idmapped mount")

# In a process of its own (a mount namespace of its own): attach the mount handed on (its
# descriptor second) on the folder named first, and print the owner the folder shows there.
SEEN_THROUGH = """
import os, sys
from asyncplay.sandbox import mounts
mounts.private_namespace()
mounts.attach(int(sys.argv[2]), sys.argv[1])
st = os.stat(sys.argv[1])
print(st.st_uid, st.st_gid)
"""


def _owner_through(userns: int, folder: str) -> tuple[int, int]:
    """The owner ``folder`` shows through an idmapped mount of it with ``userns``."""
    mount = mounts.clone(folder, readonly=True, userns_fd=userns)
    try:
        out = subprocess.run(
            [sys.executable, "-c", SEEN_THROUGH, folder, str(mount)],
            pass_fds=(mount,),
            env=env(),
            capture_output=True,
            timeout=60,
            check=True,
        ).stdout
    finally:
        os.close(mount)
    uid, gid = out.split()
    return int(uid), int(gid)


@pytest.fixture
def fresh(monkeypatch):
    """No namespace made or helper started by an earlier test in this process."""
    monkeypatch.setattr(mounts, "_USERNS", {})
    monkeypatch.setattr(mounts, "_PENDING", {})
    monkeypatch.setattr(mounts, "_CLONED", [])
    monkeypatch.setattr(userns_clone, "_BROKEN", [])
    yield
    userns_clone.reap(wait=True)


@as_root
@pytest.mark.parametrize("way", ["clone", "unshare tool", "fork"])
def test_the_namespace_maps_the_folders_owner_to_the_run_user(tmp_path, fresh, monkeypatch, way):
    """Whichever way it is made, the idmapped mount shows root's folder as the run
    user's (and what that user creates there is root's on disk)."""
    if way != "clone":
        monkeypatch.setattr(userns_clone, "usable", lambda: False)
    if way == "fork":
        monkeypatch.setattr(mounts, "_unshare_tool", lambda: None)
    elif way == "unshare tool" and mounts._unshare_tool() is None:
        pytest.skip("util-linux's unshare is not installed")
    who = user.identity()
    assert who is not None and who.uid != 0
    st = os.stat(tmp_path)
    assert (st.st_uid, st.st_gid) == (0, 0)
    fd = mounts.idmap_userns(st.st_uid, st.st_gid, who.uid, who.gid)
    try:
        assert os.readlink(f"/proc/self/fd/{fd}") != os.readlink("/proc/self/ns/user")
        assert _owner_through(fd, str(tmp_path)) == (who.uid, who.gid)
    finally:
        os.close(fd)


@as_root
def test_the_clone_way_starts_no_program_and_leaves_no_process(tmp_path, fresh, monkeypatch):
    """As root the plan's user namespace costs no helper program: nothing is started
    ahead (``prestart``) nor when the plan asks, and the clone is reaped."""

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(process, "start", no_process)
    who = user.identity()
    assert who is not None
    os.chmod(tmp_path, 0o700)  # root's, closed to the run user: it needs the idmapped mount
    user.prestart(str(tmp_path), who)
    assert not mounts._PENDING
    st = os.stat(tmp_path)
    fd = mounts.idmap_userns(st.st_uid, st.st_gid, who.uid, who.gid)
    try:
        assert os.readlink(f"/proc/self/fd/{fd}").startswith("user:[")
        # Asked again (the next run of a playground): the same namespace, nothing new.
        assert mounts.idmap_userns(st.st_uid, st.st_gid, who.uid, who.gid) == fd
    finally:
        os.close(fd)
    mounts.forget_pending()  # (what a command does at its end: the clones reaped)
    assert userns_clone.unreaped() == []


def _exited(pid: int) -> bool:
    """The process ``pid`` has exited (a zombie, not reaped yet)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@as_root
def test_a_playgrounds_next_run_and_the_spawn_reap_the_clone(tmp_path, fresh, monkeypatch):
    """Review: a playground (one process, many runs) never ends like a command, and the
    clone was reaped only at the next clone, which a cached key never makes: it stayed a
    zombie for the playground's life. The same key asked again reaps it, and so does the
    spawn's ``Plan.spawned`` (without waiting: the clone exits at once)."""
    who = user.identity()
    assert who is not None
    os.chmod(tmp_path, 0o700)
    st = os.stat(tmp_path)
    key = (st.st_uid, st.st_gid, who.uid, who.gid)
    reap = userns_clone.reap

    def made() -> int:
        """A namespace by a clone that had not exited when ``make`` reaped (as on a
        loaded machine: its own reap is then too early), left to exit."""
        with monkeypatch.context() as m:
            m.setattr(userns_clone, "reap", lambda wait=False: None)
            fd = mounts.idmap_userns(*key)
        (pid,) = userns_clone.unreaped()
        wait_for(lambda: _exited(pid), timeout=30)
        assert userns_clone.reap is reap
        return fd

    fd = made()
    try:
        assert mounts.idmap_userns(*key) == fd  # the next run's
        assert userns_clone.unreaped() == []
        os.close(fd)
        mounts._USERNS.clear()
        fd = made()
        sandbox.Plan("bwrap").spawned()
        assert userns_clone.unreaped() == []
    finally:
        os.close(fd)


@as_root
def test_the_helper_is_the_fallback_where_clone_fails(tmp_path, fresh, monkeypatch):
    """A ``clone`` refused here (a kernel or libc without it): said once, and the
    ``unshare`` helper makes the namespace as before."""
    monkeypatch.setattr(userns_clone, "_clone", lambda: userns_clone._BROKEN.append("no") or None)
    who = user.identity()
    assert who is not None
    st = os.stat(tmp_path)
    fd = mounts.idmap_userns(st.st_uid, st.st_gid, who.uid, who.gid)
    try:
        assert _owner_through(fd, str(tmp_path)) == (who.uid, who.gid)
        assert not userns_clone.usable()
    finally:
        os.close(fd)


def test_not_tried_under_valgrind(monkeypatch):
    """valgrind ends the whole process at a clone that shares memory without being a
    thread: under it (its preload library) the helper makes the namespace."""
    monkeypatch.setattr(userns_clone, "_BROKEN", [])
    monkeypatch.setenv("LD_PRELOAD", "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so")
    assert not userns_clone.usable()
    monkeypatch.delenv("LD_PRELOAD")
    assert userns_clone.usable() == (os.uname().machine in userns_clone._ARCHES)
