"""Chunks to lines: boundaries inside characters and lines, encodings, CRLF, the line-length cap."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

import pytest

from aib_doctor.core.logstream import MAX_LINE, LineSplitter, decode_line, iter_blocks


def iter_lines(chunks: Iterable[bytes], max_line: int = MAX_LINE) -> Iterator[tuple[int, str, bool]]:
    """(line number, text, truncated) for every line: the per-line view of iter_blocks that the tests read."""
    lineno = 0
    for block in iter_blocks(chunks, max_line):
        for raw in block.data.split(b"\n")[:-1]:
            lineno += 1
            text, cut = decode_line(raw, max_line)
            yield lineno, text, cut or block.truncated


TEXT = "첫 줄 héllo\nsecond line\nthird — ok\n"


def pieces(data: bytes, size: int):
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
def test_any_chunking_gives_the_same_lines(size):
    lines = list(iter_lines(pieces(TEXT.encode("utf-8"), size)))
    assert lines == [(1, "첫 줄 héllo", False), (2, "second line", False), (3, "third — ok", False)]


def test_invalid_utf8_becomes_replacement_characters():
    assert list(iter_lines([b"ok \xff\xfe end\n"])) == [(1, "ok \ufffd\ufffd end", False)]


def test_crlf_line_ends_are_removed():
    assert [t for _, t, _ in iter_lines([b"a\r\nb\r\n"])] == ["a", "b"]


def test_last_line_without_newline_is_kept():
    assert [t for _, t, _ in iter_lines([b"a\nb"])] == ["a", "b"]


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)])
def test_utf16_with_bom(encoding, bom):
    data = bom + "PACKER OUT ünïcode\r\nline 2\r\n".encode(encoding)
    assert [t for _, t, _ in iter_lines(pieces(data, 3))] == ["PACKER OUT ünïcode", "line 2"]


def test_utf16le_without_bom_is_recognised():
    data = ("[abc] PACKER OUT hello world\n" * 20).encode("utf-16-le")
    assert {t for _, t, _ in iter_lines([data])} == {"[abc] PACKER OUT hello world"}


def test_utf8_bom_is_dropped():
    assert list(iter_lines([codecs.BOM_UTF8 + b"x\n"])) == [(1, "x", False)]


def test_long_line_is_truncated_flagged_and_not_buffered():
    splitter = LineSplitter(max_line=100)
    blocks = []
    for _ in range(50):  # a 50 000-byte line arriving in 1 000-byte chunks
        blocks += splitter.feed(b"x" * 1000)
        assert len(splitter._pending) <= 100  # the carried-over partial line stays under the cap
    blocks += splitter.feed(b"\nnext\n")
    blocks += splitter.close()
    lines = [raw for b in blocks for raw in b.data.split(b"\n")[:-1]]
    assert [len(raw) for raw in lines] == [100, 4]
    assert [b.truncated for b in blocks] == [True, False]


def test_blocks_are_windows_on_the_chunk_and_only_a_straddling_line_is_copied():
    chunk = b"tail of a\nb\nc\nhead of d"
    splitter = LineSplitter()
    splitter.feed(b"x" * 600 + b"\nstart of a, ")  # past the encoding sniff; "start of a, " carried over
    blocks = splitter.feed(chunk)
    assert [b.data for b in blocks] == [b"start of a, tail of a\n", b"b\nc\n"]
    assert blocks[1].buffer is chunk
    assert [b.data for b in splitter.close()] == [b"head of d\n"]


def test_lines_are_split_once_whatever_the_chunking():
    data = b"a\nbb\n\nccc\nd"
    for size in range(1, len(data) + 1):
        assert b"".join(b.data for b in iter_blocks(pieces(data, size))) == data + b"\n"


def test_empty_input_gives_nothing():
    assert list(iter_lines([])) == []
    assert list(iter_lines([b""])) == []
