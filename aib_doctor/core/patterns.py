"""The scan's patterns compiled once, and the search of one block for the lines that matter. No I/O.

Every catalog pattern, every timeline marker and a generic "error-looking" pattern go into one RE2
alternation (the prefilter: no capture groups, never across a newline), so one linear-time automaton
finds the candidate lines of a whole block; an RE2 set then says which patterns a candidate line
matches, and whether it only looks like an error ("Retryable error", "0 bytes written").

A log where error words are everywhere (Windows Update, apt, installers) would make every fourth line
a candidate. Of those lines only the last few are ever kept (`ERROR_LINES_KEPT`), so once a block
shows many, the rest of it is searched for rule and marker lines alone, and for error-looking lines
from its end backwards until enough are found. Python's re compiles a pattern only for a line that
needs its named groups.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import re2

from aib_doctor.core.catalog import Catalog
from aib_doctor.core.lazy_regex import LazyRegex
from aib_doctor.core.literals import Literals, may_match, required_literals
from aib_doctor.core.logstream import MAX_LINE, Block
from aib_doctor.core.timeline import MARKERS
from aib_doctor.model import Rule

ERROR_LOOKING = r"(?i)\b(?:error|errored|failed|failure|fatal|exception|denied|timed out)\b"
NOT_AN_ERROR = r"(?i)Retryable error|0 bytes written|\b(?:errors?|failed|failures?)\s*[:=]\s*0\b|without errors?|success or error status:\s?0\b"
"""An error-looking line that reports success: retried errors, counts of none (Pester's "Failed: 0",
Ansible's "failed=0", Salt's column-aligned "Failed:     0"), Windows Installer's "Installation success or error status: 0"."""
ERROR_LINES_KEPT = 8
DENSE_ERRORS = 256
"""Error-looking lines in a block after which its rest is searched the dense way: a line found costs
several microseconds, and a further pass over a 4 MiB block costs what a few thousand lines would."""
SMALL_BLOCK = 64 << 10
"""Blocks below this size (a paste, a status message, the line that straddles two reads) are matched line by line."""
_FIRST_WINDOW = 4096  # bytes at a block's end searched first for its last error-looking lines
_GROUP_SYNTAX = LazyRegex(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|\(\?P<\w+>|\((?!\?)")


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
    literals: Literals | None = None
    """What a line it matches contains (core.literals): a short text is matched only with the entries it may match."""
    loose: str = ""
    """A rule pattern's form for logical text; empty for markers."""
    loose_literals: Literals | None = None

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
    """All patterns of a catalog compiled once: prefilters and sets; Python forms on first use."""

    def __init__(self, catalog: Catalog) -> None:
        entries = [Entry(p.regex, rule, p.role, "", p.literals, p.loose, p.loose_literals) for rule in catalog for p in rule.patterns]
        entries += [Entry(regex, marker=kind, literals=required_literals(regex)) for kind, regex in MARKERS.items()]
        entries.append(Entry(ERROR_LOOKING, marker="error", literals=required_literals(ERROR_LOOKING)))
        self.entries = tuple(entries)
        self._patterns = [e.pattern for e in entries] + [NOT_AN_ERROR]
        self._literals = [e.literals for e in entries] + [required_literals(NOT_AN_ERROR)]
        self.error = len(entries) - 1
        self.not_an_error = len(entries)
        """Set positions past the entries: the error-looking entry is the last, not-an-error follows it."""
        self.rule_entries: dict[str, list[tuple[int, str]]] = {rule.id: [] for rule in catalog}
        for index, entry in enumerate(entries):
            if entry.rule is not None:
                self.rule_entries[entry.rule.id].append((index, entry.role))
        self._unless = {rule.id: rule.unless for rule in catalog if rule.unless}
        options = re2.Options()
        # The DFA for ~300 patterns needs more than RE2's 8 MB default (at 16 MB it runs out and RE2 falls back
        # to its NFA, 20x slower); it takes only what the text needs. Running out is not for stderr.
        options.max_mem = 64 << 20
        options.log_errors = False
        self.options = options
        self._subsets: dict[tuple[int, ...], Subset] = {}

    # Every set and prefilter is compiled when a block first needs it: a paste is matched line by line with
    # a set of the few entries whose literals it contains.
    @functools.cached_property
    def set(self) -> re2.Set:
        """Every entry's pattern, then not-an-error: positions are entry indices."""
        return _set(self._patterns, self.options)

    def set_for(self, text: bytes) -> Subset:
        """A set that answers for this text as `set` does, (set, entry index of each position): for a short
        ASCII text, only the entries whose literals it contains (a set that small compiles in a millisecond)."""
        if not text.isascii():
            return self.set, range(len(self._patterns))
        lowered = text.lower()
        return self._subset(tuple(i for i, literals in enumerate(self._literals) if may_match(literals, lowered)), self._patterns)

    def loose_for(self, texts: Sequence[bytes]) -> Subset:
        """The rules' loosened patterns as a set for these texts (logical text), with the entry index of each position:
        only those whose literals the texts contain when they are ASCII."""
        rules = [index for index, entry in enumerate(self.entries) if entry.rule is not None]
        if all(text.isascii() for text in texts):
            lowered = [text.lower() for text in texts]
            rules = [i for i in rules if any(may_match(self.entries[i].loose_literals, text) for text in lowered)]
        return self._subset(tuple(rules), [("(?m)" + entry.loose) for entry in self.entries], loose=True)

    def _subset(self, indices: tuple[int, ...], patterns: list[str], loose: bool = False) -> Subset:
        key = (loose, *indices)
        subset = self._subsets.get(key)
        if subset is None:
            if len(self._subsets) >= _SUBSETS_KEPT:  # a long watch session sees many small blocks
                self._subsets.clear()
            subset = self._subsets[key] = (_set([patterns[i] for i in indices], self.options), indices)
        return subset

    @functools.cached_property
    def search(self):
        """Every entry's pattern."""
        return self._prefilter(self.entries)

    @functools.cached_property
    def search_rules(self):
        """The rules' and markers' patterns: the dense way's first search."""
        return self._prefilter(self.entries[: self.error])

    @functools.cached_property
    def search_errors(self):
        """The error-looking pattern: the dense way's search from the end."""
        return self._prefilter(self.entries[self.error :])

    @functools.cached_property
    def error_set(self) -> re2.Set:
        return _set([ERROR_LOOKING, NOT_AN_ERROR], self.options)

    def _prefilter(self, entries: Sequence[Entry]):
        # Multi-line, so a pattern anchored with ^ still finds its line inside a block; never across a
        # newline, so a match always lies on the line that the set is asked about.
        options = re2.Options()
        options.max_mem = self.options.max_mem
        options.log_errors = False
        options.never_nl = True
        alternation = "(?m)" + "|".join(f"(?:{without_captures(e.pattern)})" for e in entries)
        return _engine_search(re2.compile(alternation.encode(), options))

    def unless(self, entry: Entry) -> re.Pattern | None:
        """The `unless` of the entry's rule in Python's form (re caches the compiled form); None for a `none`
        entry, since `unless` qualifies a rule's evidence and a veto is not qualified."""
        pattern = self._unless.get(entry.rule.id) if entry.role != "none" else None
        return None if pattern is None else re.compile(pattern)


Subset = tuple[re2.Set, Sequence[int]]
"""An RE2 set and the entry index of each of its positions."""
_SUBSETS_KEPT = 64


def _set(patterns: list[str], options: re2.Options) -> re2.Set:
    answers = re2.Set.SearchSet(options)
    for position, pattern in enumerate(patterns):
        if answers.Add(pattern.encode()) != position:  # Match() answers positions; they must follow the list
            raise RuntimeError(f"RE2 set position for pattern {position}")
    answers.Compile()
    return answers


@functools.lru_cache(maxsize=4)
def pattern_table(catalog: Catalog) -> PatternTable:
    return PatternTable(catalog)


Line = tuple[int, int, bytes, list[int]]
"""A matched line: (lines before it in the block, where it starts in the buffer, its bytes, the set's entry indices, sorted)."""


@dataclass(frozen=True)
class Found:
    """What one block holds for the scan: its matched lines in order, and its number of lines."""

    lines: list[Line]
    count: int


def find_lines(table: PatternTable, block: Block) -> Found:
    """The lines of a block that some pattern matches. Pure (no state but the block): runs on any thread;
    the engine calls release the interpreter lock."""
    if len(block) < SMALL_BLOCK:
        return _each_line(table, block)
    found: list[Line] = []
    pos, line = _candidates(table, table.search, block.buffer, block.start, block.end, 0, found, DENSE_ERRORS)
    if pos == block.end:
        return Found(found, line)
    rest: list[Line] = []
    count = _candidates(table, table.search_rules, block.buffer, pos, block.end, line, rest, None)[1]
    rest += _last_errors(table, block.buffer, pos, block.end, line)
    rest.sort(key=lambda item: item[0])  # stable: a rule's line before the same line as an error
    return Found(found + rest, count)


def _each_line(table: PatternTable, block: Block) -> Found:
    """A small block asked line by line: what the prefilter would hand the set, without compiling it."""
    text = block.buffer[block.start : block.end - 1]
    answers, indices = table.set_for(text)
    set_match = answers.Match
    found: list[Line] = []
    start = block.start
    lines = text.split(b"\n")
    for offset, raw in enumerate(lines):
        matched = set_match(raw[:MAX_LINE])
        if matched:
            found.append((offset, start, raw, sorted(indices[position] for position in matched)))
        start += len(raw) + 1
    return Found(found, len(lines))


def _candidates(table: PatternTable, search, buffer: bytes, pos: int, end: int, line: int, found: list[Line], dense: int | None) -> tuple[int, int]:
    """Append the matched lines of buffer[pos:end] (the first numbered `line`) to found.

    Stops after `dense` lines that only look like errors, at the start of the next line; returns where it
    stopped (end when it did not) and that line's number. Without `dense` (the dense way's rule search),
    the error-looking entry is left out: those lines are found from the end."""
    set_match, error, kept = table.set.Match, table.error, table.error if dense is None else table.not_an_error + 1
    counted = pos
    errors_only = 0
    while True:
        start = search(buffer, pos, end)[0][0]
        if start < 0:
            return end, line + buffer.count(b"\n", counted, end)
        start = (buffer.rfind(b"\n", pos, start) + 1) or pos
        stop = buffer.find(b"\n", start, end)  # a block always ends with a newline
        line += buffer.count(b"\n", counted, start)
        counted = start
        raw = buffer[start:stop]
        matched = [i for i in sorted(set_match(raw[:MAX_LINE]) or ()) if i < kept]  # none when the match lies past the cap
        if matched:
            found.append((line, start, raw, matched))
            if dense is not None and matched[0] >= error:
                errors_only += 1
                if errors_only >= dense:
                    return stop + 1, line + 1
        pos = stop + 1


def _last_errors(table: PatternTable, buffer: bytes, pos: int, end: int, line: int) -> list[Line]:
    """The last ERROR_LINES_KEPT error-looking lines of buffer[pos:end] (the first numbered `line`) that are
    not not-an-error lines, searched in windows from the end, each four times the last."""
    search, error_match = table.search_errors, table.error_set.Match
    kept: list[tuple[int, bytes]] = []  # (where the line starts, its bytes), in order
    window_end, size = end, _FIRST_WINDOW
    while window_end > pos and len(kept) < ERROR_LINES_KEPT:
        start = max(pos, window_end - size)
        if start > pos:
            start = (buffer.rfind(b"\n", pos, start) + 1) or pos  # from a line's start
        window: list[tuple[int, bytes]] = []
        at = start
        while True:
            hit = search(buffer, at, window_end)[0][0]
            if hit < 0:
                break
            first = (buffer.rfind(b"\n", at, hit) + 1) or at
            stop = buffer.find(b"\n", hit, window_end)
            raw = buffer[first:stop]
            if error_match(raw[:MAX_LINE]) == [0]:  # error-looking within the cap, and not a not-an-error line
                window.append((first, raw))
            at = stop + 1
        kept = window + kept
        window_end, size = start, size * 4
    lines: list[Line] = []
    counted = pos
    for first, raw in kept[-ERROR_LINES_KEPT:]:
        line += buffer.count(b"\n", counted, first)
        counted = first
        lines.append((line, first, raw, [table.error]))
    return lines
