"""The step hook (``child/step_hook.py``): one source, a hook per mode.

``install`` compiles the scaffold's source again with the mode's two names made constants,
so figures mode (the headless run's) runs a hook without the step records' code and steps
mode one without the figures' code; both must still look like asyncio's own
``Handle._run`` (file, names, the callback call's line and columns). And a step's time
leaves out what ran inside it as another task's step (an eager task's first step).
"""

from __future__ import annotations

import json
import subprocess

import pytest
from helpers import env
from pythons import find_pythons

from asyncplay.limits import Limits
from asyncplay.model import RunModel, apply
from asyncplay.runner.spec import RunSpec
from asyncplay.runner.sync_driver import run_blocking

# In a fresh interpreter: install a tracer of the mode given, then say what the hook is.
PROBE = r"""
import asyncio, dis, json, os, sys, time
from asyncio import events
from asyncplay.child.channel import Channel
from asyncplay.child.tracer import Tracer

orig = events.Handle._run
tracer = Tracer(Channel(os.open(os.devnull, os.O_WRONLY)), time.perf_counter())
tracer.step_records = sys.argv[1]
tracer.install(asyncio)
hook = events.Handle._run
call = "self._context.run(self._callback, *self._args)"

def call_at(code):
    # (line, columns) of the callback call: the CALL_FUNCTION_EX instruction's position
    for ins in dis.get_instructions(code):
        if ins.opname == "CALL_FUNCTION_EX":
            pos = getattr(ins, "positions", None)
            return [ins.starts_line or 0] if pos is None else list(pos)
    return None

def call_line(code):
    lines = [ln for _, _, ln in code.co_lines() if ln is not None]
    import linecache
    return [ln for ln in sorted(set(lines)) if linecache.getline(code.co_filename, ln).strip() == call]

# The names the hook's instructions use (co_names also keeps those of a branch the
# compiler dropped on a constant).
used = {
    ins.argval
    for ins in dis.get_instructions(hook)
    if ins.opname.endswith(("GLOBAL", "ATTR", "METHOD")) and isinstance(ins.argval, str)
}
print(json.dumps({
    "names": sorted(used),
    "same": [
        hook.__code__.co_filename == orig.__code__.co_filename,
        hook.__code__.co_name == orig.__code__.co_name,
        getattr(hook.__code__, "co_qualname", 1) == getattr(orig.__code__, "co_qualname", 1),
        hook.__qualname__ == orig.__qualname__,
        hook.__module__ == orig.__module__,
    ],
    "call": [call_line(hook.__code__), call_line(orig.__code__)],
    "positions": [call_at(hook.__code__), call_at(orig.__code__)],
}))
"""


def _python(version: str) -> str:
    python = find_pythons().get(version)
    if python is None:
        pytest.skip(f"CPython {version} is not installed here")
    return python


@pytest.mark.parametrize("version", ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15"])
def test_each_mode_has_its_own_hook_that_looks_like_asyncios(version: str) -> None:
    seen = {}
    for mode in ("steps", "figures", "both"):
        r = subprocess.run(
            [_python(version), "-c", PROBE, mode], env=env(), capture_output=True, timeout=60
        )
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        seen[mode] = json.loads(r.stdout)
    for mode, got in seen.items():
        assert all(got["same"]), (mode, got["same"])
        hook_lines, orig_lines = got["call"]
        assert hook_lines == orig_lines and len(orig_lines) == 1, (mode, got["call"])
        assert got["positions"][0] == got["positions"][1], (mode, got["positions"])
        # The mode is constant in the hook: no global says it at each step.
        assert not {"_steps_out", "_figures_kept"} & set(got["names"]), mode
    steps, figures, both = (set(seen[m]["names"]) for m in ("steps", "figures", "both"))
    assert "_pack_step" in steps and "_held" not in steps and "longest" not in steps
    assert "_pack_step" not in figures and {"_held", "longest", "running"} <= figures
    assert {"_pack_step", "_held", "longest"} <= both


EAGER = """
import asyncio, time

async def busy():
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        pass
    await asyncio.sleep(0)

async def main():
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    t = asyncio.create_task(busy())  # its first step runs here, inside main's step
    await t

asyncio.run(main())
"""


@pytest.mark.parametrize("mode", ["steps", "figures"])
def test_an_eager_tasks_first_step_is_not_its_creators(tmp_path, mode: str) -> None:
    """main's step creates an eager task whose first step spins 0.3 s: that time is the
    eager task's, not main's (the hook takes what ran inside a step out of it)."""
    python = find_pythons().get("3.12") or find_pythons().get("3.13")
    if python is None:
        pytest.skip("no CPython 3.12+ here (eager tasks)")
    (tmp_path / "eager.py").write_text(EAGER)
    spec = RunSpec(
        path=str(tmp_path / "eager.py"),
        python=python,
        cwd=str(tmp_path),
        limits=Limits(timeout=30),
        sandbox="none",
        step_records=mode,
    )
    events: list[dict] = []
    run_blocking(spec, events.append, lambda _name, _data: None, stdin="null")
    model = RunModel()
    for ev in events:
        apply(model, ev)
    tasks = {t.coro: t for t in model.tasks.values()}
    assert tasks["busy"].longest_step >= 0.3, tasks["busy"].longest_step
    assert tasks["main"].running < 0.15, (tasks["main"].running, tasks["main"].steps)
    assert tasks["main"].state == tasks["busy"].state == "done"


def test_the_scaffold_is_the_one_source() -> None:
    """The mode's names appear only as whole ``if`` tests in the scaffold: a replacement
    by a constant cannot change anything else."""
    from asyncplay.child import step_hook

    for mode in (True, False):
        lines = step_hook.hook_lines(mode, not mode)
        assert len(lines) == len(step_hook.hook_lines(True, True))
        assert not any("_steps_out" in t or "_figures_kept" in t for t in lines)
    import inspect

    source = inspect.getsource(step_hook._HandleScaffold._run)
    for text in source.splitlines():
        for name in ("_steps_out", "_figures_kept"):
            if name in text:
                code = text.split("#")[0].strip()
                assert code in (f"if {name}:", ""), text


# In a fresh interpreter: the hook's lines, read without inspect's tokenizer, against what
# inspect reads; and the tracer installed with that tokenizer broken.
SOURCE_PROBE = r"""
import asyncio, inspect, json, os, sys, time, tokenize
from asyncio import events
from asyncplay.child import step_hook

lines, first = inspect.getsourcelines(step_hook._HandleScaffold._run)
olines, ofirst = inspect.getsourcelines(events.Handle._run)
same = [
    step_hook._method_lines(step_hook._HandleScaffold._run) == lines,
    step_hook._call_line(events.Handle._run) == ofirst + step_hook._call_at(olines),
]

def refused(*args, **kwargs):
    raise AssertionError("the tokenizer ran")

tokenize.generate_tokens = tokenize._tokenize = refused
from asyncplay.child.channel import Channel
from asyncplay.child.tracer import Tracer

tracer = Tracer(Channel(os.open(os.devnull, os.O_WRONLY)), time.perf_counter())
tracer.step_records = sys.argv[1]
tracer.install(asyncio)
print(json.dumps(same))
"""


@pytest.mark.parametrize("version", ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15"])
def test_the_hook_is_built_without_inspects_tokenizer(version: str) -> None:
    """``install`` reads the scaffold's lines and asyncio's callback line by indentation
    and the code's line table, not ``inspect.getsourcelines`` (whose tokenizer cost 3.10-
    3.12 4-20 ms of every traced run's start): the same lines as inspect's, and an
    install with the tokenizer broken still works (it raised before)."""
    for mode in ("steps", "figures"):
        r = subprocess.run(
            [_python(version), "-c", SOURCE_PROBE, mode],
            env=env(),
            capture_output=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        assert json.loads(r.stdout) == [True, True], (mode, r.stdout)


# In a fresh interpreter: the runtime's output layers (attributed or not), the tracer, and
# the global names the hook's instructions use.
FLUSH_PROBE = r"""
import asyncio, dis, json, os, sys, time
from asyncio import events
from asyncplay.child import output
from asyncplay.child.channel import Channel
from asyncplay.child.tracer import Tracer

tracer = Tracer(Channel(os.open(os.devnull, os.O_WRONLY)), time.perf_counter())
tracer.step_records = "figures"
tracer.helper = output.install(tracer, sys.argv[1] == "attributed")
tracer.install(asyncio)
names = sorted({
    ins.argval
    for ins in dis.get_instructions(events.Handle._run)
    if ins.opname.endswith("GLOBAL") and isinstance(ins.argval, str)
})
tracer.helper.stop()
print(json.dumps(names), file=sys.stderr)
"""


@pytest.mark.parametrize("version", ["3.11", "3.13"])
def test_no_stdout_flush_per_step_when_writes_are_not_attributed(version: str) -> None:
    """A run that asks for no copy of its writes (the headless command's) gets a hook
    without the per-step stdout flush (it called a no-op at every step); one whose writes
    are attributed flushes at each step's end, as before."""
    got = {}
    for how in ("attributed", "plain"):
        r = subprocess.run(
            [_python(version), "-c", FLUSH_PROBE, how],
            env=env(),
            capture_output=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        got[how] = set(json.loads(r.stderr))
    assert "_oflush" in got["attributed"] and "_gap" in got["attributed"]
    assert "_oflush" not in got["plain"], got["plain"]
    assert "_flush_each" not in got["plain"] | got["attributed"]  # a constant in the hook
