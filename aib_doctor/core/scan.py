"""One pass over a text source: find the few lines that matter and record what matched. No I/O.

Every catalog pattern, every timeline marker and a generic "error-looking" pattern go into one
RE2 alternation (without capture groups, never crossing a newline), searched over megabyte blocks
of bytes; RE2 runs one linear-time automaton for all of them, so a 256 MB log costs about what
`grep -E` costs. Only a line that matched is handed to an RE2 set (which patterns matched, and
whether the line only looks like an error); Python's re runs on the few lines that need named
groups, compiled on first use. A long source's blocks are searched on a second thread, ahead of
the one whose lines are being recorded in order.
"""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import re2

from aib_doctor.core.catalog import Catalog
from aib_doctor.core.logical import LogicalText, loosen
from aib_doctor.core.logstream import MAX_LINE, Block, decode_line, iter_blocks
from aib_doctor.core.redact import redact
from aib_doctor.core.timeline import MARKERS, TimelineBuilder
from aib_doctor.model import Evidence, Rule

ERROR_LOOKING = r"(?i)\b(?:error|errored|failed|failure|fatal|exception|denied|timed out)\b"
NOT_AN_ERROR = r"(?i)Retryable error|0 bytes written|\berror(?:s)?=0\b|without errors?"
"""An error-looking line that reports success; in the set (not the alternation), so it costs no pass of its own."""
ERROR_LINES_KEPT = 8
EVIDENCE_PER_PATTERN = 3
_OPERATION_ID_LINES = 50  # the operation id is on every log line; read it from the first few
LOGICAL_LIMIT = 4 << 20
"""Sources up to this size are also matched as logical text (wrapped lines joined, patterns loosened).
Pasted reports are kilobytes; a whole customization.log is written by a program and is not wrapped."""
LOGICAL_EVIDENCE_CHARS = 600
READ_SIZE = 4 << 20
"""Bytes read at a time: long engine calls, few Python steps, and a handful of blocks in memory."""
THREAD_BLOCK = 1 << 20
"""Blocks this large are searched on the worker thread; smaller ones (pastes, status messages) inline."""
DENSE_LINES = 2000
"""Matched lines per block above which the next block is searched inline: recording that many lines keeps
the main thread busy in Python, and a second thread would only wait for the interpreter lock."""
SEARCH_THREADS = 1
_AHEAD = 2  # blocks searched ahead of the one being recorded: bounds memory to a few blocks
_GROUP_SYNTAX = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|\(\?P<\w+>|\((?!\?)")


def without_captures(regex: str) -> str:
    """The same pattern with every capture group made non-capturing (classes and escapes left alone)."""
    return _GROUP_SYNTAX.sub(lambda m: "(?:" if m.group().startswith("(") else m.group(), regex)


@dataclass(frozen=True)
class Entry:
    """One pattern of the table: a rule's pattern, a timeline marker or the error-looking pattern."""

    pattern: str
    rule: Rule | None = None
    role: str = ""
    marker: str = ""

    @functools.cached_property
    def regex(self) -> re.Pattern:
        """Python's form, for named groups: compiled only for the patterns that matched."""
        return re.compile(self.pattern)

    def groups(self, text: str) -> dict[str, str]:
        if "(?P<" not in self.pattern:
            return {}
        m = self.regex.search(text)
        return {k: v for k, v in m.groupdict().items() if v} if m else {}


def _engine_search(regexp: re2._Regexp):
    """(bytes, pos, endpos) -> the engine's spans, the first being the match's (-1, -1 when none).

    google-re2's `search()` wraps every call in a generator and a match object, five times the engine's
    own cost on a log where thousands of lines match; its engine call is used when this version has it."""
    engine, anchor = getattr(regexp, "_regexp", None), getattr(re2, "_Anchor", None)
    if engine is not None and anchor is not None:
        return functools.partial(engine.Match, anchor.UNANCHORED)
    return _public_search(regexp)


def _public_search(regexp: re2._Regexp):
    def search(text: bytes, pos: int, endpos: int) -> list[tuple[int, int]]:
        m = regexp.search(text, pos, endpos)
        return [m.span()] if m else [(-1, -1)]

    return search


class PatternTable:
    """All patterns of a catalog compiled once: a prefilter and a set; Python forms on first use."""

    def __init__(self, catalog: Catalog) -> None:
        entries = [Entry(p.regex, rule, p.role) for rule in catalog for p in rule.patterns]
        entries += [Entry(regex, marker=kind) for kind, regex in MARKERS.items()]
        entries.append(Entry(ERROR_LOOKING, marker="error"))
        self.entries = tuple(entries)
        self.rule_entries: dict[str, list[tuple[int, str]]] = {rule.id: [] for rule in catalog}
        for index, entry in enumerate(entries):
            if entry.rule is not None:
                self.rule_entries[entry.rule.id].append((index, entry.role))
        self._unless = {rule.id: rule.unless for rule in catalog if rule.unless}
        options = re2.Options()
        options.max_mem = 64 << 20  # the DFA for ~150 patterns needs more than RE2's 8 MB default
        self.set = re2.Set.SearchSet(options)
        for position, pattern in enumerate([e.pattern for e in entries] + [NOT_AN_ERROR]):
            if self.set.Add(pattern.encode()) != position:  # Match() answers positions; they must follow entry order
                raise RuntimeError(f"RE2 set position for entry {position}")
        self.set.Compile()
        self.not_an_error = len(entries)
        # Multi-line, so a pattern anchored with ^ still finds its line inside a block; never across a
        # newline, so a match always lies on the line that the set is asked about.
        prefilter = re2.Options()
        prefilter.max_mem = options.max_mem
        prefilter.never_nl = True
        alternation = "(?m)" + "|".join(f"(?:{without_captures(e.pattern)})" for e in entries)
        self.search = _engine_search(re2.compile(alternation.encode(), prefilter))
        self._options = options
        self._loose: tuple[re2.Set, dict[int, str]] | None = None

    def unless(self, rule_id: str) -> re.Pattern | None:
        """The rule's `unless` pattern in Python's form (re caches the compiled form)."""
        pattern = self._unless.get(rule_id)
        return None if pattern is None else re.compile(pattern)

    def loose(self) -> tuple[re2.Set, dict[int, str]]:
        """The rules' patterns loosened for logical text: an RE2 set over all, the patterns by entry index
        (Python's forms are compiled for the few the set reports). Built on first use: most runs never need them."""
        if self._loose is None:
            loose_set = re2.Set.SearchSet(self._options)
            forms: dict[int, str] = {}
            for index, entry in enumerate(self.entries):
                if entry.rule is None:
                    continue
                forms[index] = loosen(entry.pattern, split_camel_case=entry.rule.basis != "error-code")
                position = loose_set.Add(("(?m)" + forms[index]).encode())
                if position != len(forms) - 1:  # Match() answers positions; they must follow entry order
                    raise RuntimeError(f"RE2 set position {position} for entry {index}")
            loose_set.Compile()
            self._loose = (loose_set, forms)
        return self._loose


@functools.lru_cache(maxsize=4)
def pattern_table(catalog: Catalog) -> PatternTable:
    return PatternTable(catalog)


@dataclass(frozen=True)
class Found:
    """What one block holds for the scan: its matched lines and its number of lines."""

    lines: list[tuple[int, bytes, list[int]]]
    """(lines before it in the block, the line's bytes, the set's entry indices, sorted)."""
    count: int


def find_lines(table: PatternTable, block: Block) -> Found:
    """The lines of a block that some pattern matches. Pure (no state but the block): runs on any thread;
    the engine calls release the interpreter lock."""
    buffer, end = block.buffer, block.end
    search, set_match = table.search, table.set.Match
    found: list[tuple[int, bytes, list[int]]] = []
    pos = counted = block.start
    line = 0
    while True:
        start = search(buffer, pos, end)[0][0]
        if start < 0:
            break
        start = (buffer.rfind(b"\n", pos, start) + 1) or pos
        stop = buffer.find(b"\n", start, end)  # a block always ends with a newline
        line += buffer.count(b"\n", counted, start)
        counted = start
        raw = buffer[start:stop]
        matched = set_match(raw[:MAX_LINE])  # None when the match lies past the cap
        if matched:
            found.append((line, raw, sorted(matched)))
        pos = stop + 1
    return Found(found, line + buffer.count(b"\n", counted, end))


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
    numbered: bool = True
    """False when only a window of the log was read (line numbers unknown)."""
    short_text: tuple[tuple[int, str], ...] = ()
    """Every line of a short source (up to LOGICAL_LIMIT), for the vocabulary fallback."""

    def text_for_vocabulary(self) -> tuple[str, tuple[tuple[int | None, str], ...]]:
        """(source, lines): the whole of a short source, else its last error-looking lines."""
        if self.short_text:
            return self.source, self.short_text
        return self.source, tuple((e.line, e.text) for e in self.error_lines)


class Scan:
    """Feed blocks of one source in order (`feed`, or `feed_all` to search ahead on a thread); `result()` when done."""

    def __init__(self, table: PatternTable, source: str, numbered: bool = True) -> None:
        self._table = table
        self.source = source
        self._numbered = numbered  # False for a window that starts inside the log: positions unknown
        self._hits: dict[int, PatternHits] = {}
        self._timeline = TimelineBuilder()
        self._errors: collections.deque[tuple[int, bytes, bool]] = collections.deque(maxlen=ERROR_LINES_KEPT)
        self._next_line = 1
        self._kept: list[tuple[int, Block]] | None = []  # the blocks of a short source, for the logical pass
        self._kept_bytes = 0

    def feed(self, block: Block) -> None:
        self._record(block, find_lines(self._table, block))

    def feed_all(self, blocks: Iterable[Block]) -> None:
        """Every block in order; large ones searched on a worker thread ahead of the one being recorded,
        unless the last one matched so many lines that recording them is the bottleneck."""
        pool: ThreadPoolExecutor | None = None
        ahead: collections.deque = collections.deque()
        dense = False
        try:
            for block in blocks:
                if dense or len(block) < THREAD_BLOCK:
                    while ahead:
                        dense = self._record_next(ahead) > DENSE_LINES
                    found = find_lines(self._table, block)
                    self._record(block, found)
                    dense = len(found.lines) > DENSE_LINES
                    continue
                if pool is None:
                    pool = ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="aib-doctor-scan")
                ahead.append((block, pool.submit(find_lines, self._table, block)))
                if len(ahead) > _AHEAD:
                    dense = self._record_next(ahead) > DENSE_LINES
            while ahead:
                self._record_next(ahead)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)

    def _record_next(self, ahead: collections.deque) -> int:
        block, future = ahead.popleft()
        found = future.result()
        self._record(block, found)
        return len(found.lines)

    def _record(self, block: Block, found: Found) -> None:
        first = self._next_line
        self._next_line += found.count
        if self._kept is not None:
            self._kept_bytes += len(block)
            if self._kept_bytes <= LOGICAL_LIMIT:
                self._kept.append((first, block))
            else:
                self._kept = None  # too long to be a paste: the physical-line pass alone
        if first <= _OPERATION_ID_LINES and self._timeline.operation_id is None:
            self._see_operation_id(block, _OPERATION_ID_LINES - first + 1)
        for offset, raw, matched in found.lines:
            self._line(first + offset, raw, matched, block.truncated)

    def _see_operation_id(self, block: Block, lines: int) -> None:
        pos = block.start
        for _ in range(lines):
            stop = block.buffer.find(b"\n", pos, block.end)
            if stop < 0:
                return
            self._timeline.see_operation_id(block.buffer[pos : min(stop, pos + 200)].decode("utf-8", "replace"))
            pos = stop + 1

    def _line(self, lineno: int, raw: bytes, matched: list[int], truncated: bool) -> None:
        entries, not_an_error = self._table.entries, self._table.not_an_error
        text = None
        for index in matched:
            if index == not_an_error:
                continue
            entry = entries[index]
            if entry.marker == "error":
                if not_an_error not in matched:
                    self._errors.append((lineno, raw, truncated))  # decoded in result(): most are pushed out
                continue
            if text is None:
                text = _line_text(raw, truncated)
            if entry.rule is not None:
                self._rule_hit(index, entry, lineno, text)
            else:
                self._timeline.mark(entry.marker, lineno, text, entry.groups(text))

    def _evidence(self, lineno: int, text: str) -> Evidence:
        return Evidence(self.source, lineno if self._numbered else None, redact(text.strip()))

    def _rule_hit(self, index: int, entry: Entry, lineno: int, text: str, match: re.Match | None = None) -> None:
        rule = entry.rule
        if self.source != "input" and self.source not in rule.where:
            return
        unless = self._table.unless(rule.id)
        if unless is not None and unless.search(text):
            return
        hits = self._hits.setdefault(index, PatternHits())
        hits.count += 1
        if len(hits.evidence) < EVIDENCE_PER_PATTERN:
            hits.evidence.append(self._evidence(lineno, text))
        if not hits.groups:
            groups = {k: v for k, v in match.groupdict().items() if v} if match else entry.groups(text)
            hits.groups = {k: redact(v) for k, v in groups.items()}

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
            for position in loose_set.Match(text.encode("utf-8")) or ():
                index = indices[position]
                entry = self._table.entries[index]
                if index in self._hits or (entry.role in alternatives and entry.rule.id in answered):
                    continue
                for m in re.compile(forms[index], re.M).finditer(text):
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
            lines = [
                (first + offset, decode_line(raw)[0])
                for first, block in self._kept
                for offset, raw in enumerate(block.buffer[block.start : block.end - 1].split(b"\n"))
            ]
            self._logical_pass(lines)
        errors = tuple(self._evidence(lineno, _line_text(raw, truncated)) for lineno, raw, truncated in self._errors)
        return ScanResult(self.source, self._hits, self._timeline, errors, self._numbered, tuple(lines))


def _line_text(raw: bytes, truncated: bool) -> str:
    text, cut = decode_line(raw, MAX_LINE)
    return text + " [line truncated]" if cut or truncated else text


def scan_chunks(table: PatternTable, source: str, chunks: Iterable[bytes]) -> ScanResult:
    scan = Scan(table, source)
    scan.feed_all(iter_blocks(chunks))
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
