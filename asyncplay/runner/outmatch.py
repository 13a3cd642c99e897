"""Merging the program's raw output with the child's attribution records.

The pipes carry the truth (every byte, including ``os.write``, C extensions and
subprocesses); the event channel says which task's step wrote which bytes through
``sys.stdout``/``sys.stderr``. Per stream, those chunks appear in the pipe in the same
order, so the merge walks both, byte for byte: pipe bytes that match the next chunk take its
task, pipe bytes that do not are unattributed. Pipe bytes with no chunk to match are held
back briefly (their record may still be on the way) and then released unattributed. Text
is decoded (UTF-8, with replacement) only at the end, by one incremental decoder per
stream, so a character split between two segments still decodes right.
"""

from __future__ import annotations

import codecs
from collections import deque

HOLD_SECONDS = 0.25
MAX_HELD = 1024 * 1024  # never hold more than this per stream: a flood must not grow us

Segment = tuple[str, str, "int | None", float]  # stream, text, task, t


class _Stream:
    def __init__(self, name: str) -> None:
        self.name = name
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.raw = bytearray()
        self.raw_since = 0.0
        self.chunks: deque[list] = deque()  # [task, data, t]
        self.chunk_bytes = 0

    def emit(self, out: list[Segment], data: bytes, task: int | None, t: float) -> None:
        text = self.decoder.decode(data)
        if text:
            out.append((self.name, text, task, t))


class OutputMerger:
    def __init__(self) -> None:
        self.streams = {"stdout": _Stream("stdout"), "stderr": _Stream("stderr")}

    def feed_raw(self, stream: str, data: bytes, now: float) -> list[Segment]:
        s = self.streams[stream]
        if data:
            if not s.raw:
                s.raw_since = now
            s.raw += data
        return self._match(s, now, final=False)

    def feed_chunk(
        self, stream: str, task: int | None, data: bytes, t: float, now: float
    ) -> list[Segment]:
        s = self.streams[stream]
        if data:
            s.chunks.append([task, bytes(data), t])
            s.chunk_bytes += len(data)
            while s.chunk_bytes > MAX_HELD * 4 and len(s.chunks) > 1:
                # Records whose bytes never reach the pipe (fd 1 redirected): forget the
                # oldest rather than grow without bound.
                s.chunk_bytes -= len(s.chunks.popleft()[1])
        return self._match(s, now, final=False)

    def tick(self, now: float) -> list[Segment]:
        out: list[Segment] = []
        for s in self.streams.values():
            out += self._match(s, now, final=False)
        return out

    def finish(self, now: float) -> list[Segment]:
        out: list[Segment] = []
        for s in self.streams.values():
            out += self._match(s, now, final=True)
            s.chunks.clear()
            s.chunk_bytes = 0
            tail = s.decoder.decode(b"", final=True)
            if tail:
                out.append((s.name, tail, None, now))
        return out

    def _match(self, s: _Stream, now: float, final: bool) -> list[Segment]:
        out: list[Segment] = []
        raw = s.raw
        while raw:
            if s.chunks:
                chunk = s.chunks[0]
                task, data, t = chunk
                n = len(data)
                if raw.startswith(data):
                    s.emit(out, data, task, t)
                    del raw[:n]
                    s.chunks.popleft()
                    s.chunk_bytes -= n
                    s.raw_since = now
                    continue
                if data.startswith(raw):
                    # Only part of the chunk has come through the pipe so far.
                    s.emit(out, bytes(raw), task, t)
                    chunk[1] = data[len(raw) :]
                    s.chunk_bytes -= len(raw)
                    raw.clear()
                    break
                i = raw.find(data[:64])
                if i > 0:
                    # Bytes that bypassed the std streams came first.
                    s.emit(out, bytes(raw[:i]), None, now)
                    del raw[:i]
                    continue
                if len(raw) >= n or final:
                    # The chunk is not in what arrived: it was released earlier as
                    # unattributed (or never reached the fd). Drop it and go on.
                    s.chunks.popleft()
                    s.chunk_bytes -= n
                    continue
                break
            if final or now - s.raw_since >= HOLD_SECONDS or len(raw) > MAX_HELD:
                s.emit(out, bytes(raw), None, now)
                raw.clear()
            break
        return out
