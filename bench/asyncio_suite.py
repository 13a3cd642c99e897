"""CPython's whole ``test.test_asyncio`` under plain Python and under ``asyncplay run``, per
installed CPython 3.10-3.15: unittest's two summary lines side by side, with the times.

The two runs of a version go one after the other (a fair time for each); the figures
depend on the machine's load far more than on asyncplay (the suite mostly waits). The
opt-in test ``python -m pytest -m asyncio_suite`` checks the same thing.

    python bench/asyncio_suite.py [--versions 3.12,3.13] [--modules test_futures2,...]
"""

from __future__ import annotations

import argparse
import sys

from _common import ROOT

sys.path.insert(0, str(ROOT / "tests"))  # the suite's runner and interpreter finder

from asyncio_suite import existing_modules, installed, run_both  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--versions", help="comma-separated, e.g. 3.10,3.13 (default: all found)")
    ap.add_argument("--modules", help="test_asyncio modules (default: the whole package)")
    ns = ap.parse_args()
    pythons = installed()
    wanted = ns.versions.split(",") if ns.versions else sorted(pythons)
    print(f"{'':6} {'python':48} {'asyncplay':48}")
    same_everywhere = True
    for version in wanted:
        python = pythons.get(version)
        if python is None:
            print(f"{version:6} not installed")
            continue
        if ns.modules:
            modules = existing_modules(python, tuple(ns.modules.split(",")))
        else:
            modules = ["test.test_asyncio"]
        plain, traced = run_both(python, modules, timeout=3600, together=False)
        same = plain.summary == traced.summary and plain.returncode == traced.returncode
        same_everywhere &= same
        for i, (a, b) in enumerate(zip(plain.summary, traced.summary, strict=True)):
            label = version if i == 0 else ""
            print(f"{label:6} {a or '(no summary)':48} {b or '(no summary)':48}")
        print(
            f"{'':6} {f'{plain.seconds:.0f} s, exit {plain.returncode}':48} "
            f"{f'{traced.seconds:.0f} s, exit {traced.returncode}':48} "
            f"{'same' if same else 'DIFFERENT'}",
            flush=True,
        )
        if not same:  # which tests: unittest's FAIL:/ERROR: headers, each side
            for side, run in (("python", plain), ("asyncplay", traced)):
                for line in run.stderr.splitlines():
                    if line.startswith(("FAIL: ", "ERROR: ")):
                        print(f"{'':6} {side}: {line}", flush=True)
    sys.exit(0 if same_everywhere else 1)


if __name__ == "__main__":
    main()
