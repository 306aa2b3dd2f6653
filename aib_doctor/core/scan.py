"""One pass over a text source: find the few lines that matter and record what matched. No I/O.

Blocks of lines (logstream) are searched for the lines that matter (patterns.find_lines: one RE2
automaton for every pattern, so a 256 MB log costs about what `grep -E` costs), and those lines are
recorded here in order: rule hits with their evidence and named groups, timeline markers, the last
error-looking lines. A long source's blocks are searched on a worker thread ahead of the block whose
lines are being recorded. Short sources (pastes) are also matched as logical text (logical.py).
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from aib_doctor.core.logical import LogicalText
from aib_doctor.core.logstream import MAX_LINE, Block, decode_line, iter_blocks
from aib_doctor.core.patterns import ERROR_LINES_KEPT, Entry, Found, PatternTable, find_lines
from aib_doctor.core.patterns import pattern_table as pattern_table  # where the callers have always found it
from aib_doctor.core.redact import redact, redact_line
from aib_doctor.core.timeline import TimelineBuilder
from aib_doctor.model import Evidence

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
"""One worker searches while the main thread reads and records. A second worker measured no faster on this
shared 2-core machine and cost ~6 MiB of peak memory (glibc gives each thread its own heap, where RE2's
automaton grows): the error-heavy log went over the 64 MiB budget."""
_AHEAD = 2  # blocks in flight while the oldest is recorded: memory is a few blocks
CONTEXT_BYTES = 16 << 10
"""How far back from a line the scan keeps what came before it: the timeline looks there for the last line printed
before the build ended, and redaction reads it for an evidence line (a PEM key's BEGIN line, a Key Vault secret's id)."""
QUOTED_CHARS = 400
"""Longest line quoted above a match (a rule's context); the match's own line is kept whole."""


@dataclass
class PatternHits:
    """What one pattern matched in a source: how often, the first evidence lines and named groups."""

    count: int = 0
    evidence: list[Evidence] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)
    loose: bool = False
    """Matched only on the logical text by the loosened pattern (ranks a little below an exact match)."""


@dataclass
class ScanResult:
    """What one pass over a source found: pattern hits, timeline, last error-looking lines."""

    source: str
    hits: dict[int, PatternHits]
    """Entry index -> what matched it."""
    timeline: TimelineBuilder
    error_lines: tuple[Evidence, ...]
    numbered: bool = True
    """False when only a window of the log was read (line numbers unknown)."""
    short_text: tuple[tuple[int, str], ...] = ()
    """Every line of a short source (up to LOGICAL_LIMIT), for the vocabulary fallback."""
    cut_lines: tuple[int, ...] = ()
    """Lines longer than MAX_LINE: only their first MAX_LINE bytes were searched."""

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
        self._timeline = TimelineBuilder(whole_log=numbered)
        self._tail = b""  # the whole lines of the source so far that reach into its last CONTEXT_BYTES
        # (line, raw, cut, the text above it): that text is taken when the block is recorded, for the few lines still kept
        self._errors: collections.deque[tuple[int, bytes, bool, int | bytes]] = collections.deque(maxlen=ERROR_LINES_KEPT)
        self._cut: list[int] = []
        self._next_line = 1
        self._kept: list[tuple[int, Block]] | None = []  # the blocks of a short source, for the logical pass
        self._kept_bytes = 0

    @property
    def timeline(self) -> TimelineBuilder:
        """The timeline so far (`watch` reads it between blocks)."""
        return self._timeline

    def feed(self, block: Block) -> None:
        self._record(block, find_lines(self._table, block))

    def feed_all(self, blocks: Iterable[Block]) -> None:
        """Every block in order; large ones searched on a worker thread ahead of the one being recorded,
        unless the last one matched so many lines that recording them is the bottleneck."""
        pool = None
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
                    from concurrent.futures import ThreadPoolExecutor  # only a long source needs it

                    pool = ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="aib-doctor-scan")
                ahead.append((block, pool.submit(find_lines, self._table, block)))
                if len(ahead) >= _AHEAD:  # record the oldest now: the next read waits until it is done
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
            self._see_first_lines(block, _OPERATION_ID_LINES - first + 1)
        for offset, start, raw, matched in found.lines:
            self._line(first + offset, raw, matched, block.truncated, block, start)
        if block.truncated:
            self._cut.append(first)
        for position, (lineno, raw, truncated, above) in enumerate(self._errors):
            if isinstance(above, int):  # an error line of this block: what is above it, before the tail moves on
                self._errors[position] = (lineno, raw, truncated, self._context(block, above))
        self._tail = self._context(block, block.end)

    def _context(self, block: Block, end: int) -> bytes:
        """The whole lines of the source before block.buffer[end] that reach into the CONTEXT_BYTES before it,
        each cut at the line cap: the same bytes however the source was cut into blocks and reads."""
        buffer, start = block.buffer, block.start
        if end - start >= CONTEXT_BYTES:
            context = buffer[buffer.rfind(b"\n", start, end - CONTEXT_BYTES) + 1 or start : end]
        else:
            joined = self._tail + buffer[start:end]
            context = joined[joined.rfind(b"\n", 0, max(0, len(joined) - CONTEXT_BYTES)) + 1 :]
        if len(context) > MAX_LINE:  # a line past the cap (cut by the splitter when it straddled reads)
            context = b"\n".join(line[:MAX_LINE] for line in context.split(b"\n"))
        return context

    def _see_first_lines(self, block: Block, lines: int) -> None:
        pos = block.start
        for _ in range(lines):
            stop = block.buffer.find(b"\n", pos, block.end)
            if stop < 0:
                return
            self._timeline.see_first_line(block.buffer[pos : min(stop, pos + 200)].decode("utf-8", "replace"))
            pos = stop + 1

    def _line(self, lineno: int, raw: bytes, matched: list[int], truncated: bool, block: Block, start: int) -> None:
        entries, not_an_error = self._table.entries, self._table.not_an_error
        text = None
        for index in matched:
            if index == not_an_error:
                continue
            entry = entries[index]
            if entry.marker == "error":
                if not_an_error not in matched:
                    self._errors.append((lineno, raw, truncated, start))  # decoded in result(): most are pushed out
                continue
            if text is None:
                text = _line_text(raw, truncated)
            if entry.rule is not None:
                self._rule_hit(index, entry, lineno, text, at=(block, start))
            else:
                if entry.marker == "failed" and self._timeline.awaits_end:
                    self._timeline.see_end(lineno if self._numbered else None, text, self._context(block, start))
                self._timeline.mark(entry.marker, lineno, text, entry.groups(text))

    def _evidence(self, lineno: int, text: str, before: bytes = b"", matched: str = "") -> Evidence:
        above = before.decode("utf-8", "replace")
        return Evidence(self.source, lineno if self._numbered else None, redact_line(text, above).strip(), redact(matched))

    def _rule_hit(self, index: int, entry: Entry, lineno: int, text: str, match: re.Match | None = None, at: tuple[Block, int] | None = None) -> None:
        """`at`: the block and offset of the physical line matched (its context is at hand); None for a logical-text match."""
        rule = entry.rule
        where = "customization.log" if self.source == "validation.log" else self.source  # both are Packer's logs
        if where != "input" and where not in rule.where:
            return
        unless = self._table.unless(entry)
        if unless is not None and unless.search(text):
            return
        hits = self._hits.setdefault(index, PatternHits())
        hits.count += 1
        before = self._context(*at) if at is not None else b""
        if at is not None and rule.context and not hits.evidence:
            hits.evidence += self._lines_above(lineno, rule.context, before)
        if len(hits.evidence) < EVIDENCE_PER_PATTERN + rule.context:
            m = match or entry.regex.search(text)
            # A logical message can be a whole paragraph: its evidence is its start (its `unless` saw all of it)
            shown = text if at is not None else text[:LOGICAL_EVIDENCE_CHARS]
            hits.evidence.append(self._evidence(lineno, shown, before, m.group(0) if m else ""))
        if not hits.groups:
            groups = {k: v for k, v in match.groupdict().items() if v} if match else entry.groups(text)
            hits.groups = {k: redact(v) for k, v in groups.items()}

    def _lines_above(self, lineno: int, count: int, before: bytes) -> list[Evidence]:
        """The last `count` non-blank lines before the line being matched, redacted with what is above them."""
        lines = before.split(b"\n")[:-1] if before.endswith(b"\n") else []
        quoted: list[Evidence] = []
        for back in range(len(lines) - 1, -1, -1):
            if len(quoted) == count:
                break
            number = lineno - len(lines) + back
            text = decode_line(lines[back], QUOTED_CHARS)[0] + (" [line truncated]" if len(lines[back]) > QUOTED_CHARS else "")
            if text.strip() and number >= 1:
                quoted.insert(0, self._evidence(number, text, b"\n".join(lines[:back]) + b"\n" if back else b""))
        return quoted

    def _logical_pass(self, lines: list[tuple[int, str]]) -> None:
        """Rules no physical line matched, tried on the logical text with loosened patterns."""
        if not lines:
            return
        # What physical lines already matched keeps that evidence; the logical pass is for what lines missed:
        # a pattern with no hit, and for a rule already matched by one of its alternatives, only the patterns
        # it needs besides them (all, facts).
        alternatives = ("any", "partial")
        answered = {self._table.entries[index].rule.id for index in self._hits if self._table.entries[index].role in alternatives}
        logical = LogicalText(lines)
        self._drop_unless_in_messages(logical)
        encoded = [form[0].encode("utf-8", "replace") for form in logical.forms]  # an escaped lone surrogate (\\ud800) is text too
        loose_set, indices = self._table.loose_for(encoded)
        for form, data in zip(logical.forms, encoded, strict=True):
            text = form[0]
            for position in loose_set.Match(data) or ():
                index = indices[position]
                entry = self._table.entries[index]
                if index in self._hits or (entry.role in alternatives and entry.rule.id in answered):
                    continue
                for m in re.compile(entry.loose, re.M).finditer(text):
                    first, _ = LogicalText.lines_of(form, m.start(), m.end())
                    message = LogicalText.message_at(form, m.start(), m.end())
                    self._rule_hit(index, entry, first, message, m)
                    if index in self._hits:
                        self._hits[index].loose = True
                    if index in self._hits and len(self._hits[index].evidence) >= EVIDENCE_PER_PATTERN:
                        break

    def _drop_unless_in_messages(self, logical: LogicalText) -> None:
        """A physical line's hit whose whole message says what its rule's `unless` excludes: the exception was
        wrapped onto the next line ("... was not\\n> found"), where the line's own test could not see it."""
        for index, hits in list(self._hits.items()):
            unless = self._table.unless(self._table.entries[index])
            matched = {e.line for e in hits.evidence if e.matched}
            if unless is None or hits.loose or not matched or len(matched) < hits.count:
                continue  # hits the evidence does not list may lie outside any message
            covered: set[int] = set()
            for form in logical.forms:
                for m in unless.finditer(form[0]):
                    first, last = LogicalText.lines_of(form, *LogicalText.message_span(form, m.start(), m.end()))
                    covered.update(range(first, last + 1))
            if matched <= covered:
                del self._hits[index]

    def result(self) -> ScanResult:
        lines: list[tuple[int, str]] = []
        if self._kept:
            lines = [
                (first + offset, decode_line(raw)[0])
                for first, block in self._kept
                for offset, raw in enumerate(block.buffer[block.start : block.end - 1].split(b"\n"))
            ]
            lines = _redacted_lines(lines)
            self._logical_pass(lines)
        errors = tuple(self._evidence(lineno, _line_text(raw, truncated), above) for lineno, raw, truncated, above in self._errors)
        self._timeline.see_log_end(self._next_line - 1 if self._numbered else None, self._tail)
        return ScanResult(self.source, self._hits, self._timeline, errors, self._numbered, tuple(lines), tuple(self._cut))


def _redacted_lines(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """A short source's lines redacted as one text, so what the logical pass and the vocabulary quote is already clean."""
    texts = redact("\n".join(text for _, text in lines)).split("\n")
    if len(texts) != len(lines):  # masks keep line breaks; if one ever did not, each line is still redacted on its own
        return [(lineno, redact(text)) for lineno, text in lines]
    return [(lineno, text) for (lineno, _), text in zip(lines, texts, strict=True)]


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
