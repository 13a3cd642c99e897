"""Merging the program's raw output with the child's attribution records.

The pipes carry the truth (every byte, including ``os.write``, C extensions and
subprocesses); the event channel says which task wrote the text that went through
``sys.stdout``/``sys.stderr``. Per stream, attributed chunks appear in the raw text in the
same order, so the merge walks both: raw text that matches the next chunk takes its task,
raw text that does not is unattributed. Raw text with no chunk to match is held back
briefly (its record may still be on the way) and then released unattributed.
"""

from __future__ import annotations

import codecs
from collections import deque

HOLD_SECONDS = 0.25

Segment = tuple[str, str, "int | None", float]  # stream, text, task, t


class _Stream:
    def __init__(self, name: str) -> None:
        self.name = name
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.raw = ""
        self.raw_since = 0.0
        self.chunks: deque[list] = deque()  # [task, text, t]


class OutputMerger:
    def __init__(self) -> None:
        self.streams = {"stdout": _Stream("stdout"), "stderr": _Stream("stderr")}

    def feed_raw(self, stream: str, data: bytes, now: float) -> list[Segment]:
        s = self.streams[stream]
        text = s.decoder.decode(data)
        if text:
            if not s.raw:
                s.raw_since = now
            s.raw += text
        return self._match(s, now, final=False)

    def feed_chunk(
        self, stream: str, task: int | None, text: str, t: float, now: float
    ) -> list[Segment]:
        s = self.streams[stream]
        if text:
            s.chunks.append([task, text, t])
        return self._match(s, now, final=False)

    def tick(self, now: float) -> list[Segment]:
        out: list[Segment] = []
        for s in self.streams.values():
            out += self._match(s, now, final=False)
        return out

    def finish(self, now: float) -> list[Segment]:
        out: list[Segment] = []
        for s in self.streams.values():
            s.raw += s.decoder.decode(b"", final=True)
            out += self._match(s, now, final=True)
            s.chunks.clear()
        return out

    def _match(self, s: _Stream, now: float, final: bool) -> list[Segment]:
        out: list[Segment] = []
        while s.raw:
            if s.chunks:
                chunk = s.chunks[0]
                task, text, t = chunk
                raw = s.raw
                if raw.startswith(text):
                    out.append((s.name, text, task, t))
                    s.raw = raw[len(text) :]
                    s.chunks.popleft()
                    s.raw_since = now
                    continue
                if text.startswith(raw):
                    # Only part of the chunk has come through the pipe so far.
                    out.append((s.name, raw, task, t))
                    chunk[1] = text[len(raw) :]
                    s.raw = ""
                    break
                probe = text[:64]
                i = raw.find(probe)
                if i > 0:
                    out.append((s.name, raw[:i], None, now))
                    s.raw = raw[i:]
                    continue
                lines = text.splitlines(keepends=True)
                if len(lines) > 1:
                    # Bytes that bypassed the text layer landed between the chunk's lines
                    # (sys.stdout.buffer, os.write): match the lines one by one.
                    s.chunks.popleft()
                    s.chunks.extendleft([task, line, t] for line in reversed(lines))
                    continue
                if len(raw) >= len(text) or final:
                    # The chunk's text is not in what arrived: it was released earlier as
                    # unattributed (or never reached the fd). Drop it and go on.
                    s.chunks.popleft()
                    continue
                break
            if final or now - s.raw_since >= HOLD_SECONDS:
                out.append((s.name, s.raw, None, now))
                s.raw = ""
            break
        return out
