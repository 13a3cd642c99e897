"""An ``F`` record's rows (figures mode, docs/protocol.md) made a column at a time, in C,
when the record's bytes alone vouch for the decoder's checks, and, for a consumer that
only folds them (a batched decoder's: ``asyncplay run``'s deferred model), made only when
first read: a ``--quiet`` run's parent never makes the 80,000 rows of its 20,000 tasks.

Either way the rows are exactly those the row-by-row reading makes (``Decoder._figures``,
which reads any record these functions do not vouch for): the same numbers, the same
strings, the same error at the same row.
"""

from __future__ import annotations

import sys

from asyncplay.protocol import FIGURE

__all__ = ["FigureRows", "figure_rows", "lazy_rows"]

# The top byte of each of a row's four times (little-endian doubles at these offsets of its
# 56 bytes) is at most 0x41 exactly when each time is in [0, 2**33) s: finite, not
# negative (not -0.0), under MAX_TIME.
_TIME_TOPS = (15, 23, 31, 39)
_SMALL_TOPS = bytes(range(0x42))
# A row's string ids (awaiting, last awaited, file): u32 at these offsets; below 256 when
# the three bytes after each are zero.
_SIDS = (40, 44, 48)
_SID_HIGHS = tuple(at + k for at in _SIDS for k in (1, 2, 3))
_NATIVE = sys.byteorder == "little"  # (memoryview casts read native numbers)


def _vouched(payload: bytes) -> bool:
    """Whether the record's bytes vouch for its rows' checks: each time's top byte (see
    ``_TIME_TOPS``) and each step count not zero (no aligned four zero bytes in that
    column: a count past 2**24 may look like one, then the rows are read one by one)."""
    size = FIGURE.size
    if not _NATIVE or len(payload) == 8:
        return False
    tops = b"".join([payload[8 + at :: size] for at in _TIME_TOPS])
    if tops.translate(None, _SMALL_TOPS):
        return False
    counts = memoryview(payload)[8:].cast("I")[1::14].tobytes()
    return b"\0\0\0\0" not in counts


def _rows(payload: bytes, strings: dict) -> list[tuple]:
    """The rows, a column at a time; a string id not in ``strings`` raises the KeyError
    the row-by-row reading raises first (the same row, the same id: the rows are made in
    order, each row's ids in order)."""
    body = memoryview(payload)[8:]
    u32, f64 = body.cast("I"), body.cast("d")
    get = strings.__getitem__
    return list(
        zip(
            u32[0::14], u32[1::14], f64[1::7], f64[2::7], f64[3::7], f64[4::7],
            map(get, u32[10::14]), map(get, u32[11::14]), map(get, u32[12::14]), u32[13::14],
            strict=True,
        )
    )  # fmt: skip


def figure_rows(payload: bytes, strings: dict) -> list[tuple] | None:
    """The rows of a vouched-for record (``payload``: its time, then its rows), or None."""
    return _rows(payload, strings) if _vouched(payload) else None


def lazy_rows(payload: bytes, strings: dict) -> FigureRows | None:
    """The rows of a vouched-for record whose string ids are all below 256 and known now,
    to be made when first read (with the strings as they are now: a later string record
    cannot change them), or None."""
    if not _vouched(payload):
        return None
    size = FIGURE.size
    highs = b"".join([payload[8 + at :: size] for at in _SID_HIGHS])
    if highs.translate(None, b"\0"):
        return None
    known = bytes(sid for sid in strings if sid < 256)
    if b"".join([payload[8 + at :: size] for at in _SIDS]).translate(None, known):
        return None
    return FigureRows(payload, {sid: text for sid, text in strings.items() if sid < 256})


class FigureRows:
    """An F record's rows, made from its bytes when first read: a read-only sequence that
    equals the list of them. Only a batched decoder's events hold one (nothing prints,
    records or serialises those)."""

    __slots__ = ("_payload", "_strings", "_made")

    def __init__(self, payload: bytes, strings: dict) -> None:
        self._payload: bytes | None = payload
        self._strings: dict | None = strings
        self._made: list[tuple] | None = None

    def columns(self) -> tuple | None:
        """While the rows are not made: the ids', steps', running times', longest steps',
        awaitings' and last awaiteds' (string ids) columns (lists), and the strings; else
        None."""
        if self._payload is None:
            return None
        body = memoryview(self._payload)[8:]
        u32, f64 = body.cast("I"), body.cast("d")
        return (u32[0::14].tolist(), u32[1::14].tolist(), f64[1::7].tolist(), f64[2::7].tolist(),
                u32[10::14].tolist(), u32[11::14].tolist(), self._strings)  # fmt: skip

    def rows(self) -> list[tuple]:
        made = self._made
        if made is None:
            made = self._made = _rows(self._payload, self._strings)  # type: ignore[arg-type]
            self._payload = self._strings = None
        return made

    def __iter__(self):  # noqa: ANN204
        return iter(self.rows())

    def __len__(self) -> int:
        made = self._made
        return len(made) if made is not None else (len(self._payload) - 8) // FIGURE.size  # type: ignore[arg-type]

    def __getitem__(self, index):  # noqa: ANN001, ANN204
        return self.rows()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FigureRows):
            other = other.rows()
        return self.rows() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.rows())
