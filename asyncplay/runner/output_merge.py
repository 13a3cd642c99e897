"""Merging the program's raw output with the child's attribution records.

The pipes carry the truth (every byte, including ``os.write``, C extensions and
subprocesses); the event channel says which task's step wrote which bytes through
``sys.stdout``/``sys.stderr``, in the order they were written across both streams. Per
stream, those chunks appear in the pipe in the same order, so the merge walks both, byte for
byte: pipe bytes that match the next chunk take its task, pipe bytes that do not are
unattributed. Chunks are released in record order across the two streams (a stderr line
waits for the stdout line written before it, even if the stderr pipe was read first). Pipe
bytes with no chunk to match are held back briefly (their record may still be on the way)
and then released unattributed; a record whose bytes do not come is dropped likewise. Those
give-ups happen only at a ``tick``, and only once what they wait on cannot be in a pipe not
read yet: the time the parent itself spends decoding a large batch (a busy machine) never
counts against records that are in that very batch. Text is decoded (UTF-8, with replacement) only at the end,
by one incremental decoder per stream, so a character split between segments still decodes.

Linear whatever comes: a record's bytes are a ``memoryview`` consumed by slicing (never
copied again), a record whose head was released before it came (a long step's flood past
``MAX_HELD``) is cut to where the pipe is (``_resync``), and a record that splits more than
``MAX_SPLITS`` times against the pipe is given up (its bytes go out unattributed): a
megabyte record once took 28 s here, re-copied after each of 128,000 eleven-byte matches.

Look-alikes: bytes are matched by content, so a record must not take bytes that only look
like its own. While nothing went out unattributed, a record whose bytes are not in the pipe
yet waits for them (what comes before them is another way's); a record is split against the
pipe only at the end of a whole line; and once bytes went out blind, a record shorter than
``SHORT`` (print's "\\n" under -u) is looked for only at the pipe's head. Past the cap, the
same bytes written by two tasks may still be taken for each other.
"""

from __future__ import annotations

from _collections import deque  # (``collections``' own C half: no ``collections`` before the spawn)
from codecs import utf_8_decode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container

HOLD_SECONDS = 0.25
MAX_HELD = 1024 * 1024  # never hold more than this per stream: a flood must not grow us
MAX_SPLITS = 64  # a record matched piecewise more often than this is given up
PROBE = 64  # bytes of a record (or of the pipe) searched for in the other
SHORT = 8  # a record shorter than this is a look-alike anywhere in a pipe
GONE = 4096  # bytes that went out as nobody's kept to recognise a record come too late
LOOKAHEAD = 8  # records behind the head looked at for another thread's, written first

Segment = tuple[str, str, "int | None", float]  # stream, text, task, t


def _common_prefix(a: bytearray, b: bytes) -> int:
    """How many bytes ``a`` and ``b`` have in common at their start (a binary search that
    compares each byte about once)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.startswith(b[lo:mid], lo):
            lo = mid
        else:
            hi = mid - 1
    return lo


class _Stream:
    def __init__(self, name: str) -> None:
        self.name = name
        self.undecoded = b""  # the start of a character split between two segments
        self.raw = bytearray()
        self.raw_since = 0.0
        # [seq, task, data (a memoryview: sliced as it is matched, never copied), t,
        # arrived, splits]
        self.chunks: deque[list] = deque()
        self.chunk_bytes = 0
        self.blind = False  # bytes went out unattributed past the hold or the cap
        self.gone = b""  # the last GONE bytes that went out as nobody's

    def emit(self, out: list[Segment], data: bytes, task: int | None, t: float) -> None:
        # codecs' incremental UTF-8 decoder, without its Python-level call per segment
        if self.undecoded:
            data = self.undecoded + data
        text, used = utf_8_decode(data, "replace", False)
        self.undecoded = data[used:]
        if text:
            out.append((self.name, text, task, t))
        if task is None:  # (raw is what went out as nobody's: kept for records come late)
            self.gone = (self.gone + data)[-GONE:]

    def decode_rest(self) -> str:
        text = utf_8_decode(self.undecoded, "replace", True)[0]
        self.undecoded = b""
        return text

    def pop_chunk(self) -> None:
        self.chunk_bytes -= len(self.chunks.popleft()[2])


class OutputMerger:
    def __init__(self) -> None:
        self.streams = {"stdout": _Stream("stdout"), "stderr": _Stream("stderr")}
        self.seq = 0  # the next record's number
        self.next_out = 0  # the record that must be released next
        self.unread: Container[str] = ()  # _match_all's: the pipes with bytes not read yet

    def feed_raw(self, stream: str, data: bytes, now: float) -> list[Segment]:
        s = self.streams[stream]
        if data:
            if not s.raw:
                s.raw_since = now
            s.raw += data
        return self._match_all(now, final=False, unread=None)

    def feed_chunk(
        self, stream: str, task: int | None, data: bytes, t: float, now: float
    ) -> list[Segment]:
        s = self.streams[stream]
        if data:
            seq = self.seq
            raw = s.raw
            if not s.chunks and seq <= self.next_out and raw.startswith(data):
                # Its bytes came first and it is its turn (a program printing at every
                # step: one record a step): out at once, without the general walk.
                self.seq = self.next_out = seq + 1
                out: list[Segment] = []
                s.emit(out, data, task, t)
                del raw[: len(data)]
                s.raw_since = now
                if len(raw) > MAX_HELD:
                    out += self._match_all(now, final=False, unread=None)
                return out
            s.chunks.append([seq, task, memoryview(bytes(data)), t, now, 0])
            self.seq += 1
            s.chunk_bytes += len(data)
            while s.chunk_bytes > MAX_HELD * 4 and len(s.chunks) > 1:
                # Records whose bytes never reach the pipe (fd 1 redirected): forget the
                # oldest rather than grow without bound.
                s.pop_chunk()
                self._skip_gaps()
        return self._match_all(now, final=False, unread=None)

    def tick(self, now: float, unread: Container[str] = ()) -> list[Segment]:
        """Release what can be, and give up on what waited ``HOLD_SECONDS`` in vain.
        ``unread``: the pipes ("channel", "stdout", "stderr") with bytes not read yet;
        held bytes wait while the channel has some (their record may be there), a record
        waits while its stream's pipe has some (its bytes may be there)."""
        return self._match_all(now, final=False, unread=unread)

    def pending(self) -> bool:
        """Whether a write the child attributed still waits for its bytes from a pipe."""
        return any(s.chunks for s in self.streams.values())

    def finish(self, now: float) -> list[Segment]:
        out = self._match_all(now, final=True, unread=())
        for s in self.streams.values():
            s.chunks.clear()
            s.chunk_bytes = 0
            tail = s.decode_rest()
            if tail:
                out.append((s.name, tail, None, now))
        return out

    def _skip_gaps(self) -> None:
        """Records dropped or released out of turn must not block the ones after them."""
        heads = [s.chunks[0][0] for s in self.streams.values() if s.chunks]
        self.next_out = max(self.next_out, min(heads) if heads else self.seq)

    def _match_all(self, now: float, final: bool, unread: Container[str] | None) -> list[Segment]:
        """``unread`` None: no give-ups (bytes are coming in now, their records with
        them); else give up only on what cannot be in the pipes named there."""
        out: list[Segment] = []
        hold = unread is None or "channel" in unread
        self.unread = () if unread is None else unread
        progress = True
        while progress:
            progress = False
            for s in self.streams.values():
                progress |= self._match(s, out, now, final, hold)
            if not progress and unread is not None:
                progress = self._drop_stale_head(now, unread)
        return out

    def _drop_stale_head(self, now: float, unread: Container[str]) -> bool:
        """The record whose turn it is has waited long for bytes that did not come (its
        stream was redirected away): drop it so the other stream is not held up."""
        for s in self.streams.values():
            if s.chunks and not s.raw and s.name not in unread:
                seq, _task, _data, _t, arrived, _splits = s.chunks[0]
                if seq <= self.next_out and now - arrived >= HOLD_SECONDS:
                    s.pop_chunk()
                    self.next_out = max(self.next_out, seq + 1)
                    self._skip_gaps()
                    return True
        return False

    def _match(self, s: _Stream, out: list[Segment], now: float, final: bool, hold: bool) -> bool:
        """Release what can be released on one stream; True if anything moved. ``hold``:
        keep unmatched bytes however long they waited (their record may be unread)."""
        moved = False
        raw = s.raw
        while raw:
            if s.chunks:
                chunk = s.chunks[0]
                seq, task, data, t, _arrived, splits = chunk
                n = len(data)
                in_turn = seq <= self.next_out or final
                if raw.startswith(data):
                    if not in_turn:
                        break
                    s.emit(out, bytes(data), task, t)
                    del raw[:n]
                    s.pop_chunk()
                    self.next_out = max(self.next_out, seq + 1)
                    self._skip_gaps()
                    s.raw_since = now
                    s.blind = False
                    moved = True
                    continue
                if len(raw) < n and raw.startswith(data[: len(raw)]):
                    # Only part of the chunk has come through the pipe so far.
                    if not in_turn:
                        break
                    s.emit(out, bytes(raw), task, t)
                    chunk[2] = data[len(raw) :]
                    s.chunk_bytes -= len(raw)
                    raw.clear()
                    s.blind = False
                    moved = True
                    break
                if splits >= MAX_SPLITS:
                    # Matched piecewise too often: not this record's bytes after all (or
                    # so mixed with others that attributing them costs more than it tells).
                    s.pop_chunk()
                    self._skip_gaps()
                    moved = True
                    continue
                blind = s.blind
                # Blind, a short record is found only at the pipe's head: "\n" (print's
                # second write under -u) is anywhere, its first write's bytes maybe gone.
                i = raw.find(data[:PROBE]) if n >= SHORT or not blind else -1
                if i < 0 and blind and self._resync(s, chunk):
                    moved = True
                    continue
                if i < 0 and n > SHORT:  # its first write may be shorter (a joined run)
                    i = raw.find(data[:SHORT])
                if i > 0 and self._swapped(s, out, now):
                    # Another thread's record written first, recorded second.
                    moved = True
                    continue
                if i > 0:
                    # Bytes that bypassed the std streams came first.
                    s.emit(out, bytes(raw[:i]), None, now)
                    del raw[:i]
                    chunk[5] = splits + 1
                    moved = True
                    continue
                k = _common_prefix(raw, data)
                if blind and 0 < k < len(raw) and k < n and data[n - k :] == raw[:k]:
                    # Its head went out blind and the pipe holds its tail (a flood of one
                    # byte over and over, whose probe is found at its own start).
                    chunk[2] = data[n - k :]
                    s.chunk_bytes -= n - k
                    moved = True
                    continue
                if k:
                    # Whole lines only: a few bytes in common are most often a look-alike
                    # ("T" of "T2:17" against "T0:18"), the record's own bytes gone blind.
                    k = _line_end(data, k)
                if k:
                    # A record of several writes (a flood under python -u) with bytes of
                    # another way (os.write) between two of them: its lines up to there.
                    if not in_turn:
                        break
                    s.emit(out, bytes(raw[:k]), task, t)
                    del raw[:k]
                    chunk[2] = data[k:]
                    chunk[5] = splits + 1
                    s.chunk_bytes -= k
                    moved = True
                    continue
                waited = not hold and now - chunk[4] >= HOLD_SECONDS and s.name not in self.unread
                if not final and 1 < n <= GONE and bytes(data) in s.gone:
                    # Its bytes went out already, as nobody's, before it came (another
                    # thread's record, made after a later one's): waiting for them would
                    # hold up every line behind it.
                    s.pop_chunk()
                    self._skip_gaps()
                    moved = True
                    continue
                if not blind and not final and not waited:
                    # Nothing went out unattributed since the last match, so the record's
                    # bytes are still to come: what is before them is of another way
                    # (os.write, a subprocess). Out with it, but for a tail that may be
                    # the record's start; the record waits for its bytes (dropping it
                    # here set the records after it on look-alikes further on).
                    cut = len(raw) - _tail_overlap(raw, data)
                    if cut:
                        s.emit(out, bytes(raw[:cut]), None, now)
                        del raw[:cut]
                        moved = True
                        continue
                    break
                if len(raw) >= n or final or waited:
                    # The chunk is not in what arrived: it was released earlier as
                    # unattributed (or never reached the fd). Drop it and go on.
                    s.pop_chunk()
                    self._skip_gaps()
                    moved = True
                    continue
                break
            stale = not hold and now - s.raw_since >= HOLD_SECONDS
            if final or stale:
                s.emit(out, bytes(raw), None, now)
                raw.clear()
                s.blind = True
                moved = True
            elif len(raw) > MAX_HELD:
                # Past the cap the oldest bytes go, the newest quarter stays: the lines
                # printed right after a flood keep their records' chance (they went out
                # with it, a whole 20,000-line step nobody's behind a 2 MB print).
                cut = len(raw) - MAX_HELD // 4
                s.emit(out, bytes(raw[:cut]), None, now)
                del raw[:cut]
                s.raw_since = now
                s.blind = True
                moved = True
            break
        return moved

    def _swapped(self, s: _Stream, out: list[Segment], now: float) -> bool:
        """Two threads printing: one's bytes reach the pipe first, the other's record is
        made first. If a record a few places behind the head is what the pipe starts
        with, it goes out now, its task's (before, the head took those bytes for another
        way's and then waited for them for good, holding up every line behind it)."""
        raw = s.raw
        for idx in range(1, min(len(s.chunks), LOOKAHEAD + 1)):
            rec = s.chunks[idx]
            data = rec[2]
            if len(data) >= SHORT and raw.startswith(data):
                del s.chunks[idx]
                s.chunk_bytes -= len(data)
                s.emit(out, bytes(data), rec[1], rec[3])
                del raw[: len(data)]
                s.raw_since = now
                return True
        return False

    @staticmethod
    def _resync(s: _Stream, chunk: list) -> bool:
        """The pipe's bytes went out unattributed before this record came (a step that
        printed more than ``MAX_HELD`` before its record was sent): if the pipe now holds
        the record's middle, cut the record's released head off (it is not in the pipe
        any more) so that the rest meets its bytes. Only on a probe of ``PROBE`` bytes:
        a shorter one could be anywhere."""
        raw, data = s.raw, chunk[2]
        if len(raw) < PROBE:
            return False
        j = _find(data, raw[:PROBE])
        if j <= 0:
            return False
        chunk[2] = data[j:]
        s.chunk_bytes -= j
        return True


def _tail_overlap(raw: bytearray, data: memoryview) -> int:
    """The longest end of ``raw`` that ``data`` starts with, shorter than ``data`` and
    than ``PROBE`` (a longer one, ``raw.find`` found already)."""
    most = min(len(raw), len(data) - 1, PROBE - 1)
    head = bytes(data[:most])
    for k in range(most, 0, -1):
        if raw.endswith(head[:k]):
            return k
    return 0


def _line_end(data: memoryview, k: int) -> int:
    """The end of the last whole line in ``data[:k]`` (0: none)."""
    whole: bytes = data.obj  # type: ignore[assignment]
    start = len(whole) - len(data)
    i = whole.rfind(b"\n", start, start + k) if k else -1
    return i + 1 - start if i >= 0 else 0


def _find(data: memoryview, probe: bytes | bytearray) -> int:
    """``data.find(probe)`` without a copy: a record's memoryview is only ever cut at its
    head, so it is the tail of the bytes object it views."""
    whole: bytes = data.obj  # type: ignore[assignment]
    start = len(whole) - len(data)
    i = whole.find(probe, start)
    return i - start if i >= 0 else -1
