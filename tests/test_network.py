"""``--network on|host|off``, for real: the helper (slirp4netns), bwrap and the kernel, no
mocks. What each mode lets a program reach - the internet, its own loopback, the host's
loopback services, the host's abstract unix sockets - and what it says when a mode cannot
be had. Runs as root and as an unprivileged user; where ``on`` cannot work on this machine
(e.g. no access to /dev/net/tun) its outbound test is skipped with the reason, and the
others check the fallback instead. conftest.py proves no helper outlives its run.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import pytest
from helpers import asyncplay, env

from asyncplay import exits
from asyncplay.child import ending
from asyncplay.limits import NETWORK_MODES
from asyncplay.sandbox import bwrap, network

BWRAP_OK, BWRAP_WHY = bwrap.usable()
if BWRAP_OK and network.slirp_usable()[0]:
    ON_OK, ON_WHY = network.probe(bwrap.path() or "bwrap", bwrap.true_path())
else:
    ON_OK, ON_WHY = False, BWRAP_WHY or network.slirp_usable()[1]
SCOPED = network.landlock_abi() >= network.LANDLOCK_SCOPE_ABI

pytestmark = pytest.mark.unprivileged  # .ci/run runs these again as nobody

needs_bwrap = pytest.mark.skipif(not BWRAP_OK, reason=f"bwrap unavailable: {BWRAP_WHY}")


def run(tmp_path, mode: str, source: str, *flags: str, args: tuple[str, ...] = ()):
    (tmp_path / "p.py").write_text(source)
    return asyncplay("run", "--json", "--network", mode, *flags, "p.py", *args, cwd=tmp_path)


def start_of(r) -> dict:
    return r.kinds("run_start")[0]


def last(r) -> dict:
    return r.events[-1]


def apt_mirror() -> str | None:
    """The first http(s) mirror host named in the system's apt sources (read now, never
    written into the code)."""
    files = ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*"))]
    for path in files:
        if not path.endswith((".list", ".sources")):
            continue
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        for url in re.findall(r"(https?://[^\s\]]+)", text):
            line = next(ln for ln in text.splitlines() if url in ln)
            if line.lstrip().startswith("#"):
                continue
            host = urlsplit(url).hostname
            if host:
                return host
    return None


def host_reaches(host: str) -> str | None:
    """None if this machine itself resolves ``host`` and connects to its port 80, else why."""
    try:
        socket.create_connection((host, 80), timeout=5).close()
    except OSError as exc:
        return f"this machine cannot reach {host}:80 itself ({exc})"
    return None


# ---- on: outbound connections and DNS ------------------------------------------------------

OUTBOUND = """
import asyncio, socket, sys
host = sys.argv[1]
print("resolved", bool(socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM)))
async def main():
    reader, writer = await asyncio.open_connection(host, 80)
    writer.write(b"HEAD / HTTP/1.0\\r\\nHost: " + host.encode() + b"\\r\\n\\r\\n")
    await writer.drain()
    print("answer", (await reader.read(12)).startswith(b"HTTP/"))
    writer.close()
asyncio.run(main())
"""


@needs_bwrap
def test_on_reaches_the_debian_mirror_by_name(tmp_path) -> None:
    host = apt_mirror()
    if host is None:
        pytest.skip("no http(s) mirror in the apt configuration")
    why = host_reaches(host)
    if why:
        pytest.skip(why)
    if not ON_OK:
        pytest.skip(f"--network on cannot work here: {ON_WHY}")
    r = run(tmp_path, "on", OUTBOUND, args=(host,))
    assert last(r)["exit_code"] == 0, r.stderr.decode()
    assert r.program_stdout == "resolved True\nanswer True\n"
    assert start_of(r)["sandbox"]["network"] == "on"
    assert start_of(r)["sandbox"]["notices"] == []


@needs_bwrap
def test_off_has_no_outbound_network_and_says_which_flag_gives_it(tmp_path) -> None:
    host = apt_mirror() or "deb.debian.org"
    r = run(tmp_path, "off", OUTBOUND, args=(host,))
    end = last(r)
    assert end["exit_code"] == 1 and end["reason"] == "exited"
    hints = [w for w in r.kinds("warning") if w["kind"] == "sandbox_network"]
    assert len(hints) == 1 and "--network on" in hints[0]["message"]
    assert "could not be resolved" in hints[0]["message"]


# ---- the program's own loopback works in every mode --------------------------------------

SERVER_AND_CLIENT = """
import asyncio
async def main():
    async def echo(reader, writer):
        writer.write((await reader.readline()).upper())
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping\\n")
    print((await reader.readline()).decode().strip())
    writer.close()
    server.close()
asyncio.run(main())
"""


@needs_bwrap
@pytest.mark.parametrize("mode", NETWORK_MODES)
def test_a_server_and_its_client_in_one_program(tmp_path, mode) -> None:
    r = run(tmp_path, mode, SERVER_AND_CLIENT)
    assert last(r)["exit_code"] == 0, r.stderr.decode()
    assert r.program_stdout == "PING\n"


# ---- the host's loopback services and abstract sockets ---------------------------------------

REACH = """
import json, socket, sys
def attempt(family, address):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect(address)
        return "connected"
    except OSError as exc:
        return type(exc).__name__
    finally:
        s.close()
def gateway():
    with open("/proc/net/route") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000":
                return socket.inet_ntoa(bytes.fromhex(fields[2])[::-1])
port, name = int(sys.argv[1]), sys.argv[2]
gw = gateway()
print(json.dumps({
    "loopback": attempt(socket.AF_INET, ("127.0.0.1", port)),
    "gateway": attempt(socket.AF_INET, (gw, port)) if gw else None,
    "abstract": attempt(socket.AF_UNIX, "\\0" + name),
}))
"""


class HostServices:
    """A TCP listener on the host's 127.0.0.1 and an abstract unix socket, accepting (and
    counting) connections from a thread until closed."""

    def __init__(self) -> None:
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.port = self.tcp.getsockname()[1]
        self.name = f"asyncplay-test-{os.getpid()}-{os.urandom(4).hex()}"
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind("\0" + self.name)
        self.unix.listen(8)
        self.accepted = {"tcp": 0, "unix": 0}
        self.threads = [
            threading.Thread(target=self._serve, args=(s, k), daemon=True)
            for s, k in ((self.tcp, "tcp"), (self.unix, "unix"))
        ]
        for t in self.threads:
            t.start()

    def _serve(self, sock: socket.socket, kind: str) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            self.accepted[kind] += 1
            conn.close()

    def close(self) -> None:
        for s in (self.tcp, self.unix):
            s.shutdown(socket.SHUT_RDWR)
            s.close()
        for t in self.threads:
            t.join(5)


@pytest.fixture
def host_services():
    services = HostServices()
    yield services
    services.close()


@needs_bwrap
@pytest.mark.parametrize("mode", NETWORK_MODES)
def test_what_of_the_host_each_mode_reaches(tmp_path, host_services, mode) -> None:
    r = run(tmp_path, mode, REACH, args=(str(host_services.port), host_services.name))
    assert last(r)["exit_code"] == 0, r.stderr.decode()
    seen = json.loads(r.program_stdout)
    if mode == "host":
        assert seen["loopback"] == "connected"  # python's exact view
        # The host's abstract sockets: scoped away by Landlock where the kernel can.
        assert seen["abstract"] == ("PermissionError" if SCOPED else "connected")
    else:
        assert seen["loopback"] == "ConnectionRefusedError"  # its own loopback, empty
        assert seen["abstract"] == "ConnectionRefusedError"  # another namespace's
        assert seen["gateway"] != "connected"  # not via the helper's gateway either
        expected = {"tcp": 0, "unix": 0}
        assert host_services.accepted == expected
    assert start_of(r)["sandbox"]["network"] == (mode if mode != "on" or ON_OK else "off")


ABSTRACT_OWN = """
import socket
server = socket.socket(socket.AF_UNIX)
server.bind("\\0asyncplay-own-" + str(__import__("os").getpid()))
server.listen(1)
client = socket.socket(socket.AF_UNIX)
client.connect(server.getsockname())
print("own abstract socket ok")
"""


@needs_bwrap
@pytest.mark.parametrize("mode", NETWORK_MODES)
def test_the_programs_own_abstract_sockets_work(tmp_path, mode) -> None:
    r = run(tmp_path, mode, ABSTRACT_OWN)
    assert r.program_stdout == "own abstract socket ok\n", r.stderr.decode()


# ---- the run stays exact: status, signals, nothing left ------------------------------------


@needs_bwrap
@pytest.mark.parametrize(
    ("source", "reason", "status"),
    [
        ("raise SystemExit(7)\n", "exited", 7),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n", "signal", -15),
    ],
)
def test_exit_status_and_signals_are_reported_exactly_under_on(
    tmp_path, source, reason, status
) -> None:
    r = run(tmp_path, "on", source)
    end = last(r)
    assert (end["reason"], end["status"]) == (reason, status)
    assert r.returncode == (7 if status == 7 else 128 + 15)


@needs_bwrap
def test_the_helper_is_gone_when_the_run_ends(tmp_path) -> None:
    """In-process run: the helper is our child; after the run nothing of it is left (and
    conftest checks every descendant too)."""
    from asyncplay.runner.spec import RunSpec
    from asyncplay.runner.sync_driver import run_blocking

    (tmp_path / "p.py").write_text("import time\ntime.sleep(0.2)\n")
    spec = RunSpec(path="p.py", cwd=str(tmp_path), network="on")
    events: list[dict] = []
    end = run_blocking(spec, events.append, None, stdin="null")
    assert end["exit_code"] == 0
    assert network.LIVE_HELPERS == set()
    helpers = [
        pid
        for pid in os.listdir("/proc")
        if pid.isdigit() and _cmdline(pid).startswith(network.TOOL) and _ppid(pid) == os.getpid()
    ]
    assert helpers == []


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return os.path.basename(f.read().split(b"\0")[0].decode(errors="replace"))
    except OSError:
        return ""


def _ppid(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        return int(stat[stat.rfind(")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


# ---- when on cannot be had: the first line, the fallback -------------------------------------


def no_helper_path(tmp_path):
    """A PATH directory with bwrap (and the ``true`` its probe runs) but no slirp4netns."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(bwrap.path() or "/usr/bin/bwrap", bin_dir / "bwrap")
    os.symlink(bwrap.true_path(), bin_dir / "true")
    return bin_dir


@needs_bwrap
def test_without_the_helper_the_run_falls_back_to_off_and_says_so_first(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("PATH", str(no_helper_path(tmp_path)))  # bwrap, no slirp4netns
    monkeypatch.setenv("COLUMNS", "500")
    (tmp_path / "p.py").write_text("print('ran')\n")
    loud = asyncplay("run", "p.py", cwd=tmp_path)
    quiet = asyncplay("run", "--quiet", "p.py", cwd=tmp_path)
    data = asyncplay("run", "--json", "p.py", cwd=tmp_path)
    doctor = asyncplay("doctor", cwd=tmp_path)
    assert loud.returncode == 0 and loud.stdout == b"ran\n"
    first = loud.stderr.decode().splitlines()[0]
    assert first.startswith("asyncplay: no outbound network, loopback only:")
    assert "slirp4netns is not installed" in first and "--network host" in first
    assert b"no outbound network" not in quiet.stderr and quiet.stdout == b"ran\n"
    sandbox = data.events[0]["sandbox"]
    assert sandbox["network"] == "off" and len(sandbox["notices"]) == 1
    on_line = [ln for ln in doctor.stdout.decode().splitlines() if ln.startswith("network on")]
    assert on_line and "no: slirp4netns is not installed" in on_line[0]


@needs_bwrap
def test_the_first_line_fits_the_terminal(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(no_helper_path(tmp_path)))
    monkeypatch.setenv("COLUMNS", "40")
    (tmp_path / "p.py").write_text("pass\n")
    r = asyncplay("run", "p.py", cwd=tmp_path)
    first = r.stderr.decode().splitlines()[0]
    assert len(first) == 40 and first.endswith("...")


def test_an_unknown_network_mode_is_a_usage_error(tmp_path) -> None:
    (tmp_path / "p.py").write_text("pass\n")
    r = asyncplay("run", "--network", "sometimes", "p.py", cwd=tmp_path)
    assert r.returncode == exits.USAGE and r.stdout == b""
    assert "--network takes one of on, host, off" in r.stderr.decode()
    assert r.stderr.decode().count("\n") == 1


# ---- the hint comes from facts, not from the program's text --------------------------------


@needs_bwrap
@pytest.mark.parametrize(
    ("source", "hinted"),
    [
        ("import socket\nsocket.getaddrinfo('example.invalid', 80)\n", True),
        ("import socket\nsocket.create_connection(('127.0.0.1', 9), 2)\n", True),
        (  # wrapped, as a client library does: found through __cause__
            "import socket\ntry:\n    socket.getaddrinfo('example.invalid', 80)\n"
            "except OSError as e:\n    raise RuntimeError('fetch failed') from e\n",
            True,
        ),
        (  # the words, not the fact
            "import sys\nprint('socket.gaierror: [Errno -3] Temporary failure in name "
            "resolution', file=sys.stderr)\nsys.exit(1)\n",
            False,
        ),
        ("raise KeyError('x')\n", False),
    ],
)
def test_the_network_hint_under_off(tmp_path, source, hinted) -> None:
    r = run(tmp_path, "off", source)
    assert last(r)["exit_code"] == 1
    hints = [w for w in r.kinds("warning") if w["kind"] == "sandbox_network"]
    assert len(hints) == int(hinted)


@needs_bwrap
def test_no_hint_when_the_network_was_there(tmp_path) -> None:
    r = run(tmp_path, "host", "import socket\nsocket.create_connection(('127.0.0.1', 9), 2)\n")
    assert last(r)["exit_code"] == 1
    assert not [w for w in r.kinds("warning") if w["kind"] == "sandbox_network"]


def test_the_network_error_is_found_in_causes_and_groups() -> None:
    inner = socket.gaierror(-3, "Temporary failure in name resolution")
    try:
        raise RuntimeError("fetch failed") from inner
    except RuntimeError as exc:
        wrapped: BaseException = exc
    assert ending.network_error(wrapped) is inner
    if sys.version_info >= (3, 11):
        group = BaseExceptionGroup("many", [ValueError("v"), wrapped])  # noqa: F821
        assert ending.network_error(group) is inner
    refused = ConnectionRefusedError(111, "refused")
    assert ending.network_error(refused) is refused
    assert ending.network_error(OSError(2, "no such file")) is None
    assert ending.network_error(_cycle()) is None  # a context cycle ends


def _cycle() -> BaseException:
    a, b = ValueError("a"), ValueError("b")
    a.__context__, b.__context__ = b, a
    return a


def test_failure_hint_reads_only_facts() -> None:
    hint = network.failure_hint
    assert "--network on" in (hint("off", "off", "gaierror", -3) or "")
    assert "--network host" in (hint("off", "on", "gaierror", -3) or "")  # on fell back
    assert "refused" in (hint("off", "off", "ConnectionRefusedError", 111) or "")
    assert hint("on", "on", "gaierror", -3) is None
    assert hint("host", "host", "gaierror", -3) is None
    assert hint("off", "off", "KeyError", None) is None
    assert hint("off", "off", "gaierror", "x") is None


# ---- DNS when the host's resolver is on its own loopback -----------------------------------


def test_dns_config_keeps_a_reachable_resolver() -> None:
    assert network.dns_config("nameserver 192.0.2.53\nsearch lab\n") is None


def test_dns_config_replaces_a_loopback_resolver() -> None:
    conf = network.dns_config("# generated\nnameserver 127.0.0.53\noptions edns0\nsearch lab\n")
    assert conf is not None
    lines = conf.splitlines()
    assert lines[0] == f"nameserver {network.SLIRP_DNS}"
    assert "127.0.0.53" not in conf and "options edns0" in lines and "search lab" in lines


@needs_bwrap
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"),
    reason="needs root and unshare(1) for a private mount namespace with a resolv.conf of its own",
)
@pytest.mark.parametrize("mode", ["on", "off"])
def test_a_loopback_resolver_is_replaced_by_the_helpers_forwarder(tmp_path, mode) -> None:
    """As on a machine with systemd-resolved (127.0.0.53): in a mount namespace of the
    test's own (the machine's file is not touched), asyncplay runs with such a resolv.conf;
    under on the program sees the helper's forwarder instead, and the rest of the file."""
    if mode == "on" and not ON_OK:
        pytest.skip(f"--network on cannot work here: {ON_WHY}")
    fake = tmp_path / "resolv.conf"
    fake.write_text("nameserver 127.0.0.53\noptions edns0\nsearch lab.example\n")
    (tmp_path / "p.py").write_text("print(open('/etc/resolv.conf').read(), end='')\n")
    target = os.path.realpath("/etc/resolv.conf")
    command = [
        "unshare",
        "-m",
        "sh",
        "-c",
        'mount --bind "$0" "$1" && shift && exec "$@"',
        str(fake),
        target,
        sys.executable,
        "-m",
        "asyncplay",
        "run",
        "--json",
        "--network",
        mode,
        "p.py",
    ]
    p = subprocess.run(command, cwd=tmp_path, env=env(), capture_output=True, timeout=60)
    events = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert events[-1]["exit_code"] == 0, p.stderr.decode()
    seen = "".join(e["text"] for e in events if e["event"] == "output")
    if mode == "on":
        assert seen.splitlines()[0] == f"nameserver {network.SLIRP_DNS}"
        assert "127.0.0.53" not in seen and "search lab.example" in seen
    else:
        assert seen == fake.read_text()  # off: the machine's file as it is


def test_doctor_names_every_network_mode(tmp_path) -> None:
    r = asyncplay("doctor", cwd=tmp_path)
    lines = [ln for ln in r.stdout.decode().splitlines() if ln.startswith("network")]
    if not BWRAP_OK:
        assert len(lines) == 1 and "host only" in lines[0]
        return
    assert [ln.split()[1] for ln in lines] == ["on", "off", "host"]
    assert lines[0].split()[2] == ("yes:" if ON_OK else "no:")
    assert ("scoped away" in lines[2]) == SCOPED


def test_the_helper_tool_is_the_one_dotci_installs() -> None:
    with open(os.path.join(os.path.dirname(__file__), "..", ".ci", "run")) as f:
        assert f"install -y -qq {network.TOOL}" in f.read()


# ---- the TUI says it too ---------------------------------------------------------------------


async def test_the_tui_tells_the_runs_notices_once(tmp_path) -> None:
    from tui_helpers import make_app, wait_drawn, wait_ended, wait_for

    from asyncplay.tui.services.replay_session import ReplaySession

    notice = network.fallback_notice("slirp4netns is not installed [x]")
    sandbox = {"mode": "auto", "layers": ["bwrap"], "network": "off", "notices": [notice]}
    end = {
        "event": "run_end",
        "t": 0.1,
        "exit_code": 0,
        "reason": "exited",
        "by": "program",
        "status": 0,
        "message": "the program exited with status 0 after 0.10 s",
    }
    events = [{"event": "run_start", "t": 0.0, "sandbox": sandbox}, end]
    app = make_app("pass\n", str(tmp_path / "p.py"), session_factory=ReplaySession.factory(events))
    told: list[tuple[str, dict]] = []
    app.notify = lambda message, **kw: told.append((message, kw))  # type: ignore[method-assign]
    async with app.run_test() as pilot:
        await pilot.press("f5")
        await wait_ended(pilot)
        await wait_for(pilot, lambda: any(m == notice for m, _kw in told))
        for _ in range(3):  # a few more ticks: still once
            await wait_drawn(pilot)
    said = [kw for m, kw in told if m == notice]
    assert len(said) == 1 and said[0]["severity"] == "warning" and said[0]["markup"] is False


@needs_bwrap
def test_a_run_told_its_caller_exits_kills_the_helper_without_waiting(tmp_path) -> None:
    """``exiting=True`` (asyncplay run, which exits next; cost, #15): the helper is killed
    with the run but not waited for; what is left of it is a dying child of ours, reaped
    here as init would (and conftest checks nothing is left)."""
    from asyncplay.runner.spec import RunSpec
    from asyncplay.runner.sync_driver import run_blocking

    (tmp_path / "p.py").write_text("print('hi')\n")
    spec = RunSpec(path="p.py", cwd=str(tmp_path), network="on")
    events: list[dict] = []
    end = run_blocking(spec, events.append, None, stdin="null", exiting=True)
    assert end["exit_code"] == 0
    left = [pid for pid in network.LIVE_HELPERS]
    if events[0]["sandbox"].get("network") != "on":
        pytest.skip(f"no helper here: {events[0]['sandbox']}")
    assert len(left) == 1  # not waited for
    for pid in left:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        assert state in ("Z", "R", "D", "X")  # killed: dead or dying, never sleeping
        os.waitpid(pid, 0)
        network.LIVE_HELPERS.discard(pid)
