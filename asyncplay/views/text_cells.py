"""Text from the program (task names, coroutine names, output) made safe for a terminal.

A task name is whatever the program passed to ``create_task(name=...)``: a tab or newline
breaks a row in two, an escape or C1 code drives the terminal, a bidi override (U+202E)
reverses the rest of the line in terminals that do bidi, and wide CJK or emoji characters
take two cells where ``len`` counts one. Every view, the TUI's panes and the headless
summary, ``--graph``, ``--timeline`` and ``replay --print`` alike, passes program-made text
(names, messages, exception text, wait labels, file names) through :func:`clean` before it
reaches a terminal; the TUI then cuts it to a column with :func:`fit`. The program's own
output written by the headless command line is not cleaned: it stays byte for byte.
"""

from __future__ import annotations

__all__ = ["clean", "fit"]

#: Unicode categories that draw nothing a reader can see or that drive the terminal:
#: controls (C0, DEL, C1), format characters (bidi overrides and isolates, zero-width
#: spaces and joiners, the BOM), lone surrogates, line and paragraph separators.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\e"}


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def clean(text: str, mark: str | None = None) -> str:
    """``text`` with every invisible or terminal-driving character made visible.

    Each such character becomes an escape (``\\t``, ``\\n``, ``\\e``, ``\\x85``,
    ``\\u202e``), or ``mark`` when given (``"?"`` where an escape would be noise, as in
    program output). Ordinary spaces, combining marks and private-use characters are kept.
    """
    if text.isprintable():  # the common case, at C speed: nothing to replace
        return text
    import unicodedata  # (a shared library: only for text that needs it, not every run)

    out = []
    for char in text:
        if char.isprintable() or unicodedata.category(char) not in _HIDDEN:
            out.append(char)
        else:
            out.append(_escape(char) if mark is None else mark)
    return "".join(out)


def fit(text: str, width: int, right: bool = False) -> str:
    """``text`` (already :func:`clean`) as exactly ``width`` terminal cells.

    Padded with spaces (on the left when ``right``), or cut with a ``~`` in its last cell;
    a wide character that would straddle the cut is dropped whole, never halved.
    """
    from rich.cells import cell_len, set_cell_size  # not at import: the headless path

    if width <= 0:
        return ""
    size = cell_len(text)
    if size > width:
        cut = set_cell_size(text, width - 1)
        if cut.endswith(" ") and not text.startswith(cut):
            cut = cut[:-1]  # set_cell_size put a space for half a wide character
        text = cut + "~"
        size = cell_len(text)
    pad = " " * (width - size)
    return pad + text if right else text + pad
