"""A helper thread of the runtime that wakes up every few milliseconds.

Shared by the output flusher (``output.py``) and the blocking detector's watchdog
(``watchdog.py``). A ``_thread`` thread, so ``threading.enumerate()`` does not list it; it
starts with every signal blocked (it must never take a signal meant for the program's main
thread: one it blocks to ``sigwait()`` for, say), and it steps aside around ``os.fork()``:
3.12+ warn when a process with other threads forks, and a plain Python program that forks
has no other thread.
"""

from __future__ import annotations

import _thread
import os
import time


class Periodic:
    """Calls ``tick()`` every ``period`` seconds on its own thread until ``stop()``."""

    period = 0.05

    def __init__(self) -> None:
        self.running = False
        self.wanted = False  # stopped for a fork: start again at the next ensure_running()
        self._pid = 0
        self._native_id = 0
        # _stop is held while the thread should run (it takes it back when told to stop);
        # _stopped is held while the thread runs.
        self._stop = _thread.allocate_lock()
        self._stop.acquire()
        self._stopped = _thread.allocate_lock()

    def tick(self) -> None:
        """One wake-up's work (runs on the helper thread)."""

    def start(self) -> None:
        if self.running:
            return
        self.running = True
        self._pid = os.getpid()
        self._stopped.acquire()
        import signal

        try:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        except (AttributeError, OSError, ValueError):
            old = None
        try:
            _thread.start_new_thread(self._loop, ())
        finally:
            if old is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _loop(self) -> None:
        self._native_id = _thread.get_native_id()
        try:
            while not self._stop.acquire(timeout=self.period):
                try:
                    self.tick()
                except Exception:  # the helper must never die noisily in the program
                    pass
        finally:
            self._stopped.release()

    def stop(self) -> None:
        """Before interpreter shutdown (a thread still touching Python objects then is
        fatal) and before a fork: wait until the thread has really gone."""
        self.wanted = False
        if not self.running or os.getpid() != self._pid:  # a fork has no helper thread
            return
        self.running = False
        self._stop.release()
        self._stopped.acquire(timeout=1.0)
        self._stopped.release()
        task = f"/proc/self/task/{self._native_id}"
        deadline = time.monotonic() + 0.1
        while self._native_id and os.path.exists(task) and time.monotonic() < deadline:
            time.sleep(0.0005)

    def install_fork_hooks(self) -> None:
        """Stop before a fork; start again lazily, at the next ``ensure_running()`` (3.13
        counts threads only after the fork's after-in-parent hooks have run)."""

        def before() -> None:
            if self.running:
                self.stop()
                self.wanted = True

        os.register_at_fork(before=before)

    def ensure_running(self) -> None:
        if self.wanted and not self.running:
            self.wanted = False
            self.start()
