"""One thread that writes the editor's snapshots, so a keystroke never waits for a disk.

``fsync`` on NFS can take tens of milliseconds or, with a server gone, much longer: the
debounced autosave hands its snapshot here. Quitting and a hang-up write in their own
thread (:meth:`Writer.run_now`); sequence numbers make sure an older snapshot never lands
after a newer one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Writer"]


class Writer:
    """One thread that writes the buffer's snapshots in order; a newer snapshot replaces
    one not yet written. ``on_done(error)`` is called from the thread (None: success)."""

    def __init__(self, on_done: Callable[[str | None], None]) -> None:
        self.on_done = on_done
        self._cond = threading.Condition()
        self._io = threading.Lock()  # one write at a time: the thread's or a sync one
        self._job: tuple[int, Callable[[], None]] | None = None
        self._seq = 0  # of the newest snapshot submitted
        self._done = 0  # of the newest snapshot written
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self.written = 0  # how many snapshots reached the disk (for tests and benches)

    def submit(self, job: Callable[[], None]) -> None:
        with self._cond:
            self._seq += 1
            self._job = (self._seq, job)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="asyncplay-autosave", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def run_now(self, job: Callable[[], None]) -> None:
        """Write in the caller's thread (quitting, hang-up); a pending snapshot is older,
        so it is dropped. Raises what the job raises."""
        with self._cond:
            self._seq += 1
            seq = self._seq
            self._job = None
        with self._io:
            job()
            self._done = max(self._done, seq)
            self.written += 1

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._job is None and not self._closed:
                    self._cond.wait()
                if self._job is None:
                    return
                (seq, job), self._job = self._job, None
                self._busy = True
            error: str | None = None
            try:
                with self._io:
                    if seq > self._done:  # else a newer snapshot was written meanwhile
                        job()
                        self._done = seq
                        self.written += 1
            except Exception as exc:  # said on screen by on_done: never silent
                error = str(exc) or type(exc).__name__
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
            self.on_done(error)

    def idle(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is pending or being written; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._job is None and not self._busy, timeout)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)
