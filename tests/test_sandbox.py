"""Hostile and broken programs: each ends within its limits, with one sentence naming the
limit and its flag, leaves nothing running, and leaves asyncplay alive - under every sandbox
layer this machine offers (a layer that is missing is skipped with the reason).

Plain-Python equivalence for exit statuses and tracebacks, and what the bwrap layer shows
of the file system and the network, are checked here too. The autouse fixture in
conftest.py fails any test that leaves a process of a run alive.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import time

import pytest
from helpers import asyncplay, plain

from asyncplay import exits
from asyncplay.sandbox import bwrap
from asyncplay.sandbox.cgroup import CgroupError, locate

BWRAP_OK, BWRAP_WHY = bwrap.usable()


def _cgroup_why(controller: str) -> str:
    if os.geteuid() != 0:
        return "not root: cgroups come from a systemd user scope, not tested here"
    try:
        locate(controller)
    except (CgroupError, OSError) as exc:
        return str(exc)
    return ""


PIDS_WHY = _cgroup_why("pids")
MEMORY_WHY = _cgroup_why("memory")

# The layers a hostile program is tried under: "bwrap" (auto here when it works) and
# "rlimit" (cgroup + process layer, no namespaces).
LAYERS = ["bwrap", "rlimit"]


def need(layer: str) -> None:
    if layer == "bwrap" and not BWRAP_OK:
        pytest.skip(f"bwrap layer unavailable: {BWRAP_WHY}")


def run(tmp_path, layer: str, source: str, *flags: str, args: tuple[str, ...] = (), timeout=60):
    need(layer)
    (tmp_path / "p.py").write_text(source)
    return asyncplay(
        "run", "--quiet", "--sandbox", layer, *flags, "p.py", *args, cwd=tmp_path, timeout=timeout
    )


def last_line(r) -> str:
    lines = r.stderr.decode().strip().splitlines()
    return lines[-1] if lines else ""


def json_run(tmp_path, layer: str, source: str, *flags: str) -> tuple[dict, dict, str]:
    """(run_start, run_end, program stdout) of a ``--json`` run."""
    r = run(tmp_path, layer, source, "--json", *flags)
    events = r.events
    out = "".join(e["text"] for e in events if e["event"] == "output" and e["stream"] == "stdout")
    return events[0], events[-1], out


# ---- endless programs: the wall clock or the CPU limit ends them -------------------------

ENDLESS = {
    "cpu-loop": "while True:\n    pass\n",
    "sleep0-busy-loop": (
        "import asyncio\nasync def main():\n    while True:\n        await asyncio.sleep(0)\n"
        "asyncio.run(main())\n"
    ),
    "deadlock": (
        "import asyncio\n"
        "async def main():\n"
        "    a = b = None\n"
        "    async def wait_b():\n        await b\n"
        "    async def wait_a():\n        await a\n"
        "    a = asyncio.create_task(wait_b())\n"
        "    b = asyncio.create_task(wait_a())\n"
        "    await asyncio.get_running_loop().create_future()  # nobody sets it\n"
        "asyncio.run(main())\n"
    ),
    "non-daemon-thread": (
        "import threading, time\n"
        "threading.Thread(target=lambda: time.sleep(3600)).start()\n"
        "print('main done', flush=True)\n"
    ),
    "ignores-sigint-sigterm": (
        "import signal, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "while True:\n    time.sleep(0.01)\n"
    ),
}


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("name", list(ENDLESS))
def test_endless_programs_end_at_the_timeout(tmp_path, layer, name) -> None:
    start = time.monotonic()
    r = run(tmp_path, layer, ENDLESS[name], "--timeout", "1.5", "--cpu", "60")
    took = time.monotonic() - start
    assert r.returncode == exits.TIMEOUT, r.stderr[-400:]
    line = last_line(r)
    assert "--timeout 1.5" in line and "raise it with --timeout" in line
    assert took < 20


IGNORES_SIGXCPU = (
    "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n"
)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("program", [ENDLESS["cpu-loop"], IGNORES_SIGXCPU], ids=["loop", "no-xcpu"])
def test_cpu_time_ends_at_the_cpu_limit(tmp_path, layer, program) -> None:
    # Ignoring SIGXCPU only earns the kernel's SIGKILL a second later: still --cpu.
    # Room on the wall clock: an unprivileged user's run is niced (sandbox/cpu.py), so on a
    # loaded machine one CPU second can take well over 30 s of wall clock.
    r = run(tmp_path, layer, program, "--cpu", "1", "--timeout", "300", timeout=360)
    assert r.returncode == exits.CPU, r.stderr[-400:]
    assert "--cpu 1" in last_line(r) and "raise it with --cpu" in last_line(r)


# ---- memory ------------------------------------------------------------------------------

BOMB = "x = []\nwhile True:\n    x.append(bytearray(8 * 1024 * 1024))\n"


@pytest.mark.parametrize("layer", [*LAYERS, "none"])
def test_memory_bomb_is_stopped_by_memory(tmp_path, layer) -> None:
    r = run(tmp_path, layer, BOMB, "--memory", "150", "--timeout", "30")
    assert r.returncode == exits.MEMORY, r.stderr[-400:]
    assert "--memory 150" in last_line(r) and "raise it with --memory" in last_line(r)


@pytest.mark.parametrize("layer", [*LAYERS, "none"])
def test_one_allocation_past_the_limit_is_the_limit(tmp_path, layer) -> None:
    # 400 MiB at once: the machine grants it, --memory 150 does not (a memory cgroup
    # OOM-kills, an address-space limit makes Python raise MemoryError).
    r = run(tmp_path, layer, "b = bytearray(400 << 20)\n", "--memory", "150")
    assert r.returncode == exits.MEMORY, r.stderr[-400:]
    assert "--memory 150" in last_line(r)


FAKE_ENDINGS = {
    "prints-memory-error": (
        "import sys\n"
        "print('Traceback (most recent call last):\\nMemoryError', file=sys.stderr)\n"
        "sys.exit(1)\n"
    ),
    "raises-its-own-memory-error": "raise MemoryError('my cache is full')\n",
    "prints-thread-failure": (
        'import sys\nprint("RuntimeError: can\'t start new thread", file=sys.stderr)\nsys.exit(1)\n'
    ),
    "prints-fork-failure": (
        "import sys\n"
        "print('BlockingIOError: [Errno 11] Resource temporarily unavailable', file=sys.stderr)\n"
        "sys.exit(1)\n"
    ),
    "prints-file-too-large": (
        "import sys\nprint('OSError: [Errno 27] File too large', file=sys.stderr)\nsys.exit(1)\n"
    ),
}


@pytest.mark.parametrize("layer", [*LAYERS, "none"])
@pytest.mark.parametrize("name", list(FAKE_ENDINGS))
def test_the_programs_own_words_never_blame_a_limit(tmp_path, layer, name) -> None:
    """Outcomes come from facts asyncplay holds, not from what the program prints."""
    _start, end, _out = json_run(tmp_path, layer, FAKE_ENDINGS[name], "--memory", "256")
    assert (end["reason"], end["by"], end["exit_code"]) == ("exited", "program", 1), end


@pytest.mark.parametrize("layer", LAYERS)
def test_a_handled_memory_error_is_not_a_limit(tmp_path, layer) -> None:
    source = "try:\n    b = bytearray(1 << 46)\nexcept MemoryError:\n    print('handled')\n"
    r = run(tmp_path, layer, source, "--memory", "150")
    assert (r.returncode, r.stdout) == (0, b"handled\n")


def test_the_memory_cgroup_counts_use_not_reservations(tmp_path) -> None:
    """Threads reserve far more address space than they use (stacks, malloc arenas): under
    an address-space limit they cannot even start; a memory cgroup lets them run."""
    if MEMORY_WHY:
        pytest.skip(f"no memory cgroup: {MEMORY_WHY}")
    source = (
        "import threading\n"
        "barrier = threading.Barrier(41)\n"
        "def work():\n"
        "    keep = [bytearray(100) for _ in range(1000)]\n"
        "    barrier.wait()\n"
        "ts = [threading.Thread(target=work) for _ in range(40)]\n"
        "for t in ts: t.start()\n"
        "barrier.wait()\n"
        "for t in ts: t.join()\n"
        "print('ok')\n"
    )
    cgroup = run(tmp_path, "rlimit", source, "--memory", "300", "--procs", "100")
    assert (cgroup.returncode, cgroup.stdout) == (0, b"ok\n"), cgroup.stderr[-300:]
    address_space = run(tmp_path, "none", source, "--memory", "300", "--timeout", "4")
    assert address_space.returncode != 0


# ---- processes ---------------------------------------------------------------------------

FORK_COUNT = (
    "import os, sys, time\n"
    "n = 0\n"
    "try:\n"
    "    while n < 500:\n"
    "        if os.fork() == 0:\n"
    "            time.sleep(30)\n"
    "            os._exit(0)\n"
    "        n += 1\n"
    "except OSError as exc:\n"
    "    print(n, type(exc).__name__, exc.errno, flush=True)\n"
    "if sys.argv[1] == 'raise':\n"
    "    os.fork()\n"
)


def need_pids(layer: str) -> None:
    need(layer)
    if PIDS_WHY:
        pytest.skip(f"--procs cannot be enforced here: {PIDS_WHY}")


@pytest.mark.parametrize("layer", LAYERS)
def test_fork_fails_inside_at_procs(tmp_path, layer) -> None:
    need_pids(layer)
    (tmp_path / "p.py").write_text(FORK_COUNT)
    r = asyncplay(
        "run", "--json", "--sandbox", layer, "--procs", "10", "p.py", "catch", cwd=tmp_path
    )
    end = r.events[-1]
    n, exc, errno = r.program_stdout.split()
    assert exc == "BlockingIOError" and errno == "11"  # EAGAIN, as plain fork reports it
    assert 1 <= int(n) <= 9  # the program itself is one of the 10
    # It caught the error and exited by itself: that is not a limit.
    assert (end["reason"], end["exit_code"]) == ("exited", 0)
    if "procs_peak" in end:
        assert end["procs_peak"] <= 10


@pytest.mark.parametrize("layer", LAYERS)
def test_a_run_that_dies_of_the_process_cap_is_120(tmp_path, layer) -> None:
    need_pids(layer)
    r = run(tmp_path, layer, FORK_COUNT, "--procs", "8", args=("raise",))
    assert r.returncode == exits.PROCS, r.stderr[-400:]
    assert b"BlockingIOError" in r.stderr  # the program's own traceback
    assert "--procs 8" in last_line(r) and "raise it with --procs" in last_line(r)


@pytest.mark.parametrize("layer", LAYERS)
def test_fork_bomb(tmp_path, layer) -> None:
    need_pids(layer)
    bomb = "import os\nwhile True:\n    os.fork()\n"
    start = time.monotonic()
    r = run(tmp_path, layer, bomb, "--procs", "20", "--timeout", "10")
    assert r.returncode in (exits.PROCS, exits.TIMEOUT), r.stderr[-400:]
    assert "--procs 20" in last_line(r) or "--timeout 10" in last_line(r)
    assert time.monotonic() - start < 20


@pytest.mark.parametrize("layer", LAYERS)
def test_thread_bomb(tmp_path, layer) -> None:
    """Threads count against --procs; the threads already started keep the process alive
    after the main thread died of the refusal, so the wall clock ends the run - and the
    sentence says the process limit was reached too."""
    need_pids(layer)
    bomb = (
        "import threading, time\nwhile True:\n"
        "    threading.Thread(target=time.sleep, args=(60,)).start()\n"
    )
    r = run(tmp_path, layer, bomb, "--procs", "20", "--timeout", "2")
    assert r.returncode == exits.TIMEOUT, r.stderr[-400:]
    assert b"can't start new thread" in r.stderr
    line = last_line(r)
    assert "--timeout 2" in line and "process limit, --procs 20" in line


@pytest.mark.parametrize("layer", LAYERS)
def test_setsid_double_fork_grandchild_is_dead_at_the_end(tmp_path, layer) -> None:
    source = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(60)\n"
        "    os._exit(0)\n"
        "time.sleep(0.3)\n"
        "print('parent exits')\n"
    )
    r = run(tmp_path, layer, source)
    assert (r.returncode, r.stdout) == (0, b"parent exits\n")
    # The conftest fixture fails this test if the grandchild is still alive.


# ---- signalling asyncplay ----------------------------------------------------------------

# Refuses to do anything outside a PID namespace: kill(-1) as root outside one would end
# every process of the machine.
PARENT_KILLER = (
    "import os, signal, subprocess, sys, time\n"
    "if os.readlink('/proc/self/ns/pid') == sys.argv[1]:\n"
    "    print('not in a PID namespace: refusing'); sys.exit(99)\n"
    "sibling = subprocess.Popen(['sleep', '30'])\n"
    "os.kill(os.getppid(), signal.SIGTERM)\n"
    "os.kill(os.getppid(), signal.SIGKILL)\n"
    "os.kill(-1, signal.SIGKILL)\n"
    "time.sleep(0.2)\n"
    "print('sibling', sibling.poll(), flush=True)\n"
    "sys.exit(3)\n"
)


def test_signalling_the_parent_and_kill_minus_one_cannot_reach_asyncplay(tmp_path) -> None:
    need("bwrap")
    ns = os.readlink("/proc/self/ns/pid")
    r = run(tmp_path, "bwrap", PARENT_KILLER, args=(ns,))
    assert r.stdout == b"sibling -9\n", r.stderr[-400:]  # killed inside its namespace
    assert r.returncode == 3  # asyncplay survived and reports the program's own status


# ---- the event channel -------------------------------------------------------------------

GARBAGE = (
    "import os\n"
    "for fd in range(200, 260):\n"
    "    try:\n"
    "        os.write(fd, os.urandom(5000) + b'J\\xff\\xff\\xff\\x7f')\n"
    "    except OSError:\n"
    "        pass\n"
    "print('program output')\n"
    "raise SystemExit(3)\n"
)
CLOSE_ALL = "import os, sys\nos.closerange(3, 1 << 16)\nprint('closed')\nsys.exit(5)\n"


@pytest.mark.parametrize("layer", LAYERS)
def test_garbage_in_the_channel(tmp_path, layer) -> None:
    _start, end, out = json_run(tmp_path, layer, GARBAGE)
    assert out == "program output\n" and end["exit_code"] == 3 and end["reason"] == "exited"


@pytest.mark.parametrize("layer", LAYERS)
def test_closing_every_fd_above_2(tmp_path, layer) -> None:
    r = run(tmp_path, layer, CLOSE_ALL)
    assert (r.returncode, r.stdout) == (5, b"closed\n")


# ---- broken programs: exactly as plain Python --------------------------------------------

BROKEN = {
    "syntax-error": "print('never')\ndef f(:\n    pass\n",
    "recursion": "def f(n):\n    return f(n + 1)\n\nf(0)\n",
    "unhandled": "import asyncio\nasync def main():\n    raise KeyError('nope')\nasyncio.run(main())\n",
}


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_programs_fail_as_under_plain_python(tmp_path, layer, name) -> None:
    ours = run(tmp_path, layer, BROKEN[name])
    theirs = plain(sys.executable, "p.py", cwd=tmp_path)
    assert theirs.returncode != 0
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )


# ---- output ------------------------------------------------------------------------------

BINARY = (
    "import os, sys\n"
    "data = bytes(range(256)) * 64 + b'\\xff\\xfe\\x00 \\xc3( \\r\\n'\n"
    "sys.stdout.buffer.write(data)\nsys.stdout.flush()\nos.write(1, data[::-1])\n"
)


@pytest.mark.parametrize("layer", [*LAYERS, "none"])
def test_binary_output_passes_through_byte_identical(tmp_path, layer) -> None:
    ours = run(tmp_path, layer, BINARY)
    theirs = plain(sys.executable, "p.py", cwd=tmp_path)
    assert ours.returncode == 0 and ours.stdout == theirs.stdout and len(ours.stdout) > 30000


@pytest.mark.parametrize("layer", LAYERS)
def test_a_file_past_the_file_size_limit(tmp_path, layer) -> None:
    # 8 x --output-limit: 4 MiB here. Under bwrap the file goes to the private /tmp.
    where = "/tmp/big" if layer == "bwrap" else str(tmp_path / "big")
    source = f"with open({where!r}, 'wb') as f:\n    f.write(b'x' * (5 << 20))\n"
    r = run(tmp_path, layer, source, "--output-limit", "0.5")
    assert r.returncode == exits.OUTPUT, r.stderr[-400:]
    assert b"File too large" in r.stderr
    assert "file-size limit" in last_line(r) and "--output-limit 0.5" in last_line(r)


# ---- the environment ---------------------------------------------------------------------

SHOW_ENV = "import json, os\nprint(json.dumps(dict(os.environ)))\n"
SECRETS = {
    "AWS_SECRET_ACCESS_KEY": "s3cr3t",
    "GITHUB_TOKEN": "ghp_x",
    "SSH_AUTH_SOCK": "/tmp/agent",
    "DATABASE_URL": "postgres://u:p@h/db",
}


@pytest.mark.parametrize("layer", [*LAYERS, "none"])
def test_the_environment_is_scrubbed(tmp_path, layer, monkeypatch) -> None:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("ASYNCPLAY_SOMETHING", "kept")
    monkeypatch.setenv("PYENV_VERSION", "3.12.1")
    r = run(tmp_path, layer, SHOW_ENV)
    env = json.loads(r.stdout)
    for key in ("PATH", "HOME", "LC_ALL", "ASYNCPLAY_SOMETHING", "PYENV_VERSION"):
        assert key in env
    assert "ASYNCPLAY_CHILD_SPEC" not in env  # the runtime's own hand-over is erased
    if layer == "none":
        assert all(env.get(k) == v for k, v in SECRETS.items())
    else:
        assert not set(SECRETS) & set(env)


# ---- the bwrap layer: files and network --------------------------------------------------

PROBE = """
import json, os, socket, sys
def can_write(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return True
    except OSError:
        return False
def net():
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2).close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__
loop = socket.socket()
loop.bind(("127.0.0.1", 0))
loop.listen()
print(json.dumps({
    "root": can_write("/asyncplay-probe"),
    "own_dir": can_write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "w")),
    "home": can_write(os.path.join(os.path.expanduser("~"), ".asyncplay-probe")),
    "tmp": can_write("/tmp/asyncplay-probe") and open("/tmp/asyncplay-probe").read() == "x",
    "tmp_entries": sorted(os.listdir("/tmp")),
    "net": net(),
    "interfaces": [name for _i, name in socket.if_nameindex()],
    "pid": os.getpid(),
}))
"""


def test_bwrap_files_are_read_only_tmp_is_private_and_there_is_no_network(tmp_path) -> None:
    marker = f"/tmp/asyncplay-probe-marker-{os.getpid()}"
    with open(marker, "w") as f:
        f.write("outside")
    try:
        start, end, out = json_run(tmp_path, "bwrap", PROBE, "--network", "off")
    finally:
        os.unlink(marker)
    assert end["exit_code"] == 0, end
    assert start["sandbox"]["layers"][0] == "bwrap"
    seen = json.loads(out)
    assert seen["root"] is False and seen["home"] is False
    assert seen["own_dir"] is True  # the program's own folder is writable, as under python
    assert seen["tmp"] is True
    assert os.path.basename(marker) not in seen["tmp_entries"]  # not the machine's /tmp
    assert not os.path.exists("/tmp/asyncplay-probe")  # its writes stay inside
    assert seen["net"] != "connected" and seen["interfaces"] == ["lo"]
    assert seen["pid"] < 10  # its own PID namespace
    assert (tmp_path / "w").read_text() == "x"


# ---- choosing layers ---------------------------------------------------------------------


def test_run_start_names_the_layers(tmp_path) -> None:
    start, _end, _out = json_run(tmp_path, "rlimit", "pass\n")
    sandbox = start["sandbox"]
    assert sandbox["mode"] == "rlimit" and sandbox["layers"][-1] == "rlimit"
    assert "bwrap" not in sandbox["layers"]
    assert ("cgroup" in sandbox["layers"]) == (not PIDS_WHY or not MEMORY_WHY)
    assert start["limits"]["procs"] == 64


def test_auto_takes_the_strongest_layer(tmp_path) -> None:
    start, _end, _out = json_run(tmp_path, "auto", "pass\n")
    assert ("bwrap" in start["sandbox"]["layers"]) == BWRAP_OK


def test_asking_for_bwrap_where_it_is_missing_is_a_usage_error(tmp_path) -> None:
    (tmp_path / "p.py").write_text("print('ran')\n")
    saved = os.environ["PATH"]
    os.environ["PATH"] = str(tmp_path)  # no bwrap on it
    try:
        r = asyncplay("run", "--sandbox", "bwrap", "p.py", cwd=tmp_path)
        auto = asyncplay("run", "--json", "p.py", cwd=tmp_path)
    finally:
        os.environ["PATH"] = saved
    assert r.returncode == exits.USAGE and r.stdout == b""
    assert r.stderr.decode().count("\n") == 1 and "bwrap is not installed" in r.stderr.decode()
    start = auto.events[0]
    assert auto.returncode == 0 and "bwrap" not in start["sandbox"]["layers"]
    assert any("bwrap" in note for note in start["sandbox"]["notes"])


def test_doctor_says_what_works(tmp_path) -> None:
    r = asyncplay("doctor", cwd=tmp_path)
    lines = r.stdout.decode().splitlines()
    assert r.returncode == 0 and [line.split()[0] for line in lines[:3]] == [
        "bwrap",
        "cgroup",
        "rlimit",
    ]
    assert any(line.startswith("policy  ") for line in lines)  # (test_sandbox_policy.py)
    assert lines[0].split()[1] == ("yes:" if BWRAP_OK else "no:")


async def test_run_cgroups_are_removed(tmp_path) -> None:
    if PIDS_WHY:
        pytest.skip(f"no pids cgroup: {PIDS_WHY}")
    from asyncplay.runner.session import RunSession
    from asyncplay.runner.spec import RunSpec

    _version, parent = locate("pids")
    mine = f"run-{os.getpid()}-"
    spec = RunSpec(source="import time\ntime.sleep(30)\n", path=str(tmp_path / "b.py"))
    session = await RunSession.start(spec)
    during = [n for n in os.listdir(parent) if n.startswith(mine)]
    await session.stop()
    await session.aclose()
    assert len(during) == 1
    assert not [n for n in os.listdir(parent) if n.startswith(mine)]


# Each of the program's threads, a thread it starts and a process it starts: the cgroup
# of every hierarchy, one "controllers:path" line each.
MEMBERS = (
    "import subprocess, sys, threading\n"
    "def read(path):\n"
    "    with open(path) as f:\n"
    "        return sorted(line.split(':', 1)[1].strip() for line in f)\n"
    "seen = {'main': read('/proc/thread-self/cgroup')}\n"
    "t = threading.Thread(target=lambda: seen.update(thread=read('/proc/thread-self/cgroup')))\n"
    "t.start(); t.join()\n"
    "out = subprocess.run([sys.executable, '-c', 'print(open(\"/proc/self/cgroup\").read())'],\n"
    "                     capture_output=True, text=True).stdout\n"
    "seen['child'] = sorted(line.split(':', 1)[1] for line in out.split())\n"
    "print(repr(seen))\n"
)


@pytest.mark.parametrize("layer", LAYERS)
def test_every_thread_and_process_of_a_run_is_in_its_cgroups(tmp_path, layer) -> None:
    """The forked child joins each v1 hierarchy through ``tasks`` (its own, only thread:
    no wait for the kernel's global lock, sandbox/cgroup.py): what it starts afterwards,
    threads and processes, is in the run's cgroup of every controller, as with
    ``cgroup.procs``."""
    if PIDS_WHY:
        pytest.skip(f"no pids cgroup: {PIDS_WHY}")
    r = run(tmp_path, layer, MEMBERS)
    assert r.returncode == 0, r.stderr[-300:]
    seen = ast.literal_eval(r.stdout.decode())
    wanted = ["pids"] + [c for c in ("memory", "cpu", "cpuacct") if not _cgroup_why(c)]
    for who, lines in seen.items():
        where = {ctrl: path for line in lines for ctrl, path in [line.split(":", 1)]}
        for controller in wanted:
            path = next(p for c, p in where.items() if controller in c.split(","))
            assert "/asyncplay/run-" in path, (who, controller, path)
        assert len({p for c, p in where.items() if "/asyncplay/run-" in p}) == 1, (who, where)


# ---- output floods: stopped at --output-limit, asyncplay's own memory bounded -------------

FLOODS = {
    "lines": "while True:\n    print('x' * 100)\n",
    "no-newlines": "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
    "binary": "import os, sys\nwhile True:\n    sys.stdout.buffer.write(os.urandom(65536))\n",
    "one-huge-line": "import sys\nsys.stdout.write('y' * (200 << 20))\n",
    "stderr": "import sys\nwhile True:\n    sys.stderr.write('e' * 1000 + '\\n')\n",
}
# asyncplay run in-process, its own peak RSS (not its children's) written to a file.
PEAK = (
    "import resource, sys\n"
    "from asyncplay.cli import main\n"
    "code = main(sys.argv[2:])\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(f'{code} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}')\n"
)


def peak_kib(tmp_path, *argv: str) -> tuple[int, int]:
    """(exit status, asyncplay's own peak RSS in KiB) of ``asyncplay ARGV`` in tmp_path."""
    import subprocess

    from helpers import env

    report = tmp_path / "peak"
    subprocess.run(
        [sys.executable, "-c", PEAK, str(report), *argv],
        cwd=tmp_path,
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )
    code, kib = report.read_text().split()
    return int(code), int(kib)


@pytest.fixture(scope="module")
def quiet_peak(tmp_path_factory):
    """asyncplay's own peak RSS running ``pass``, raw or ``--json``: the baseline of every
    flood test, the same run each time, so made once per test process for each mode."""
    folder = tmp_path_factory.mktemp("quiet")
    (folder / "quiet.py").write_text("pass\n")
    made: dict[bool, int] = {}

    def peak(json_mode: bool) -> int:
        if json_mode not in made:
            made[json_mode] = peak_kib(folder, "run", *(["--json"] * json_mode), "quiet.py")[1]
        return made[json_mode]

    return peak


@pytest.mark.parametrize("json_mode", [False, True], ids=["raw", "json"])
@pytest.mark.parametrize("name", list(FLOODS))
def test_output_floods_stop_at_the_output_limit_with_bounded_memory(
    tmp_path, name, json_mode, quiet_peak
) -> None:
    (tmp_path / "p.py").write_text(FLOODS[name])
    mode = ["--json"] if json_mode else []
    base = quiet_peak(json_mode)
    start = time.monotonic()
    code, flood = peak_kib(tmp_path, "run", *mode, "--output-limit", "8", "p.py")
    assert code == exits.OUTPUT
    assert time.monotonic() - start < 20
    # The limit is 8 MiB of output; asyncplay may hold a few copies of a chunk, never
    # the flood (hundreds of MiB).
    assert flood - base < 64 * 1024, f"asyncplay grew by {(flood - base) // 1024} MiB"


def test_a_flood_reports_the_output_limit_sentence(tmp_path) -> None:
    r = run(tmp_path, "bwrap" if BWRAP_OK else "rlimit", FLOODS["binary"], "--output-limit", "2")
    assert r.returncode == exits.OUTPUT
    assert "--output-limit 2 MiB" in last_line(r) and "raise it with --output-limit" in last_line(r)
    assert 2 << 20 <= len(r.stdout) < 8 << 20


# ---- planning for a user who is not root (no cgroup of our own) ---------------------------


def _plan_as_user(monkeypatch, tmp_path, scope: tuple[bool, str]):
    import resource

    from asyncplay import sandbox
    from asyncplay.runner.spec import RunSpec

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(sandbox.cgroup, "systemd_scope", lambda: scope)
    spec = RunSpec(source="pass", path=str(tmp_path / "b.py"), sandbox="rlimit")
    plan = sandbox.prepare(spec, str(tmp_path), {})
    limits = {res: (soft, hard) for res, soft, hard in plan.preexec.rlimits}
    return plan, limits, resource


def test_a_user_without_cgroups_gets_rlimit_nproc_above_what_they_run(
    monkeypatch, tmp_path
) -> None:
    plan, limits, resource = _plan_as_user(monkeypatch, tmp_path, (False, "no user session"))
    assert "cgroup" not in plan.layers and plan.procs_enforced
    assert any("no cgroup layer: no user session" in n for n in plan.notes)
    assert any("RLIMIT_NPROC" in n for n in plan.notes)
    soft, _hard = limits[resource.RLIMIT_NPROC]
    from asyncplay.sandbox.rlimit import user_tasks

    running = user_tasks(os.getuid())  # (uid 0 really; only the effective uid is faked)
    assert running > 0 and abs(soft - 64 - running) <= 50  # room for what the user runs
    assert resource.RLIMIT_AS in limits  # no memory cgroup: the address-space limit


def test_a_user_with_a_systemd_session_gets_a_scope(monkeypatch, tmp_path) -> None:
    plan, limits, resource = _plan_as_user(monkeypatch, tmp_path, (True, ""))
    assert plan.prefix[:5] == ["systemd-run", "--user", "--scope", "--quiet", "--collect"]
    assert "TasksMax=64" in plan.prefix and f"MemoryMax={1024 << 20}" in plan.prefix
    assert plan.layers == ["cgroup", "rlimit"]
    assert resource.RLIMIT_NPROC not in limits and resource.RLIMIT_AS not in limits


@pytest.mark.parametrize("layer", LAYERS)
async def test_stop_reaches_the_program_so_its_finally_runs(tmp_path, layer) -> None:
    """Under bwrap asyncplay's child is bwrap, which SIGINT would kill outright: the stop
    signal goes to the program inside the namespace instead."""
    need(layer)
    from asyncplay.runner.session import RunSession
    from asyncplay.runner.spec import RunSpec

    source = (
        "import time\ntry:\n    print('started', flush=True)\n    time.sleep(30)\n"
        "finally:\n    print('cleaned up', flush=True)\n"
    )
    spec = RunSpec(source=source, path=str(tmp_path / "b.py"), sandbox=layer)
    session = await RunSession.start(spec)
    texts = []
    async for ev in session.events():
        if ev["event"] == "output":
            texts.append(ev["text"])
            if "started" in ev["text"]:
                break
    end = await session.stop()
    texts += [e["text"] for e in session.drain() if e["event"] == "output"]
    await session.aclose()
    assert end["reason"] == "stopped" and end["exit_code"] == exits.STOPPED
    # (joined: how print's text and newline are split into writes differs between builds)
    assert "cleaned up\n" in "".join(texts)


ORDINARY = """
import asyncio, concurrent.futures, multiprocessing, tempfile

def square(x):
    return x * x

async def handle(reader, writer):
    writer.write((await reader.readline()).upper())
    await writer.drain()
    writer.close()

async def main():
    loop = asyncio.get_running_loop()
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        print(await asyncio.gather(*(loop.run_in_executor(pool, square, i) for i in range(4))))
    lock = multiprocessing.Lock()
    with lock:
        print("lock")
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"echo\\n")
    print((await reader.readline()).decode().strip())
    writer.close()
    server.close()
    with tempfile.NamedTemporaryFile("w+") as f:
        f.write("temp")
        f.seek(0)
        print(f.read())

if __name__ == "__main__":
    asyncio.run(main())
"""


@pytest.mark.parametrize("layer", LAYERS)
def test_ordinary_programs_still_work(tmp_path, layer) -> None:
    """Process pools, multiprocessing locks, a localhost server, temporary files."""
    r = run(tmp_path, layer, ORDINARY)
    assert (r.returncode, r.stdout) == (0, b"[0, 1, 4, 9]\nlock\nECHO\ntemp\n"), r.stderr[-500:]


FORGED_TASKS = """
import os, struct
HEADER, CREATED = struct.Struct("<BI"), struct.Struct("<IIdIIIB")
def is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False
fd = next(fd for fd in range(200, 260) if is_open(fd))  # the event channel
for start in range(1, 3_000_000, 10_000):
    os.write(fd, b"".join(
        HEADER.pack(ord("C"), CREATED.size + 1) + CREATED.pack(i, 0, 0.0, 0, 0, 0, 0) + b"t"
        for i in range(start, start + 10_000)
    ))
"""


def test_forged_tasks_cannot_grow_asyncplay_past_the_memory_limit(tmp_path) -> None:
    """Millions of forged task records (each one a task in asyncplay's model): the trace
    may take as much of asyncplay's memory as --memory gives the program, no more."""
    (tmp_path / "p.py").write_text(FORGED_TASKS)
    (tmp_path / "quiet.py").write_text("pass\n")
    _code, base = peak_kib(tmp_path, "run", "--quiet", "quiet.py")
    code, peak = peak_kib(tmp_path, "run", "--quiet", "--memory", "100", "p.py")
    assert code == exits.EVENTS
    assert peak - base < 200 * 1024, f"asyncplay grew by {(peak - base) // 1024} MiB"
    r = asyncplay("run", "--quiet", "--memory", "100", "p.py", cwd=tmp_path)
    assert "--memory 100 MiB" in last_line(r) and "raise it with --memory" in last_line(r)


def test_a_venv_under_tmp_is_visible_inside_bwrap(tmp_path) -> None:
    """bwrap's /tmp is a fresh tmpfs: what the run needs from the real /tmp (its directory,
    a --python venv there) is bound back read-only."""
    import subprocess

    need("bwrap")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (tmp_path / "p.py").write_text("import sys\nprint(sys.prefix)\n")
    python = str(venv / "bin" / "python")
    r = asyncplay("run", "--quiet", "--sandbox", "bwrap", "--python", python, "p.py", cwd=tmp_path)
    assert (r.returncode, r.stdout.decode().strip()) == (0, str(venv)), r.stderr[-400:]


# ---- a user who is not root, for real (root can become one here) -------------------------


PRIVATE_UID = 2_000_000  # + a pid: a uid no account and no other test uses (bwrap maps it)


def _as_nobody(source: str, *argv: str, uid: str = "nobody"):
    """``asyncplay ARGV`` run as the unprivileged user ``nobody`` (or ``uid``) with the system
    Python, in a directory of its own holding ``p.py`` (pytest's tmp_path is private to root)."""
    import shutil
    import subprocess
    import tempfile

    from helpers import Result

    import asyncplay as pkg

    system_python = shutil.which("python3", path="/usr/bin:/bin")
    if os.geteuid() != 0 or not shutil.which("setpriv") or not system_python:
        pytest.skip("needs root, setpriv and a system python3 to run as nobody")
    root = os.path.dirname(os.path.dirname(os.path.abspath(pkg.__file__)))
    where = tempfile.mkdtemp(prefix="asyncplay-nobody-")
    try:
        os.chmod(where, 0o777)
        with open(os.path.join(where, "p.py"), "w") as f:
            f.write(source)
        env = ["env", "-i", "PATH=/usr/bin:/bin", f"HOME={where}", f"PYTHONPATH={root}"]
        user = ["setpriv", f"--reuid={uid}", "--regid=nogroup", "--clear-groups", *env]
        probe = subprocess.run(
            [*user, system_python, "-c", "import asyncplay.runner.core"], capture_output=True
        )
        if probe.returncode != 0:
            pytest.skip(f"nobody cannot run asyncplay from here: {probe.stderr[-200:]!r}")
        p = subprocess.run(
            [*user, system_python, "-m", "asyncplay", *argv],
            cwd=where,
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        return Result(p.returncode, p.stdout, p.stderr)
    finally:
        shutil.rmtree(where, ignore_errors=True)


@pytest.mark.parametrize("layer", LAYERS)
def test_without_root_fork_still_fails_at_procs(layer) -> None:
    need(layer)
    # RLIMIT_NPROC counts every process of the uid, machine-wide: a uid of its own, since a
    # root asyncplay's runs (the other test worker's) are nobody's and come and go meanwhile.
    r = _as_nobody(
        FORK_COUNT,
        *("run", "--json", "--sandbox", layer, "--procs", "10", "p.py", "raise"),
        uid=str(PRIVATE_UID + os.getpid() % 100_000),
    )
    n, exc, _errno = r.program_stdout.split()
    assert exc == "BlockingIOError" and 1 <= int(n) <= 9
    start, end = r.events[0], r.events[-1]
    assert (end["reason"], end["exit_code"]) == ("procs", exits.PROCS), end
    assert "--procs 10" in end["message"]
    assert layer != "bwrap" or start["sandbox"]["layers"][0] == "bwrap"


def test_without_root_bwrap_still_guards_asyncplay() -> None:
    """Unprivileged bwrap (a user namespace): the program still cannot signal asyncplay."""
    need("bwrap")
    ns = os.readlink("/proc/self/ns/pid")
    r = _as_nobody(PARENT_KILLER, "run", "--quiet", "--sandbox", "bwrap", "p.py", ns)
    assert (r.returncode, r.stdout) == (3, b"sibling -9\n"), r.stderr[-400:]


def test_a_killed_asyncplays_leftovers_are_ended_by_the_next_run(tmp_path) -> None:
    """asyncplay itself SIGKILLed mid-run (no clean-up possible): its program dies of the
    parent-death signal, what the program started lives on in the run's pids cgroup until
    the next asyncplay run sweeps it."""
    need_pids("rlimit")
    import signal
    import subprocess

    from helpers import env

    pidfile = tmp_path / "grandchild.pid"
    (tmp_path / "p.py").write_text(
        "import subprocess, sys, time\n"
        "p = subprocess.Popen(['sleep', '120'])\n"
        "open(sys.argv[1], 'w').write(str(p.pid))\n"
        "time.sleep(120)\n"
    )
    app = subprocess.Popen(
        [sys.executable, "-m", "asyncplay", "run", "--quiet", "--sandbox", "rlimit", "p.py",
         str(pidfile)],
        cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    app.send_signal(signal.SIGKILL)
    app.wait()
    time.sleep(0.2)
    assert os.path.exists(f"/proc/{grandchild}"), "the grandchild should outlive the kill"
    r = run(tmp_path, "rlimit", "print('next run')\n")
    assert r.stdout == b"next run\n"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:  # it is our child now (the test process is a subreaper): reap it
            if os.waitpid(grandchild, os.WNOHANG)[0] == grandchild:
                break
        except ChildProcessError:
            pass
        if not os.path.exists(f"/proc/{grandchild}"):
            break
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{grandchild}")


def test_the_early_bwrap_probe_is_the_answer_usable_gives(monkeypatch) -> None:
    """``asyncplay run`` starts bwrap's probe before its imports (cost, #15): ``usable``
    collects that probe (reaped, not left) and answers as a probe of its own would."""
    if bwrap.path() is None:
        pytest.skip("bwrap is not installed")
    monkeypatch.setattr(bwrap, "_USABLE", {})
    monkeypatch.setattr(bwrap, "_PENDING", {})
    bwrap.probe_early()
    proc = bwrap._PENDING["size"]
    early = bwrap.usable()
    assert proc.returncode is not None and not bwrap._PENDING
    monkeypatch.setattr(bwrap, "_USABLE", {})
    assert bwrap.usable() == early
    bwrap.probe_early()  # answered already: nothing starts
    assert not bwrap._PENDING


def test_an_early_probe_nobody_asked_about_is_reaped(monkeypatch) -> None:
    if bwrap.path() is None:
        pytest.skip("bwrap is not installed")
    monkeypatch.setattr(bwrap, "_USABLE", {})
    monkeypatch.setattr(bwrap, "_PENDING", {})
    bwrap.probe_early()
    proc = bwrap._PENDING["size"]
    bwrap.collect_probe()
    assert proc.returncode is not None and not bwrap._PENDING
