"""Memory outside the heap: how much a run can pin in /tmp, /dev/shm, memfds and System V
shared memory under ``--memory``, measured as the growth of the host's ``Shmem``.

    python bench/shared_memory.py [--memory 256] [--each 700] [--sandbox auto]

The program tries to write ``--each`` MiB into each of /dev/shm, /tmp, memfds and System V
segments (in 32 MiB pieces: RLIMIT_FSIZE caps one file), then holds them for two seconds.
The host's ``Shmem`` (``/proc/meminfo``) is sampled every 10 ms from before the start to the
end; the figure is its peak growth, next to the limit. Other programs on the machine move
``Shmem`` too: run it on a quiet machine, and read a growth of a few MiB as noise. Run it as
root and as an unprivileged user (docs/sandbox.md, Memory, has the command and figures).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = r"""
import ctypes, mmap, os, sys, time
MB = 1 << 20
CHUNK = b"x" * MB
EACH, TOKEN = int(sys.argv[1]), sys.argv[2]
PIECE = 32

def report(what, n, why=""):
    print(f"{what} {n} {why}", flush=True)

def fill_dir(d):
    n = 0
    try:
        while n < EACH:
            with open(f"{d}/{TOKEN}{n}", "wb") as f:
                for _ in range(PIECE):
                    f.write(CHUNK)
                    n += 1
    except OSError as e:
        return report(d, n, e.strerror)
    report(d, n)

def fill_memfd():
    n, fds = 0, []
    try:
        while n < EACH:
            fd = os.memfd_create("fill")
            fds.append(fd)
            for _ in range(PIECE):
                os.write(fd, CHUNK)
                n += 1
    except OSError as e:
        return report("memfd", n, e.strerror), fds
    report("memfd", n)
    return fds

def fill_sysv():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmdt.argtypes = [ctypes.c_void_p]
    n = 0
    while n < EACH:
        sid = libc.shmget(0, PIECE * MB, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
        if sid < 0:
            return report("sysv", n, os.strerror(ctypes.get_errno()))
        addr = libc.shmat(sid, None, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            return report("sysv", n, os.strerror(ctypes.get_errno()))
        print("sysv-id", sid, flush=True)  # for the bench to remove
        ctypes.memset(addr, 1, PIECE * MB)
        libc.shmdt(addr)  # detached: no process maps it, the segment stays
        n += PIECE
    report("sysv", n)

fill_dir("/dev/shm")
fill_dir("/tmp")
keep = fill_memfd()
fill_sysv()
print("holding", flush=True)
time.sleep(2)
"""


def clean_up(token: str, stdout: str) -> None:
    """What a run without a private /tmp, /dev/shm and IPC namespace left on the host."""
    import ctypes

    for d in ("/tmp", "/dev/shm"):
        for name in os.listdir(d):
            if name.startswith(token):
                os.unlink(os.path.join(d, name))
    libc = ctypes.CDLL(None, use_errno=True)
    for line in stdout.splitlines():
        if line.startswith("sysv-id "):
            libc.shmctl(int(line.split()[1]), 0, None)  # IPC_RMID


def shmem_kib() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Shmem:"):
                return int(line.split()[1])
    raise RuntimeError("no Shmem in /proc/meminfo")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memory", type=int, default=256, help="--memory for the run (MiB)")
    ap.add_argument("--each", type=int, default=700, help="MiB to try in each place")
    ap.add_argument("--sandbox", default="auto")
    ns = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "p.py").write_text(HOSTILE)
        base = shmem_kib()
        peak = [base]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], shmem_kib())
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.monotonic()
        argv = [sys.executable, "-m", "asyncplay", "run", "--sandbox", ns.sandbox]
        token = f"asyncplay-bench-{os.getpid()}-"
        argv += ["--memory", str(ns.memory), "--timeout", "60", "p.py", str(ns.each), token]
        proc = subprocess.run(argv, cwd=tmp, env=env, capture_output=True)
        took = time.monotonic() - start
        time.sleep(0.2)  # the run's tmpfs goes with its mount namespace: is it freed?
        done.set()
        sampler.join()
        after = shmem_kib()
        clean_up(token, proc.stdout.decode())
    who = f"uid {os.getuid()}"
    print(f"asyncplay run --sandbox {ns.sandbox} --memory {ns.memory} ({who}), {took:.1f} s")
    said = [x for x in proc.stdout.decode().strip().splitlines() if not x.startswith("sysv-id")]
    print("the program:", " | ".join(said) or "(nothing)")
    last = proc.stderr.decode(errors="replace").strip().splitlines()
    print(f"exit {proc.returncode}: {last[-1] if last else ''}")
    growth = (peak[0] - base) / 1024
    print(
        f"host Shmem: peak growth {growth:.0f} MiB (limit {ns.memory} MiB), "
        f"{(after - base) / 1024:+.0f} MiB after the run"
    )


if __name__ == "__main__":
    main()
