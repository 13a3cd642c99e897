"""Never root inside, the project folder writable like python, host unix sockets out of
reach, and the hint when the sandbox refused a write (docs/sandbox.md).

Tests that only make sense as root (the drop to ``nobody``, the idmapped project folder,
covering a socket under /run) skip otherwise; the rest run as anyone (CI runs this file as
``nobody`` too).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import uuid

import pytest
from helpers import asyncplay

from asyncplay import exits
from asyncplay.sandbox import bwrap, folders, sockets

BWRAP_OK, BWRAP_WHY = bwrap.usable()
ROOT = os.geteuid() == 0
MODES = ["bwrap", "rlimit", "none"]

as_root = pytest.mark.skipif(not ROOT, reason="the drop to an unprivileged user is root's")


def need_bwrap(mode: str = "bwrap") -> None:
    if mode == "bwrap" and not BWRAP_OK:
        pytest.skip(f"bwrap layer unavailable: {BWRAP_WHY}")


def _run(cwd, *argv: str, timeout: float = 90):
    return asyncplay("run", *argv, cwd=cwd, timeout=timeout)


def _stdout(r) -> str:
    return r.program_stdout if r.stdout.startswith(b"{") else r.stdout.decode()


# ---- never root inside -------------------------------------------------------------------

WHO_AM_I = """
import json, os, sys
def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return e.errno
def write_sysctl():
    with open("/proc/sys/kernel/core_pattern", "w") as f:
        f.write("|/bin/false")
def write_sys():
    with open("/sys/kernel/mm/transparent_hugepage/enabled", "w") as f:
        f.write("never")
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapPrm"))]
open(os.path.join(sys.argv[1], "made-by-run"), "w").write("x")
print(json.dumps({
    "uid": [os.getuid(), os.geteuid()],
    "caps": caps,
    "sysctl": attempt(write_sysctl),
    "sys": attempt(write_sys),
    "shadow": attempt(lambda: open("/etc/shadow").read()),
}))
"""


@as_root
@pytest.mark.parametrize("mode", MODES)
def test_a_root_asyncplays_program_runs_unprivileged_in_every_mode(tmp_path, mode) -> None:
    """Not uid 0 by its own account nor the kernel's: no capability, kernel settings and
    root's files refused, and what it makes in a shared folder belongs to that user."""
    need_bwrap(mode)
    shared = f"/var/tmp/asyncplay-test-{uuid.uuid4().hex[:8]}"
    os.mkdir(shared)
    try:
        os.chmod(shared, 0o1777)  # world-writable, like /tmp
        (tmp_path / "p.py").write_text(WHO_AM_I)
        r = _run(tmp_path, "--json", "--sandbox", mode, "--write", shared, "p.py", shared)
        made = os.stat(os.path.join(shared, "made-by-run"))
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    start, end = r.events[0], r.events[-1]
    assert end["exit_code"] == 0, r.stderr[-600:]
    seen = json.loads(r.program_stdout)
    assert 0 not in seen["uid"] and seen["uid"][0] == start["sandbox"]["user"]["uid"]
    assert set(seen["caps"]) == {"0000000000000000"}
    assert seen["sysctl"] != "ok" and seen["sys"] != "ok" and seen["shadow"] != "ok"
    assert made.st_uid == start["sandbox"]["user"]["uid"] != 0
    assert "core_pattern" not in open("/proc/sys/kernel/core_pattern").read()


@as_root
@pytest.mark.parametrize("mode", ["bwrap", "rlimit"])
def test_a_root_owned_project_folder_is_writable_for_the_run(tmp_path, mode) -> None:
    """Through an idmapped mount: the program writes next to itself, as under python."""
    need_bwrap(mode)
    assert tmp_path.stat().st_uid == 0
    (tmp_path / "p.py").write_text("open('out.txt', 'w').write('written')\nprint('done')\n")
    r = _run(tmp_path, "--quiet", "--sandbox", mode, "p.py")
    assert (r.returncode, r.stdout) == (0, b"done\n"), r.stderr[-600:]
    assert (tmp_path / "out.txt").read_text() == "written"
    assert (tmp_path / "out.txt").stat().st_uid == 0  # root's project keeps root's files


@as_root
def test_doctor_says_who_runs_the_program_as_root(tmp_path) -> None:
    r = asyncplay("doctor", cwd=tmp_path)
    line = next(x for x in r.stdout.decode().splitlines() if x.startswith("user"))
    assert "nobody" in line and "not root" in line and "/proc/sys" in line


# ---- the project folder ------------------------------------------------------------------


def _project(base, name: str = "proj"):
    proj = base / name
    proj.mkdir()
    (proj / "helper.py").write_text("VALUE = 'from the sibling'\n")
    (proj / "main.py").write_text(
        "import helper\nprint(helper.VALUE)\nopen(__file__ + '.out', 'w').write('x')\n"
    )
    return proj


def test_sibling_imports_work_from_a_folder_under_tmp_run_elsewhere(tmp_path) -> None:
    """A program in a folder under /tmp, run from another directory: python finds its
    sibling module, so must the run (and it may write in its own folder)."""
    need_bwrap()
    proj = _project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = _run(elsewhere, "--quiet", "--sandbox", "bwrap", str(proj / "main.py"))
    assert (r.returncode, r.stdout) == (0, b"from the sibling\n"), r.stderr[-600:]
    assert (proj / "main.py.out").exists()


def test_a_protected_working_directory_still_runs_and_says_so_in_one_line(tmp_path) -> None:
    """From ``/`` the run goes ahead: one first line names the folder and the flag; it
    fits the terminal and follows --quiet."""
    need_bwrap()
    proj = _project(tmp_path)
    env_cols = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "60"
    try:
        r = _run("/", "--sandbox", "bwrap", str(proj / "main.py"))
        quiet = _run("/", "--quiet", "--sandbox", "bwrap", str(proj / "main.py"))
    finally:
        if env_cols is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = env_cols
    assert r.returncode == 0 and r.stdout == b"from the sibling\n", r.stderr[-600:]
    first = r.stderr.decode().splitlines()[0]
    assert first.startswith("asyncplay: the working directory / is read-only")
    assert len(first) <= 60
    assert quiet.returncode == 0 and b"working directory" not in quiet.stderr


def test_write_adds_a_folder_and_the_hint_names_it(tmp_path) -> None:
    """A write outside the project fails with EROFS and one line naming --write DIR; with
    the flag the same program succeeds."""
    need_bwrap()
    outside = f"/var/tmp/asyncplay-test-{uuid.uuid4().hex[:8]}"
    os.mkdir(outside)
    try:
        os.chmod(outside, 0o777)
        target = os.path.join(outside, "result.txt")
        (tmp_path / "p.py").write_text(f"open({target!r}, 'w').write('x')\n")
        r = _run(tmp_path, "--sandbox", "bwrap", "p.py")
        assert r.returncode == 1 and not os.path.exists(target)
        hint = [x for x in r.stderr.decode().splitlines() if "--write" in x]
        assert hint and f"--write {outside}" in hint[0], r.stderr[-600:]
        ok = _run(tmp_path, "--quiet", "--sandbox", "bwrap", "--write", outside, "p.py")
        assert ok.returncode == 0 and os.path.exists(target), ok.stderr[-600:]
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_a_programs_own_failed_write_gets_no_hint(tmp_path) -> None:
    """A write the machine itself refuses (not the sandbox) is the program's business."""
    need_bwrap()
    (tmp_path / "p.py").write_text("open('/proc/version', 'w')\n")
    r = _run(tmp_path, "--json", "--sandbox", "bwrap", "p.py")
    kinds = [e.get("kind") for e in r.kinds("warning")]
    assert r.events[-1]["exit_code"] == 1 and "sandbox_write" not in kinds


@pytest.mark.parametrize("folder", ["/usr", "/", "/etc/ssl"])
def test_write_refuses_system_folders_in_one_line(tmp_path, folder) -> None:
    (tmp_path / "p.py").write_text("pass\n")
    r = _run(tmp_path, "--write", folder, "p.py")
    assert r.returncode == exits.USAGE and r.stdout == b""
    assert r.stderr.decode().count("\n") == 1 and "--write" in r.stderr.decode()


# ---- host unix sockets -------------------------------------------------------------------

CONNECT = """
import socket, sys
for path in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        print("reached", path)
    except OSError as e:
        print("refused", e.errno)
"""


def _listening(folder: str) -> tuple[socket.socket, str]:
    os.makedirs(folder, exist_ok=True)
    os.chmod(folder, 0o755)
    path = os.path.join(folder, "daemon.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    os.chmod(path, 0o777)  # any local user may connect, as to a session bus
    s.listen()
    return s, path


@pytest.mark.parametrize("mode", ["bwrap", "rlimit"])
def test_host_unix_sockets_are_unreachable(tmp_path, mode) -> None:
    """A real listening socket in a folder under $HOME, and (as root) under /run."""
    need_bwrap(mode)
    if mode == "rlimit" and not ROOT:
        pytest.skip("without bwrap only a root asyncplay has a mount namespace to cover them")
    tag = uuid.uuid4().hex[:8]
    places = [os.path.join(os.path.expanduser("~"), f".asyncplay-sock-{tag}")]
    if ROOT:
        places.append(f"/run/asyncplay-sock-{tag}")
    servers = []
    try:
        for place in places:
            servers.append(_listening(place))
        paths = [p for _s, p in servers]
        (tmp_path / "p.py").write_text(CONNECT)
        r = _run(tmp_path, "--quiet", "--sandbox", mode, "p.py", *paths)
        assert r.returncode == 0, r.stderr[-600:]
        assert r.stdout.count(b"refused") == len(paths) and b"reached" not in r.stdout
    finally:
        for s, path in servers:
            s.close()
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def test_the_kernels_socket_table_is_read_for_bound_paths(tmp_path) -> None:
    table = tmp_path / "unix"
    table.write_text(
        "Num       RefCount Protocol Flags    Type St Inode Path\n"
        "0000000000000000: 00000002 00000000 00010000 0001 01 1 /run/dbus/system_bus_socket\n"
        "0000000000000000: 00000002 00000000 00010000 0001 01 2 @/tmp/.X11-unix/X0\n"
        "0000000000000000: 00000003 00000000 00000000 0001 03 3\n"
        "0000000000000000: 00000002 00000000 00010000 0001 01 4 /home/a b/odd name.sock\n"
    )
    assert sockets.bound_paths(str(table)) == [
        "/home/a b/odd name.sock",
        "/run/dbus/system_bus_socket",
    ]


# ---- which folders are writable ----------------------------------------------------------


def test_layout_writes_the_project_and_protects_the_machine(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    proj = _project(tmp_path)
    lay = folders.layout(str(proj), str(proj / "main.py"), [], [])
    assert lay.write == [str(proj)] and lay.notices == []
    for cwd, hidden in (("/", False), ("/tmp", True), (str(tmp_path / "home"), False)):
        lay = folders.layout(cwd, str(proj / "main.py"), [], [])
        assert lay.write == [str(proj)] and len(lay.notices) == 1
        assert (cwd in lay.hide) == hidden
    sock_dir = tmp_path / "socks"
    sock_dir.mkdir()
    lay = folders.layout(str(sock_dir), None, [], [str(sock_dir / "s")])
    assert lay.write == [] and lay.hide == [str(sock_dir)]
    assert stat.S_ISDIR(os.stat(sock_dir).st_mode)


def test_bwrap_binds_the_project_read_write_and_covers_sockets(tmp_path, monkeypatch) -> None:
    proj = _project(tmp_path)
    there = os.path.lexists
    monkeypatch.setattr(bwrap.os.path, "lexists", lambda p: p == "/run/x/daemon.sock" or there(p))
    argv = bwrap.argv(
        str(proj), [str(proj / "main.py")], None, [str(proj)], ["/run/x/daemon.sock"], []
    )
    i = argv.index("--bind")
    assert argv[i + 1 : i + 3] == [str(proj), str(proj)]
    assert ["--ro-bind", "/dev/null", "/run/x/daemon.sock"] == argv[
        argv.index("/run/x/daemon.sock") - 2 : argv.index("/run/x/daemon.sock") + 1
    ]
    assert "--cap-drop" not in argv  # bwrap never runs as root: nothing to drop


def test_a_socket_gone_since_the_listing_is_not_covered(tmp_path, monkeypatch) -> None:
    """/proc/net/unix is read before bwrap starts; a socket removed in between (its
    folder too: an SSH agent's at a logout) must not make bwrap fail on the read-only
    root ("Can't mkdir parents for ..."): it gets no cover, the one still there does."""
    proj = _project(tmp_path)
    monkeypatch.setattr(bwrap.os.path, "lexists", lambda p: p == "/run/here/d.sock")
    argv = bwrap.argv(
        str(proj), [], None, [str(proj)], ["/run/gone/agent.1", "/run/here/d.sock"], []
    )
    assert "/run/gone/agent.1" not in argv
    i = argv.index("/run/here/d.sock")
    assert argv[i - 2 : i + 1] == ["--ro-bind", "/dev/null", "/run/here/d.sock"]


@as_root
def test_the_mount_plan_skips_a_socket_gone_since_the_listing(tmp_path) -> None:
    """Without bwrap (root's own mount namespace), binding /dev/null over a vanished
    socket is skipped, not a failed run; one that is there is covered."""
    from asyncplay.sandbox import user

    sock_dir = tmp_path / "socks"
    sock_dir.mkdir()
    here = sock_dir / "here.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(here))
    plan = user.MountPlan()
    plan.covers = [str(sock_dir / "gone" / "agent.1"), str(sock_dir / "gone.sock"), str(here)]
    pid = os.fork()
    if pid == 0:  # the run's child, as the session's preexec would be
        code = 1
        try:
            plan.enter(str(tmp_path))
            code = 0 if stat.S_ISCHR(os.stat(here).st_mode) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    s.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert stat.S_ISSOCK(os.stat(here).st_mode)  # the host's view is untouched


@as_root
def test_without_idmapped_mounts_the_project_is_read_only_and_the_run_says_why(
    tmp_path, monkeypatch
) -> None:
    """A file system that cannot be idmapped: the folder stays readable, read-only, and
    the plan carries the line the run prints first."""
    from asyncplay import sandbox
    from asyncplay.runner.spec import RunSpec
    from asyncplay.sandbox import mounts, user

    def no_idmap(*_args: object) -> int:
        raise mounts.MountError(22, "mount_setattr: Invalid argument")

    monkeypatch.setattr(mounts, "idmap_userns", no_idmap)
    (tmp_path / "p.py").write_text("pass\n")
    who = user.identity()
    assert who is not None
    plan, notes, readonly = user.plan_mounts(who, [], [str(tmp_path)])
    try:
        assert readonly == [str(tmp_path)] and any("idmapped" in n for n in notes)
    finally:
        plan.close()
    spec = RunSpec(path="p.py", cwd=str(tmp_path), sandbox="rlimit")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    prepared = sandbox.prepare(spec, str(run_dir))
    try:
        assert any("read-only for the program" in n for n in prepared.notices)
        assert prepared.readonly == [str(tmp_path)]
    finally:
        prepared.close()
