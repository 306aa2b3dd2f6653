"""Byte chunks in, numbered lines out: encoding detection, line splitting and a line-length cap. No I/O.

The splitter hands out *blocks* of whole lines as UTF-8 bytes so the scanner can search a megabyte
at a time with one regex engine call; `iter_lines` is the per-line view for small inputs and tests.
UTF-8 is kept as bytes and decoded per line with replacement characters (a newline byte never
occurs inside a multi-byte UTF-8 sequence, so splitting first is safe). UTF-16 (BOM, or the NUL
pattern of BOM-less UTF-16LE) is decoded incrementally and re-encoded as UTF-8.
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
    first_line: int
    """Line number (1-based) of the first line in data."""
    data: bytes
    """Whole lines, each ending in b"\\n", as UTF-8."""
    truncated: tuple[int, ...] = ()
    """Line numbers that were cut at the cap before reaching the block."""


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
        self._next_line = 1
        self._decoder: codecs.IncrementalDecoder | None = None
        self._head: bytes | None = b""  # first bytes held back until the encoding is known

    def feed(self, chunk: bytes) -> list[Block]:
        return self._split(self._transcode(chunk))

    def close(self) -> list[Block]:
        blocks = self._split(self._transcode(b"", final=True))
        if self._decoder is not None:
            blocks += self._split(self._decoder.decode(b"", final=True).encode("utf-8", "replace"))
        if self._pending and not self._skipping:
            blocks.append(self._block(bytes(self._pending) + b"\n"))
        self._pending.clear()
        return blocks

    def _split(self, data: bytes) -> list[Block]:
        if self._skipping:
            end = data.find(b"\n")
            if end < 0:
                return []
            data = data[end + 1 :]
            self._skipping = False
        last_newline = data.rfind(b"\n")
        if last_newline < 0:
            self._pending += data
            if len(self._pending) <= self._max_line:
                return []
            head = bytes(self._pending[: self._max_line]) + b"\n"
            self._pending.clear()
            self._skipping = True
            return [self._block(head, truncated=(self._next_line,))]
        body = bytes(self._pending) + data[: last_newline + 1] if self._pending else data[: last_newline + 1]
        self._pending = bytearray(data[last_newline + 1 :])
        return [self._block(body)]

    def _block(self, data: bytes, truncated: tuple[int, ...] = ()) -> Block:
        block = Block(self._next_line, data, truncated)
        self._next_line += data.count(b"\n")
        return block

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
