"""``asyncplay run``'s start-up stays cheap: what its own process imports, and what a
hello world's run starts (docs/performance.md, the hello world). Figures are the bench's
(``bench/cost.py --only hello``); these tests pin what would make them grow unnoticed.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest
from helpers import env

from asyncplay.sandbox import bwrap

# Never imported by ``asyncplay run``'s own process (the playground's and --json's modules,
# and what the run path was made to do without).
NOT_FOR_RUN = {
    "textual",
    "pygments",
    "platformdirs",
    "asyncio",
    "argparse",
    "typing",
    "platform",
    "tomllib",
    "shutil",  # (asyncplay.sandbox.which; the run folder removed on file descriptors)
    "fnmatch",
    "bz2",
    "lzma",
    "asyncplay.tui",
    "asyncplay.views.summary",
    # the driver's loop is ``select.epoll`` and ``_signal`` (sync_driver.py): ``selectors``
    # and ``signal`` built their classes (``collections``' namedtuple, ``enum``'s) in every
    # run (6.5 M instructions on 3.13; docs/performance.md, the seventh pass)
    "selectors",
    "signal",
    # json (its decoder imports re, re imports enum): the hello record is read by json's C
    # scanner (json_scan.json_object), a task's default name checked without re (model.py)
    "json",
    "re",
    "enum",
}

PROBE = """
import sys
before = set(sys.modules)
from asyncplay.cli import main
status = main(sys.argv[2:])
new = sorted(set(sys.modules) - before)
with open(sys.argv[1], "w") as f:
    f.write(repr({"status": status, "new": new}))
"""


def _probe(tmp_path, script: str, *argv: str) -> dict:
    """Run ``script`` (it writes a dict's repr to the file named first) with asyncplay's
    ``argv`` after that, in ``tmp_path``; the dict it wrote."""
    out = tmp_path / "probe.txt"
    out.unlink(missing_ok=True)  # (a probe that died must not read the last one's)
    subprocess.run(
        [sys.executable, "-c", script, str(out), *argv],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    return ast.literal_eval(out.read_text())


def _imported(tmp_path, *argv: str) -> tuple[int, set[str]]:
    """What ``asyncplay`` imports for ``argv``, beyond what the interpreter had already
    (site's own imports, which plain python pays too, are not asyncplay's)."""
    got = _probe(tmp_path, PROBE, *argv)
    return got["status"], {
        m.split(".")[0] if m.startswith(("textual", "pygments")) else m for m in got["new"]
    }


@pytest.mark.parametrize("layer", ["none", "default"])
def test_run_imports_no_playground_and_nothing_made_lazy(tmp_path, layer) -> None:
    (tmp_path / "hello.py").write_text('print("hello, world")\n')
    flags = [] if layer == "default" else ["--sandbox", layer]
    status, new = _imported(tmp_path, "run", "--quiet", *flags, "hello.py")
    assert status == 0
    assert "asyncplay.runner.sync_driver" in new  # (the probe saw the run's imports)
    assert not (new & NOT_FOR_RUN), sorted(new & NOT_FOR_RUN)


def test_a_hello_worlds_summary_loads_no_view_it_does_not_show(tmp_path, monkeypatch) -> None:
    """The summary printed (no ``--quiet``): its own module, not the objects' sections, the
    cancelled tasks' stories or the timeline's cut (7.5 M -> 1.4 M instructions of the
    parent, docs/performance.md); a program with a queue and a long name loads those."""
    (tmp_path / "hello.py").write_text('print("hello, world")\n')
    status, new = _imported(tmp_path, "run", "--sandbox", "none", "hello.py")
    assert status == 0 and "asyncplay.views.summary" in new
    unneeded = {"json", "re", "enum", "unicodedata"}
    assert not (new & unneeded), sorted(new & unneeded)
    lazy = {"asyncplay.views.objects", "asyncplay.views.task_story", "asyncplay.views.timeline"}
    assert not (new & lazy), sorted(new & lazy)
    (tmp_path / "queue.py").write_text(
        "import asyncio\n"
        "async def main():\n"
        "    q = asyncio.Queue()\n"
        "    await q.put(1)\n"
        "    t = asyncio.create_task(asyncio.sleep(9), name='x' * 200)\n"
        "    await asyncio.sleep(0)\n"
        "    t.cancel()\n"
        "asyncio.run(main())\n"
    )
    monkeypatch.setenv("COLUMNS", "100")
    status, new = _imported(tmp_path, "run", "--sandbox", "none", "queue.py")
    assert status == 0 and lazy <= new, sorted(lazy - new)


def test_a_run_reads_bwraps_namespace_pid_without_json() -> None:
    """bwrap's status line, as 0.8 writes it, with and without namespace ids."""
    launch = bwrap.Launch()
    try:
        launch._status = b'{ "child-pid": 4242, "cgroup-namespace": 4026531835 }\n'
        assert launch.child_pid() == 4242
        launch._status = b'{ "child-pid": 17 }\n{ "exit-code": 0 }\n'
        assert launch.child_pid() == 17
        launch._status = b'{ "exit-code": 1 }\n'
        assert launch.child_pid() is None
    finally:
        launch.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="a root asyncplay's idmapped project folder")
def test_the_user_namespace_started_ahead_is_the_one_the_plan_uses(tmp_path, monkeypatch) -> None:
    """As root, where the namespace needs the ``unshare`` helper (no clone way here:
    tests/test_sandbox_userns_clone.py), the helper is started while asyncplay imports
    (``sandbox.prestart``); the plan takes it instead of starting another, and one no run
    asked for is ended."""
    from asyncplay.sandbox import mounts, user, userns_clone

    monkeypatch.setattr(userns_clone, "usable", lambda: False)
    monkeypatch.setattr(mounts, "_USERNS", {})
    monkeypatch.setattr(mounts, "_PENDING", {})
    who = user.identity()
    assert who is not None
    os.chmod(tmp_path, 0o700)  # root's, closed to the run user: it needs the idmapped mount
    user.prestart(str(tmp_path), who)
    (helper,) = mounts._PENDING.values()
    st = os.stat(tmp_path)
    fd = mounts.idmap_userns(st.st_uid, st.st_gid, who.uid, who.gid)
    try:
        assert not mounts._PENDING and helper.proc.returncode is not None
        assert os.readlink(f"/proc/self/fd/{fd}").startswith("user:[")
        user.prestart(str(tmp_path), who)  # made already: nothing starts
        assert not mounts._PENDING
    finally:
        os.close(fd)
    mounts.start_idmap_userns(st.st_uid + 1, st.st_gid, who.uid, who.gid)
    (unused,) = mounts._PENDING.values()
    mounts.forget_pending()
    assert unused.proc.returncode is not None and not mounts._PENDING


def test_the_command_ends_without_teardown_and_loses_nothing(tmp_path) -> None:
    """``asyncplay run`` leaves with ``os._exit`` once all is told (no interpreter
    teardown): everything it wrote is through, and the program's status is its own."""
    from helpers import asyncplay

    (tmp_path / "p.py").write_text(
        "import sys\nprint('x' * 200_000)\nprint('bye', file=sys.stderr)\nsys.exit(3)\n"
    )
    r = asyncplay("run", "--sandbox", "none", "p.py", cwd=tmp_path)
    assert r.returncode == 3
    assert r.stdout == b"x" * 200_000 + b"\n"
    assert r.stderr.startswith(b"bye\n") and b"exited with status 3" in r.stderr
    r = asyncplay("run", "--sandbox", "none", "--json", "p.py", cwd=tmp_path)
    assert r.returncode == 3 and r.kinds("run_end")[0]["exit_code"] == 3


def test_the_program_finds_the_collector_as_python_leaves_it(tmp_path) -> None:
    """The runtime loads with the collector off (its modules are never garbage) and
    gives it back on, with Python's thresholds."""
    from helpers import asyncplay, plain

    (tmp_path / "p.py").write_text("import gc\nprint(gc.isenabled(), gc.get_threshold())\n")
    want = plain(sys.executable, "p.py", cwd=tmp_path).stdout
    assert want.startswith(b"True")
    r = asyncplay("run", "--quiet", "--sandbox", "none", "p.py", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == want


AT_SPAWN = """
import sys
from asyncplay.sandbox import cgroup, process
start = process.start
seen = []
swept = []
def watched(argv, **kw):
    seen.append(sorted(m for m in WATCH if m in sys.modules))
    swept.append(len(sweeps))
    return start(argv, **kw)
process.start = watched
sweeps = []
sweep = cgroup.sweep
def counted(parent):
    sweeps.append(parent)
    return sweep(parent)
cgroup.sweep = counted
from asyncplay.cli import main
status = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write(repr({"status": status, "seen": seen, "swept": swept, "sweeps": sweeps}))
"""

# Not imported by ``asyncplay run`` until its processes are started (``sandbox/process.py``:
# no ``subprocess``), nor what only the run's events need (the model, the printers, the
# decoder and its ``json``, the output's merger: ``SessionCore._make_readers``), nor
# ``termios`` (a relayed terminal's only).
NOT_BEFORE_SPAWN = (
    "subprocess",
    "selectors",
    "signal",
    "asyncplay.model",
    "asyncplay.cli.printed",
    "json",
    "asyncplay.decoder",
    "asyncplay.figure_rows",
    "asyncplay.runner.output_merge",
    "termios",
)

# Nor, when the program's process (the first) is started, what only the waits after it
# need (round 8, the program spawned as early as its plan allows: docs/performance.md,
# "Round 8: hello world"); these load while bwrap and the program's interpreter start.
# The ``--sort`` words are ``limits.SORT_KEYS`` (not the views'), ``math`` is for a
# policy file's numbers only, ``select`` for the waits on bwrap, the network's helper and
# the run, the terminal's relay only for one.
NOT_BEFORE_PROGRAM = (
    *NOT_BEFORE_SPAWN,
    "math",
    "select",
    "asyncplay.views",
    "asyncplay.views.sorting",
    "asyncplay.runner.tty_input",
)


@pytest.mark.parametrize("layer", ["none", "default"])
def test_the_model_and_the_printers_load_after_the_spawn(tmp_path, layer) -> None:
    """What only the run's events need loads while the program's interpreter starts, and
    nothing starts a process through ``subprocess`` (every process a run starts, the
    program's, the sandbox's helpers as root and the network's, is looked at)."""
    (tmp_path / "hello.py").write_text('print("hello, world")\n')
    flags = [] if layer == "default" else ["--sandbox", layer]
    script = f"WATCH = {NOT_BEFORE_PROGRAM!r}\n" + AT_SPAWN
    got = _probe(tmp_path, script, "run", "--quiet", *flags, "hello.py")
    assert got["status"] == 0
    assert got["seen"], "no process was started through sandbox.process"
    assert got["seen"][0] == [], got["seen"]  # (the program's, the first: its sandbox's)
    late = set(NOT_BEFORE_PROGRAM) - set(NOT_BEFORE_SPAWN)
    assert all(set(s) <= late for s in got["seen"]), got["seen"]
    if layer == "default" and os.geteuid() == 0 and bwrap.path():
        assert len(got["seen"]) >= 2  # (bwrap, then the network's helper)


def test_dead_runs_cgroups_are_swept_after_the_spawn(tmp_path) -> None:
    """The sweep of what killed asyncplays left in the run cgroups' hierarchies (a listing
    and a look at each, some 0.5 ms) is done once the program is on its way, not before
    it; it is still done by every run (test_sandbox.py: a killed asyncplay's leftovers are
    ended by the next run)."""
    if os.geteuid() != 0:
        pytest.skip("run cgroups are made by root only (a user's are systemd scopes)")
    (tmp_path / "hello.py").write_text('print("hello, world")\n')
    script = "WATCH = ()\n" + AT_SPAWN
    got = _probe(tmp_path, script, "run", "--quiet", "--sandbox", "rlimit", "hello.py")
    assert got["status"] == 0
    if not got["sweeps"]:
        pytest.skip("no run cgroup here")
    assert got["swept"][0] == 0, "a sweep ran before the program's spawn"


def test_which_finds_what_shutil_which_finds(tmp_path, monkeypatch) -> None:
    """``asyncplay.sandbox.which`` (no ``shutil`` on the run path) agrees with shutil's."""
    import shutil

    from asyncplay.sandbox.which import which

    (tmp_path / "folder").mkdir()
    (tmp_path / "plain").write_text("")
    (tmp_path / "tool").write_text("#!/bin/sh\n")
    (tmp_path / "tool").chmod(0o755)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "folder").mkdir()  # a folder is never a program
    path = os.pathsep.join([str(tmp_path / "bin"), "", str(tmp_path), "/usr/bin", "/bin"])
    monkeypatch.chdir(tmp_path)
    for name in ("sh", "tool", "plain", "folder", "no-such-program", "/bin/sh", "./tool"):
        assert which(name, path) == shutil.which(name, path=path), name
    monkeypatch.setenv("PATH", path)
    assert which("tool") == shutil.which("tool") is not None


def test_the_run_folder_goes_without_following_a_symlink(tmp_path) -> None:
    """The run folder's removal (on file descriptors, without ``shutil``): all of it,
    a symlink removed as a link and what it points to kept."""
    from asyncplay.runner import rundir

    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "keep.txt").write_text("precious")
    run = tmp_path / "run"
    (run / "a" / "b").mkdir(parents=True)
    (run / "a" / "b" / "f").write_text("x")
    (run / "spec").write_text("x")
    (run / "a" / "link").symlink_to(outside)
    (run / "dangling").symlink_to(tmp_path / "nowhere")
    rundir._rmtree(str(run))
    assert not run.exists() and not os.path.lexists(run)
    assert (outside / "deep" / "keep.txt").read_text() == "precious"
    link = tmp_path / "link"
    link.symlink_to(outside)
    rundir._rmtree(str(link))  # a run folder that is a symlink: never followed
    assert (outside / "deep" / "keep.txt").exists()


# ---- the child runtime: the tracer's rooms load with asyncio, not before -------------------

# Loaded by the tracer's install (child/tracer.py, load_rooms), never by a program that
# does not import asyncio.
ROOMS = {
    f"asyncplay.child.{name}"
    for name in (
        "call_chains",
        "cancels",
        "cut_off",
        "deadlocks",
        "executor_jobs",
        "loop_complaints",
        "primitives",
        "primitive_figures",
        "private_names",
        "running_loops",
        "slow_steps",
        "task_creation",
        "task_record",
        "task_registry",
        "virtual_clock",
        "waits",
    )
}
SHOW_ROOMS = (
    "import sys\nrooms = {rooms!r}\ndef loaded():\n    return sorted(rooms & set(sys.modules))\n"
)
# Each way a program may import asyncio; each runs a task named "worker" and prints the
# rooms loaded before and after.
WITH_ASYNCIO = {
    "at the top": (
        "before = loaded()\n"
        "import asyncio\n"
        "async def work():\n"
        "    await asyncio.sleep(0)\n"
        "async def main():\n"
        "    await asyncio.create_task(work(), name='worker')\n"
        "asyncio.run(main())\n"
        "print(before, loaded())\n"
    ),
    "inside a function": (
        "def go():\n"
        "    import asyncio\n"
        "    async def work():\n"
        "        await asyncio.sleep(0)\n"
        "    async def main():\n"
        "        await asyncio.create_task(work(), name='worker')\n"
        "    asyncio.run(main())\n"
        "before = loaded()\n"
        "go()\n"
        "print(before, loaded())\n"
    ),
    "importlib": (
        "import importlib\n"
        "before = loaded()\n"
        "aio = importlib.import_module('asyncio')\n"
        "async def work():\n"
        "    await aio.sleep(0)\n"
        "async def main():\n"
        "    await aio.create_task(work(), name='worker')\n"
        "aio.run(main())\n"
        "print(before, loaded())\n"
    ),
    "from a thread": (
        "import threading\n"
        "def go():\n"
        "    import asyncio\n"
        "    async def work():\n"
        "        await asyncio.sleep(0)\n"
        "    async def main():\n"
        "        await asyncio.create_task(work(), name='worker')\n"
        "    asyncio.run(main())\n"
        "before = loaded()\n"
        "t = threading.Thread(target=go)\n"
        "t.start()\n"
        "t.join()\n"
        "print(before, loaded())\n"
    ),
}


def _rooms_program(body: str) -> str:
    return SHOW_ROOMS.format(rooms=ROOMS) + body


# Modules of the standard library the runtime does without at start (seventh pass: math
# was the protocol's, types the tracer's and its rooms'): loaded only as plain python does.
PLAIN_STDLIB = ("weakref", "math", "types")


def test_a_program_without_asyncio_loads_none_of_the_tracers_rooms(tmp_path) -> None:
    """A hello world pays for the runtime's output and exit report, not for the tracer's
    rooms (docs/performance.md, fifth pass)."""
    from helpers import asyncplay

    (tmp_path / "p.py").write_text(
        _rooms_program("print(loaded(), [m for m in STDLIB if m in sys.modules])\n").replace(
            "import sys\n", f"import sys\nSTDLIB = {PLAIN_STDLIB!r}\n", 1
        )
    )
    r = asyncplay("run", "--quiet", "--sandbox", "none", "p.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-500:]
    # these as under python (the tracer takes _weakref's ref; a site may import one)
    plain = subprocess.run(
        [sys.executable, "p.py"], cwd=tmp_path, env=env(), capture_output=True, check=True
    )
    assert r.stdout == plain.stdout and r.stdout.startswith(b"[] ")
    r = asyncplay("run", "--sandbox", "none", "--json", "p.py", cwd=tmp_path)
    assert r.returncode == 0 and r.kinds("hello") and r.kinds("run_end")


# The runtime a hello world loads (docs/performance.md, fifth and seventh passes): what the
# output, the channel, the exit report and the Tracer object itself need (not what a task
# needs: its record, what it waits on, deadlocks, call chains, asyncio's private names).
HELLO_RUNTIME = {"asyncplay", "asyncplay.protocol", "asyncplay.child"} | {
    f"asyncplay.child.{name}"
    for name in (
        "boot",
        "channel",
        "ending",
        "failures",
        "output",
        "own_frames",
        "patches",
        "periodic",
        "quiet_import",  # (at start: loaded later, it would pass the program's hooks)
        "safe_repr",
        "stdin",
        "tracer",
    )
}


def test_a_hello_world_loads_only_the_runtimes_start(tmp_path) -> None:
    """A module that joins the runtime's start-up is every run's cost: if a program that
    never imports asyncio needs it, add it to HELLO_RUNTIME; if not, load it with the
    tracer's rooms (``tracer.load_rooms``)."""
    from helpers import asyncplay

    (tmp_path / "p.py").write_text(
        "import sys\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'asyncplay'))\n"
    )
    r = asyncplay("run", "--quiet", "--sandbox", "none", "p.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-500:]
    loaded = set(ast.literal_eval(r.stdout.decode()))
    assert loaded == HELLO_RUNTIME, (sorted(loaded - HELLO_RUNTIME), sorted(HELLO_RUNTIME - loaded))


def _installed_pythons() -> list[str]:
    from pythons import find_pythons

    return list(find_pythons().values())


NEVER_AWAITED = "async def fetch():\n    pass\n\n\nfetch()\nprint('ran')\n"


@pytest.mark.parametrize("python", _installed_pythons())
def test_the_runtime_loads_warnings_only_where_python_does(tmp_path, python) -> None:
    """The runtime does not import ``warnings`` (round 8: 1.4 M instructions of a 3.13
    hello world's child; python's own start loads it on 3.11 here, not on 3.10 or 3.12+):
    its hook is set when something does import it (the next test)."""
    from helpers import asyncplay, plain

    (tmp_path / "p.py").write_text("import sys\nprint('warnings' in sys.modules)\n")
    want = plain(python, "p.py", cwd=tmp_path).stdout
    r = asyncplay("run", "--quiet", "--sandbox", "none", "--python", python, "p.py", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, want), r.stderr[-500:]


@pytest.mark.parametrize("python", _installed_pythons())
@pytest.mark.parametrize("first", ["", "import warnings\n", "import asyncio\n"])
def test_a_coroutine_never_awaited_is_told_however_warnings_comes(tmp_path, python, first):
    """Without asyncio the interpreter imports ``warnings`` itself to say a coroutine was
    never awaited: the hook, set as it loads, tells it; so it does when the program (or
    asyncio) imported it first. Python's own RuntimeWarning is printed as under python."""
    from helpers import asyncplay, plain

    (tmp_path / "p.py").write_text(first + NEVER_AWAITED)
    want = plain(python, "p.py", cwd=tmp_path)
    assert b"RuntimeWarning: coroutine 'fetch' was never awaited" in want.stderr
    r = asyncplay("run", "--json", "--sandbox", "none", "--python", python, "p.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-500:]
    assert r.program_stdout == "ran\n"
    printed = "".join(e["text"] for e in r.kinds("output") if e["stream"] == "stderr")
    assert printed == want.stderr.decode()  # python's own RuntimeWarning, as under python
    told = [e for e in r.kinds("warning") if e["kind"] == "never_awaited"]
    assert len(told) == 1 and "coroutine 'fetch' was never awaited" in told[0]["message"], told
    assert told[0]["line"] == first.count("\n") + 5


@pytest.mark.parametrize("how", [*WITH_ASYNCIO, "-m", *_installed_pythons()])
def test_the_tracers_rooms_load_when_asyncio_is_imported(tmp_path, how) -> None:
    """However the program imports asyncio (at the top, in a function, through importlib,
    from a thread, or a module run with -m), on every installed Python, the tracer is
    installed then and traces the run as before: the task, its steps, its end."""
    from helpers import asyncplay

    python = []
    if os.path.isabs(how):  # the program at the top, run by this interpreter
        python, how = ["--python", how], "at the top"
        (tmp_path / "hello.py").write_text(_rooms_program("print(loaded())\n"))
        r = asyncplay("run", "--quiet", "--sandbox", "none", *python, "hello.py", cwd=tmp_path)
        assert (r.returncode, r.stdout) == (0, b"[]\n"), r.stderr[-500:]
    if how == "-m":
        (tmp_path / "pkg").mkdir()
        (tmp_path / "pkg" / "__init__.py").write_text("")
        (tmp_path / "pkg" / "main.py").write_text(_rooms_program(WITH_ASYNCIO["at the top"]))
        target = ["-m", "pkg.main"]
    else:
        (tmp_path / "p.py").write_text(_rooms_program(WITH_ASYNCIO[how]))
        target = ["p.py"]
    r = asyncplay("run", "--sandbox", "none", "--json", *python, *target, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-500:]
    before, after = r.program_stdout.strip().split("] [")
    assert before == "[" and after == ", ".join(repr(m) for m in sorted(ROOMS)) + "]"
    (tid,) = [e["id"] for e in r.kinds("task_created") if e["coro"].split(".")[-1] == "work"]
    names = {e["id"]: e["name"] for e in r.kinds("task_created") + r.kinds("task_renamed")}
    assert names[tid] == "worker"
    assert sum(s[0] == tid for e in r.kinds("steps") for s in e["steps"]) == 2
    (done,) = [e for e in r.kinds("task_done") if e["id"] == tid]
    assert done["state"] == "done"


# What ``site`` did, as the program sees it: the child starts as python would (no -S, -I,
# -s or -E: each is in sys.flags, and -S would also leave site-packages, the .pth files'
# imports and exit()/help() out; docs/performance.md, fifth pass).
SITE_SEEN = (
    "import builtins, site, sys\n"
    "print(sys.flags)\n"
    "print(sys.path)\n"
    "print(site.getsitepackages(), site.ENABLE_USER_SITE)\n"
    "print(sorted(m for m in sys.modules if m in {'site', 'sitecustomize', 'certifi',\n"
    "      '_distutils_hack', 'usercustomize'} or m.startswith('_virtualenv')))\n"
    "print([type(f).__qualname__ for f in sys.meta_path if 'asyncplay' not in type(f).__module__])\n"
    "print(callable(getattr(builtins, 'exit', None)), callable(getattr(builtins, 'help', None)))\n"
)


@pytest.mark.parametrize(
    ("layer", "python"),
    [("none", sys.executable), ("default", sys.executable), ("none", "/usr/bin/python3")],
)
def test_the_program_sees_what_site_did_as_under_python(tmp_path, layer, python) -> None:
    """Where the interpreter has no sitecustomize (pyenv's), none is left in sys.modules
    (the runtime's own is gone); where it has one (Debian's), the program sees it."""
    from helpers import asyncplay

    if not os.path.exists(python):
        pytest.skip(f"no {python} here")
    (tmp_path / "p.py").write_text(SITE_SEEN)
    want = subprocess.run(  # (the environment asyncplay is given, PYTHONPATH included)
        [python, "p.py"], cwd=tmp_path, env=env(), capture_output=True, check=True
    )
    flags = [] if layer == "default" else ["--sandbox", layer]
    r = asyncplay("run", "--quiet", *flags, "--python", python, "p.py", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, want.stdout), r.stderr[-500:]


# A program's own import hooks, ahead of every finder: one that tells each import of a
# name with "asyncplay" in it, one that lets only the standard library through.
IMPORT_HOOKS = (
    "import sys, importlib.abc\n"
    "ALLOWED = set(sys.stdlib_module_names)\n"
    "class Hook(importlib.abc.MetaPathFinder):\n"
    "    def find_spec(self, name, path, target=None):\n"
    "        if 'asyncplay' in name:\n"
    "            print('import', name)\n"
    "        if name.split('.')[0] not in ALLOWED:\n"
    "            raise ImportError(f'import of {name} blocked')\n"
    "        return None\n"
    "sys.meta_path.insert(0, Hook())\n"
    "import asyncio\n"
    "async def work():\n"
    "    await asyncio.sleep(0)\n"
    "async def main():\n"
    "    await asyncio.create_task(work(), name='worker')\n"
    "asyncio.run(main())\n"
    "print('ok')\n"
)


@pytest.mark.parametrize("mode", ["figures", "steps"])
def test_the_programs_import_hooks_see_nothing_of_the_tracers_rooms(tmp_path, mode) -> None:
    """The rooms load inside the program's ``import asyncio``: its finders must not see
    them go by (a hook that logs would print them) nor refuse them (an allow-list would
    leave the run untraced, "could not trace asyncio here")."""
    from helpers import asyncplay

    (tmp_path / "p.py").write_text(IMPORT_HOOKS)
    args = ["--json"] if mode == "steps" else []
    r = asyncplay("run", "--sandbox", "none", *args, "p.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-800:]
    out = r.program_stdout if mode == "steps" else r.stdout.decode()
    assert out == "ok\n", out
    err = r.stderr.decode() if isinstance(r.stderr, bytes) else r.stderr
    assert "could not trace" not in err, err[-800:]
    if mode == "steps":
        (tid,) = [e["id"] for e in r.kinds("task_created") if e["coro"] == "work"]
        names = {e["id"]: e["name"] for e in r.kinds("task_created") + r.kinds("task_renamed")}
        assert names[tid] == "worker"
    else:
        assert "worker" in err and "work " in err, err[-800:]


_NETWORK_ON: list[tuple[bool, str]] = []


def _network_on() -> tuple[bool, str]:
    """Can a run here have ``--network on`` (probed once)?"""
    if not _NETWORK_ON:
        _NETWORK_ON.append(_probe_network())
    return _NETWORK_ON[0]


def _probe_network() -> tuple[bool, str]:
    from asyncplay.sandbox import network

    if not bwrap.usable()[0]:
        return False, "bwrap is not usable here"
    if not network.slirp_usable()[0]:
        return network.slirp_usable()
    return network.probe(bwrap.path() or "bwrap", bwrap.true_path())


AT_GATE = """
import sys
from asyncplay.runner import spawn
gate = spawn.open_gate
seen = []
def watched(fd):
    seen.append("asyncplay.model" in sys.modules)
    return gate(fd)
spawn.open_gate = watched
from asyncplay.cli import main
status = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write(repr({"status": status, "seen": seen}))
"""


def test_the_model_loads_while_the_network_helper_comes_up(tmp_path) -> None:
    """With the network on, the model and the printers are loaded before the program may
    start: while slirp4netns comes up, a wait that was idle (after it, they were loaded
    while the program ran, and a short program's end waited for them)."""
    ok, why = _network_on()
    if not ok:
        pytest.skip(why)
    (tmp_path / "hello.py").write_text('print("hello, world")\n')
    got = _probe(tmp_path, AT_GATE, "run", "--quiet", "--network", "on", "hello.py")
    assert got == {"status": 0, "seen": [True]}
    got = _probe(tmp_path, AT_GATE, "run", "--quiet", "--sandbox", "none", "hello.py")
    assert got == {"status": 0, "seen": [False]}  # (no helper: loaded once the gate is open)


@pytest.mark.parametrize("network", ["on", "off"])
def test_a_failure_while_the_program_starts_leaves_nothing(tmp_path, network) -> None:
    """What the caller loads meanwhile fails (or is interrupted): the run is undone, its
    processes and the network's helper ended (the conftest checks nothing is left)."""
    if network == "on" and not _network_on()[0]:
        pytest.skip(_network_on()[1])
    from asyncplay.runner.spec import RunSpec
    from asyncplay.runner.sync_driver import run_blocking

    (tmp_path / "p.py").write_text("open('ran.txt', 'w').write('ran')\n")
    spec = RunSpec(path="p.py", cwd=str(tmp_path), network=network)

    def spawned() -> None:
        raise KeyboardInterrupt

    events: list[dict] = []
    with pytest.raises(KeyboardInterrupt):
        run_blocking(spec, events.append, stdin="null", spawned=spawned)
    assert events == []
    if network == "on":  # (the gate never opened: it never ran)
        assert not (tmp_path / "ran.txt").exists()


SHADOWS = {
    # A newcomer's file named after the standard library's module shadows it, as under
    # python: the runtime's import hooks must take it for what it is (review, round 8: the
    # warnings' hook read python's _showwarnmsg off the program's own warnings.py and its
    # AttributeError came out of the program's import, with the runtime's frames in it).
    "warnings": "x = 1\n",
    "asyncio": "def run(coro):\n    coro.close()\n    return 'mine'\n",
}


@pytest.mark.parametrize("python", _installed_pythons())
@pytest.mark.parametrize("shadowed", sorted(SHADOWS))
def test_a_programs_own_module_named_as_the_hooked_ones_runs_as_under_python(
    tmp_path, python, shadowed
) -> None:
    from helpers import asyncplay, plain

    # The program in a folder of its own: its sys.path[0], not the command's (``python -m
    # asyncplay`` from the program's folder would put the shadow in asyncplay's own path).
    prog = tmp_path / "prog"
    prog.mkdir()
    (prog / f"{shadowed}.py").write_text(SHADOWS[shadowed])
    (prog / "main.py").write_text(
        f"import {shadowed}\n"
        "async def fetch():\n    pass\n"
        f"print('mine', getattr({shadowed}, 'x', None) or {shadowed}.run(fetch()))\n"
    )
    want = plain(python, str(prog / "main.py"), cwd=tmp_path)
    r = asyncplay(
        "run", "--json", "--sandbox", "none", "--python", python, "prog/main.py", cwd=tmp_path
    )
    assert r.returncode == want.returncode == 0, r.stderr[-800:]
    assert r.program_stdout == want.stdout.decode()
    printed = "".join(e["text"] for e in r.kinds("output") if e["stream"] == "stderr")
    assert printed == want.stderr.decode() and "asyncplay" not in printed
    failed = [e for e in r.kinds("warning") if e["kind"] == "tracer_failed"]
    assert all("import hook" not in e.get("site", "") for e in failed), failed
