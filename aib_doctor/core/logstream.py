"""Byte chunks in, blocks of whole lines out: encoding detection, line splitting and a line-length cap. No I/O.

The splitter hands out *blocks* of whole lines as UTF-8 bytes so the scanner can search megabytes
at a time with one regex engine call. A block is a window on the chunk it came from (no copy):
only a line that straddles two chunks is joined into a block of its own. Blocks carry no line
numbers; whoever reads them in order counts their newlines, once. UTF-8 is kept as bytes and
decoded per line with replacement characters (a newline byte never occurs inside a multi-byte
UTF-8 sequence, so splitting first is safe). UTF-16 (BOM, or the NUL pattern of BOM-less UTF-16LE)
is decoded incrementally and re-encoded as UTF-8.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MAX_LINE = 64 * 1024
"""Longest line kept; longer ones are cut here and flagged. A log line this long is never evidence."""
SNIFF_BYTES = 512


@dataclass(frozen=True)
class Block:
    """Whole lines, each ending in b"\\n", as UTF-8: buffer[start:end]."""

    buffer: bytes
    start: int
    end: int
    truncated: bool = False
    """Its one line was cut at the cap before reaching the block."""

    @property
    def data(self) -> bytes:
        """The block's lines as bytes of their own (a copy: for small blocks and tests)."""
        return self.buffer[self.start : self.end]

    def __len__(self) -> int:
        return self.end - self.start


def decode_line(raw: bytes, max_line: int = MAX_LINE) -> tuple[str, bool]:
    """One line's bytes (without its newline) -> text with CR removed, and whether it was cut."""
    cut = len(raw) > max_line
    if cut:
        raw = raw[:max_line]
    return raw.decode("utf-8", "replace").rstrip("\r"), cut


class LineSplitter:
    """Feed byte chunks, get blocks of whole lines back; only a partial line is carried over."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._max_line = max_line
        self._pending = bytearray()
        self._skipping = False  # inside an over-long line whose head was already emitted
        self._decoder: codecs.IncrementalDecoder | None = None
        self._head: bytes | None = b""  # first bytes held back until the encoding is known

    def feed(self, chunk: bytes) -> list[Block]:
        return self._split(self._transcode(chunk))

    def close(self) -> list[Block]:
        blocks = self._split(self._transcode(b"", final=True))
        if self._decoder is not None:
            blocks += self._split(self._decoder.decode(b"", final=True).encode("utf-8", "replace"))
        if self._pending and not self._skipping:
            line = bytes(self._pending) + b"\n"
            blocks.append(Block(line, 0, len(line)))
        self._pending.clear()
        return blocks

    def _split(self, data: bytes) -> list[Block]:
        pos = 0
        if self._skipping:
            pos = data.find(b"\n") + 1
            if pos == 0:
                return []
            self._skipping = False
        last_newline = data.rfind(b"\n", pos)
        if last_newline < 0:
            self._pending += data[pos:] if pos else data
            if len(self._pending) <= self._max_line:
                return []
            head = bytes(self._pending[: self._max_line]) + b"\n"
            self._pending.clear()
            self._skipping = True
            return [Block(head, 0, len(head), truncated=True)]
        blocks = []
        if self._pending:  # the line that straddles the chunks: the only bytes copied
            first_newline = data.find(b"\n", pos)
            line = bytes(self._pending) + data[pos : first_newline + 1]
            blocks.append(Block(line, 0, len(line)))
            pos = first_newline + 1
        if pos <= last_newline:
            blocks.append(Block(data, pos, last_newline + 1))
        self._pending = bytearray(data[last_newline + 1 :])
        return blocks

    def _transcode(self, chunk: bytes, final: bool = False) -> bytes:
        if self._head is not None:
            self._head += chunk
            if len(self._head) < SNIFF_BYTES and not final:
                return b""
            chunk, self._head = self._sniff(self._head), None
        if self._decoder is not None:
            return self._decoder.decode(chunk).encode("utf-8", "replace")
        return chunk

    def _sniff(self, chunk: bytes) -> bytes:
        if chunk.startswith(codecs.BOM_UTF8):
            return chunk[len(codecs.BOM_UTF8) :]
        if chunk.startswith(codecs.BOM_UTF16_LE):
            self._decoder = codecs.getincrementaldecoder("utf-16-le")("replace")
            return chunk[2:]
        if chunk.startswith(codecs.BOM_UTF16_BE):
            self._decoder = codecs.getincrementaldecoder("utf-16-be")("replace")
            return chunk[2:]
        if looks_like_utf16le(chunk):
            self._decoder = codecs.getincrementaldecoder("utf-16-le")("replace")
        return chunk


def looks_like_utf16le(head: bytes) -> bool:
    """BOM-less UTF-16LE text (ASCII content): a NUL after every character."""
    sample = head[:SNIFF_BYTES]
    if len(sample) < 8:
        return False
    odd = sample[1::2]
    return odd.count(0) > 0.9 * len(odd) and sample[0::2].count(0) == 0


def iter_blocks(chunks: Iterable[bytes], max_line: int = MAX_LINE) -> Iterator[Block]:
    splitter = LineSplitter(max_line)
    for chunk in chunks:
        yield from splitter.feed(chunk)
    yield from splitter.close()
