"""Single programs that behave under ``asyncplay run`` exactly as under plain Python: closed
and unbuffered stdout, signals, a replaced sys.stdout, sys.path, big results and an
exception's own ``__str__`` (each once made asyncplay differ). The broad comparison over
``tests/programs`` is ``test_transparency.py``."""

from __future__ import annotations

import os
import sys

from helpers import asyncplay, plain

from asyncplay.runner.session import RunSession
from asyncplay.runner.spec import RunSpec


def _same_as_plain(tmp_path, source: str, env_extra: dict | None = None) -> None:
    (tmp_path / "p.py").write_text(source)
    saved = dict(os.environ)
    os.environ.update(env_extra or {})
    try:
        ours = asyncplay("run", "--quiet", "p.py", cwd=tmp_path)
        theirs = plain(sys.executable, "p.py", cwd=tmp_path)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )


def test_stderr_still_works_after_stdout_is_closed(tmp_path) -> None:
    _same_as_plain(
        tmp_path,
        "import sys\nprint('partial', end='')\nsys.stdout.close()\n"
        "print('to stderr', file=sys.stderr)\n",
    )


def test_closed_is_told_at_every_layer_of_a_closed_stdout(tmp_path) -> None:
    """The runtime's raw layer keeps ``closed`` as a plain attribute (the text layer asks
    at every write): open, then closed, at the text, buffer and raw layers alike, and a
    print after the close fails as it does under python."""
    _same_as_plain(
        tmp_path,
        "import sys\nout = sys.stdout\nlayers = (out, out.buffer, getattr(out.buffer, 'raw', out.buffer))\n"
        "print([x.closed for x in layers], flush=True)\nout.close()\n"
        "print([x.closed for x in layers], file=sys.stderr)\n"
        "try:\n    print('x')\nexcept ValueError as exc:\n"
        "    print('ValueError', exc, file=sys.stderr)\n",
    )


def test_an_asyncio_program_loads_no_process_pool_machinery(tmp_path) -> None:
    """Watching run_in_executor must not import concurrent.futures.process (and with it
    multiprocessing and pickle: some 10 ms of every asyncio program's start-up) where
    plain python does not; a program that uses a process pool loads it itself."""
    _same_as_plain(
        tmp_path,
        "import asyncio, sys\n"
        "async def main():\n    await asyncio.get_running_loop().run_in_executor(None, len, 'ab')\n"
        "asyncio.run(main())\n"
        "names = ('concurrent.futures.process', 'multiprocessing', 'pickle', 'queue')\n"
        "print(sorted(n for n in names if n in sys.modules))\n",
    )


def test_a_program_without_asyncio_gets_no_heavy_module_from_the_runtime(tmp_path) -> None:
    """The runtime's start-up is paid by every run, a hello world's included: beyond what
    plain python loads, it adds only asyncplay's own modules and a few small ones, none
    of these (each was once loaded at start-up, 1-10 ms apiece)."""
    heavy = {
        "threading", "collections", "signal", "enum", "re", "json", "typing", "inspect",
        "dis", "functools", "multiprocessing", "concurrent.futures", "subprocess",
        "socket", "selectors", "tokenize", "ast", "pickle", "platform",
    }  # fmt: skip
    (tmp_path / "p.py").write_text("import sys\nprint(' '.join(sorted(sys.modules)))\n")
    ours = asyncplay("run", "--quiet", "--sandbox", "none", "p.py", cwd=tmp_path)
    theirs = plain(sys.executable, "p.py", cwd=tmp_path)
    added = set(ours.stdout.decode().split()) - set(theirs.stdout.decode().split())
    assert "asyncplay.child.boot" in added  # (the runtime did start)
    assert not added & heavy, sorted(added & heavy)


def test_unbuffered_stdout_keeps_byte_order_with_os_write(tmp_path) -> None:
    _same_as_plain(
        tmp_path,
        "import os, subprocess\nprint('a', end='')\nos.write(1, b'b\\n')\nprint('c', end='')\n"
        "subprocess.run(['echo', 'd'])\n",
        {"PYTHONUNBUFFERED": "1"},
    )


def test_sigwait_on_a_blocked_signal(tmp_path) -> None:
    _same_as_plain(
        tmp_path,
        "import os, signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})\n"
        "os.kill(os.getpid(), signal.SIGUSR1)\nprint('got', signal.sigwait({signal.SIGUSR1}))\n",
    )


def test_a_replacement_stdout_is_never_flushed_behind_the_programs_back(tmp_path) -> None:
    _same_as_plain(
        tmp_path,
        "import sys, time\n"
        "class Counter:\n"
        "    flushes = 0\n"
        "    def write(self, s): return len(s)\n"
        "    def flush(self): Counter.flushes += 1\n"
        "real, sys.stdout = sys.stdout, Counter()\n"
        "time.sleep(0.3)\n"
        "sys.stdout = real\n"
        "print('flushes:', Counter.flushes)\n",
    )


async def test_empty_pythonpath_adds_nothing_to_sys_path(tmp_path, monkeypatch) -> None:
    source = "import sys\nprint(sys.path)\n"
    (tmp_path / "p.py").write_text(source)
    monkeypatch.setenv("PYTHONPATH", "")
    theirs = plain(sys.executable, "p.py", cwd=tmp_path)
    session = await RunSession.start(RunSpec(path="p.py", cwd=str(tmp_path)))
    await session.wait()
    ours = "".join(e["text"] for e in session.drain() if e["event"] == "output")
    await session.aclose()
    assert ours.encode() == theirs.stdout


def test_big_results_and_custom_exception_str_stay_the_programs(tmp_path) -> None:
    _same_as_plain(
        tmp_path,
        "import asyncio\n"
        "class Loud(Exception):\n"
        "    def __str__(self):\n"
        "        print('__str__ called')\n"
        "        return 'loud'\n"
        "async def big():\n    return [10 ** 5000]\n"
        "async def fail():\n    raise Loud()\n"
        "async def main():\n"
        "    print(len(await big()))\n"
        "    try:\n        await asyncio.create_task(fail())\n"
        "    except Loud:\n        print('caught')\n"
        "asyncio.run(main())\n",
    )
