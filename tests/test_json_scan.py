"""``asyncplay/json_scan.py``: JSON records read by ``_json.make_scanner`` (private to
CPython), and ``json.loads`` when it moves.

On every installed Python the scanner is made and its context carries every attribute of
a ``json.JSONDecoder`` (3.15's scanner read ``array_hook``, which the context lacked: every
JSON record was a protocol error). Without the scanner, made or called, the decoder gives
the same events and the same protocol errors.
"""

from __future__ import annotations

import _json
import os
import subprocess

import pytest
from helpers import env
from hypothesis import given, settings
from hypothesis import strategies as st
from pythons import find_pythons
from test_decoder_runs import _decode, _same, streams

from asyncplay import decoder as D
from asyncplay import json_scan
from asyncplay import protocol as P

CHECK = """
import json.decoder, sys
sys.path.insert(0, sys.argv[1])
from asyncplay import json_scan, protocol
ctx = json_scan.ScanContext()
missing = set(vars(json.decoder.JSONDecoder())) - set(vars(ctx))
assert not missing, missing
# What the scanner reads is what protocol.loads's decoder holds.
theirs = vars(json.decoder.JSONDecoder(
    parse_constant=protocol._reject_constant, parse_float=protocol._finite_float))
for name in ("strict", "object_hook", "object_pairs_hook", "array_hook", "parse_float",
             "parse_int", "parse_constant", "memo"):
    if name in theirs:
        assert getattr(ctx, name) == theirs[name], name
assert json_scan._scan is not None, "no scanner"
for text in ('{"a": [1, 2.5, null, true, "x"]}', " 7 ", '{"b": {}}'):
    assert json_scan.json_object(text) == json.loads(text), text
assert json_scan._scan is not None, "the scanner was given up"
print("ok")
"""


@pytest.mark.parametrize("python", sorted(set(find_pythons().values())))
def test_the_scanner_and_its_context_on_every_python(python) -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(json_scan.__file__)))
    r = subprocess.run(
        [python, "-c", CHECK, root], env=env(), capture_output=True, text=True, timeout=60
    )
    assert r.stdout == "ok\n", r.stderr[-800:]


def _fallback(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(json_scan, "_scan", None)


def _json_records(texts: list[str]) -> bytes:
    data = bytearray(P.pack_json({"event": "hello", "t": 0.0, "version": P.PROTOCOL_VERSION}))
    for text in texts:
        raw = text.encode("utf-8", "replace")
        data += P.HEADER.pack(P.K_JSON, len(raw)) + raw
    return bytes(data)


json_texts = st.one_of(
    st.builds(
        lambda d: P.dumps(d),
        st.fixed_dictionaries(
            {
                "event": st.sampled_from(["task_renamed", "warning", "hello", "nonsense"]),
                "t": st.one_of(st.floats(0, 5), st.integers(-1, 3)),
            },
            optional={
                "id": st.integers(-1, 2**33),
                "name": st.text(max_size=4),
                "kind": st.text(max_size=3),
                "message": st.text(max_size=3),
            },
        ),
    ),  # fmt: skip
    st.text(alphabet=' \t\n{}[]":,.0123456789eE+-nulltruefalsNaIfy\\\ufeff', max_size=24),
    st.sampled_from(
        [
            '{"event": "task_renamed", "t": 1e400, "id": 1, "name": "x"}',
            '{"event": "task_renamed", "t": NaN, "id": 1, "name": "x"}',
            '{"event": "task_renamed", "t": 1, "id": 1, "name": "x"} x',
            "\ufeff{}",
            "",
            "[" * 40 + "]" * 40,
        ]
    ),  # fmt: skip
)


@settings(max_examples=200, deadline=None)
@given(st.lists(json_texts, min_size=1, max_size=5), streams())
def test_without_the_scanner_the_same_events_and_errors(texts, stream) -> None:
    """JSON records, good and forged, and the binary streams of test_decoder_runs: the
    same events, the same ``protocol_error`` (its words, its record), batched or not."""
    data, cuts = stream
    inputs = [(_json_records(texts), [3, 40]), (data, cuts)]
    fast = [_decode(d, c, batched) for d, c in inputs for batched in (False, True)]
    with pytest.MonkeyPatch.context() as mp:
        _fallback(mp)
        slow = [_decode(d, c, batched) for d, c in inputs for batched in (False, True)]
    assert _same(fast, slow)


def test_a_scanner_that_cannot_be_made_is_json_loads(monkeypatch) -> None:
    """A CPython whose scanner reads one more attribute of its context (3.15 did)."""
    real = _json.make_scanner

    def reads_more(context):
        context.a_hook_of_3_16  # noqa: B018 (what the scanner would read)
        return real(context)

    monkeypatch.setattr(_json, "make_scanner", reads_more)
    assert json_scan.make_scanner() is None
    monkeypatch.setattr(json_scan, "_scan", json_scan.make_scanner())
    (ev,) = D.Decoder(False).feed(_json_records([]))
    assert ev["event"] == "hello", ev


@pytest.mark.parametrize("error", [AttributeError, TypeError])
def test_a_scanner_that_fails_when_called_is_given_up_for_json_loads(monkeypatch, error) -> None:
    """An attribute read only when a record is scanned: json.loads reads that record and
    every one after, no protocol error."""
    calls = []

    def moved(text: str, idx: int) -> tuple:
        calls.append(text)
        raise error("'ScanContext' object has no attribute 'a_hook_of_3_16'")

    monkeypatch.setattr(json_scan, "_scan", moved)
    renamed = '{"event": "task_renamed", "t": 1.0, "id": 1, "name": "w"}'
    events = D.Decoder(False).feed(_json_records([renamed, renamed]))
    assert [ev["event"] for ev in events] == ["hello", "task_renamed", "task_renamed"]
    assert len(calls) == 1 and json_scan._scan is None
