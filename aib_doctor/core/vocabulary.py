"""The last resort before "unknown": name the likely category of an error text from its vocabulary.

When no signature, partial signature or error code fits but the text has error content, the words
in it still tell a reader what kind of failure it is: "WinRM", "i/o timeout" and "5986" are the
network; "sysprep", "setupact" and "IMAGE_STATE" are deprovisioning. Each category's weighted terms
are data (catalog/vocabulary/weights.yaml, derived from the corpus by scripts/derive_vocabulary.py
from the hand-written seed terms in categories.yaml); the finding is low confidence, shows the lines
that decided it, and its fix says which evidence to collect next. No I/O beyond the packaged data.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import re2

from aib_doctor.core.lazy_regex import LazyRegex
from aib_doctor.core.patterns import NOT_AN_ERROR as NOT_AN_ERROR_LINE
from aib_doctor.core.redact import redact
from aib_doctor.errors import CatalogError
from aib_doctor.model import CATEGORIES, Evidence, Rule

MIN_SCORE = 1.5
"""Least total weight for a guess: one strong term (weight >= 1.5) or two weaker ones."""
EVIDENCE_LINES = 3
ERROR_CONTENT = LazyRegex(
    r"(?i)\b(?:error|errors|errored|fail|failed|failure|fatal|exception|denied|forbidden|refused|timed? ?out|"
    r"cannot|can't|could not|couldn't|unable to|not found|invalid|not allowed|not authorized|exit (?:code|status):? ?[1-9]|"
    r"exceeded|expired|rejected|unavailable|not available|not supported|no more|not able to|not registered|no registered|"
    r"not empty|already exists|does not (?:exist|support|match)|is not (?:allowed|valid|supported)|disallowed|not permitted|"
    r"insufficient|mismatch|unsupported|must (?:be|contain|have|match|not|specify)|is required|aborted|terminated|panic)\b"
)


# Lines that name errors without reporting one: counts of none, errors that will be retried, waits with a
# timeout, Packer echoing the command it is about to run (the script's own text, not its output), settings.
NOT_AN_ERROR = LazyRegex(
    # the scan's own list (retried errors, counts of zero), then what only a whole short text shows
    NOT_AN_ERROR_LINE + "|"
    r"\b(?:0|no) (?:\w+ )?(?:failed|failures?|errors?)\b|"
    r"will retry|\bretrying\b|(?:up to|with) timeout|found command:|starting remote command:|"
    # settings that name errors: Packer's on-error, PowerShell's error preferences, the template's errorHandling
    r"\bon[- ]?error:|erroraction|errorhandling|on(?:customizer|validation)error"
)
# A text that ends in success after its errors reports errors that were retried or harmless.
SUCCESS = LazyRegex(
    r"(?i)(?:apply complete!|\b(?:builds? (?:'[^']*' )?finished(?! but no artifacts)|finished successfully|completed successfully|"
    r"installed successfully|(?:was|were) successful|runState\W+Succeeded|provisioningState\W+Succeeded|"
    r"The operation completed successfully|Build succeeded|Job succeeded|Finishing: SUCCESS|WinRM connected)\b|Connected to (?:WinRM|SSH)!)"
)


@dataclass(frozen=True)
class Fired:
    """A rule that fired, with how: what diagnose ranks and turns into a finding."""

    rule: Rule
    evidence: tuple[Evidence, ...]
    groups: dict[str, str]
    basis: str
    loose: bool = False


@dataclass(frozen=True)
class Vocabulary:
    """The categories' weighted terms and the rule each category's guess reports."""

    rules: dict[str, Rule]
    """category -> the rule a guess in that category reports (title, cause, fix: what to collect next)."""
    weights: dict[str, dict[str, float]]
    """normalized term -> category -> weight."""
    pattern: object | None
    """All terms in one RE2 alternation (a thousand terms in Python's re cost milliseconds a line)."""

    def terms_in(self, text: str) -> Iterator[tuple[int, str]]:
        """(offset, normalized term) of every term occurrence."""
        if self.pattern is not None:
            for m in self.pattern.finditer(text):
                yield m.start(), normalize(m.group(0))

    def score(self, text: str) -> dict[str, dict[str, float]]:
        """category -> {term: weight} of the distinct terms found in text."""
        found: dict[str, dict[str, float]] = {}
        for _, term in self.terms_in(text):
            for category, weight in self.weights.get(term, {}).items():
                found.setdefault(category, {})[term] = weight
        return found


def normalize(term: str) -> str:
    return " ".join(term.lower().replace("-", " ").replace("_", " ").split())


def term_regex(term: str) -> str:
    """A normalized term as a pattern: words separated by any whitespace, hyphen or underscore (or none),
    on word boundaries where the term starts or ends with a word character."""
    words = [re.escape(w) for w in term.split(" ")]
    start = r"\b" if re.match(r"\w", term) else ""
    end = r"\b" if re.search(r"\w$", term) else ""
    return start + r"[\s_-]*".join(words) + end


@functools.lru_cache(maxsize=1)
def load_vocabulary() -> Vocabulary:
    import yaml  # only a text no rule explains needs the vocabulary: the others start without PyYAML

    from aib_doctor.core.catalog import DATA

    folder = DATA / "vocabulary"
    categories = yaml.safe_load((folder / "categories.yaml").read_text(encoding="utf-8")) or []
    generated = yaml.safe_load((folder / "weights.yaml").read_text(encoding="utf-8")) or {}
    return build_vocabulary(categories, generated)


def build_vocabulary(categories: list[dict], generated: dict[str, dict[str, float]]) -> Vocabulary:
    rules: dict[str, Rule] = {}
    for record in categories:
        category = record.get("category")
        if category not in CATEGORIES:
            raise CatalogError(f"vocabulary: unknown category {category!r}")
        rules[category] = Rule(
            id=record["id"],
            name=f"vocabulary.{category.replace('_', '-')}",
            category=category,
            severity="error",
            priority=0,
            title=record["title"].strip(),
            cause=" ".join(record["cause"].split()),
            fix=" ".join(record["fix"].split()),
            patterns=(),
            where=(),
            docs=tuple(record.get("docs") or ()),
            basis="vocabulary",
        )
    weights: dict[str, dict[str, float]] = {}
    for category, terms in generated.items():
        if category not in rules:
            raise CatalogError(f"vocabulary weights: category {category!r} has no entry in categories.yaml")
        for term, weight in (terms or {}).items():
            weights.setdefault(normalize(term), {})[category] = float(weight)
    ordered = sorted(weights, key=len, reverse=True)  # longest first, so a phrase wins over its first word
    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = 64 << 20
    pattern = re2.compile("|".join(term_regex(t) for t in ordered), options) if ordered else None
    return Vocabulary(rules, weights, pattern)


def guess_category(vocabulary: Vocabulary, sources: Sequence[tuple[str, Iterable[tuple[int | None, str]]]]) -> Fired | None:
    """The category whose terms weigh most in texts that have error content, as a low-confidence finding."""
    lines = text_lines(sources)
    last_error = _last(lines, _is_error)
    if last_error < 0 or _last(lines, SUCCESS.search) > last_error:
        return None  # no error content, or success reported after the last error
    found = vocabulary.score("\n".join(text for _, _, text in lines))
    totals = {category: sum(terms.values()) for category, terms in found.items() if category in vocabulary.rules}
    if not totals:
        return None
    category = max(totals, key=lambda c: (totals[c], c))
    if totals[category] < MIN_SCORE:
        return None
    terms = found[category]
    decisive = sorted(terms, key=lambda t: -terms[t])[:5]
    rule = vocabulary.rules[category]
    evidence = _evidence_lines(lines, vocabulary, category)
    note = f" Terms that point here: {', '.join(decisive)}."
    return Fired(
        rule=replace(rule, cause=rule.cause + note),
        evidence=evidence,
        groups={},
        basis="vocabulary",
    )


def ends_in_success(lines: Sequence[tuple[str, int | None, str]], failures: Collection[tuple[str, int]] = ()) -> bool:
    """The text reports success after its last error (error words, or a line in `failures`, where a rule
    found a cause): the errors were retried, or harmless."""
    last_error = max(_last(lines, _is_error), max((i for i, (s, n, _) in enumerate(lines) if (s, n) in failures), default=-1))
    return _last(lines, SUCCESS.search) > last_error


def _is_error(text: str) -> bool:
    return bool(ERROR_CONTENT.search(text)) and not NOT_AN_ERROR.search(text)


def _last(lines: Sequence[tuple[str, int | None, str]], test) -> int:
    """Index of the last line whose text passes test, -1 when none does (read from the end)."""
    return next((i for i in range(len(lines) - 1, -1, -1) if test(lines[i][2])), -1)


def text_lines(sources: Sequence[tuple[str, Iterable[tuple[int | None, str]]]]) -> list[tuple[str, int | None, str]]:
    return [(source, lineno, text) for source, texts in sources for lineno, text in texts if text.strip()]


def _evidence_lines(lines, vocabulary: Vocabulary, category: str) -> tuple[Evidence, ...]:
    """The lines carrying the most of the category's weight, error-looking lines first, in text order."""
    starts, offset = [], 0
    for _, _, text in lines:
        starts.append(offset)
        offset += len(text) + 1
    weights: dict[int, dict[str, float]] = {}
    for position, term in vocabulary.terms_in("\n".join(text for _, _, text in lines)):
        weight = vocabulary.weights.get(term, {}).get(category)
        if weight:
            weights.setdefault(bisect.bisect_right(starts, position) - 1, {})[term] = weight
    scored = []
    for index, terms in weights.items():
        source, lineno, text = lines[index]
        scored.append((-(sum(terms.values()) + (1 if ERROR_CONTENT.search(text) else 0)), lineno or 0, source, lineno, text))
    best = sorted(scored)[:EVIDENCE_LINES]
    return tuple(Evidence(source, lineno, redact(text.strip()[:400])) for _, _, source, lineno, text in sorted(best, key=lambda b: b[1]))
