"""One pass over a text source: find the few lines that matter and record what matched. No I/O.

Every catalog pattern, every timeline marker and a generic "error-looking" pattern go into one
RE2 alternation, searched over megabyte blocks of bytes; RE2 runs one linear-time automaton for
all of them, so a 256 MB log costs about what `grep -E` costs. Only a line that matched is decoded
and handed to an RE2 set (which patterns matched) and to Python's re (named groups).
"""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import re2

from aib_doctor.core.catalog import Catalog
from aib_doctor.core.logical import LogicalText, loosen
from aib_doctor.core.logstream import MAX_LINE, Block, decode_line, iter_blocks
from aib_doctor.core.redact import redact, redact_line
from aib_doctor.core.timeline import MARKERS, TimelineBuilder
from aib_doctor.model import Evidence, Rule

ERROR_LOOKING = r"(?i)\b(?:error|errored|failed|failure|fatal|exception|denied|timed out)\b"
_NOT_AN_ERROR = re.compile(r"Retryable error|0 bytes written|\berror(?:s)?=0\b|without errors?", re.I)
ERROR_LINES_KEPT = 8
EVIDENCE_PER_PATTERN = 3
_OPERATION_ID_LINES = 50  # the operation id is on every log line; read it from the first few
LOGICAL_LIMIT = 4 << 20
"""Sources up to this size are also matched as logical text (wrapped lines joined, patterns loosened).
Pasted reports are kilobytes; a whole customization.log is written by a program and is not wrapped."""
LOGICAL_EVIDENCE_CHARS = 600
QUOTED_CHARS = 400
"""Longest line quoted above a match; the match's own line is kept whole."""
CONTEXT_BYTES = 16 << 10
"""How far back from a line the scan keeps what came before it: the timeline looks there for the last line printed
before the build ended, and redaction reads it for an evidence line (a PEM key's BEGIN line, a Key Vault secret's id)."""


@dataclass(frozen=True)
class Entry:
    """One pattern of the table: a rule's pattern, a timeline marker or the error-looking pattern."""

    regex: re.Pattern
    rule: Rule | None = None
    role: str = ""
    marker: str = ""


class PatternTable:
    """All patterns of a catalog compiled once: a prefilter, a set and the Python forms."""

    def __init__(self, catalog: Catalog) -> None:
        entries = [Entry(re.compile(p.regex), rule, p.role) for rule in catalog for p in rule.patterns]
        entries += [Entry(re.compile(regex), marker=kind) for kind, regex in MARKERS.items()]
        entries.append(Entry(re.compile(ERROR_LOOKING), marker="error"))
        self.entries = tuple(entries)
        self.rule_entries: dict[str, list[tuple[int, str]]] = {rule.id: [] for rule in catalog}
        for index, entry in enumerate(entries):
            if entry.rule is not None:
                self.rule_entries[entry.rule.id].append((index, entry.role))
        self.unless = {rule.id: re.compile(rule.unless) for rule in catalog if rule.unless}
        options = re2.Options()
        options.max_mem = 64 << 20  # the DFA for ~150 patterns needs more than RE2's 8 MB default
        self.set = re2.Set.SearchSet(options)
        for entry in entries:
            self.set.Add(entry.regex.pattern.encode())
        self.set.Compile()
        # Multi-line, so a pattern anchored with ^ still finds its line inside a block.
        self.prefilter = re2.compile(("(?m)" + "|".join(f"(?:{e.regex.pattern})" for e in entries)).encode(), options)
        self._options = options
        self._loose: tuple[re2.Set, dict[int, re.Pattern]] | None = None

    def loose(self) -> tuple[re2.Set, dict[int, re.Pattern]]:
        """The rules' patterns loosened for logical text: an RE2 set over all, Python forms by entry index.
        Built on first use: most runs never need them."""
        if self._loose is None:
            loose_set = re2.Set.SearchSet(self._options)
            forms: dict[int, re.Pattern] = {}
            for index, entry in enumerate(self.entries):
                if entry.rule is None:
                    continue
                pattern = loosen(entry.regex.pattern, split_camel_case=entry.rule.basis != "error-code")
                forms[index] = re.compile(pattern, re.M)
                position = loose_set.Add(("(?m)" + pattern).encode())
                if position != len(forms) - 1:  # Match() answers positions; they must follow entry order
                    raise RuntimeError(f"RE2 set position {position} for entry {index}")
            loose_set.Compile()
            self._loose = (loose_set, forms)
        return self._loose


@functools.lru_cache(maxsize=4)
def pattern_table(catalog: Catalog) -> PatternTable:
    return PatternTable(catalog)


@dataclass
class PatternHits:
    count: int = 0
    evidence: list[Evidence] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)
    loose: bool = False
    """Matched only on the logical text by the loosened pattern (ranks a little below an exact match)."""


@dataclass
class ScanResult:
    source: str
    hits: dict[int, PatternHits]
    """Entry index -> what matched it."""
    timeline: TimelineBuilder
    error_lines: tuple[Evidence, ...]
    lines: int
    numbered: bool = True
    """False when only a window of the log was read (line numbers unknown)."""
    short_text: tuple[tuple[int, str], ...] = ()
    cut_lines: tuple[int, ...] = ()
    """Lines longer than MAX_LINE: only their first MAX_LINE bytes were searched."""
    """Every line of a short source (up to LOGICAL_LIMIT), for the vocabulary fallback."""

    def text_for_vocabulary(self) -> tuple[str, tuple[tuple[int | None, str], ...]]:
        """(source, lines): the whole of a short source, else its last error-looking lines."""
        if self.short_text:
            return self.source, self.short_text
        return self.source, tuple((e.line, e.text) for e in self.error_lines)


class Scan:
    """Feed blocks of one source in order; `result()` when done."""

    def __init__(self, table: PatternTable, source: str, numbered: bool = True) -> None:
        self._table = table
        self.source = source
        self._numbered = numbered  # False for a window that starts inside the log: positions unknown
        self._hits: dict[int, PatternHits] = {}
        self._timeline = TimelineBuilder(whole_log=numbered)
        self._tail = b""  # the end of the previous block: the lines before an end line at a block's start
        self._at: tuple[bytes, int] = (b"", 0)  # the block and the offset of the line being matched
        self._errors: collections.deque[tuple[int, str, tuple[bytes, int], bytes]] = collections.deque(maxlen=ERROR_LINES_KEPT)
        self._lines = 0
        self._cut: list[int] = []
        self._kept: list[Block] | None = []  # the blocks of a short source, for the logical pass
        self._kept_bytes = 0

    @property
    def timeline(self) -> TimelineBuilder:
        """The timeline so far (`watch` reads it between blocks)."""
        return self._timeline

    def feed(self, block: Block) -> None:
        data = block.data
        if self._kept is not None:
            self._kept_bytes += len(data)
            if self._kept_bytes <= LOGICAL_LIMIT:
                self._kept.append(block)
            else:
                self._kept = None  # too long to be a paste: the physical-line pass alone
        if block.first_line <= _OPERATION_ID_LINES and self._timeline.operation_id is None:
            for raw in data.split(b"\n", _OPERATION_ID_LINES)[:_OPERATION_ID_LINES]:
                self._timeline.see_first_line(raw[:200].decode("utf-8", "replace"))
        search = self._table.prefilter.search
        lineno, counted, pos = block.first_line, 0, 0
        while True:
            m = search(data, pos)
            if m is None:
                break
            start = data.rfind(b"\n", 0, m.start()) + 1
            end = data.find(b"\n", m.start())  # a block always ends with a newline
            lineno += data.count(b"\n", counted, start)
            counted = start
            self._at = (data, start)
            self._line(lineno, data[start:end], lineno in block.truncated)
            pos = end + 1
        self._lines = block.first_line + data.count(b"\n") - 1
        self._cut += block.truncated
        self._tail = _lines_before(data, len(data))

    def _before(self) -> bytes:
        """Whole lines (up to CONTEXT_BYTES and the previous block's tail) before the line being matched."""
        return _context(self._at, self._tail)

    def _line(self, lineno: int, raw: bytes, truncated: bool) -> None:
        text, cut = decode_line(raw, MAX_LINE)
        if cut or truncated:
            text += " [line truncated]"
        matched = self._table.set.Match(raw[:MAX_LINE]) or ()
        for index in sorted(matched):
            entry = self._table.entries[index]
            if entry.rule is not None:
                self._rule_hit(index, entry, lineno, text, physical=True)
            elif entry.marker == "error":
                if not _NOT_AN_ERROR.search(text):
                    self._errors.append((lineno, text, self._at, self._tail))  # redacted in result(): most are pushed out
            else:
                if entry.marker == "failed" and self._timeline.awaits_end:
                    self._timeline.see_end(lineno if self._numbered else None, text, self._before())
                m = entry.regex.search(text)
                self._timeline.mark(entry.marker, lineno, text, m.groupdict() if m else {})

    def _evidence(self, lineno: int, text: str, before: bytes = b"", matched: str = "") -> Evidence:
        above = before.decode("utf-8", "replace")
        return Evidence(self.source, lineno if self._numbered else None, redact_line(text, above).strip(), redact(matched))

    def _rule_hit(self, index: int, entry: Entry, lineno: int, text: str, match: re.Match | None = None, physical: bool = False) -> None:
        """`physical`: the line being matched in the block (its context is at hand); else a logical-text match."""
        rule = entry.rule
        where = "customization.log" if self.source == "validation.log" else self.source  # both are Packer's logs
        if where != "input" and where not in rule.where:
            return
        unless = self._table.unless.get(rule.id)
        if unless is not None and unless.search(text):
            return
        hits = self._hits.setdefault(index, PatternHits())
        hits.count += 1
        if physical and rule.context and not hits.evidence:
            hits.evidence += self._lines_above(lineno, rule.context)
        if len(hits.evidence) < EVIDENCE_PER_PATTERN + rule.context:
            m = match or entry.regex.search(text)
            hits.evidence.append(self._evidence(lineno, text, self._before() if physical else b"", m.group(0) if m else ""))
        if not hits.groups:
            m = match or entry.regex.search(text)
            if m:
                hits.groups = {k: redact(v) for k, v in m.groupdict().items() if v}

    def _lines_above(self, lineno: int, count: int) -> list[Evidence]:
        """The last `count` non-blank lines before the line being matched, redacted with what is above them."""
        before = self._before()
        lines = before.split(b"\n")[:-1] if before.endswith(b"\n") else []
        quoted: list[Evidence] = []
        for back in range(len(lines) - 1, -1, -1):
            if len(quoted) == count:
                break
            text = decode_line(lines[back], QUOTED_CHARS)[0]
            text += " [line truncated]" if len(lines[back]) > QUOTED_CHARS else ""
            if text.strip() and not (lineno - len(lines) + back) < 1:
                quoted.insert(0, self._evidence(lineno - len(lines) + back, text, b"\n".join(lines[:back]) + b"\n" if back else b""))
        return quoted

    def _logical_pass(self, lines: list[tuple[int, str]]) -> None:
        """Rules no physical line matched, tried on the logical text with loosened patterns."""
        if not lines:
            return
        loose_set, forms = self._table.loose()
        indices = list(forms)
        # What physical lines already matched keeps that evidence; the logical pass is for what lines missed:
        # a pattern with no hit, and for a rule already matched by one of its alternatives, only the patterns
        # it needs besides them (all, facts).
        alternatives = ("any", "partial")
        answered = {self._table.entries[index].rule.id for index in self._hits if self._table.entries[index].role in alternatives}
        logical = LogicalText(lines)
        for form in logical.forms:
            text = form[0]
            for position in loose_set.Match(text.encode("utf-8", "replace")) or ():  # an escaped lone surrogate (\\ud800) is text too
                index = indices[position]
                entry = self._table.entries[index]
                if index in self._hits or (entry.role in alternatives and entry.rule.id in answered):
                    continue
                for m in forms[index].finditer(text):
                    first, _ = LogicalText.lines_of(form, m.start(), m.end())
                    message = LogicalText.message_at(form, m.start(), m.end())
                    self._rule_hit(index, entry, first, message[:LOGICAL_EVIDENCE_CHARS], m)
                    if index in self._hits:
                        self._hits[index].loose = True
                    if index in self._hits and len(self._hits[index].evidence) >= EVIDENCE_PER_PATTERN:
                        break

    def result(self) -> ScanResult:
        lines: list[tuple[int, str]] = []
        if self._kept:
            lines = [(block.first_line + offset, decode_line(raw)[0]) for block in self._kept for offset, raw in enumerate(block.data.split(b"\n")[:-1])]
            lines = _redacted_lines(lines)
            self._logical_pass(lines)
        errors = tuple(self._evidence(lineno, text, _context(at, tail)) for lineno, text, at, tail in self._errors)
        self._timeline.see_log_end(self._lines if self._numbered else None, self._tail)
        return ScanResult(self.source, self._hits, self._timeline, errors, self._lines, self._numbered, tuple(lines), tuple(self._cut))


def _context(at: tuple[bytes, int], tail: bytes) -> bytes:
    data, start = at
    before = _lines_before(data, start)
    return tail + before if len(before) == start else before


def _redacted_lines(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """A short source's lines redacted as one text, so what the logical pass and the vocabulary quote is already clean."""
    texts = redact("\n".join(text for _, text in lines)).split("\n")
    if len(texts) != len(lines):  # masks keep line breaks; if one ever did not, each line is still redacted on its own
        return [(lineno, redact(text)) for lineno, text in lines]
    return [(lineno, text) for (lineno, _), text in zip(lines, texts, strict=True)]


def _lines_before(data: bytes, end: int) -> bytes:
    """The whole lines of data[:end] that start within CONTEXT_BYTES of end."""
    return data[data.rfind(b"\n", 0, max(0, end - CONTEXT_BYTES)) + 1 : end]


def scan_chunks(table: PatternTable, source: str, chunks: Iterable[bytes]) -> ScanResult:
    scan = Scan(table, source)
    for block in iter_blocks(chunks):
        scan.feed(block)
    return scan.result()


def unescaped(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """JSON-escaped text read as plain text: \\" and \\n undone (ARM nests JSON in JSON strings).

    A chunk ending in a backslash keeps it back for the next, so an escape split across chunks still reads.
    """
    carry = b""
    for chunk in chunks:
        chunk = carry + chunk
        carry = b""
        if chunk.endswith(b"\\"):
            chunk, carry = chunk[:-1], b"\\"
        yield chunk.replace(b'\\"', b'"').replace(b"\\n", b"\n").replace(b"\\r", b"")
    if carry:
        yield carry


def scan_text(table: PatternTable, source: str, text: str) -> ScanResult:
    """A short text such as a status message, read unescaped."""
    return scan_chunks(table, source, unescaped([text.encode("utf-8")]))
