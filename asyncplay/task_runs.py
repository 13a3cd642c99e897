"""Runs of task records (``C`` and ``D``) whose bytes alone vouch for the decoder's checks,
kept as bytes by a batched decoder and made rows only when first read: a ``--quiet`` run's
parent never makes the rows of its 20,000 tasks, nor decodes their names.

A run is records of one kind and one size one after another (tasks named alike, ends
returning alike). Its checks are made a column of bytes at a time (strided slices, in C):
every record's size field the same, each time's top byte at most 0x41 (so in [0, 2**33) s:
finite, not negative, under ``MAX_TIME``), each string id below 256 and known, a ``D``'s
state 0-2, the text ASCII (so valid UTF-8). A run any of them fails is read record by
record as before (``Decoder._created``, ``_done``), which finds the same error at the same
record. The rows made are exactly those the record-by-record reading makes, with the
strings as they were when the run was read (``tests/test_task_runs.py``).
"""

from __future__ import annotations

import sys
from struct import Struct

from asyncplay.protocol import CREATED, DONE, HEADER, K_CREATED, STATES

__all__ = ["C_CORO", "C_INTERNAL", "D_STATE", "MIN_RUN", "TaskRows", "TaskRun", "vouched_run"]

# Records: a shorter run is read record by record (the checks cost more); none on a
# big-endian machine (the times' column is read as native doubles).
MIN_RUN = 16 if sys.byteorder == "little" else 1 << 62
_SMALL_TOPS = bytes(range(0x42))
_STATES = bytes(range(len(STATES)))
# Offsets in a whole record (header, body, text): a C record's time, string ids and name;
# a D record's time, state, string ids and text.
_C_T, _C_SIDS, _C_TEXT = 13, (21, 25), HEADER.size + CREATED.size
_D_T, _D_STATE, _D_SIDS, _D_TEXT = 9, 17, (18, 22), HEADER.size + DONE.size
_LAYOUTS: dict[tuple[int, int], Struct] = {}
#: Offsets of fields the model's columns read (``TaskRun.u32``, ``u8``): a C record's
#: coroutine's string id and its ``internal`` byte, a D record's state.
C_CORO, C_INTERNAL, D_STATE = _C_SIDS[0], _C_TEXT - 1, _D_STATE


def vouched_run(chunk: bytes, n: int, rec: int, kind: int, known: bytes) -> bool:
    """Whether the ``n`` records of ``rec`` bytes in ``chunk`` (each beginning with
    ``kind``'s byte: the caller found them so) pass every check of the record-by-record
    reading, from their bytes alone; ``known``: the string ids below 256 known now."""
    for j in range(1, HEADER.size):  # the size field: the first record's in every one
        if chunk[j::rec].translate(None, chunk[j : j + 1]):
            return False
    c = kind == K_CREATED
    if chunk[(_C_T if c else _D_T) + 7 :: rec].translate(None, _SMALL_TOPS):
        return False
    if not c and chunk[_D_STATE::rec].translate(None, _STATES):
        return False
    sids = _C_SIDS if c else _D_SIDS
    if b"".join([chunk[at + k :: rec] for at in sids for k in (1, 2, 3)]).translate(None, b"\0"):
        return False
    if b"".join([chunk[at::rec] for at in sids]).translate(None, known):
        return False
    text = _C_TEXT if c else _D_TEXT
    return rec == text or b"".join([chunk[at::rec] for at in range(text, rec)]).isascii()


class TaskRun:
    """A vouched-for run of task records, as bytes: its rows made when first read, its
    columns (``ids``, ``times``, ``u32``, ``u8``) read straight from the bytes."""

    __slots__ = ("_chunk", "_kind", "_rec", "strings", "n", "times", "t_max", "t_last")

    def __init__(self, chunk: bytes, kind: int, rec: int, strings: dict) -> None:
        self._chunk = chunk
        self._kind = kind
        self._rec = rec
        self.strings = strings  # (the string ids below 256, as when the run was read)
        self.n = len(chunk) // rec
        at = _C_T if kind == K_CREATED else _D_T
        times = bytearray(8 * self.n)  # the times' column, as doubles (native: little)
        for k in range(8):
            times[k::8] = chunk[at + k :: rec]
        self.times = memoryview(times).cast("d")
        self.t_max = max(self.times)
        self.t_last = self.times[-1]

    def u32(self, at: int) -> list[int]:
        """The column of the u32 field at offset ``at`` of each record (``ids``: 5)."""
        column = bytearray(4 * self.n)
        for k in range(4):
            column[k::4] = self._chunk[at + k :: self._rec]
        return memoryview(column).cast("I").tolist()

    def ids(self) -> list[int]:
        """The task ids' column."""
        return self.u32(HEADER.size)

    def u8(self, at: int) -> bytes:
        """The column of the byte at offset ``at`` of each record."""
        return self._chunk[at :: self._rec]

    def row(self, i: int) -> tuple:
        """The ``i``-th record's row, as ``rows`` makes it."""
        return self.rows(i, i + 1)[0]

    def rows(self, start: int = 0, stop: int | None = None) -> list[tuple]:
        """The rows the record-by-record reading makes of these records (those from
        ``start`` to ``stop``)."""
        rec, s = self._rec, self.strings
        chunk = self._chunk if not start and stop is None else self._chunk[start * rec :
                                                                           (stop or self.n) * rec]  # fmt: skip
        if self._kind == K_CREATED:
            layout = _layout(self._kind, rec - _C_TEXT)
            return [
                (t, tid, name.decode("utf-8"), s[coro], parent or None, bool(internal), s[file],
                 line or None)
                for _k, _s, tid, parent, t, coro, file, line, internal, name
                in layout.iter_unpack(chunk)
            ]  # fmt: skip
        layout = _layout(self._kind, rec - _D_TEXT)
        out = []
        for _k, _s, tid, t, state, exc, file, line, text in layout.iter_unpack(chunk):
            text = text.decode("utf-8")
            if state == 0:
                out.append((t, tid, "done", text, None, None, s[file], line or None))
            elif state == 1:
                out.append((t, tid, "cancelled", None, None, None, s[file], line or None))
            else:
                out.append((t, tid, "failed", None, s[exc], text, s[file], line or None))
        return out


def _layout(kind: int, text: int) -> Struct:
    layout = _LAYOUTS.get((kind, text))
    if layout is None:
        body = CREATED if kind == K_CREATED else DONE
        layout = _LAYOUTS[(kind, text)] = Struct(f"<BI{body.format[1:]}{text}s")
    return layout


class TaskRows:
    """A batch's rows (``tasks_created``, ``tasks_done``), made when first read: a read-only
    sequence equal to the list of them. Only a batched decoder's events hold one."""

    __slots__ = ("_parts", "_made", "_n")

    def __init__(self, parts: list) -> None:
        self._parts: list | None = parts  # rows (tuples) and runs (TaskRun), in order
        self._made: list[tuple] | None = None
        self._n = sum(p.n if type(p) is TaskRun else 1 for p in parts)

    def parts(self) -> list | None:
        """The rows and runs, in order, while the rows are not made (else None)."""
        return self._parts

    def rows(self) -> list[tuple]:
        made = self._made
        if made is None:
            made = []
            for part in self._parts:  # type: ignore[union-attr]
                if type(part) is TaskRun:
                    made += part.rows()
                else:
                    made.append(part)
            self._made, self._parts = made, None
        return made

    def __iter__(self):  # noqa: ANN204
        return iter(self.rows())

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index):  # noqa: ANN001, ANN204
        return self.rows()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TaskRows):
            other = other.rows()
        return self.rows() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.rows())
