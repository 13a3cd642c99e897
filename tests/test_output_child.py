"""The child's std streams: every byte through the runtime's raw layer, at plain speed.

``child/output.py`` builds the program's ``sys.stdout`` so that the C text layer's closed
check (four per ``print``) reads a shadow ``FileIO`` instead of asking down through the
buffer to the raw layer, a quarter of a print's time. That rests on CPython caching the
FileIO when the wrapper is made: checked here on every installed Python 3.10-3.15, so a
Python that stops doing it fails loudly rather than quietly making prints slower.
"""

from __future__ import annotations

import subprocess

import pytest
from helpers import ROOT
from pythons import SUPPORTED_VERSIONS, find_pythons

PROBE = r"""
import io, os, sys
from asyncplay.child.output import _Raw, _text_layer

r, w = os.pipe()
chunks = []
raw = _Raw(w, 1, chunks, None)
text = _text_layer(io.TextIOWrapper, raw, w, encoding="utf-8", newline="\n")
print("line", 1, file=text, flush=True)
text.buffer.write(b"bytes\n")
text.flush()
assert os.read(r, 100) == b"line 1\nbytes\n"
assert chunks == [(1, b"line 1\n"), (1, b"bytes\n")], chunks  # every byte seen by the raw layer
assert type(text.buffer) is io.BufferedWriter and text.buffer.raw is raw
assert not text.closed and raw.shadow is not None
raw.shadow.close()  # the shadow only: fd w stays open, the raw layer open
try:
    text.write("x")
except ValueError:
    print("the text layer reads the shadow")
else:
    print("the text layer asks the raw layer")
"""


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_the_text_layer_checks_closed_on_the_shadow_fileio(version: str) -> None:
    exe = find_pythons().get(version)
    if exe is None:
        pytest.skip(f"CPython {version} is not installed here")
    r = subprocess.run(
        [exe, "-c", PROBE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "the text layer reads the shadow\n", (
        f"CPython {version} no longer caches the FileIO under a TextIOWrapper: "
        "child/output.py's _text_layer gains nothing there (prints cost a quarter more)"
    )
