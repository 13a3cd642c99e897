"""Text about the program's values, made without running the program's own code.

A task's result and a failed task's message go into the trace, but the tracer must not
call the program's ``__repr__`` or ``__str__`` (it could print, block or raise inside the
tracer): builtins are shown as Python shows them, anything else by its type.
"""

from __future__ import annotations

__all__ = ["safe_message", "safe_repr", "short_number"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_PLAIN = (type(None), bool, int, float, complex)
_TEXT = (str, bytes)
_CONTAINERS = (list, tuple, set, frozenset)


def short_number(value: Any) -> str:
    """A number as a label shows it: ``1.81`` for 1.8093983775872016, yet ``10``,
    ``0.25``, ``1e-05`` and ``1500`` whole (3 significant digits, never cutting the
    integer part); anything else as its repr."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, float) or value != value or value in (float("inf"), -float("inf")):
        return repr(value)
    if abs(value) >= 1e16:
        return f"{value:.3g}"
    if value.is_integer():
        return str(int(value))
    if abs(value) >= 100:
        return str(round(value))
    return f"{value:.3g}"


def safe_repr(value: Any, limit: int = 200) -> str:
    """A result's repr without running the program's own ``__repr__`` inside the tracer
    (it could print, block or raise there)."""
    t = type(value)
    if t in _PLAIN:
        if t is int and value.bit_length() > 600:
            return f"<int of {value.bit_length()} bits>"
        return repr(value)
    if t in _TEXT:
        return _short(repr(value[: limit + 1]), limit)
    if t in _CONTAINERS or t is dict:
        items = list(value.items())[:11] if t is dict else list(value)[:11]
        flat = [x for pair in items for x in pair] if t is dict else items
        if len(value) <= 10 and all(
            (type(x) in _PLAIN and not (type(x) is int and x.bit_length() > 600))
            or (type(x) in _TEXT and len(x) <= limit)
            for x in flat
        ):
            return _short(repr(value), limit)
        return f"<{t.__name__} of {len(value)} items>"
    if t.__module__ == "builtins":
        return f"<{t.__qualname__}>"
    return f"<{t.__module__}.{t.__qualname__} object>"


def safe_message(exc: BaseException) -> str:
    """An exception's message without running the program's own ``__str__``."""
    if type(exc).__module__ == "builtins":
        try:
            return _short(str(exc))
        except Exception:  # a builtin's str() of odd args (a UnicodeError's): no message
            return ""
    args = exc.args
    if len(args) == 1 and type(args[0]) is str:
        return _short(args[0])
    return ""


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
