"""How long typed text takes to reach the disk: the most a SIGKILL of the playground loses.

Drives the real ``asyncplay FILE`` in a tmux pseudo-terminal (as a user's terminal), types
a unique marker, and polls the data folder's unsaved entries until a file there holds it
(every 5 ms, with a deadline). The delay measured is from the keystroke being sent to the
text being on disk (renamed into place after fsync), i.e. what SIGKILL could lose. At the
end the playground is SIGKILLed and restarted, and the last marker must come back.

    python bench/autosave_delay.py            # --rounds N (default 20), --gap S

A second part types without pausing (a key every 100 ms for ``--typing`` seconds, never
the debounce's pause) and reports the largest lag between a key being sent and it being on
disk: what a SIGKILL in the middle of typing would lose.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tmux(socket: str, *args: str) -> str:
    out = subprocess.run(
        ["tmux", "-L", socket, "-f", "/dev/null", *args], capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit(f"tmux {args}: {out.stderr}")
    return out.stdout


def on_disk(home: Path, marker: str) -> bool:
    for path in (home / "unsaved").glob("*.json"):
        try:
            if marker in json.loads(path.read_text())["text"]:
                return True
        except (OSError, ValueError, KeyError):
            continue  # renamed over this instant
    return False


def wait(cond, timeout: float) -> float:
    start = time.perf_counter()
    while not cond():
        if time.perf_counter() - start > timeout:
            raise TimeoutError
        time.sleep(0.005)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description="bench: keystroke-to-disk delay of the autosave")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--gap", type=float, default=0.3, help="idle seconds between rounds")
    ap.add_argument("--typing", type=float, default=5.0, help="seconds of non-stop typing")
    ns = ap.parse_args()
    socket = f"asyncplay-bench-{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        (Path(tmp) / "lab.py").write_text("print('saved')\n")
        env = f"ASYNCPLAY_HOME={home} PYTHONPATH={ROOT} TERM=tmux-256color HOME={tmp}"
        command = f"exec env {env} {sys.executable} -m asyncplay lab.py"

        def start(name: str) -> int:
            tmux(
                socket, "new-session", "-d", "-s", name, "-x", "100", "-y", "30", "-c", tmp, command
            )
            wait(lambda: "print('saved')" in tmux(socket, "capture-pane", "-p", "-t", name), 30)
            return int(tmux(socket, "display-message", "-p", "-t", name, "#{pane_pid}"))

        try:
            pid = start("app")
            delays = []
            for n in range(ns.rounds):
                marker = f"#m{n}x"
                tmux(socket, "send-keys", "-t", "app", "-l", marker)
                delays.append(wait(lambda m=marker: on_disk(home, m), 10))
                time.sleep(ns.gap)  # typing paused: the next round starts from idle
            lags = []
            sent: dict[str, float] = {}
            end = time.perf_counter() + ns.typing
            n = 0
            while time.perf_counter() < end:
                marker = f"#t{n}y"
                tmux(socket, "send-keys", "-t", "app", "-l", marker)
                sent[marker] = time.perf_counter()
                n += 1
                pause = time.perf_counter() + 0.1
                while time.perf_counter() < pause:
                    for m in [m for m in sent if on_disk(home, m)]:
                        lags.append(time.perf_counter() - sent.pop(m))
                    time.sleep(0.005)
            while sent:
                for m in [m for m in sent if on_disk(home, m)]:
                    lags.append(time.perf_counter() - sent.pop(m))
                time.sleep(0.005)
            os.kill(pid, signal.SIGKILL)
            pid = start("again")
            restored = on_disk(home, f"#t{n - 1}y")
            tmux(socket, "send-keys", "-t", "again", "C-q")
        finally:
            tmux(socket, "kill-server")
    ms = sorted(d * 1000 for d in delays)
    print(f"keystroke -> on disk, {ns.rounds} rounds (debounce 0.4 s, at most 1.0 s while typing):")
    print(
        f"  p50 {statistics.median(ms):.0f} ms, p90 {ms[int(len(ms) * 0.9) - 1]:.0f} ms, "
        f"max {ms[-1]:.0f} ms"
    )
    print(
        f"non-stop typing (a key every 100 ms for {ns.typing:.0f} s, {len(lags)} keys): "
        f"largest lag key -> on disk {max(lags) * 1000:.0f} ms"
    )
    print(f"after SIGKILL the last marker came back: {restored}")


if __name__ == "__main__":
    main()
