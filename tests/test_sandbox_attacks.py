"""Hostile programs the sandbox's authors had not seen, each one that got through once.

Named ``test_sandbox_*``: CI runs it again as an unprivileged user (conftest marks it).
Every program here tries one thing the threat model (docs/sandbox.md) forbids and prints
what it got; the test asserts the refusal and, where the run must still work like python,
that the legitimate part of it does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import env

# Writes each file named on its command line; prints WROTE or the errno for each.
WRITER = r"""
import errno, sys
for path in sys.argv[1:]:
    try:
        with open(path, "a") as f:
            f.write("# written by a snippet\n")
        print("WROTE", path)
    except OSError as exc:
        print("REFUSED", errno.errorcode.get(exc.errno, exc.errno), path)
"""


def _run(cwd: Path, *args: str, extra_env: dict[str, str]) -> str:
    """``asyncplay run --sandbox bwrap ARGS`` in ``cwd``: the program's stdout (skips
    where bwrap cannot run here)."""
    proc = subprocess.run(
        [sys.executable, "-m", "asyncplay", "run", "--quiet", "--sandbox", "bwrap", *args],
        cwd=cwd,
        env={**env(), **extra_env},
        capture_output=True,
        timeout=120,
        input=b"",
    )
    if proc.returncode == 2 and b"bwrap" in proc.stderr:
        pytest.skip(proc.stderr.decode().strip())
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return proc.stdout.decode()


def _untouched(targets: list[Path], out: str) -> None:
    """The real files are as they were. (The program may have been told it wrote one: under
    ``/tmp``, the run's private tmpfs, bwrap makes the folders leading to a bound one, and a
    write lands there, in the run's own memory, not in the real folder.)"""
    for target in targets:
        if target.name == "x.py":
            assert not target.exists(), out
        else:
            assert target.read_text() == "{}\n", out


def _data(tmp_path: Path) -> Path:
    """A data folder as the playground leaves it: settings, unsaved edits, snippets."""
    data = tmp_path / "work" / ".local" / "share" / "asyncplay"
    (data / "snippets").mkdir(parents=True)
    (data / "unsaved").mkdir()
    (data / "settings.json").write_text("{}\n")
    (data / "unsaved" / "edit.json").write_text("{}\n")
    if os.geteuid() == 0:
        # (the run's user, nobody, must be able to find its way to the project folders)
        for folder in [tmp_path, *(p for p in (tmp_path / "work").rglob("*") if p.is_dir())]:
            folder.chmod(0o755)
        (tmp_path / "work").chmod(0o755)
    return data


def test_a_project_folder_around_the_data_folder_leaves_it_read_only(tmp_path) -> None:
    """Once: with the working directory at ``~/.local`` (or any folder holding asyncplay's
    data folder), the program rewrote asyncplay's settings and the user's unsaved edits."""
    data = _data(tmp_path)
    work = tmp_path / "work"
    (work / "hostile.py").write_text(WRITER)
    targets = [data / "settings.json", data / "unsaved" / "edit.json", data / "snippets" / "x.py"]
    out = _run(
        work,
        "hostile.py",
        str(work / "out.txt"),
        *map(str, targets),
        extra_env={"ASYNCPLAY_HOME": str(data)},
    )
    assert (work / "out.txt").exists(), out  # the project folder is still writable
    _untouched(targets, out)


def test_an_unsaved_snippet_in_the_data_folder_cannot_reach_the_rest_of_it(tmp_path) -> None:
    """The playground runs an unsaved snippet as ``snippets/NAME.py`` in the data folder,
    there as its working directory: its own folder is writable, the settings are not."""
    data = _data(tmp_path)
    snippets = data / "snippets"
    (snippets / "untitled.py").write_text(WRITER)
    targets = [data / "settings.json", data / "unsaved" / "edit.json"]
    out = _run(
        snippets,
        "untitled.py",
        str(snippets / "out.txt"),
        *map(str, targets),
        extra_env={"ASYNCPLAY_HOME": str(data)},
    )
    assert (snippets / "out.txt").exists(), out
    _untouched(targets, out)


def test_a_working_directory_holding_the_home_folder_is_read_only(tmp_path) -> None:
    """Once: run from ``/home`` (the folder holding the user's home), the whole home folder
    - dotfiles, other projects - was writable: only ``$HOME`` itself was protected."""
    data = _data(tmp_path)
    home = tmp_path / "work"
    (tmp_path / "prog.py").write_text(WRITER)
    (home / ".bashrc").write_text("# the user's\n")
    out = _run(
        tmp_path,
        str(tmp_path / "prog.py"),
        str(home / ".bashrc"),
        extra_env={"HOME": str(home), "ASYNCPLAY_HOME": str(data)},
    )
    assert (home / ".bashrc").read_text() == "# the user's\n", out


SETID = r"""
import errno, os, shutil
def attempt(name, call):
    try:
        call()
        print("GOT", name)
    except OSError as exc:
        print("REFUSED", name, errno.errorcode.get(exc.errno, exc.errno))
shutil.copy(os.path.realpath("/bin/true"), "tool")
attempt("chmod", lambda: os.chmod("tool", 0o4755))
attempt("chmod-g", lambda: os.chmod("tool", 0o2755))
attempt("fchmod", lambda: os.fchmod(os.open("tool", os.O_RDONLY), 0o6755))
attempt("create", lambda: os.close(os.open("made", os.O_CREAT | os.O_WRONLY, 0o4755)))
attempt("mkdir", lambda: os.mkdir("shared", 0o2775))
attempt("plain", lambda: os.chmod("tool", 0o755))
"""


@pytest.mark.parametrize("mode", ["auto", "rlimit", "none"])
def test_a_root_started_run_cannot_leave_a_setuid_root_program(tmp_path, mode) -> None:
    """Once: as root the program (nobody) wrote the project folder through an idmapped
    mount, so ``chmod 04755`` of a copied executable left a set-user-ID-root program on the
    machine's disk that any local user could run to become root."""
    if os.geteuid() != 0:
        pytest.skip("the project folder is root's on disk only when asyncplay runs as root")
    project = tmp_path / "proj"
    project.mkdir()
    tmp_path.chmod(0o755)
    project.chmod(0o755)
    (project / "hostile.py").write_text(SETID)
    proc = subprocess.run(
        [sys.executable, "-m", "asyncplay", "run", "--quiet", "--sandbox", mode, "hostile.py"],
        cwd=project,
        env=env(),
        capture_output=True,
        timeout=120,
        input=b"",
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, (out, proc.stderr)
    for name in ("chmod", "chmod-g", "fchmod", "create", "mkdir"):
        assert f"REFUSED {name} EPERM" in out, out
    assert "GOT plain" in out, out  # an ordinary chmod still works
    for path in project.iterdir():
        assert not path.stat().st_mode & 0o6000, (path, oct(path.stat().st_mode))


INODES = r"""
import os, time
os.mkdir("/tmp/many")
for i in range(400_000):
    os.close(os.open(f"/tmp/many/{i:07d}-a-name-of-some-length", os.O_CREAT | os.O_WRONLY))
print("MADE all of them", flush=True)
time.sleep(2)
"""


def test_empty_files_in_the_private_tmp_count_against_memory(tmp_path) -> None:
    """Once: without a memory cgroup (a user), empty files take no tmpfs blocks, so 300,000
    of them in /tmp pinned 200 MiB of the kernel's memory under ``--memory 256``, unseen.
    Now each file counts (memory.INODE_COST); with a cgroup the kernel charges it anyway."""
    (tmp_path / "hostile.py").write_text(INODES)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "asyncplay",
            "run",
            "--sandbox",
            "bwrap",
            "--memory",
            "64",
            "--timeout",
            "100",
            "hostile.py",
        ],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        timeout=150,
        input=b"",
    )
    if proc.returncode == 2 and b"bwrap" in proc.stderr:
        pytest.skip(proc.stderr.decode().strip())
    assert b"MADE" not in proc.stdout, proc.stderr
    assert proc.returncode == 122, proc.stderr  # the memory limit


PLANT = r"""
import os, sys
for name in ("run.rec", "trace.txt"):
    os.symlink(sys.argv[1], name)
os.mkfifo("fifo.rec")
print("PLANTED")
"""


def test_a_link_the_program_planted_is_not_followed_by_record_or_trace(tmp_path) -> None:
    """Once: a program left ``run.rec -> FILE`` in its project folder, and the user's next
    ``asyncplay run --record run.rec`` (as root: root's) wrote the recording into FILE, a
    file the program could never write (a root-started program is nobody)."""
    target = tmp_path / "target.txt"
    target.write_text("the user's own\n")
    project = tmp_path / "proj"
    project.mkdir()
    if os.geteuid() == 0:
        tmp_path.chmod(0o755)
        project.chmod(0o777)  # (the project folder writable for nobody, idmapped or not)
    (project / "plant.py").write_text(PLANT)
    (project / "hello.py").write_text("print('hello')\n")
    base = [sys.executable, "-m", "asyncplay", "run", "--quiet"]
    first = subprocess.run(
        [*base, "plant.py", str(target)],
        cwd=project,
        env=env(),
        capture_output=True,
        timeout=120,
        input=b"",
    )
    assert b"PLANTED" in first.stdout, first.stderr
    for flag, name in (("--record", "run.rec"), ("--trace", "trace.txt"), ("--record", "fifo.rec")):
        proc = subprocess.run(
            [*base, flag, name, "hello.py"],
            cwd=project,
            env=env(),
            capture_output=True,
            timeout=60,
            input=b"",
        )
        assert proc.returncode == 2, (flag, name, proc.stderr)
        assert b"symbolic link" in proc.stderr or b"not a regular file" in proc.stderr
    assert target.read_text() == "the user's own\n"


@pytest.mark.usefixtures("home")
async def test_save_replaces_a_link_the_program_put_where_its_file_was(tmp_path) -> None:
    """Once: a program replaced its own file with ``prog.py -> FILE`` (its folder is
    writable), and the playground's next Ctrl+S wrote the editor's text into FILE - with
    root's rights when asyncplay ran as root (``/etc/passwd``), into ``~/.bashrc`` as a
    user. The buffer's path was resolved when it was opened, so a link there now is new:
    Save replaces the link with the file and leaves FILE alone."""
    from tui_helpers import make_app

    target = tmp_path / "elsewhere.txt"
    target.write_text("not the program\n")
    prog = tmp_path / "proj" / "prog.py"
    prog.parent.mkdir()
    prog.write_text("a = 1\n")
    app = make_app("a = 1\n", str(prog))
    async with app.run_test(size=(80, 24)) as pilot:
        prog.unlink()
        prog.symlink_to(target)  # what the program did while it ran
        await pilot.press("end", "2")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert target.read_text() == "not the program\n"
        assert not prog.is_symlink()
        assert prog.read_text() == "a = 12\n"
