"""Required literals: what they are for a few pattern shapes, and that no pattern or loosened form matches
a fixture text without one of its literals (the prefilter of short texts must never drop a match)."""

from __future__ import annotations

import re2
from conftest import FIXTURES

from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.literals import may_match, required_literals
from aib_doctor.core.logical import LogicalText
from aib_doctor.core.logstream import Block
from aib_doctor.core.patterns import find_lines, pattern_table


def test_literals_of_pattern_shapes():
    assert required_literals("AuthorizationFailed") == ((b"authorizationfailed",),)
    # Every literal run is required, each a group of its own.
    assert required_literals(r"Code=\d+ in (?i:the requested VM size)") == ((b"code=",), (b" in ",), (b"the requested vm size",))
    # An alternation requires one of its branches (each branch's most selective group); a group or a repeat at
    # least once everything it holds.
    assert required_literals(r"\b(?:denied|forbidden)\b") == ((b"denied", b"forbidden"),)
    assert required_literals(r"(?:access denied|(?:not|never) allowed) here") == ((b"access denied", b" allowed"), (b" here",))
    assert required_literals(r"(?:abcd)+x") == ((b"abcd",),)
    # Nothing known: an optional part, a branch without a literal, a class, a too short run, non-ASCII.
    assert required_literals(r"(?:abcd)?") is None
    assert required_literals(r"(?:abcd|\d+)") is None
    assert required_literals(r"[a-z]+ \d") is None
    assert required_literals("ab") is None
    assert required_literals("éé") is None


def test_may_match():
    assert may_match(None, b"anything")
    assert may_match(((b"denied", b"forbidden"),), b"access forbidden here")
    assert not may_match(((b"denied",),), b"access granted")
    # one literal of every group: a text with the error code but not the phrase cannot match
    assert may_match(((b"code=",), (b"the requested vm size",)), b"code=409 in the requested vm size")
    assert not may_match(((b"code=",), (b"the requested vm size",)), b"code=409 in westus")


def fixture_texts() -> list[bytes]:
    """Every ASCII line of the fixtures, and the logical text (wrapped lines joined) of every pasted text."""
    texts: set[bytes] = set()
    for path in FIXTURES.rglob("*"):
        if path.is_file() and path.suffix in (".log", ".txt", ".json", ".yaml"):
            data = path.read_bytes()
            texts.update(line for line in data.splitlines() if line.isascii())
            if path.suffix == ".txt" and data.isascii():
                lines = list(enumerate(data.decode().splitlines(), start=1))
                texts.update(form[0].encode() for form in LogicalText(lines).forms)
    return sorted(texts)


def test_no_fixture_text_matches_a_pattern_without_its_literals():
    table = pattern_table(load_catalog())
    loose = re2.Set.SearchSet(table.options)
    rules = [index for index, entry in enumerate(table.entries) if entry.rule is not None]
    for index in rules:
        loose.Add(("(?m)" + table.entries[index].loose).encode())
    loose.Compile()
    lines = fixture_texts()
    assert len(lines) > 5000
    strict_checked = loose_checked = 0
    for line in lines:
        lowered = line.lower()
        for index in table.set.Match(line) or ():
            literals = table.entries[index].literals if index < len(table.entries) else None
            assert may_match(literals, lowered), (table.entries[index].pattern, line)
            strict_checked += literals is not None
        for position in loose.Match(line) or ():
            entry = table.entries[rules[position]]
            assert may_match(entry.loose_literals, lowered), (entry.loose, line)
            loose_checked += entry.loose_literals is not None
    assert strict_checked > 1000 and loose_checked > 1000


def test_a_short_text_is_matched_as_by_the_whole_set():
    table = pattern_table(load_catalog())
    text = b"ERROR: (SkuNotAvailable) The requested VM size Standard_D2s_v3 is not available.\nStatus=403 caf\xc3\xa9\nok\n"
    for data in (text, text.replace(b"caf\xc3\xa9", b"cafe")):  # not ASCII: the whole set; ASCII: a subset
        found = find_lines(table, Block(data, 0, len(data)))
        expected = [sorted(table.set.Match(line) or ()) for line in data.split(b"\n")[:-1]]
        assert [(line[0], line[3]) for line in found.lines] == [(n, m) for n, m in enumerate(expected) if m]
        assert found.lines
