"""The lab policy (docs/sandbox.md, "Lab policy"): ceilings a user cannot raise, defaults,
allowed modes; a malformed or untrusted file makes asyncplay refuse to run.

The system file's path is redirected to the test's own folder (in process), so the
machine's real /etc/asyncplay/policy.toml never leaks in; $ASYNCPLAY_POLICY adds a file,
which is also how the command line is driven in a subprocess.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from helpers import ROOT, asyncplay

from asyncplay import exits, policy, storage
from asyncplay.limits import Limits
from asyncplay.runner.spec import RunSpec

POLICY = """\
[ceilings]
memory = 512
timeout = 200
procs = 32
[allowed]
sandbox = ["auto", "bwrap", "rlimit"]
network = ["on", "off"]
[defaults]
timeout = 90  # (a hello world on a loaded machine, as nobody, may take 3 s)
"""


@pytest.fixture(autouse=True)
def no_system_policy(tmp_path, monkeypatch):
    """No system file unless a test writes one at ``policy.SYSTEM_PATH``."""
    monkeypatch.setattr(policy, "SYSTEM_PATH", str(tmp_path / "etc" / "policy.toml"))
    monkeypatch.delenv(policy.ENV, raising=False)
    policy._CACHE.clear()
    yield
    policy._CACHE.clear()


def extra(tmp_path: Path, text: str | bytes, name: str = "extra.toml") -> Path:
    """A policy file named by $ASYNCPLAY_POLICY (set by the caller's monkeypatch)."""
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def system(tmp_path: Path, text: str) -> Path:
    """A system policy file, trusted as /etc's would be (root's, 0644, in a 0755 folder)."""
    if os.geteuid() != 0:
        pytest.skip("a trusted system policy file must belong to root: needs root")
    path = Path(policy.SYSTEM_PATH)
    path.parent.mkdir(mode=0o755)
    path.write_text(text)
    path.chmod(0o644)
    return path


def test_no_policy_file_means_no_ceilings() -> None:
    pol = policy.load()
    assert pol.files == () and pol.ceilings == {}
    pol.check("memory", 1 << 20)
    pol.check("sandbox", "none")
    assert pol.default("memory", 1024) == 1024 and pol.default("network", "on") == "on"
    assert "no ceilings" in pol.lines()[0]


def test_the_documented_example_is_a_valid_policy(tmp_path, monkeypatch) -> None:
    doc = (ROOT / "docs" / "sandbox.md").read_text()
    section = doc[doc.index("## Lab policy") :]
    example = re.search(r"```toml\n(.*?)```", section, re.S)
    assert example is not None, "docs/sandbox.md's Lab policy section lost its example"
    monkeypatch.setenv(policy.ENV, str(extra(tmp_path, example.group(1))))
    pol = policy.load()
    assert pol.ceiling("memory") == 2048 and pol.ceiling("output-limit") == 64
    assert pol.modes("network") == ("on", "off") and pol.modes("sandbox") == ("auto", "bwrap")
    assert pol.default("memory", 1024) == 512 and pol.default("sandbox", "auto") == "bwrap"


def test_ceilings_defaults_and_modes(tmp_path, monkeypatch) -> None:
    path = extra(tmp_path, POLICY)
    monkeypatch.setenv(policy.ENV, str(path))
    pol = policy.load()
    assert pol.files == (str(path),)
    pol.check("memory", 512)  # at the ceiling is allowed
    with pytest.raises(policy.PolicyDenied) as denied:
        pol.check("memory", 513)
    assert str(denied.value) == (
        f"--memory 513 is above the lab policy's ceiling (memory = 512 MiB in {path})"
    )
    with pytest.raises(policy.PolicyDenied, match=r"--sandbox none is not allowed .*\[auto, bwrap"):
        pol.check("sandbox", "none")
    with pytest.raises(policy.PolicyDenied, match="--network host is not allowed"):
        pol.check("network", "host")
    pol.check("cpu", 1e6)  # no ceiling: not capped
    assert pol.default("memory", 1024) == 512  # the built-in default, lowered to the ceiling
    assert pol.default("memory", 256) == 256
    assert pol.default("timeout", 30.0) == 90  # the policy's own default
    assert pol.default("sandbox", "auto") == "auto"
    doctor = "\n".join(pol.lines())
    assert str(path) in doctor and "at most 512 MiB, default 512 MiB" in doctor
    assert "network       on, off allowed, default on" in doctor


def test_no_limit_is_above_every_ceiling(tmp_path, monkeypatch) -> None:
    """0 means "no limit" to the layers below (a RunSpec built in code may carry it)."""
    monkeypatch.setenv(policy.ENV, str(extra(tmp_path, POLICY)))
    with pytest.raises(policy.PolicyDenied, match="--procs no limit is above"):
        policy.load().check("procs", 0)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[ceilings\nmemory = 5\n", "not valid TOML: .*line 1"),
        ("[ceilings]\nmemroy = 5\n", "ceilings.memroy: unknown ceiling"),
        ("[ceilings]\nmemory = -1\n", "ceilings.memory: must be a whole number above 0"),
        ("[ceilings]\nmemory = 1.5\n", "ceilings.memory: must be a whole number"),
        ("[ceilings]\ntimeout = true\n", "ceilings.timeout: must be a number above 0"),
        ("[ceilings]\ntimeout = inf\n", "ceilings.timeout: must be a number above 0"),
        ("[ceilings]\ntimeout = nan\n", "ceilings.timeout: must be a number above 0"),
        ('[ceilings]\ncpu = "60"\n', "ceilings.cpu: must be a number above 0"),
        ("ceilings = 5\n", "ceilings: must be a table"),
        ("[limits]\nmemory = 5\n", "limits: unknown table"),
        ("[allowed]\nnetwork = []\n", "allowed.network: must be a list"),
        ('[allowed]\nnetwork = ["wifi"]\n', "allowed.network: must be a list of some of on"),
        ('[allowed]\nsandbox = "auto"\n', "allowed.sandbox: must be a list"),
        ('[allowed]\nsandbox = ["auto", "auto"]\n', "allowed.sandbox: must be a list"),
        ('[allowed]\nclock = ["real"]\n', "allowed.clock: unknown"),
        ("[ceilings]\nmemory = 1024\n[defaults]\nmemory = 4096\n", "4096 is above its ceiling"),
        ('[allowed]\nsandbox = ["bwrap"]\n[defaults]\nsandbox = "none"\n', "must be one of bwrap"),
        ("[defaults]\ncolour = 1\n", "defaults.colour: unknown"),
        (b"[ceilings]\nmemory = 5 # \xff\n", "not (valid TOML|UTF-8)"),
    ],
)
def test_a_malformed_policy_is_one_line_naming_the_file(
    tmp_path, monkeypatch, text, problem
) -> None:
    path = extra(tmp_path, text)
    monkeypatch.setenv(policy.ENV, str(path))
    with pytest.raises(policy.PolicyError) as broken:
        policy.load()
    message = str(broken.value)
    assert message.startswith(f"lab policy {path}: ") and "\n" not in message
    assert re.search(problem, message), message
    assert broken.value.status == exits.POLICY_BROKEN


def test_without_a_toml_parser_a_policy_fails_closed(tmp_path, monkeypatch) -> None:
    """Python 3.10 reads the file with tomli; installed without it, nothing runs."""
    monkeypatch.setenv(policy.ENV, str(extra(tmp_path, POLICY)))
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(policy.PolicyError, match="needs the tomli package"):
        policy.load()


def test_a_policy_that_is_not_a_regular_file_is_an_error(tmp_path, monkeypatch) -> None:
    os.mkfifo(tmp_path / "fifo")  # reading it would wait for ever
    monkeypatch.setenv(policy.ENV, str(tmp_path / "fifo"))
    with pytest.raises(policy.PolicyError, match="fifo: not a regular file"):
        policy.load()


def test_a_missing_file_named_by_the_variable_is_an_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(policy.ENV, str(tmp_path / "nowhere.toml"))
    with pytest.raises(policy.PolicyError, match="nowhere.toml .*no such file"):
        policy.load()


def test_an_unreadable_system_file_fails_closed(tmp_path) -> None:
    path = system(tmp_path, POLICY)
    path.chmod(0o000)
    try:
        if os.access(path, os.R_OK):  # root reads anything: make it a directory instead
            path.unlink()
            path.mkdir()
        with pytest.raises(policy.PolicyError, match=re.escape(str(path))):
            policy.load()
    finally:
        if path.is_dir():
            path.rmdir()


def test_the_system_file_applies(tmp_path) -> None:
    path = system(tmp_path, POLICY)
    pol = policy.load()
    assert pol.files == (str(path),) and pol.ceiling("memory") == 512


@pytest.mark.parametrize("change", ["file writable by others", "folder writable by others",
                                    "file of another user", "file writable by its group"])  # fmt: skip
def test_a_system_file_others_could_change_is_refused(tmp_path, change) -> None:
    path = system(tmp_path, POLICY)
    if change == "file writable by others":
        path.chmod(0o646)
    elif change == "folder writable by others":
        path.parent.chmod(0o757)
    elif change == "file of another user":
        os.chown(path, 65534, 0)
    else:
        os.chown(path, 0, 65534)
        path.chmod(0o664)
    with pytest.raises(policy.PolicyError, match="could be changed by users other than root"):
        policy.load()


def test_a_users_own_system_file_is_refused(tmp_path) -> None:
    """As a user, a "system" file they own (so could rewrite) is not trusted."""
    if os.geteuid() == 0:
        pytest.skip("as root every file written here belongs to root")
    path = Path(policy.SYSTEM_PATH)
    path.parent.mkdir(mode=0o755)
    path.write_text(POLICY)
    with pytest.raises(policy.PolicyError, match="could be changed by users other than root"):
        policy.load()


def test_the_variable_can_only_tighten_the_system_file(tmp_path, monkeypatch) -> None:
    system(tmp_path, POLICY)
    looser = extra(
        tmp_path,
        '[ceilings]\nmemory = 4096\nprocs = 16\n[allowed]\nsandbox = ["none", "rlimit"]\n'
        "[defaults]\nmemory = 2048\n",
    )
    monkeypatch.setenv(policy.ENV, str(looser))
    pol = policy.load()
    assert pol.ceiling("memory") == 512  # the system file's: the lower one
    assert pol.ceilings["procs"] == (16, str(looser))  # the variable's: lower
    assert pol.modes("sandbox") == ("rlimit",)  # what both allow
    assert pol.default("memory", 1024) == 512  # its default, kept within the ceiling
    with pytest.raises(policy.PolicyDenied, match=re.escape(policy.SYSTEM_PATH)):
        pol.check("memory", 1024)
    # An empty file does not remove the system one.
    monkeypatch.setenv(policy.ENV, str(extra(tmp_path, "", "empty.toml")))
    assert policy.load().ceiling("memory") == 512
    # Files that together allow no mode: nothing could run.
    disjoint = extra(tmp_path, '[allowed]\nsandbox = ["none"]\n', "disjoint.toml")
    monkeypatch.setenv(policy.ENV, str(disjoint))
    with pytest.raises(policy.PolicyError, match="together they allow no sandbox mode"):
        policy.load()


def test_the_session_enforces_the_policy_whoever_built_the_spec(tmp_path, monkeypatch) -> None:
    from asyncplay.runner.core import SessionCore

    monkeypatch.setenv(policy.ENV, str(extra(tmp_path, POLICY)))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    (tmp_path / "p.py").write_text("print('ran')\n")
    for spec in (
        RunSpec(path="p.py", cwd=str(tmp_path), limits=Limits(memory_mib=1024)),
        RunSpec(path="p.py", cwd=str(tmp_path), limits=Limits(memory_mib=256), sandbox="none"),
    ):
        core = SessionCore(spec)
        with pytest.raises(policy.PolicyDenied):
            core.spawn()
        assert core.proc is None
    assert not list(tmp_path.glob("asyncplay-run-*"))  # nothing was made


# ---- the command line --------------------------------------------------------------------

PROGRAM = "print('ran')\n"


def cli(tmp_path, monkeypatch, policy_text: str, *argv: str):
    monkeypatch.setenv(policy.ENV, str(extra(tmp_path, policy_text)))
    (tmp_path / "p.py").write_text(PROGRAM)
    return asyncplay(*argv, cwd=tmp_path)


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (("--memory", "1024"), "--memory 1024 is above the lab policy's ceiling (memory = 512 MiB"),
        (("--timeout=250",), "--timeout 250 is above the lab policy's ceiling (timeout = 200 s"),
        (("--procs", "33"), "--procs 33 is above the lab policy's ceiling (procs = 32"),
        (("--sandbox", "none"), "--sandbox none is not allowed by the lab policy (sandbox = ["),
        (
            ("--network", "host"),
            "--network host is not allowed by the lab policy (network = [on, off]",
        ),
    ],
)
def test_a_flag_above_the_policy_is_one_line_and_nothing_runs(
    tmp_path, monkeypatch, flags, line
) -> None:
    r = cli(tmp_path, monkeypatch, POLICY, "run", "--quiet", *flags, "p.py")
    assert r.returncode == exits.POLICY_DENIED, r.stderr
    assert r.stdout == b""  # the program did not run
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1 and line in lines[0] and "extra.toml)" in lines[0], lines


def test_a_run_that_asks_for_nothing_gets_the_policys_defaults(tmp_path, monkeypatch) -> None:
    r = cli(tmp_path, monkeypatch, POLICY, "run", "--json", "--procs", "32", "p.py")
    assert r.returncode == 0, r.stderr
    start = r.events[0]
    assert start["limits"]["memory"] == 512  # the built-in 1024, lowered to the ceiling
    assert start["limits"]["timeout"] == 90  # the policy's default
    assert start["limits"]["procs"] == 32  # asked for, at the ceiling


def test_the_policy_can_choose_the_network_and_sandbox_a_run_gets(tmp_path, monkeypatch) -> None:
    text = '[allowed]\nnetwork = ["off", "on"]\n[defaults]\nsandbox = "rlimit"\n'
    r = cli(tmp_path, monkeypatch, text, "run", "--json", "p.py")
    assert r.returncode == 0, r.stderr
    sandbox = r.events[0]["sandbox"]
    assert sandbox["mode"] == "rlimit" and "bwrap" not in sandbox["layers"]
    text = '[allowed]\nnetwork = ["off"]\n'  # the built-in default "on" is not allowed
    r = cli(tmp_path, monkeypatch, text, "run", "--json", "--sandbox", "auto", "p.py")
    assert r.returncode == 0, r.stderr
    assert r.events[0]["sandbox"]["network"] == "off"


def test_the_policys_modes_are_the_flags_modes() -> None:
    """One list of modes (asyncplay/limits.py): the policy, the flags, the sandbox, the
    network layer and the settings take exactly its words."""
    from asyncplay import sandbox
    from asyncplay.cli import args as cli
    from asyncplay.limits import NETWORK_MODES, SANDBOX_MODES
    from asyncplay.sandbox import network

    assert policy.CHOICES == {"sandbox": SANDBOX_MODES, "network": NETWORK_MODES}
    assert cli.RUN_OPTIONS["--sandbox"][1].choices is SANDBOX_MODES
    assert cli.RUN_OPTIONS["--network"][1].choices is NETWORK_MODES
    for mode in SANDBOX_MODES:
        assert storage.Settings(sandbox=mode).problems() == {}
    for mode in NETWORK_MODES:
        network.check(mode)
        assert storage.Settings(network=mode).problems() == {}
    for bad in ("bogus", "", None):
        assert "sandbox" in storage.Settings(sandbox=bad).problems()
        assert "network" in storage.Settings(network=bad).problems()
        with pytest.raises(sandbox.SandboxError):
            sandbox.check(bad)
        with pytest.raises(network.NetworkError):
            network.check(bad)
    for key, (attr, _unit, _whole) in policy.LIMITS.items():  # a flag and a limit each
        assert f"--{key}" in cli.RUN_OPTIONS and attr in Limits.__slots__


def test_a_malformed_policy_refuses_every_command_that_runs(tmp_path, monkeypatch) -> None:
    bad = "[ceilings]\nmemory = 'lots'\n"
    r = cli(tmp_path, monkeypatch, bad, "run", "p.py")
    assert (r.returncode, r.stdout) == (exits.POLICY_BROKEN, b"")
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1 and "extra.toml: ceilings.memory: must be" in lines[0], lines
    r = asyncplay("doctor", cwd=tmp_path)
    assert r.returncode == exits.POLICY_BROKEN
    assert "policy  unusable" in r.stdout.decode() and "ceilings.memory" in r.stdout.decode()
    r = asyncplay("p.py", cwd=tmp_path)  # the editor: refused before it needs a terminal
    assert r.returncode == exits.POLICY_BROKEN and b"ceilings.memory" in r.stderr


def test_doctor_shows_the_policy_in_force(tmp_path, monkeypatch) -> None:
    r = cli(tmp_path, monkeypatch, POLICY, "doctor")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert f"policy  {tmp_path / 'extra.toml'}" in out
    assert "memory        at most 512 MiB, default 512 MiB" in out
    assert "timeout       at most 200 s, default 90 s" in out
    assert "cpu           no ceiling, default 30 s" in out
    assert "sandbox       auto, bwrap, rlimit allowed, default auto" in out


# ---- the TUI -----------------------------------------------------------------------------


def test_saved_settings_start_from_the_policys_defaults(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ASYNCPLAY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(policy.ENV, str(extra(tmp_path, POLICY)))
    settings = storage.load_settings()  # nothing saved yet
    assert (settings.memory_mib, settings.timeout, settings.procs) == (512, 90, 32)
    storage.save_settings(storage.Settings(memory_mib=4096))
    assert storage.load_settings().memory_mib == 4096  # kept: a run says it is too much


async def test_the_settings_screen_shows_ceilings_and_refuses_values_above(
    tmp_path, monkeypatch
) -> None:
    from textual.app import App
    from textual.widgets import Input, Label, OptionList

    from asyncplay.tui.screens.settings import SettingsScreen

    monkeypatch.setenv("ASYNCPLAY_HOME", str(tmp_path / "home"))
    path = extra(tmp_path, POLICY)
    monkeypatch.setenv(policy.ENV, str(path))
    results = []

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(
                SettingsScreen(storage.Settings(memory_mib=256, timeout=400)), results.append
            )

    def text(app, selector: str) -> str:
        return str(app.screen.query_one(selector, Label).render())

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert text(app, "#n-memory_mib") == "at most 512 (lab policy)"
        assert text(app, "#n-cpu") == ""  # no ceiling
        # A value saved before the policy came is marked at once.
        assert app.screen.query_one("#n-timeout", Label).has_class("-error")
        app.screen.query_one("#f-timeout", Input).value = "200"
        offered = app.screen.query_one("#f-sandbox").query_one(OptionList)
        modes = [str(offered.get_option_at_index(i).prompt) for i in range(offered.option_count)]
        assert modes == ["auto", "bwrap", "rlimit"]  # only what the policy allows
        offered = app.screen.query_one("#f-network").query_one(OptionList)
        modes = [str(offered.get_option_at_index(i).prompt) for i in range(offered.option_count)]
        assert modes == ["on", "off"]
        memory = app.screen.query_one("#f-memory_mib", Input)
        memory.value = "1024"
        await pilot.pause()
        assert app.screen.query_one("#n-memory_mib", Label).has_class("-error")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert results == []  # not saved
        line = text(app, "#settings-error")
        assert "Memory (MiB) 1024 is above the lab policy's ceiling (memory = 512 MiB" in line
        memory.value = "512"
        await pilot.pause()
        assert not app.screen.query_one("#n-memory_mib", Label).has_class("-error")
        app.screen.query_one("#defaults").focus()
        await pilot.press("enter")
        assert app.screen.query_one("#f-timeout", Input).value == "90"  # the policy's default
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert len(results) == 1 and results[0].memory_mib == 512 and results[0].timeout == 90


async def test_a_saved_setting_above_the_policy_stops_the_run_with_one_line(
    tmp_path, monkeypatch
) -> None:
    from tui_helpers import make_app, wait_for

    monkeypatch.setenv("ASYNCPLAY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(policy.ENV, str(extra(tmp_path, POLICY)))
    started = []

    async def factory(spec):
        started.append(spec)
        raise AssertionError("the run should have been refused before it started")

    app = make_app(PROGRAM, str(tmp_path / "p.py"), session_factory=factory)
    app.settings = storage.Settings(memory_mib=4096)  # as saved before the policy came
    async with app.run_test(size=(200, 40)) as pilot:  # (wide: the status bar is cut)
        await pilot.press("f5")
        await wait_for(pilot, lambda: "could not start" in app.status.plain)
        line = "the Memory (MiB) setting 4096 is above the lab policy's ceiling (memory = 512 MiB"
        assert line in app.status.plain
    assert started == []


def test_tomli_is_the_parser_on_python_3_10() -> None:
    """pyproject declares tomli for 3.10 (no tomllib there); the child never imports it."""
    text = (ROOT / "pyproject.toml").read_text()
    assert "\"tomli>=2; python_version < '3.11'\"" in text
    child = ROOT / "asyncplay" / "child"
    for source in child.rglob("*.py"):
        assert "toml" not in source.read_text(), source
