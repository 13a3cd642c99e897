"""JSON text read by ``json.loads``'s own C scanner without importing ``json``.

``json`` imports ``re`` and ``enum`` (some 20 M instructions of every run's parent: the
hello record is JSON), so the decoder calls ``_json.make_scanner`` itself, as
``json.JSONDecoder`` does. That is private to CPython: the scanner reads what it needs
of its context, a ``JSONDecoder``, and 3.15's reads one more attribute (``array_hook``)
than 3.14's. ``ScanContext`` carries every attribute a ``JSONDecoder`` has, and
``tests/test_json_scan.py`` checks that, and the scanner, on every installed Python.

If CPython moves it anyway, a run keeps working: a scanner that cannot be made at import,
or that raises ``AttributeError`` or ``TypeError`` when called (an attribute read only
then), is given up for good and ``json.loads`` itself reads every record after: the same
objects and the same errors, only slower to start.
"""

from __future__ import annotations

from asyncplay.protocol import _finite_float, _reject_constant, loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["PRIVATE", "ScanContext", "json_object", "make_scanner"]

#: CPython's private names this module uses (tests/test_json_scan.py).
PRIVATE = ("_json.make_scanner",)

_JSON_SPACE = " \t\n\r"  # (json.decoder.WHITESPACE)


class ScanContext:
    """The ``json.JSONDecoder`` that ``protocol.loads`` makes (``json.loads`` with its two
    hooks), as ``_json.make_scanner`` reads it: instance attributes, as the decoder's are
    (a class's functions would be bound methods). The Python-level parsers the C scanner
    does not call are None: one called would raise ``TypeError`` and be given up."""

    def __init__(self) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = None
        self.array_hook = None  # (3.15+)
        self.parse_float = _finite_float
        self.parse_int = int
        self.parse_constant = _reject_constant
        self.memo: dict = {}
        self.parse_object = None
        self.parse_array = None
        self.parse_string = None
        self.scan_once = None


def make_scanner() -> Callable | None:
    """The C scanner over a ``ScanContext``; None where it cannot be made."""
    try:
        from _json import make_scanner as make
    except ImportError:
        return None
    try:
        return make(ScanContext())
    except (AttributeError, TypeError, ValueError):  # (a CPython that reads more, or else)
        return None


_scan: Callable | None = make_scanner()


def json_object(text: str) -> object:
    """``protocol.loads(text)``: the same object, or the same error. The C scanner reads
    from the first non-space; what ``json.loads`` refuses around the value (none,
    something after it, a byte-order mark) goes to it, to say so in its own words."""
    global _scan
    scan = _scan
    if scan is None or text.startswith("\ufeff"):
        return loads(text)
    try:
        obj, end = scan(text, len(text) - len(text.lstrip(_JSON_SPACE)))
    except StopIteration:  # (no value: json.loads's "Expecting value")
        return loads(text)
    except (AttributeError, TypeError):  # (the scanner moved: json.loads from now on)
        _scan = None
        return loads(text)
    if text[end:].lstrip(_JSON_SPACE):  # (json.loads's "Extra data")
        return loads(text)
    return obj
