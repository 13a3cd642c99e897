"""Loud failure when a CPython asyncio internal the tracer depends on moves.

The child runtime lists every private name it touches in
``asyncplay/child/private_names.py`` (``PRIVATE_NAMES``); this checks each of
them on every installed CPython 3.10-3.15, plus the one behaviour the step hook relies on:
a task step is a Handle whose callback's ``__self__`` is the task.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from helpers import ROOT
from pythons import SUPPORTED_VERSIONS, python_or_skip

PROBE = r"""
import asyncio, importlib, json, sys, threading
sys.path.insert(0, sys.argv[1])
from asyncplay.child.private_names import PRIVATE_NAMES
missing = []
for owner, names in PRIVATE_NAMES.items():
    instance = owner.endswith("()")
    mod_name, _, attr = owner.removesuffix("()").rpartition(".")
    try:
        obj = importlib.import_module(owner.removesuffix("()"))
    except ImportError:
        obj = getattr(importlib.import_module(mod_name), attr)
    if instance:
        obj = asyncio.new_event_loop() if attr == "BaseEventLoop" else obj()
    for name in names:
        if not hasattr(obj, name):
            # Instance attributes of the C Task only exist on instances.
            if owner.endswith(".Task"):
                async def probe():
                    t = asyncio.ensure_future(asyncio.sleep(0))
                    ok = hasattr(t, name)
                    await t
                    return ok
                if asyncio.run(probe()):
                    continue
            missing.append(f"{owner}.{name}")
from asyncplay.child.private_names import PRIVATE_NAMES_BY_VERSION
for owner, name, first, last in PRIVATE_NAMES_BY_VERSION:
    if sys.version_info[:2] < first or (last is not None and sys.version_info[:2] > last):
        continue
    local = owner.startswith("local ")
    assigned = owner.startswith("assigned ")
    path = owner.removeprefix("local ").removeprefix("assigned ").removesuffix("()")
    mod_name, _, attr = path.rpartition(".")
    try:
        obj = importlib.import_module(path)
    except ImportError:
        try:
            obj = importlib.import_module(mod_name)
            obj = getattr(obj, attr)
        except (ImportError, AttributeError):
            mod, _, cls = mod_name.rpartition(".")
            obj = getattr(getattr(importlib.import_module(mod), cls), attr)
    if local:
        ok = name in obj.__code__.co_varnames
    elif assigned:
        ok = name in obj.__code__.co_names
    elif owner.endswith("()"):
        ok = hasattr(obj(None), name)
    else:
        ok = hasattr(obj, name)
    if not ok:
        missing.append(f"{owner}.{name}")
seen = []
orig = asyncio.events.Handle._run
def _run(self):
    cb = self._callback
    seen.append(type(getattr(cb, "__self__", None)).__name__)
    return orig(self)
asyncio.events.Handle._run = _run
async def main():
    await asyncio.sleep(0)
asyncio.run(main())
# The virtual clock and the deadlock check: every wait of a selector loop is one call of
# loop._selector.select(timeout), with the time to the next timer (None: no timer).
timeouts = []
loop = asyncio.new_event_loop()
orig_select = loop._selector.select
endless = threading.Event()  # the loop is waiting with no timer at all
def select(timeout=None):
    timeouts.append(timeout)
    if timeout is None:
        endless.set()
    return orig_select(timeout)
loop._selector.select = select
def wake(fut):
    # Only once the loop waits for ever (a fixed delay loses that race on a loaded machine).
    endless.wait(30)
    loop.call_soon_threadsafe(fut.set_result, 1)
async def waits():
    await asyncio.sleep(0.01)
    fut = loop.create_future()
    threading.Thread(target=wake, args=(fut,)).start()
    await fut
loop.run_until_complete(waits())
loop.close()
waited = [t for t in timeouts if t != 0]
print(json.dumps({"missing": missing, "task_steps": seen.count("Task"), "waited": waited}))
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_private_names_exist(version: str) -> None:
    exe = python_or_skip(version)
    out = subprocess.run([exe, "-c", PROBE, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["missing"] == [], f"asyncio internals moved on {version}: {result['missing']}"
    assert result["task_steps"] >= 2, "task steps no longer surface as Handle callbacks"
    waited = result["waited"]
    assert waited and 0 < waited[0] <= 0.01 and None in waited, (
        f"the loop no longer waits through _selector.select(timeout): {waited}"
    )
