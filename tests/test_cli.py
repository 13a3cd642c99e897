"""The headless command line: usage errors, exit statuses, limits, JSON, the summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from helpers import asyncplay, one_line

from asyncplay.runner import core


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run"], "needs a FILE"),
        (["run", "no_such_file.py"], "no such file"),
        (["run", "no-such-snippet-name"], "no file or snippet named"),
        (["run", "--timeout", "abc", "x.py"], "--timeout takes a number"),
        (["run", "--timeout", "-1", "x.py"], "--timeout must be more than"),
        (["run", "--memory", "0", "x.py"], "--memory must be from 32 to 1048576, not '0'"),
        (["run", "--procs", "0", "x.py"], "--procs must be from 1 to 1048576, not '0'"),
        (["run", "--output-limit", "0", "x.py"], "more than 0 and at most 1048576, not"),
        (["run", "--sandbox", "jail", "x.py"], "--sandbox takes one of auto, bwrap, rlimit, none"),
        (["run", "--python", "/nonexistent/python", "x.py"], "no such interpreter"),
        (["run", "--python", "/bin/true", "x.py"], "not a working Python"),
        (["run", "--python", "/bin/ls", "x.py"], "/bin/ls: not a working Python interpreter (it"),
        (["run", "--python", "/bin/sh", "x.py"], "/bin/sh: not a working Python interpreter (it"),
        (["run", "--bogus", "x.py"], "unrecognized arguments"),
        (["nonsense"], "no file or snippet named 'nonsense'"),
        (["run", "."], "is a directory"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(tmp_path, args, needle) -> None:
    (tmp_path / "x.py").write_text("print(1)\n")
    r = asyncplay(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    line = one_line(r.stderr)
    assert line.startswith("asyncplay: ") and needle in line


def test_old_python_is_a_usage_error(tmp_path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho cpython 3 8 10\n")
    fake.chmod(0o755)
    (tmp_path / "x.py").write_text("print(1)\n")
    r = asyncplay("run", "--python", str(fake), "x.py", cwd=tmp_path)
    assert r.returncode == 2 and "too old" in one_line(r.stderr)


def test_version_and_help() -> None:
    r = asyncplay("--version")
    assert r.returncode == 0 and r.stdout.decode().startswith("asyncplay ")
    for args in (["--help"], ["run", "--help"], ["snippets", "--help"]):
        r = asyncplay(*args)
        assert r.returncode == 0 and b"usage:" in r.stdout
    shown = asyncplay("run", "--help").stdout
    assert b"default: 30" in shown and b"(default: 64)" in shown  # defaults are shown
    assert b"(default: auto)" in shown and b"doctor" in asyncplay("--help").stdout


def test_exit_status_args_and_passthrough(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "import sys\nprint('args', sys.argv[1:])\nsys.stderr.write('err\\n')\nsys.exit(7)\n"
    )
    r = asyncplay("run", "--quiet", "p.py", "a", "--json", "b", cwd=tmp_path)
    assert r.returncode == 7
    assert r.stdout == b"args ['a', '--json', 'b']\n"  # flags after FILE are the program's
    assert r.stderr == b"err\n"


def test_summary_names_tasks_and_end(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the summary fits the terminal: keep every column
    (tmp_path / "p.py").write_text(
        "import asyncio\n"
        "async def worker(d):\n    await asyncio.sleep(d)\n"
        "async def main():\n"
        "    await asyncio.gather(*(asyncio.create_task(worker(0.01), name=f'w{i}') for i in range(3)))\n"
        "asyncio.run(main())\n"
    )
    r = asyncplay("run", "p.py", cwd=tmp_path)
    err = r.stderr.decode()
    assert r.returncode == 0
    for needle in ("w0", "w1", "w2", "worker", "p.py:5", "sleep(0.01)", "main", "done"):
        assert needle in err, needle
    assert "asyncplay: the program exited with status 0" in err


def test_many_tasks_of_one_coroutine_are_folded(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "import asyncio\nasync def tiny():\n    await asyncio.sleep(0)\n"
        "async def main():\n    await asyncio.gather(*(tiny() for _ in range(50)))\n"
        "asyncio.run(main())\n"
    )
    err = asyncplay("run", "p.py", cwd=tmp_path).stderr.decode()
    assert "50 tasks" in err and "50 done" in err
    assert err.count("tiny") == 1


def test_timeout_is_124_with_one_sentence(tmp_path) -> None:
    # The wall clock counts from the start of the sandboxed process (start-up included),
    # which can take over a second on a loaded machine: 5 s is room for the 'hi' to come,
    # and the 600 s sleep shows the run was ended by the limit, not by the program.
    (tmp_path / "p.py").write_text("import time\nprint('hi', flush=True)\ntime.sleep(600)\n")
    start = time.monotonic()
    r = asyncplay("run", "--quiet", "--timeout", "5", "p.py", cwd=tmp_path, timeout=120)
    assert time.monotonic() - start < 60
    assert r.returncode == core.EXIT_TIMEOUT == 124
    assert r.stdout == b"hi\n"
    line = one_line(r.stderr)
    assert "--timeout 5" in line and "raise it with --timeout" in line


def test_output_limit(tmp_path) -> None:
    (tmp_path / "p.py").write_text("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n")
    r = asyncplay("run", "--quiet", "--output-limit", "1", "p.py", cwd=tmp_path, timeout=60)
    assert r.returncode == core.EXIT_OUTPUT
    assert "--output-limit" in one_line(r.stderr)
    assert len(r.stdout) < 8 * 1024 * 1024


def test_cpu_limit(tmp_path) -> None:
    (tmp_path / "p.py").write_text("while True:\n    pass\n")
    r = asyncplay("run", "--quiet", "--cpu", "1", "p.py", cwd=tmp_path, timeout=60)
    assert r.returncode == core.EXIT_CPU
    assert "--cpu 1" in one_line(r.stderr)


def test_memory_error_under_the_limit_is_the_limit(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "x = []\nwhile True:\n    x.append(bytearray(10 * 1024 * 1024))\n"
    )
    # --sandbox none: the address-space limit, where Python itself raises MemoryError (a
    # memory cgroup kills instead: tests/test_sandbox.py).
    r = asyncplay(
        "run", "--quiet", "--sandbox", "none", "--memory", "200", "p.py", cwd=tmp_path, timeout=60
    )
    assert r.returncode == core.EXIT_MEMORY
    assert b"MemoryError" in r.stderr  # Python's own traceback still shows
    assert "--memory 200" in r.stderr.decode().strip().splitlines()[-1]


def test_killed_by_signal_is_128_plus_n(tmp_path) -> None:
    (tmp_path / "p.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n")
    r = asyncplay("run", "p.py", cwd=tmp_path)
    assert r.returncode == 128 + 15
    assert "killed by signal 15 (SIGTERM)" in r.stderr.decode()


def test_json_is_the_protocol(tmp_path) -> None:
    (tmp_path / "p.py").write_text(
        "import asyncio\nasync def main():\n    print('hi')\n    return 5\nprint(asyncio.run(main()))\n"
    )
    r = asyncplay("run", "--json", "p.py", cwd=tmp_path)
    assert r.returncode == 0
    events = [json.loads(line) for line in r.stdout.decode().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_start" and kinds[1] == "hello" and kinds[-1] == "run_end"
    assert all(isinstance(e["t"], (int, float)) for e in events)
    text = "".join(e["text"] for e in events if e["event"] == "output")
    assert text == "hi\n5\n"
    main = next(e for e in events if e["event"] == "task_created" and e["coro"] == "main")
    hi = next(e for e in events if e["event"] == "output" and e["text"].startswith("hi"))
    assert hi["task"] == main["id"]
    done = next(e for e in events if e["event"] == "task_done" and e["id"] == main["id"])
    assert done["state"] == "done" and done["result"] == "5"
    assert events[-1]["reason"] == "exited" and events[-1]["by"] == "program"


def test_module_mode(tmp_path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text("import sys\nprint(__name__, sys.argv[1:])\n")
    r = asyncplay("run", "--quiet", "-m", "pkg", "x", "y", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == b"__main__ ['x', 'y']\n"
    # As with python -m, everything after the module is the module's, options included
    # (asyncplay run -m pytest -x tests/ said "unrecognized arguments: -x").
    for argv in (["-m", "pkg"], ["--timeout=9", "-mpkg"], ["--timeout", "9", "-m", "pkg"]):
        r = asyncplay("run", "--quiet", *argv, "-x", "--json", "--timeout", "q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"__main__ ['-x', '--json', '--timeout', 'q']\n"


def test_a_test_suite_runs_under_asyncplay(tmp_path) -> None:
    """docs/cli.md's example: asyncplay run -m pytest, the options pytest's own."""
    (tmp_path / "test_brew.py").write_text(
        "import asyncio\n\ndef test_brew():\n    async def brew():\n"
        "        await asyncio.sleep(0.01)\n        return 'tea'\n\n"
        "    assert asyncio.run(brew()) == 'tea'\n"
    )
    # --sandbox none: the point is the command line; pytest's start-up (hundreds of
    # imports) under a loaded machine's sandboxed, lower-priority run can pass the timeout.
    argv = ["--sandbox", "none", "--timeout", "120", "-m", "pytest", "-x", "-q"]
    r = asyncplay("run", *argv, "-p", "no:cacheprovider", cwd=tmp_path, timeout=150)
    assert r.returncode == 0, r.stderr
    assert b"1 passed" in r.stdout and b"brew" in r.stderr  # the summary has its task


def test_runs_under_another_python(tmp_path) -> None:
    from pythons import find_pythons

    others = {
        v: p
        for v, p in find_pythons().items()
        if v != f"{sys.version_info[0]}.{sys.version_info[1]}"
    }
    if not others:
        pytest.skip("no other CPython 3.10+ installed")
    version, exe = sorted(others.items())[0]
    (tmp_path / "p.py").write_text("import sys\nprint(sys.version_info[:2])\n")
    r = asyncplay("run", "--quiet", "--python", exe, "p.py", cwd=tmp_path)
    assert r.returncode == 0
    assert r.stdout.decode().strip() == str(tuple(int(x) for x in version.split(".")))


@pytest.mark.parametrize("version", ["3.14", "3.15"])
def test_3_14_and_3_15_are_tested_versions(tmp_path, version: str) -> None:
    """No "untested" notice on the Pythons new lab machines have (#20), in the run's
    output nor in the playground's Python setting."""
    from pythons import find_pythons

    from asyncplay.runner.interpreter import resolve
    from asyncplay.tui.services.python_probe import probe

    exe = find_pythons().get(version)
    if exe is None:
        pytest.skip(f"CPython {version} is not installed here")
    (tmp_path / "p.py").write_text("print('hi')\n")
    r = asyncplay("run", "--python", exe, "p.py", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == b"hi\n", r.stderr
    assert b"untested" not in r.stderr
    info = resolve(exe)
    assert not info.untested and info.label.startswith(version)
    assert probe(exe) == (True, f"CPython {info.label}")


def test_sighup_to_asyncplay_ends_the_run_and_leaves_nothing(tmp_path) -> None:
    import signal
    import subprocess

    from helpers import env

    (tmp_path / "p.py").write_text("import time\nprint('up', flush=True)\ntime.sleep(60)\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "asyncplay", "run", "p.py"],
        cwd=tmp_path,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"up\n"
    os.kill(proc.pid, signal.SIGHUP)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == core.EXIT_STOPPED
    assert "stopped" in err.decode()


def test_newer_python_runs_with_one_untested_notice(tmp_path) -> None:
    fake = tmp_path / "python3.99"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-c" ] && [ "$#" -eq 2 ]; then echo "cpython 3 99 0"; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    fake.chmod(0o755)
    (tmp_path / "p.py").write_text("print('ran')\n")
    r = asyncplay("run", "--quiet", "--python", str(fake), "p.py", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == b"ran\n"
    assert (
        r.stderr.decode().strip() == "asyncplay: Python 3.99.0 is untested; tracing may miss tasks"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "p.py"],
        ["run", "--quiet", "--json", "--all-tasks", "p.py", "a", "--timeout", "3"],
        ["run", "--timeout", "2.5", "--memory", "512", "--cpu=4", "--output-limit", "1", "p.py"],
        ["run", "--procs", "10", "--sandbox", "rlimit", "p.py"],
        ["run", "--sandbox=none", "--procs=0", "p.py"],
        ["run", "--sandbox", "jail", "p.py"],
        ["run", "-m", "pkg.mod", "x", "-y"],
        ["run", "--quiet", "-m", "pytest", "-x", "--timeout", "3", "tests/"],
        ["run", "-mpytest", "--version"],
        ["run", "--python", "/usr/bin/python3", "gather"],
        ["run", "--slow-step", "50", "--clock", "virtual", "--speed=0.25", "p.py"],
        ["run", "--clock", "fake", "p.py"],
        ["run", "--timeout=-1", "p.py"],
        ["run", "--time", "5", "p.py"],
        ["run", "--help"],
        ["run", "--quiet", "-", "a", "-b"],
        ["run"],
        ["snippets"],
    ],
)
def test_fast_parser_agrees_with_argparse(argv) -> None:
    """The argparse-free path for ``run`` must mean exactly what argparse means."""
    from asyncplay.cli.args import UsageError, fast_parse, parse_args

    fast = fast_parse(argv)
    if fast is None:
        return  # argparse handles it (and test_usage_errors checks what it says)
    try:
        slow = parse_args(argv)
    except (UsageError, SystemExit) as exc:
        raise AssertionError(f"fast path accepted what argparse rejects: {argv}") from exc
    assert vars(fast) == vars(slow)


def test_a_program_read_from_a_non_regular_file(tmp_path) -> None:
    """``python /dev/stdin`` works, so ``asyncplay run /dev/stdin`` must too."""
    r = asyncplay("run", "--quiet", "/dev/stdin", cwd=tmp_path, stdin=b"print('from stdin')\n")
    assert r.returncode == 0 and r.stdout == b"from stdin\n"


NUMERIC = ["--timeout", "--memory", "--cpu", "--output-limit", "--procs", "--slow-step",
           "--speed", "--record-limit"]  # fmt: skip


@pytest.mark.parametrize("flag", NUMERIC)
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "-1", "0", "1e400", "1e300"])
def test_every_numeric_option_refuses_what_is_not_a_sane_number(flag, value, capsys) -> None:
    """Both parsers: one usage line and exit 2, never an OverflowError further on."""
    from asyncplay import cli
    from asyncplay.cli import args

    assert args.RUN_OPTIONS[flag][1] is not None
    for argv in (["run", flag, value, "x.py"], ["run", f"{flag}={value}", "x.py"]):
        assert args.fast_parse(argv) is None  # the fast path leaves it to argparse
        with pytest.raises(args.UsageError, match=f"^argument {flag}: "):
            args.build_parser().parse_args(argv)
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and err.startswith(f"asyncplay: argument {flag}")


def test_an_infinite_cpu_limit_is_a_usage_error_from_the_command(tmp_path) -> None:
    (tmp_path / "x.py").write_text("print(1)\n")
    for args in (["--cpu", "inf"], ["--output-limit", "inf"], ["--cpu", "1e400"]):
        r = asyncplay("run", *args, "x.py", cwd=tmp_path)
        assert r.returncode == 2 and "must be more than 0" in one_line(r.stderr), r.stderr


@pytest.mark.parametrize(
    "argv, hint",
    [
        (["run", "--timeout", "abc", "x.py"], "(see 'asyncplay run --help')"),
        (["replay", "--sort", "x", "r.jsonl"], "(see 'asyncplay replay --help')"),
        (["replay"], "(see 'asyncplay replay --help')"),
        (["--bogus"], "(see 'asyncplay --help')"),
    ],
)
def test_usage_errors_point_at_the_commands_own_help(argv, hint, capsys) -> None:
    from asyncplay import cli

    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.rstrip().endswith(hint), err


def test_a_python_that_never_answers_is_a_usage_error(tmp_path, monkeypatch) -> None:
    from asyncplay.runner import interpreter as pyinfo

    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setattr(pyinfo, "PROBE_TIMEOUT", 0.5)
    with pytest.raises(pyinfo.PythonError) as exc:
        pyinfo.resolve(str(fake))
    assert str(exc.value).endswith(
        "not a working Python interpreter (it did not answer within 0.5 s)"
    )
    assert "sys.stdout" not in str(exc.value)


def test_a_directory_with_main_and_a_program_on_stdin_run_as_python_runs_them(tmp_path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__main__.py").write_text(
        "import asyncio, sys\nasync def main():\n    print(sys.argv)\nasyncio.run(main())\n"
    )
    r = asyncplay("run", "pkg", "a", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == b"['pkg', 'a']\n", r.stderr
    assert "pkg/__main__.py:4" in r.stderr.decode()  # the summary knows the task's line
    program = b"import asyncio, sys\nasync def main():\n    print(sys.argv, input())\nasyncio.run(main())\n"
    r = asyncplay("run", "-", "x", cwd=tmp_path, stdin=program)
    # like python -: the program took all of stdin, so input() meets its end
    plain_ = subprocess.run([sys.executable, "-", "x"], input=program, capture_output=True)
    assert r.returncode == plain_.returncode == 1 and b"EOFError" in r.stderr, r.stderr
    assert "<stdin>:4" in r.stderr.decode()
    # a traceback names it as python does: File "<stdin>", not File "/cwd/<stdin>"
    failing = b"import asyncio\nasync def main():\n    1 / 0\nasyncio.run(main())\n"
    r = asyncplay("run", "--quiet", "-", cwd=tmp_path, stdin=failing)
    plain_ = subprocess.run([sys.executable, "-"], input=failing, capture_output=True)
    assert b'File "<stdin>", line 3, in main' in r.stderr
    assert r.stderr == plain_.stderr and r.returncode == plain_.returncode == 1
    r = asyncplay("run", "--quiet", "-", cwd=tmp_path, stdin=b"print('hi')\n")
    assert r.returncode == 0 and r.stdout == b"hi\n", r.stderr
    (tmp_path / "empty").mkdir()
    r = asyncplay("run", "empty", cwd=tmp_path)
    assert r.returncode == 2 and "no __main__.py" in one_line(r.stderr)


FDS = """\
import os, sys
with open("fds.txt", "w") as f:
    print(os.readlink("/proc/self/fd/0"), os.readlink("/proc/self/fd/1"), file=f)
print("to a closed stdout")
"""


@pytest.mark.parametrize("sandbox", ["none", "auto"])
def test_closed_standard_descriptors_are_dev_null_not_a_pipe_of_the_run(tmp_path, sandbox) -> None:
    """``asyncplay run p.py <&- >&-``: the run goes on as under python (whose prints then
    go nowhere), and the program's stdin is /dev/null, never a descriptor asyncplay
    opened in the freed number (found by review: 'internal error: AttributeError')."""
    from helpers import env

    (tmp_path / "p.py").write_text(FDS)
    cmd = f"exec {sys.executable} -m asyncplay run --sandbox {sandbox} p.py <&- >&-"
    p = subprocess.run(["sh", "-c", cmd], cwd=tmp_path, env=env(), capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    assert "internal error" not in p.stderr.decode()
    stdin, _stdout = (tmp_path / "fds.txt").read_text().split()
    assert stdin == "/dev/null"


def test_a_deleted_working_folder_is_one_line_and_the_usage_status(tmp_path) -> None:
    """Run from a folder deleted meanwhile: one line and the usage status, not an
    internal error (found by review: FileNotFoundError from os.getcwd())."""
    from helpers import env

    (tmp_path / "p.py").write_text("print('hi')\n")
    (tmp_path / "gone").mkdir()
    # (as the installed command starts: ``python -m`` itself cannot start in a deleted
    # folder, its sys.path[0] is that folder)
    start = "import sys; from asyncplay.cli import main; sys.exit(main())"
    cmd = f"cd gone && rmdir ../gone && exec {sys.executable} -c '{start}' run {tmp_path / 'p.py'}"
    environ = env()  # (no empty entry in it: that is the working folder, for python too)
    parts = environ["PYTHONPATH"].split(":")
    environ["PYTHONPATH"] = ":".join(part for part in parts if part)
    p = subprocess.run(
        ["sh", "-c", cmd], cwd=tmp_path, env=environ, capture_output=True, timeout=60
    )
    assert p.returncode == 2, p.stderr.decode()[-2000:]
    assert "no longer exists" in one_line(p.stderr)
