"""The network layer (``--network on|host|off``): what a run may reach, and how.

* ``off``: bwrap's own network namespace with loopback only (nothing outside is reachable:
  no host service, no host abstract unix socket, no internet).
* ``on`` (the default): the same private namespace, given outbound access by
  ``slirp4netns`` (user-mode NAT; Debian package ``slirp4netns``). Connections and DNS work as
  under ``python``; the program's own loopback is its own; the host's loopback services
  stay unreachable (``--disable-host-loopback``: the gateway 10.0.2.2 does not lead to the
  host's 127.0.0.1); the host's abstract unix sockets live in the host's namespace, out of
  reach; no port is forwarded inward, so nothing the program listens on is reachable
  from outside. bwrap holds the program (``--block-fd``) until the helper says the
  interface is up (``--ready-fd``); the helper ends when asyncplay closes its exit pipe
  (``--exit-fd``), which also happens when asyncplay dies.
* ``host``: python's exact view, no network namespace. The host's abstract unix sockets
  are then reachable unless the kernel can scope them: Landlock's
  ``LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET`` (ABI 6, Linux 6.12) is applied before exec.

slirp4netns rather than pasta: it has the ready and exit descriptors this needs (a run
starts only once its network is up, and the helper cannot outlive asyncplay), it runs the
same as root and as a user (joining the namespace's owning user namespace), and it
sandboxes itself (``--enable-sandbox --enable-seccomp``). Where it is missing or fails,
the run goes ahead as ``off`` and its first line says why and how to get ``on``.
"""

from __future__ import annotations

import os

from asyncplay.limits import NETWORK_MODES
from asyncplay.sandbox import process
from asyncplay.sandbox.which import which

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "DEFAULT",
    "LIVE_HELPERS",
    "NetworkError",
    "Outbound",
    "check",
    "dns_config",
    "doctor",
    "failure_hint",
    "landlock_abi",
    "scope_abstract_sockets",
    "slirp_usable",
]

DEFAULT = "on"
TOOL = "slirp4netns"
READY_TIMEOUT = 5.0  # seconds the helper may take to bring the interface up
SLIRP_DNS = "10.0.2.3"  # slirp4netns's built-in DNS forwarder (to the host's resolver)

# Landlock (linux/landlock.h): syscall numbers are the same on every architecture.
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1
LANDLOCK_SCOPE_ABI = 6
PR_SET_NO_NEW_PRIVS = 38
NS_GET_USERNS = 0xB701  # ioctl on a namespace fd: the user namespace that owns it


class NetworkError(ValueError):
    """A network mode that does not exist: one line saying which ones do."""


def check(mode: str) -> None:
    if mode not in NETWORK_MODES:
        raise NetworkError(f"--network takes one of {', '.join(NETWORK_MODES)}, not {mode!r}")


_CACHE: dict[str, object] = {}
# Helpers of every run of this process still up: never "orphans" of another run.
LIVE_HELPERS: set[int] = set()


def slirp_usable() -> tuple[bool, str]:
    """(installed, why not) for the ``on`` helper. Whether it works is seen at each run."""
    exe = which(TOOL)
    if exe is None:
        return False, f"{TOOL} is not installed (Debian/Ubuntu package: {TOOL})"
    return True, ""


def _libc():  # noqa: ANN202
    if "libc" not in _CACHE:
        try:
            from asyncplay import libc

            _CACHE["libc"] = libc.lib()
        except (OSError, ImportError):
            _CACHE["libc"] = None
    return _CACHE["libc"]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: none, or disabled at boot)."""
    if "abi" not in _CACHE:
        libc = _libc()
        abi = 0
        if libc is not None:
            got = libc.syscall(
                SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION
            )
            abi = max(int(got), 0)
        _CACHE["abi"] = abi
    return int(_CACHE["abi"])  # type: ignore[call-overload]


def scope_abstract_sockets(wrapper: str | None = None) -> Callable[[], None] | None:
    """A pre-exec step that keeps the run away from abstract unix sockets made outside it
    (Landlock scoping), or None where the kernel cannot. The run's own abstract sockets
    (a server and its client in one program) still work: they share the domain.

    The step sets no_new_privs, which a setuid ``wrapper`` (a setuid bwrap) would not
    survive: then there is no scoping either."""
    if landlock_abi() < LANDLOCK_SCOPE_ABI:
        return None
    if wrapper is not None and _setuid(wrapper):
        return None
    from asyncplay import libc as c

    libc = _libc()

    class _Attr(c.Structure):
        _fields_ = [
            ("handled_access_fs", c.c_uint64),
            ("handled_access_net", c.c_uint64),
            ("scoped", c.c_uint64),
        ]

    attr = _Attr(0, 0, LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET)
    size = c.sizeof(attr)

    def _apply() -> None:
        # no_new_privs is what lets an unprivileged process restrict itself.
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(c.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        fd = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, c.byref(attr), size, 0)
        if fd < 0:
            raise OSError(c.get_errno(), "landlock_create_ruleset")
        try:
            if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, fd, 0) != 0:
                raise OSError(c.get_errno(), "landlock_restrict_self")
        finally:
            os.close(fd)

    return _apply


def _setuid(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & 0o4000)
    except OSError:
        return False


def fallback_notice(why: str) -> str:
    """The run's first line when ``on`` cannot be had: what the run has instead (loopback
    only, as ``off``), why, and what gives it a network after all."""
    return f"no outbound network, loopback only: {why}; --network host gives the host's"


def dns_config(text: str) -> str | None:
    """The resolv.conf a run under ``on`` needs, or None when the host's one works as is.

    A nameserver on the host's loopback (systemd-resolved's 127.0.0.53, dnsmasq) would be
    the sandbox's own loopback inside: then the run gets the same file with its
    nameservers replaced by slirp4netns's forwarder, which asks the host's resolver.
    """
    lines = text.splitlines()
    servers = [
        ln.split()[1] for ln in lines if ln.split()[:1] == ["nameserver"] and len(ln.split()) > 1
    ]
    if servers and not any(_loopback(s) for s in servers):
        return None
    kept = [ln for ln in lines if ln.split()[:1] != ["nameserver"]]
    return "\n".join([f"nameserver {SLIRP_DNS}", *kept]) + "\n"


def _loopback(address: str) -> bool:
    return address.startswith("127.") or address in ("::1", "0.0.0.0", "::")


class Outbound:
    """The ``on`` network of one run: bwrap's arguments, then the helper, then its end.

    Use: ``bwrap_args()`` and ``pass_fds`` for the spawn; ``start(pid)`` once bwrap has
    made its namespaces (``bwrap.Launch.wait_setup``), while the interpreter starts; the
    session lets the program go once it returns (the child's start gate); ``close()``
    when the run ends.
    """

    def __init__(self, run_dir: str) -> None:
        self.run_dir = run_dir
        self.failure: str | None = None  # why the run has no outbound network
        self.helper: process.Process | None = None
        self._killed = False  # the helper was sent SIGKILL (it may not be reaped yet)
        self._dns_r = -1  # the run's resolv.conf, for bwrap to read
        self._exit_w = -1

    @property
    def pass_fds(self) -> tuple[int, ...]:
        """The descriptors bwrap must inherit (after ``bwrap_args``)."""
        return tuple(fd for fd in (self._dns_r,) if fd >= 0)

    def bwrap_args(self) -> list[str]:
        args: list[str] = []
        try:
            with open("/etc/resolv.conf", encoding="utf-8", errors="replace") as f:
                conf = dns_config(f.read())
        except OSError:
            conf = dns_config("")
        # Over the file itself (through a symlink to /run/...): a file that is not there
        # cannot be bound over on the read-only root; names then fail to resolve as they
        # would under python. The text goes through a pipe (it is small), not a file:
        # bwrap may run as another user, in a mount namespace of its own.
        target = os.path.realpath("/etc/resolv.conf")
        if conf is not None and os.path.isfile(target):
            data = conf.encode()[:60000]  # (a pipe holds 64 KiB)
            self._dns_r, w = os.pipe()
            try:
                os.write(w, data)
            finally:
                os.close(w)
            args += ["--ro-bind-data", str(self._dns_r), target]
        return args

    def spawned(self) -> None:
        """bwrap runs (or could not be started): its ends are its own now."""
        self._close_fds("_dns_r")

    def start(self, pid: int | None, meanwhile: Callable[[], None] | None = None) -> bool:
        """Bring the network up for the namespace of bwrap's process ``pid``, which has
        made its namespaces and mounts (its loopback is up, its id maps are written).
        ``meanwhile`` runs once the helper is started, before its wait (raising, it ends
        the helper).

        False (with ``failure`` saying why) when the run has only loopback after all.
        True also without a ``pid`` (bwrap failed): there is no run to speak of, and
        bwrap's own message says why.
        """
        self.spawned()
        if pid is None:
            return True
        try:
            self.failure = self._start_helper(pid, meanwhile)
        except _NotOurs as exc:
            raise exc.args[0] from None  # (meanwhile's own failure, not the network's)
        except OSError as exc:
            self._stop_helper()
            self.failure = f"{TOOL} could not be started ({exc})"
        return self.failure is None

    def _close_fds(self, *names: str) -> None:
        for name in names:
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)

    def _start_helper(self, pid: int, meanwhile: Callable[[], None] | None) -> str | None:
        exe = which(TOOL)
        if exe is None:
            return f"{TOOL} is not installed"
        try:
            netns = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        except OSError as exc:
            return f"cannot open the run's network namespace ({exc.strerror})"
        keep = [netns]
        try:
            argv = [
                exe,
                "--configure",
                "--mtu=65520",
                "--disable-host-loopback",
                "--enable-seccomp",
                "--netns-type=path",
            ]
            if os.geteuid() == 0:
                # Its own mount namespace and no capability but binding low ports. Not
                # for a user: slirp4netns (1.2) then becomes root in the user namespace of
                # its target PID (ignoring --userns-path), which under bwrap is the inner
                # one, where root is not mapped; it runs with the user's own rights.
                argv.insert(4, "--enable-sandbox")
            owner = _owner_userns(netns)
            if owner is not None:
                keep.append(owner)
                argv.append(f"--userns-path=/proc/self/fd/{owner}")
            ready_r, ready_w = os.pipe()
            exit_r, self._exit_w = os.pipe()
            log = os.path.join(self.run_dir, "network.log")
            try:
                with open(log, "wb") as out:
                    self.helper = process.start(
                        [
                            *argv,
                            f"--ready-fd={ready_w}",
                            f"--exit-fd={exit_r}",
                            f"/proc/self/fd/{netns}",
                            "tap0",
                        ],
                        stdin=process.DEVNULL,
                        stdout=out.fileno(),
                        stderr=out.fileno(),
                        pass_fds=(ready_w, exit_r, *keep),
                        start_new_session=True,  # the terminal's ^C is for the program
                    )
            except OSError as exc:
                os.close(ready_r)
                return f"{TOOL} could not be started ({exc.strerror})"
            else:
                LIVE_HELPERS.add(self.helper.pid)
            finally:
                os.close(ready_w)
                os.close(exit_r)
            try:
                if meanwhile is not None:
                    try:
                        meanwhile()
                    except BaseException as exc:
                        self._stop_helper()
                        raise _NotOurs(exc) from exc
                import select  # (after the program's spawn, like the helper itself)

                ready, _, _ = select.select([ready_r], [], [], READY_TIMEOUT)
                ok = bool(ready) and os.read(ready_r, 1) == b"1"
            finally:
                os.close(ready_r)
            if ok:
                return None
            self._stop_helper()
            return f"{TOOL} failed ({_last_line(log)})"
        finally:
            for fd in keep:
                os.close(fd)

    def close(self, wait: bool = True) -> None:
        """End the helper (closing its exit pipe is its signal) and reap it; idempotent.

        ``wait=False`` kills it and returns at once: its death takes some 30 ms (the
        kernel tears its tap device down), which the run's end then need not wait for.
        A later ``close()`` reaps it; a process about to exit may leave that to init.
        """
        self._close_fds("_dns_r")
        self._stop_helper(wait)

    def _stop_helper(self, wait: bool = True) -> None:
        """The helper has nothing to save: it is killed rather than waited for (it takes
        some 30 ms to notice its exit pipe). The pipe stays its end if asyncplay dies."""
        self._close_fds("_exit_w")
        if self.helper is not None:
            if self.helper.returncode is None and not self._killed:
                self._killed = True
                try:
                    self.helper.kill()
                except OSError:
                    pass  # already gone (and reaped)
            if not wait:
                return
            # (None: stuck in the kernel, not ours now; reaped by a subreaper's sweep: 0)
            process.wait(self.helper, 5.0)
            LIVE_HELPERS.discard(self.helper.pid)
            self.helper = None


class _NotOurs(Exception):
    """What ``Outbound.start``'s ``meanwhile`` raised, carried past its own handling."""


def _owner_userns(netns: int) -> int | None:
    """An fd of the user namespace owning ``netns``, or None when it is our own.

    An unprivileged bwrap nests two user namespaces; the network namespace belongs to the
    outer one, which only this ioctl still names once bwrap has moved on.
    """
    import fcntl

    try:
        owner = fcntl.ioctl(netns, NS_GET_USERNS)
    except OSError:
        return None
    if os.fstat(owner).st_ino == os.stat("/proc/self/ns/user").st_ino:
        os.close(owner)
        return None
    return owner


def _last_line(path: str) -> str:
    """The helper's error: its first line that is neither a warning nor a progress note."""
    try:
        with open(path, "rb") as f:
            lines = f.read().decode(errors="replace").strip().splitlines()
    except OSError:
        lines = []
    noise = ("WARNING", "child failed", "sent tapfd", "received tapfd", "Starting slirp", "*")
    errors = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith(noise)]
    return (errors or lines or ["no message"])[0][:200]


# ---- what failed because of the sandbox ----------------------------------------------

GAI_ERRORS = frozenset({-2, -3, -4, -5})  # EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_NODATA
UNREACHABLE = frozenset({101, 113})  # ENETUNREACH, EHOSTUNREACH
REFUSED = 111  # ECONNREFUSED


def failure_hint(network: str, asked: str, exc_type: object, errno: object) -> str | None:
    """One line naming the flag when the program died of a network error that the run's
    missing network explains (``network``: what it had; ``asked``: what ``--network``
    said). ``exc_type`` and ``errno`` come from the child's ``uncaught`` record of kind
    ``network``: the exception object's facts, never the program's text."""
    if network != "off":
        return None
    if exc_type == "gaierror" and errno in GAI_ERRORS:
        what = "a host name could not be resolved"
    elif errno in UNREACHABLE:
        what = "the network was unreachable"
    elif errno == REFUSED:
        what = "a connection was refused"
    else:
        return None
    fix = (
        "--network on gives it outbound access"
        if asked == "off"
        else "--network host gives it the host's network"
    )
    return f"{what}: this run had no network (loopback only); {fix}"


def probe(
    bwrap_exe: str, true: str = "/bin/true", preexec: Callable[[], None] | None = None
) -> tuple[bool, str]:
    """(works, why not): a real run of bwrap with its network brought up by the helper.

    The command in the sandbox is ``cat`` on a pipe (``true``'s folder), which stays
    until the pipe closes: the namespace must outlive the helper's start."""
    import subprocess
    import tempfile

    from asyncplay.sandbox import bwrap

    cat = os.path.join(os.path.dirname(true), "cat")
    with tempfile.TemporaryDirectory(prefix="asyncplay-netprobe-") as tmp:
        out = Outbound(tmp)
        launch = bwrap.Launch()
        argv = [bwrap_exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        argv += ["--unshare-net", "--unshare-pid", "--die-with-parent"]
        argv += ["--cap-drop", "ALL"] if os.geteuid() == 0 else []
        argv += [*out.bwrap_args(), *launch.args(), "--", cat if os.path.exists(cat) else true]
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(*out.pass_fds, *launch.pass_fds),
                preexec_fn=preexec,
            )
        except OSError as exc:
            out.close()
            launch.close()
            return False, f"bwrap could not be run ({exc.strerror})"
        try:
            launch.wait_setup(None)
            ok = out.start(launch.child_pid())
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait()
            out.close()
            launch.close()
        return ok, out.failure or ""


def doctor(
    bwrap_ok: bool = True, bwrap_exe: str | None = None, true: str = "/bin/true"
) -> list[str]:
    """The network layer's lines for ``asyncplay doctor``: the modes, as they are here."""
    if not bwrap_ok:
        return [
            "network       host only: without bwrap a run has the host's network "
            "(--network on and off need bwrap)"
        ]
    ok, why = slirp_usable()
    if ok and bwrap_exe:
        ok, why = probe(bwrap_exe, true)
    lines = [
        f"network on    yes: outbound and DNS through {TOOL}; host loopback, host sockets "
        "and inbound ports out of reach"
        if ok
        else f"network on    no: {why}; runs fall back to off (loopback only)",
        "network off   yes: loopback only (own network namespace)",
    ]
    abi = landlock_abi()
    if abi >= LANDLOCK_SCOPE_ABI:
        lines.append(
            f"network host  yes: the host's network; its abstract unix sockets scoped away "
            f"(Landlock ABI {abi})"
        )
    else:
        lines.append(
            "network host  partly: the host's network, and its abstract unix sockets are "
            f"reachable (Landlock scoping needs ABI {LANDLOCK_SCOPE_ABI}, Linux 6.12; "
            f"this kernel has {abi or 'none'})"
        )
    return lines
