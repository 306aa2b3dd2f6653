"""Chunks to lines: boundaries inside characters and lines, encodings, CRLF, the line-length cap."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

import pytest

from aib_doctor.core.logstream import MAX_LINE, LineSplitter, decode_line, iter_blocks


def iter_lines(chunks: Iterable[bytes], max_line: int = MAX_LINE) -> Iterator[tuple[int, str, bool]]:
    """(line number, text, truncated) for every line: the per-line view of iter_blocks that the tests read."""
    for block in iter_blocks(chunks, max_line):
        for offset, raw in enumerate(block.data.split(b"\n")[:-1]):
            lineno = block.first_line + offset
            text, cut = decode_line(raw, max_line)
            yield lineno, text, cut or lineno in block.truncated


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
    lines = [(b.first_line + i, raw) for b in blocks for i, raw in enumerate(b.data.split(b"\n")[:-1])]
    assert [(n, len(raw)) for n, raw in lines] == [(1, 100), (2, 4)]
    assert blocks[0].truncated == (1,)


def test_line_numbers_continue_across_blocks():
    blocks = list(iter_blocks(pieces(b"a\nb\nc\nd\n", 3)))
    numbered = [(b.first_line, b.data) for b in blocks]
    assert numbered[0][0] == 1
    assert sum(d.count(b"\n") for _, d in numbered) == 4
    assert numbered[-1][0] + numbered[-1][1].count(b"\n") - 1 == 4


def test_empty_input_gives_nothing():
    assert list(iter_lines([])) == []
    assert list(iter_lines([b""])) == []
