"""``asyncplay run``'s start-up stays cheap: what its own process imports, and what a
hello world's run starts (docs/performance.md, the hello world). Figures are the bench's
(``bench/cost.py --only hello``); these tests pin what would make them grow unnoticed.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from helpers import env

from asyncplay.sandbox import bwrap

# Never imported by ``asyncplay run``'s own process (the playground's and --json's modules,
# and what the run path was made to do without).
NOT_FOR_RUN = {
    "textual",
    "pygments",
    "platformdirs",
    "asyncio",
    "argparse",
    "typing",
    "platform",
    "tomllib",
    "asyncplay.tui",
    "asyncplay.views.summary",
}

PROBE = """
import sys
before = set(sys.modules)
from asyncplay.cli import main
status = main(sys.argv[2:])
new = sorted(set(sys.modules) - before)
with open(sys.argv[1], "w") as f:
    f.write(repr({"status": status, "new": new}))
"""


def _imported(tmp_path, *argv: str) -> tuple[int, set[str]]:
    """What ``asyncplay`` imports for ``argv``, beyond what the interpreter had already
    (site's own imports, which plain python pays too, are not asyncplay's)."""
    out = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *argv],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    got = ast.literal_eval(out.read_text())
    return got["status"], {
        m.split(".")[0] if m.startswith(("textual", "pygments")) else m for m in got["new"]
    }


@pytest.mark.parametrize("layer", ["none", "default"])
def test_run_imports_no_playground_and_nothing_made_lazy(tmp_path, layer) -> None:
    (tmp_path / "hello.py").write_text('print("hello, world")\n')
    flags = [] if layer == "default" else ["--sandbox", layer]
    status, new = _imported(tmp_path, "run", "--quiet", *flags, "hello.py")
    assert status == 0
    assert "asyncplay.runner.sync_driver" in new  # (the probe saw the run's imports)
    assert not (new & NOT_FOR_RUN), sorted(new & NOT_FOR_RUN)


def test_a_run_reads_bwraps_namespace_pid_without_json() -> None:
    """bwrap's status line, as 0.8 writes it, with and without namespace ids."""
    launch = bwrap.Launch()
    try:
        launch._status = b'{ "child-pid": 4242, "cgroup-namespace": 4026531835 }\n'
        assert launch.child_pid() == 4242
        launch._status = b'{ "child-pid": 17 }\n{ "exit-code": 0 }\n'
        assert launch.child_pid() == 17
        launch._status = b'{ "exit-code": 1 }\n'
        assert launch.child_pid() is None
    finally:
        launch.close()
