"""``asyncplay attach PID``: the session with a program asyncplay did not start.

``AttachSession.start`` checks the target (``attach_target``), writes a bootstrap script
into a private directory (0700, with a listening Unix socket and a random token), and has
the target run it with ``sys.remote_exec``, called by **the target's own interpreter**
(``/proc/PID/exe -I -S``: the caller must be the same minor version; ``-I`` ignores a
``PYTHON_DISABLE_REMOTE_DEBUG`` of asyncplay's own environment). It wakes the loop
(``attach_wake``), accepts the connection, checks the token, and from then on the socket
carries the protocol's records (``docs/protocol.md``), decoded by the same checking
``Decoder`` as a run's channel; its ``O`` records (a copy of what the program writes
through ``sys.stdout``/``sys.stderr``, which still goes to its own terminal) become
``output`` events as they are, there being no pipe to merge them with. ``b"D"`` asks the program to detach; asyncplay going
away (its end of the socket closing) detaches it too.

No sandbox applies: the program was started without asyncplay and runs as it was.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time

from asyncplay import decoder, exits
from asyncplay.runner.attach_target import (
    Refused,
    Target,
    check_target,
    ptrace_why,
    remote_debug_off_why,
)
from asyncplay.runner.attach_wake import wake_loop

__all__ = ["NO_SANDBOX", "AttachSession", "Refused"]

NO_SANDBOX = "asyncplay did not start this program: no sandbox applies to it"
CONNECT_TIMEOUT = 10.0  # seconds for the main thread to run the script
DETACH_GRACE = 3.0  # seconds for the program's "detached" after asking

# The script the target runs (a fresh namespace, from its main thread, between two
# bytecodes): everything inside one function, deleted at the end; any error swallowed,
# since what escapes is printed on the program's stderr.
BOOTSTRAP = """\
def _asyncplay_attach(root, sock, token):
    import sys
    before = set(sys.modules)
    theirs = {n: m for n, m in list(sys.modules.items()) if n.split(".")[0] == "asyncplay"}
    for n in theirs:
        del sys.modules[n]
    sys.path.insert(0, root)
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        # Ours only: never an asyncplay of the program's own (another version) found
        # further along its path when ours cannot be read.
        from importlib.machinery import PathFinder
        if PathFinder.find_spec("asyncplay", [root]) is None:
            raise ModuleNotFoundError("no asyncplay package readable there")
        from asyncplay.child import attached
        if not attached.__file__.startswith(root + "/"):
            raise ImportError("the program's own asyncplay was found first")
    except Exception as exc:
        import socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(sock)
            s.sendall(f"{token}\\n!{type(exc).__name__}: {exc}\\n".encode())
        return
    finally:
        sys.dont_write_bytecode = writes
        while root in sys.path:
            sys.path.remove(root)
        sys.path_importer_cache.pop(root, None)
        for n in set(sys.modules) - before:
            del sys.modules[n]
        sys.modules.update(theirs)
    attached.start(sock, token)


try:
    _asyncplay_attach(ROOT, SOCK, TOKEN)
except BaseException:
    pass
del _asyncplay_attach, ROOT, SOCK, TOKEN
"""

INJECT = (
    "import sys\n"
    "try:\n"
    "    sys.remote_exec(int(sys.argv[1]), sys.argv[2])\n"
    "except BaseException as e:\n"
    "    print(type(e).__name__ + ': ' + str(e))\n"
    "    sys.exit(1)\n"
)


PREFIX = "asyncplay-attach-"


def _sweep(base: str) -> None:
    """Folders an attach had to leave (its script still pending in a program that never
    ran it) go once that program is gone."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        pid = name[len(PREFIX) :].split("-")[0]
        if name.startswith(PREFIX) and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            path = os.path.join(base, name)
            try:
                if os.stat(path).st_uid == os.getuid():
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                continue


def _package_root() -> str:
    import asyncplay

    return os.path.dirname(os.path.dirname(os.path.abspath(asyncplay.__file__)))


class AttachSession:
    """One attach: ``start``, then ``fileno``/``read`` until ``ended``, then ``finish``."""

    def __init__(self, pid: int, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.pid = pid
        self.connect_timeout = connect_timeout
        self.target: Target | None = None
        self.conn: socket.socket | None = None
        self.decoder = decoder.Decoder()
        self.t0 = time.monotonic()
        self.detach_asked: float | None = None
        self.ask_reason = ""
        self.detached: str | None = None  # the program's word
        self.ended = False
        self.attach_ms = 0.0
        self._dir: str | None = None
        # The script sys.remote_exec may still run: never deleted before it ran (the
        # program would print "Can't open debugger script" on its stderr), only emptied.
        self._pending: str | None = None

    def now(self) -> float:
        return time.monotonic() - self.t0

    # ---- attaching ------------------------------------------------------------------

    def start(self) -> list[dict]:
        """Attach (or raise ``Refused``); the first events: run_start, hello, the tasks."""
        target = self.target = check_target(self.pid)
        base = os.environ.get("XDG_RUNTIME_DIR")
        if not base or not os.path.isdir(base):
            base = tempfile.gettempdir()
        _sweep(base)
        self._dir = d = tempfile.mkdtemp(prefix=f"{PREFIX}{self.pid}-", dir=base)
        try:
            return self._start(target, d)
        except BaseException:
            self.close()
            raise

    def _start(self, target: Target, d: str) -> list[dict]:
        chown = os.getuid() == 0 and target.uid != 0  # the target runs the script as itself
        sock_path = os.path.join(d, "s")
        script = os.path.join(d, "attach.py")
        token = secrets.token_hex(16)
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            srv.bind(sock_path)
            srv.listen(1)
            with open(script, "w", encoding="utf-8") as f:
                f.write(f"ROOT = {_package_root()!r}\nSOCK = {sock_path!r}\nTOKEN = {token!r}\n")
                f.write(BOOTSTRAP)
            if chown:
                for path in (d, sock_path, script):
                    os.chown(path, target.uid, -1)
            self._pending = script
            try:
                self._inject(target, script)
            except Refused:  # sys.remote_exec said no: nothing is pending in the program
                self._pending = None
                raise
            try:
                wake_loop(self.pid)
            except OSError:
                pass  # it still runs at the loop's next timer, or its next step
            srv.settimeout(self.connect_timeout)
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                raise Refused(
                    f"process {self.pid} ran no Python code in its main thread for "
                    f"{self.connect_timeout:g} s (blocked in a C call, or its loop runs "
                    "in another thread); try again",
                    exits.ATTACH_NO_ANSWER,
                ) from None
        finally:
            srv.close()
        self.conn = conn
        self._pending = None  # it ran: it connected
        for path in (script, sock_path):
            os.unlink(path)
        os.rmdir(d)
        self._dir = None
        conn.settimeout(5.0)
        head = b""
        while b"\n" not in head and len(head) < 100:
            chunk = conn.recv(100 - len(head))
            if not chunk:
                break
            head += chunk
        line, _, rest = head.partition(b"\n")
        if not secrets.compare_digest(line, token.encode()):
            raise Refused("the connection did not come from the program", exits.INTERNAL)
        if rest.startswith(b"!"):  # the bootstrap could not import the runtime
            why = rest[1:].split(b"\n")[0].decode("utf-8", "replace")[:200]
            raise Refused(
                f"process {self.pid} could not load asyncplay's runtime ({why}): its user "
                f"must be able to read {_package_root()}",
                exits.INTERNAL,
            )
        events = [self.run_start_event()]
        pending = self._decode(rest)
        deadline = time.monotonic() + 5.0
        while not any(e.get("event") in ("hello", "refused") for e in pending):
            if time.monotonic() > deadline:
                raise Refused(
                    f"process {self.pid} did not answer (its loop is stuck in a step?)",
                    exits.ATTACH_NO_ANSWER,
                )
            chunk = conn.recv(1 << 16)
            if not chunk:
                break
            pending += self._decode(chunk)
        for ev in pending:
            if ev.get("event") == "refused":
                raise Refused(f"process {self.pid}: {ev['why']}", exits.ATTACH_NO_LOOP)
        if not any(e.get("event") == "hello" for e in pending):
            raise Refused(f"process {self.pid} closed the connection", exits.ATTACH_NO_LOOP)
        self.attach_ms = 1000 * (time.monotonic() - self.t0)
        conn.setblocking(False)
        return events + pending

    def _inject(self, target: Target, script: str) -> None:
        try:
            done = subprocess.run(
                [f"/proc/{self.pid}/exe", "-I", "-S", "-c", INJECT, str(self.pid), script],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise Refused(
                f"cannot run process {self.pid}'s own Python ({target.exe}): {exc}",
                exits.ATTACH_NOT_PYTHON,
            ) from None
        if done.returncode == 0:
            return
        msg = (done.stdout.strip() or done.stderr.strip()).splitlines()[-1:] or ["?"]
        text = msg[0]
        if "not enabled in the remote process" in text:
            raise Refused(
                f"process {self.pid} does not allow it: {remote_debug_off_why(self.pid)}",
                exits.ATTACH_DISABLED,
            )
        if "Permission" in text or "not permitted" in text:
            raise Refused(
                f"the kernel does not let you inspect process {self.pid}: {ptrace_why(self.pid)}",
                exits.ATTACH_PTRACE,
            )
        if "No such process" in text or not os.path.exists(f"/proc/{self.pid}"):
            raise Refused(f"no process {self.pid}", exits.ATTACH_NO_PROCESS)
        raise Refused(f"sys.remote_exec failed: {text}", exits.ATTACH_NOT_PYTHON)

    def run_start_event(self) -> dict:
        target = self.target
        assert target is not None
        return {
            "event": "run_start",
            "t": 0.0,
            "python": target.exe,
            "mode": "attach",
            "target": f"PID {target.pid}: {target.cmdline or target.exe}",
            "args": [],
            "pid": target.pid,
            "limits": {},
            "sandbox": {"mode": "none", "layers": [], "notes": [NO_SANDBOX], "notices": []},
        }

    # ---- attached -------------------------------------------------------------------

    def fileno(self) -> int:
        assert self.conn is not None
        return self.conn.fileno()

    def _decode(self, data: bytes) -> list[dict]:
        try:
            events = self.decoder.feed(data)
        except ValueError as exc:
            self.ended = True
            return [{"event": "protocol_error", "t": self.now(), "message": str(exc)[:200]}]
        out: list[dict] = []
        for ev in events:
            kind = ev.get("event")
            if kind == "output_record":  # a copy of the program's write: no pipe to merge
                text = ev["data"].decode("utf-8", "replace")
                last = out[-1] if out else None
                if (  # one event per run of one stream's writes by one task (a print's
                    last is not None  # text and its end are two writes)
                    and last["event"] == "output"
                    and last["stream"] == ev["stream"]
                    and last["task"] == ev["task"]
                ):
                    last["text"] += text
                    continue
                ev = {
                    "event": "output",
                    "t": ev["t"],
                    "stream": ev["stream"],
                    "text": text,
                    "task": ev["task"],
                }
            elif kind == "detached":
                self.detached = str(ev.get("reason"))
            out.append(ev)
        return out

    def read(self) -> list[dict]:
        """What arrived (call when ``fileno`` is readable, or to poll)."""
        if self.conn is None or self.ended:
            return []
        events: list[dict] = []
        while True:
            try:
                chunk = self.conn.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                chunk = b""
            if not chunk:
                self.ended = True
                break
            events += self._decode(chunk)
            if self.detached is not None:
                self.ended = True
                break
        return events

    def detach(self, reason: str) -> None:
        """Ask the program to take its hooks off (``reason``: for the end's sentence)."""
        if self.detach_asked is not None or self.conn is None or self.ended:
            return
        self.detach_asked = time.monotonic()
        self.ask_reason = reason
        try:
            self.conn.send(b"D")
        except OSError:
            self.ended = True

    def tick(self) -> None:
        """No answer to a detach in time: close (the program unhooks on the EOF)."""
        if self.detach_asked is not None and time.monotonic() - self.detach_asked > DETACH_GRACE:
            self.ended = True

    def finish(self) -> dict:
        """The ``run_end`` event; closes the channel."""
        self.close()
        pid = self.pid
        gone = not os.path.exists(f"/proc/{pid}")
        if self.detached == "the program exited" or (self.detached is None and gone):
            reason, by = "exited", "program"
            message = f"process {pid} exited while attached"
            if self.detached is None:
                message += " (without a word: its last records may be missing)"
        else:
            reason, by = "detached", "asyncplay"
            why = self.ask_reason or self.detached or "the channel closed"
            message = f"detached from process {pid} ({why}); it goes on as before"
        return {
            "event": "run_end",
            "t": max(0.0, self.now() - self.attach_ms / 1000),  # the program's clock
            "exit_code": 0,
            "reason": reason,
            "by": by,
            "status": None,
            "message": message,
        }

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
            self.conn = None
        if self._pending is not None:  # still pending in the program: make it a no-op and
            try:  # leave its folder (swept by a later attach once the program is gone)
                with open(self._pending, "w") as f:
                    f.write("")
            except OSError:
                pass
            self._pending = self._dir = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
