"""A helper thread of the runtime that wakes up every few milliseconds.

One thread for the whole run, the output flusher's (``output.py``), started before the
program's first line; the blocking detector's watchdog (``slow_steps.py``) rides on it
(``carry``) rather than starting a thread of its own when the first loop runs, so the
program never sees a thread appear. A ``_thread`` thread, so ``threading.enumerate()``
does not list it, and ``hide_from_thread_count`` leaves it out of ``_thread._count()``
(which CPython's own test suites compare before and after each test); it
starts with every signal blocked (it must never take a signal meant for the program's main
thread: one it blocks to ``sigwait()`` for, say), and it steps aside around ``os.fork()``:
3.12+ warn when a process with other threads forks, and a plain Python program that forks
has no other thread.

The runtime must never print into the program's output and must work without its helpers:
every run of the thread has its own pair of locks (a ``stop()`` that gave up waiting on a
thread stuck in a long tick can never be answered late by that thread, into the locks of
the next one), nothing that happens in the thread escapes it (a failure of a tick goes to
``on_error``, which the runtime points at its once-per-site report, ``failures.py``), and
a thread that cannot be started (a pids limit, ``can't start new thread``) only means no
helper.
"""

from __future__ import annotations

import _thread
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

STOP_WAIT = 1.0  # seconds stop() waits for the thread to leave its tick

# The helpers whose thread has begun and not yet ended (in this process): _thread._count()
# counts them from just before their first line to just after their last.
_live: set[Periodic] = set()
_started: set[Periodic] = set()  # started, perhaps not yet begun


class Periodic:
    """Calls ``tick()`` every ``period`` seconds on its own thread until ``stop()``."""

    period = 0.05
    stop_wait = STOP_WAIT

    def __init__(self) -> None:
        self.running = False
        self.wanted = False  # stopped for a fork: start again at the next ensure_running()
        self.failed = False  # the thread could not be started: the runtime goes without
        self._pid = 0
        self._native_id = 0
        # This run's locks: ``_stop`` is held until the thread should leave, ``_done`` is
        # held until it has left. Fresh ones per start().
        self._stop: _thread.LockType | None = None
        self._done: _thread.LockType | None = None
        # Told of an exception a tick raised (on the helper thread); it must not raise.
        self.on_error: Callable[[BaseException], None] = _ignore
        self.riders: list[Periodic] = []  # helpers whose tick runs on this one's thread
        self._begun: _thread.LockType | None = None  # released once the thread has begun

    def carry(self, rider: Periodic) -> None:
        """Run ``rider.tick()`` on this thread too, at least as often as ``rider.period``
        (its failures go to its own ``on_error``)."""
        if rider not in self.riders:
            self.riders.append(rider)
            self.period = min(self.period, rider.period)

    def tick(self) -> None:
        """One wake-up's work (runs on the helper thread)."""

    def start(self) -> bool:
        """Start the thread; False (and ``failed``) when the system refuses one."""
        if self.running:
            return True
        stop = _thread.allocate_lock()
        stop.acquire()
        done = _thread.allocate_lock()
        done.acquire()
        begun = self._begun = _thread.allocate_lock()
        begun.acquire()
        # _signal, not signal: the module's enums (enum itself) cost a program that does
        # not load them some 1.5 ms of its start-up.
        import _signal

        try:
            old = _signal.pthread_sigmask(_signal.SIG_BLOCK, _signal.valid_signals())
        except (AttributeError, OSError, ValueError):
            old = None
        try:
            self._native_id = 0
            self._pid = os.getpid()
            _thread.start_new_thread(self._loop, (stop, done, begun))
        except Exception:  # RuntimeError("can't start new thread"), MemoryError, ...
            self.failed = True
            return False
        else:
            _started.add(self)
        finally:
            if old is not None:
                _signal.pthread_sigmask(_signal.SIG_SETMASK, old)
        self._stop, self._done = stop, done
        self._pid = os.getpid()
        self.running = True
        self.failed = False
        return True

    def _loop(
        self, stop: _thread.LockType, done: _thread.LockType, begun: _thread.LockType
    ) -> None:
        # Nothing may escape: _thread would print "Exception ignored in thread started
        # by ..." on the program's stderr.
        _live.add(self)
        begun.release()
        try:
            self._native_id = _thread.get_native_id()
            while not stop.acquire(timeout=self.period):
                for rider in self.riders:  # first: the watchdog's sampling is timely
                    try:
                        rider.tick()
                    except Exception as exc:
                        rider.on_error(exc)
                try:
                    self.tick()
                except Exception as exc:
                    self.on_error(exc)
        except BaseException as exc:  # interpreter shutdown tearing the thread down
            self.on_error(exc)
        finally:
            _live.discard(self)
            _started.discard(self)
            try:
                done.release()
            except RuntimeError:  # already released: nobody is waiting on it any more
                pass

    def stop(self) -> None:
        """Before interpreter shutdown (a thread still touching Python objects then is
        fatal) and before a fork: wait until the thread has really gone (at most
        ``stop_wait`` for a tick that is stuck, say on a full pipe: it leaves after it)."""
        self.wanted = False
        if not self.running or os.getpid() != self._pid:  # a fork has no helper thread
            return
        self.running = False
        stop, done = self._stop, self._done
        if stop is None or done is None:
            return
        stop.release()
        if not done.acquire(timeout=self.stop_wait):
            return  # still in its tick; it leaves by itself and touches no lock of ours
        native_id = self._native_id
        task = f"/proc/self/task/{native_id}"
        deadline = time.monotonic() + 0.1
        while native_id and os.path.exists(task) and time.monotonic() < deadline:
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


def hide_from_thread_count() -> None:
    """``_thread._count()`` without the runtime's helper threads: what plain Python gives
    at every point (``test.support.threading_helper`` compares it around each test).
    A thread just started is counted by CPython before its first line runs: wait for
    that line, so a helper is either in both counts or in neither."""
    orig = _thread._count

    def _count() -> int:
        for helper in list(_started):
            begun = helper._begun
            if begun is not None and begun.acquire(timeout=1.0):
                begun.release()
        pid = os.getpid()  # a fork's child has none of them
        return orig() - sum(1 for helper in list(_live) if helper._pid == pid)

    _count.__doc__ = orig.__doc__
    _count.__qualname__ = orig.__qualname__
    _thread._count = _count


def _ignore(exc: BaseException) -> None:
    """The default ``on_error`` of a helper without a tracer to tell (tests' own)."""
