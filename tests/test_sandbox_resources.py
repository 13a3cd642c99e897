"""Memory counted everywhere and CPU fairness (docs/sandbox.md, Memory and CPU).

Hostile programs fill /tmp, /dev/shm, memfds and System V shared memory under
``--memory 256``: the run is stopped and the host's shared memory (``Shmem`` in
/proc/meminfo) never grows by more than the limit, with a memory cgroup (root) and without
one (an unprivileged user: run here through ``setpriv`` when the tests run as root, and
natively when CI runs this module as nobody). Twenty threads run under the defaults; a
thread that cannot start is blamed on the limit that refused it. A run's CPU share is
bounded (a cpu cgroup's weight, else its autogroup's nice).
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from helpers import asyncplay
from test_sandbox import BWRAP_OK, _as_nobody, json_run, need, run

from asyncplay import exits
from asyncplay.sandbox import bwrap, cgroup, cpu, memory

MIB = 1024 * 1024


def _memory_cgroup() -> bool:
    if os.geteuid() != 0:
        return False
    try:
        cgroup.locate("memory")
    except (cgroup.CgroupError, OSError):
        return False
    return True


def shmem() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Shmem:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no Shmem in /proc/meminfo")


# One measurement of the host's Shmem at a time (per user: /tmp is sticky).
LOCK = f"/tmp/asyncplay-test-shmem-{os.getuid()}.lock"


class ShmemPeak:
    """The host's Shmem sampled every 10 ms while the block runs: peak growth over before.
    Measurements take a lock, so parallel test workers do not add to each other's."""

    def __enter__(self) -> ShmemPeak:
        import fcntl

        self.lock = os.open(LOCK, os.O_RDONLY | os.O_CREAT, 0o600)
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        self.base = self.peak = shmem()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, shmem())
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.growth = self.peak - self.base
        # The run's tmpfs and IPC namespace are freed as its namespaces go (the kernel may
        # take a moment): wait for it, then let the next measurement go.
        deadline = time.monotonic() + 10
        while shmem() - self.base > SLACK and time.monotonic() < deadline:
            time.sleep(0.05)
        self.left = shmem() - self.base
        os.close(self.lock)


# Writes up to 600 MiB into each place, in 32 MiB pieces (RLIMIT_FSIZE caps one file), and
# holds it: the sandbox must stop it or refuse it long before.
FILL = r"""
import ctypes, os, sys, time
MB = 1 << 20
CHUNK = b"x" * MB
places = sys.argv[1:]
keep = []
def pieces(make):
    n = 0
    try:
        while n < 600:
            write = make()
            for _ in range(32):
                write(CHUNK)
                n += 1
    except OSError as e:
        print(f"refused after {n} MiB: {e.strerror}", flush=True)
for place in places:
    if place in ("/tmp", "/dev/shm"):
        count = iter(range(1000))
        def make(place=place):
            f = open(f"{place}/fill{next(count)}", "wb")
            keep.append(f)
            return f.write
        pieces(make)
    elif place == "memfd":
        def make():
            fd = os.memfd_create("fill")
            keep.append(fd)
            return lambda b: os.write(fd, b)
        pieces(make)
    elif place == "sysv":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        for n in range(0, 600, 32):
            sid = libc.shmget(0, 32 * MB, 0o1600)
            if sid < 0:
                print("refused:", os.strerror(ctypes.get_errno()), flush=True)
                break
            addr = libc.shmat(sid, None, 0)
            ctypes.memset(addr, 1, 32 * MB)
            libc.shmdt(ctypes.c_void_p(addr))
print("all written", flush=True)
time.sleep(3)
"""

PLACES = ["/tmp", "/dev/shm", "memfd", "sysv"]
SLACK = 64 * MIB  # other programs of the machine move Shmem too (a leak would be 600 MiB)


def filled(start, places: list[str], tries: int = 4):
    """Run the filler (``start()``) and check it: stopped at --memory, or every place
    refused more (a full tmpfs, no memfds); the host's Shmem never more than the limit above
    where it was, and back once the run is over. Other programs on a shared machine move
    Shmem too, and only ever add to the growth: a measurement is tried again (up to
    ``tries`` times) when only the growth is off. Returns the run's result."""
    worst = ""
    for _ in range(tries):
        with ShmemPeak() as peak:
            r = start()
        refused = r.stdout.count(b"refused")
        assert r.returncode == exits.MEMORY or (r.returncode == 0 and refused == len(places)), (
            r.returncode,
            r.stdout[-300:],
            r.stderr[-300:],
        )
        if peak.growth <= 256 * MIB + SLACK and peak.left <= SLACK:
            return r
        worst = f"Shmem grew by {peak.growth // MIB} MiB, {peak.left // MIB} MiB outlived the run"
    raise AssertionError(worst)


@pytest.mark.parametrize("place", ["all", *PLACES])
def test_memory_outside_the_heap_counts_against_memory(tmp_path, place) -> None:
    """bwrap's /tmp and /dev/shm are the run's own: with a memory cgroup their pages are
    charged to it; without one they are sized, memfds and SysV segments are refused, and
    the parent's sum stops the run."""
    need("bwrap")
    places = PLACES if place == "all" else [place]
    r = filled(lambda: run(tmp_path, "bwrap", FILL, "--memory", "256", args=tuple(places)), places)
    if place in ("memfd", "sysv") and not _memory_cgroup():
        assert b"Function not implemented" in r.stdout  # the seccomp filter


def test_memory_outside_the_heap_counts_for_a_user() -> None:
    """The same program as an unprivileged user (no memory cgroup: sized tmpfs, seccomp,
    the parent's sum)."""
    need("bwrap")
    argv = ("run", "--quiet", "--memory", "256", "p.py")
    filled(lambda: _as_nobody(FILL, *argv, *PLACES), PLACES)
    r = filled(lambda: _as_nobody(FILL, *argv, "memfd", "sysv"), ["memfd", "sysv"])
    assert r.stdout.count(b"Function not implemented") == 2, r.stdout[-300:]


def test_tmp_and_dev_shm_share_the_limit_and_dev_is_read_only(tmp_path) -> None:
    need("bwrap")
    source = (
        "import os\n"
        "sizes = [os.statvfs(p).f_blocks * os.statvfs(p).f_frsize for p in ('/tmp', '/dev/shm')]\n"
        "print(sum(sizes) // (1 << 20))\n"
        "try:\n    open('/dev/stray', 'w')\nexcept OSError as e:\n    print(e.strerror)\n"
        "import multiprocessing\nprint(multiprocessing.Lock() is not None)\n"
    )
    r = run(tmp_path, "bwrap", source, "--memory", "300")
    assert r.returncode == 0, r.stderr[-400:]
    total, err, lock = r.stdout.decode().split("\n")[:3]
    if bwrap.tmpfs_sizes(300 * MIB):
        assert int(total) == 300
    assert err == "Read-only file system" and lock == "True"  # POSIX semaphores still work


# ---- threads -----------------------------------------------------------------------------

TWENTY_THREADS = (
    "import asyncio, concurrent.futures, threading\n"
    "N = 20\n"
    "barrier = threading.Barrier(N)\n"
    "async def main():\n"
    "    loop = asyncio.get_running_loop()\n"
    "    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(N))\n"
    "    await asyncio.gather(*(asyncio.to_thread(barrier.wait, 20) for _ in range(N)))\n"
    "    print('threads', threading.active_count())\n"
    "asyncio.run(main())\n"
)


@pytest.mark.parametrize("layer", ["bwrap", "rlimit", "none"])
def test_twenty_threads_run_under_the_defaults(tmp_path, layer) -> None:
    r = run(tmp_path, layer, TWENTY_THREADS)
    assert (r.returncode, r.stdout) == (0, b"threads 21\n"), r.stderr[-400:]


@pytest.mark.parametrize("layer", ["bwrap", "rlimit"])
def test_twenty_threads_run_under_the_defaults_for_a_user(layer) -> None:
    need(layer)
    r = _as_nobody(TWENTY_THREADS, "run", "--quiet", "--sandbox", layer, "p.py")
    assert (r.returncode, r.stdout) == (0, b"threads 21\n"), r.stderr[-400:]


MANY_THREADS = (
    "import threading, time\n"
    "for i in range(400):\n"
    "    threading.Thread(target=time.sleep, args=(5,), daemon=True).start()\n"
    "print('started 400')\n"
)


def test_a_thread_the_address_space_refuses_is_memory(tmp_path) -> None:
    """400 stacks of 8 MiB do not fit in --memory 1024 under RLIMIT_AS (no memory cgroup:
    --sandbox none here); --procs 1000 allows them: the address space is to blame."""
    _start, end, _out = json_run(tmp_path, "none", MANY_THREADS, "--procs", "1000")
    assert (end["reason"], end["exit_code"]) == ("memory", exits.MEMORY), end


def test_a_user_thread_refused_by_memory_or_by_procs_is_blamed_right() -> None:
    """As a user without a cgroup both rlimits hold: the one that refused is named."""
    need("bwrap")
    r = _as_nobody(MANY_THREADS, "run", "--json", "--procs", "1000", "p.py")
    end = r.events[-1]
    assert (end["reason"], end["exit_code"]) == ("memory", exits.MEMORY), end
    r = _as_nobody(MANY_THREADS, "run", "--json", "--procs", "30", "p.py")
    end = r.events[-1]
    assert end["reason"] in ("procs", "timeout"), end
    assert "--procs 30" in end["message"]


# ---- the pieces ----------------------------------------------------------------------------


def test_the_seccomp_filter_refuses_memfd_and_sysv_and_nothing_else() -> None:
    prog = memory.shm_filter()
    if prog is None:
        pytest.skip("no filter for this architecture")
    install = memory.filter_installer(prog)
    pid = os.fork()
    if pid == 0:  # the child installs it for itself and reports through its exit status
        code = 0
        try:
            install()
            try:
                os.memfd_create("x")
                code |= 1
            except OSError as exc:
                code |= 0 if exc.errno == 38 else 2
            os.close(os.open("/dev/null", os.O_RDONLY))  # everything else still works
            if os.fork() == 0:
                os._exit(0)
            os.wait()
        except BaseException:
            code |= 4
        os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_malloc_arena_cap_is_invisible_to_the_program(monkeypatch) -> None:
    from asyncplay.child import boot

    for own in (None, "glibc.malloc.check=3"):
        env: dict[str, str] = {} if own is None else {"GLIBC_TUNABLES": own}
        memory.add_arena_tunable(env)
        assert memory.ARENA_TUNABLE in env["GLIBC_TUNABLES"]
        for key in ("GLIBC_TUNABLES", boot.ENV_TUNABLES):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        boot._erase_injection("/nonexistent-inject-dir")
        assert os.environ.get("GLIBC_TUNABLES") == own
        assert boot.ENV_TUNABLES not in os.environ


def test_the_program_sees_no_trace_of_the_arena_cap(tmp_path) -> None:
    source = "import os\nprint(os.environ.get('GLIBC_TUNABLES'), os.environ.get('ASYNCPLAY_ORIG_GLIBC_TUNABLES'))\n"
    r = run(tmp_path, "bwrap" if BWRAP_OK else "rlimit", source)
    assert (r.returncode, r.stdout) == (0, b"None None\n"), r.stderr[-300:]


# ---- outcomes -------------------------------------------------------------------------------


def test_a_real_out_of_memory_is_still_the_limit_for_a_user() -> None:
    bomb = "x = []\nwhile True:\n    x.append(bytearray(8 << 20))\n"
    r = _as_nobody(bomb, "run", "--quiet", "--memory", "150", "p.py")
    assert r.returncode == exits.MEMORY, r.stderr[-300:]
    fake = "import sys\nprint('MemoryError', file=sys.stderr)\nsys.exit(1)\n"
    r = _as_nobody(fake, "run", "--quiet", "--memory", "150", "p.py")
    assert r.returncode == 1, r.stderr[-300:]


# ---- CPU -------------------------------------------------------------------------------------

SHOW_CPU = (
    "import time\n"
    "deadline = time.monotonic() + 10\n"
    "while time.monotonic() < deadline:\n"
    "    with open('/proc/self/autogroup') as f:\n"
    "        group = f.read().split()\n"
    "    if group[-1] != '0':\n"
    "        break\n"
    "    time.sleep(0.02)\n"
    "with open('/proc/self/cgroup') as f:\n"
    "    cpu = [line.split(':')[2].strip() for line in f if ':cpu:' in line or ':cpu,' in line]\n"
    "print(group[-1], cpu[0] if cpu else '-')\n"
)


def _cpu_cgroup() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        return cgroup.locate("cpu")[1]
    except (cgroup.CgroupError, OSError):
        return None


@pytest.mark.parametrize("layer", ["bwrap", "rlimit"])
def test_a_run_gets_a_bounded_cpu_share(tmp_path, layer) -> None:
    """A cpu cgroup of its own under asyncplay's (weights: docs/sandbox.md); without one,
    its autogroup's nice."""
    need(layer)
    r = run(tmp_path, layer, SHOW_CPU)
    assert r.returncode == 0, r.stderr[-300:]
    nice, group = r.stdout.decode().split()
    home = _cpu_cgroup()
    if home is not None:
        assert "/asyncplay/run-" in group
        with open(os.path.join(home, "cpu.shares")) as f:
            assert int(f.read()) == cgroup.HOME_WEIGHT * 1024 // 100
    elif cpu.autogroups_enabled():
        assert int(nice) == cpu.NICE


def test_a_users_run_gets_its_autogroup_niced() -> None:
    need("bwrap")
    if not cpu.autogroups_enabled():
        pytest.skip("this kernel has no autogroups")
    r = _as_nobody(SHOW_CPU, "run", "--quiet", "p.py")
    assert r.returncode == 0, r.stderr[-300:]
    assert int(r.stdout.split()[0]) == cpu.NICE


def test_doctor_names_the_cpu_layer(tmp_path) -> None:
    if _cpu_cgroup() is None:
        pytest.skip("no cpu cgroup here")
    r = asyncplay("doctor", cwd=tmp_path)
    assert b"cpu (v" in r.stdout, r.stdout[-400:]


def test_doctor_says_how_a_user_is_held() -> None:
    need("bwrap")
    r = _as_nobody("", "doctor")
    lines = r.stdout.decode().splitlines()
    assert any(line.startswith("memory  no memory cgroup: RLIMIT_AS") for line in lines), lines
    assert any(line.startswith("cpu     no cpu cgroup:") for line in lines), lines
