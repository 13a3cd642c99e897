"""An object's state reaches the parent before the loop waits long (issue #15): the states
go from the loop's thread only, so one changed by a plain callback, with no task step
after it to flush, went out only after the wait (2 s late here) until the loop's wait
(child/virtual_clock.py ``wait``) flushed them."""

from __future__ import annotations

from helpers import asyncplay

SET_BY_A_CALLBACK = """\
import asyncio

async def main():
    ev = asyncio.Event()
    asyncio.get_running_loop().call_soon(ev.set)
    await asyncio.sleep(2)

asyncio.run(main())
"""


def test_a_state_changed_by_a_callback_goes_before_the_wait(tmp_path) -> None:
    (tmp_path / "cb.py").write_text(SET_BY_A_CALLBACK)
    r = asyncplay("run", "--json", "cb.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    (created,) = r.kinds("primitive")
    states = r.kinds("primitive_state")
    first_set = next(e for e in states if e["set"])
    # Sent before the 2 s sleep ended: right after the set, not when the loop woke up.
    assert first_set["t"] - created["t"] < 1.0, (created, states)
    assert states[-1]["set"] is True
