"""A killed playground never leaves the terminal in the alternate screen.

Textual restores the terminal when the app ends, but a SIGKILL (the OOM killer, ``kill -9``,
a program that found asyncplay's pid) ends it with the terminal still in the alternate
screen, the cursor hidden, mouse tracking and bracketed paste on and the tty in raw mode:
the shell's prompt is then unreadable and every mouse move types garbage into it.

So the app runs in a child process, and the process the shell started stays behind as a
small supervisor: it saved the terminal's settings before the app touched them, waits for
the app, and if the app ended without saying it restored the terminal itself, it restores
it (leaves the alternate screen, shows the cursor, turns mouse tracking, focus events,
bracketed paste and the kitty keyboard protocol off, drops the mouse reports left in the
input queue, puts the tty settings back) before it exits with the app's status. The shell
waits on the supervisor, so its prompt comes only after the terminal is restored.

Signals: SIGTERM and SIGHUP sent to the supervisor are passed to the app (which saves and
exits); the supervisor ignores Ctrl+C and Ctrl+\\ (the app has the terminal in raw mode, and
a signal sent to the whole group reaches the app anyway). If the supervisor itself is
killed, the app gets SIGHUP (a parent-death signal) and ends as on a hang-up, restoring the
terminal the normal way.
"""

from __future__ import annotations

import os
import signal
import sys
import termios
import threading
from collections.abc import Callable

__all__ = ["RESTORE", "restore", "supervise"]

# Everything Textual's driver turns on, turned off, in the order it stops application mode.
RESTORE = (
    b"\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l"  # mouse tracking off
    b"\x1b[?2004l"  # bracketed paste off
    b"\x1b[?2048l"  # in-band resize reports off
    b"\x1b[?7h"  # line wrap back on
    b"\x1b[<u"  # pop the kitty keyboard protocol (before leaving the alternate screen)
    b"\x1b[?1049l"  # the normal screen
    b"\x1b[?25h"  # the cursor
    b"\x1b[?1004l"  # focus events off
    b"\x1b[0m"
)
WRITE_TIMEOUT = 2  # seconds: a terminal that takes no output (XOFF, gone) cannot hold us
PR_SET_PDEATHSIG = 1


def _nothing() -> None:
    pass


def supervise(tty: int = 0, out: int = 1) -> Callable[[], None]:
    """Fork: return in the child (the app's process) a function to call once the app has
    restored the terminal; the parent supervises and never returns. Where it cannot be done
    (no terminal, threads already running) nothing is forked: a no-op is returned."""
    try:
        saved = termios.tcgetattr(tty)
    except (termios.error, OSError):
        return _nothing
    if threading.active_count() > 1:  # forking now could copy a held lock
        return _nothing
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # nothing buffered twice
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return _nothing
    if pid == 0:  # the app
        os.close(r)
        _hang_up_with_parent()

        def restored() -> None:
            try:
                os.write(w, b"R")
                os.close(w)
            except OSError:  # the supervisor is gone: nobody to tell
                pass

        return restored
    os.close(w)
    _wait_and_restore(pid, r, saved, tty, out)
    raise AssertionError("unreachable")  # pragma: no cover


def _hang_up_with_parent() -> None:
    from asyncplay.selfguard import libc_prctl

    prctl = libc_prctl()
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGHUP, 0, 0, 0)
    if os.getppid() == 1:  # the supervisor died before the prctl
        os.kill(os.getpid(), signal.SIGHUP)


def _wait_and_restore(pid: int, done: int, saved: list, tty: int, out: int) -> None:
    """The supervisor: wait for the app, restore the terminal unless it did, exit as it."""

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except OSError:  # already gone
            pass

    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGWINCH):
        signal.signal(sig, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    while True:
        try:
            _pid, status = os.waitpid(pid, os.WUNTRACED)
        except ChildProcessError:  # cannot happen: it is our child
            status = 0
            break
        if not os.WIFSTOPPED(status):
            break
        # The app suspended itself (SIGTSTP to its own pid): stop too, so that the shell,
        # which waits on us, sees its job stopped; its fg continues the whole group.
        os.kill(os.getpid(), signal.SIGSTOP)
    try:
        clean = os.read(done, 1) == b"R"
    except OSError:
        clean = False
    if not clean:
        restore(saved, tty, out)
    code = os.waitstatus_to_exitcode(status)
    os._exit(128 - code if code < 0 else code)


def restore(saved: list | None, tty: int = 0, out: int = 1) -> None:
    """Put the terminal back as it was before the app; a terminal gone is no error."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # a blocked write ends the supervisor
    signal.alarm(WRITE_TIMEOUT)
    try:
        os.write(out, RESTORE)
        termios.tcflush(tty, termios.TCIFLUSH)  # mouse reports no shell should read
        if saved is not None:
            termios.tcsetattr(tty, termios.TCSANOW, saved)
    except (OSError, termios.error):
        pass
    finally:
        signal.alarm(0)
