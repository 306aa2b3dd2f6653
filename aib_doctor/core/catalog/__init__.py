"""The rule catalog: known AIB error signatures as YAML data, loaded and validated once.

Each record names a stable id (AIB###), a dotted name, a category (model.Category), a severity, a
priority (higher = more specific cause; wrappers are low), where it may match, its patterns and
the prose a tired engineer reads: title, cause, fix, optional detail sentences and docs.
Patterns use the syntax RE2 and Python's re share, because the scanner runs them through RE2.

Parsing and checking the YAML costs more than the rest of a short run, so a caller may hand in a
`CompiledStore` (the CLI's is the user's cache folder): the checked rules are kept there, pickled,
together with every YAML source and the code that reads them, which are compared byte for byte with
the current ones before the rules are used, so a changed file or loader is never answered from a stale
copy. The entry's name is a checksum of those inputs (zlib's CRC-32: hashlib would load OpenSSL, a
few milliseconds of a short run); two inputs with one checksum only cost a rebuild.
"""

from __future__ import annotations

import dataclasses
import functools
import pickle
import re
import string
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from aib_doctor import model
from aib_doctor.core import literals, logical
from aib_doctor.core.lazy_regex import LazyRegex
from aib_doctor.errors import CatalogError
from aib_doctor.model import CATEGORIES, SEVERITIES, SOURCES, Pattern, Rule, TimelineCondition

_ID = LazyRegex(r"^AIB\d{3}$")
_NAME = LazyRegex(r"^[a-z]+(?:[.-][a-z0-9]+)+$")
_FIELDS = {"id", "name", "category", "severity", "priority", "where", "match", "codes", "timeline", "title", "cause", "fix", "details", "docs", "context"}
_MATCH_FIELDS = {"any", "all", "none", "facts", "unless", "partial"}
_CODE_FIELDS = {"bare", "coded", "status"}
# Where an ARM or Image Builder error code stands in every shape seen: "code": "X", Code="X", Code=\"X\",
# <Code>X</Code> (Storage's XML error body), (Code: X), ErrorCode: X, provisioningErrorCode: X, Error Code: X, "X" as the first word of "X: message".
_CODE_CONTEXT = (
    r"(?i:\bcode\\?\"?\s*[=:]\s*\\*\"?|<code>\s*|\(code:?\s*|errorcode\\?\"?\s*[=:]?\s*\\*\"?|"
    r"provisioningerrorcode\\?\"?\s*[=:]\s*\\*\"?|error code:?\s*|\bcode\s+|->\s*|^\s*)"
)
# A status where statuses stand: StatusCode=403, Status: 403, (CODE: 409), HTTP/1.1 403, "unexpected status 409",
# "Response 403", "(403) Forbidden" / "(409 Conflict)".
_STATUS_CONTEXT = r"(?i:status ?(?:code)?\s*[=:]?\s*|\(code:\s*|http/\d(?:\.\d)?\s+|\bresponse\s+|\()"
FACTS = frozenset({"vm_size", "timeout_minutes", "failed_step", "failed_customizer", "running_customizer", "customize_seconds"})
"""What a diagnosis knows besides a rule's own named groups: the template's (template_facts) and the timeline's
(diagnose). A detail sentence may name these and the named groups of its rule's any, all and facts patterns."""
TIMING_FACTS = frozenset(
    {"timeout_in_effect", "build_ran", "running_for", "running_since", "running_share", "silence", "silent_since", "last_line", "longest_done"}
)
"""What a rule with a `timeline:` block may also name (aib_doctor.core.timing measures them)."""


class Catalog:
    """The rules, in file order, with lookup by id or name."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self._by_key = {r.id: r for r in rules} | {r.name: r for r in rules}

    def get(self, key: str) -> Rule | None:
        return self._by_key.get(key) or self._by_key.get(key.upper())

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)


class CompiledStore(Protocol):
    """Where checked catalogs are kept between runs, by key (a hash of what they were built from)."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...


Source = tuple[str, bytes]
"""A YAML file of rules: (its name, its bytes)."""


DATA = Path(__file__).parent
"""The catalog's packaged data (rules/, vocabulary/), beside this module: every install unpacks the package
(importlib.resources would also read a zipped one, for a tenth of a short run's start-up)."""


def packaged_sources() -> list[Source]:
    return [(path.name, path.read_bytes()) for path in sorted((DATA / "rules").glob("*.yaml"))]


@functools.lru_cache(maxsize=4)
def load_catalog(store: CompiledStore | None = None) -> Catalog:
    """The packaged catalog; parsed and checked on first use (or read from the store), then shared."""
    return compiled_catalog(packaged_sources(), store)


def compiled_catalog(sources: Sequence[Source], store: CompiledStore | None = None) -> Catalog:
    """The catalog of these YAML sources, from the store when it holds one built from exactly them."""
    if store is None:
        return parse_catalog(sources)
    built_from = _built_from(sources)
    key = f"catalog-{zlib.crc32(built_from):08x}-{len(built_from):x}"
    data = store.get(key)
    if data is not None:
        try:
            stored_from, rules = pickle.loads(data)
            if stored_from == built_from:
                return Catalog(rules)
        except Exception:  # a damaged or foreign file: rebuild and replace it
            pass
    catalog = parse_catalog(sources)
    store.put(key, pickle.dumps((built_from, catalog.rules), protocol=pickle.HIGHEST_PROTOCOL))
    return catalog


def _built_from(sources: Sequence[Source]) -> bytes:
    """Everything a compiled catalog is made from, in one piece: the Python version, the loader, the types it builds,
    the code deriving literals and loosened forms, and every source."""
    code = [Path(module.__file__).read_bytes() for module in (sys.modules[__name__], model, literals, logical)]
    parts = [f"python {sys.version_info[0]}.{sys.version_info[1]}".encode()]
    for name, data in [*zip(("loader", "model", "literals", "logical"), code, strict=True), *sources]:
        parts += [f"\0{name}\0{len(data)}\0".encode(), data]
    return b"".join(parts)


def parse_catalog(sources: Sequence[Source]) -> Catalog:
    import yaml  # only when no compiled form fits: a fifth of a short run's start-up

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when PyYAML was built with it
    records: list[tuple[str, Any]] = []
    for name, data in sources:
        for record in yaml.load(data.decode("utf-8"), Loader=loader) or []:
            records.append((name, record))
    return build_catalog(records)


def build_catalog(records: list[tuple[str, Any]]) -> Catalog:
    rules = tuple(_rule(origin, record) for origin, record in records)
    seen: set[str] = set()
    for rule in rules:
        for key in (rule.id, rule.name):
            if key in seen:
                raise CatalogError(f"duplicate rule id or name {key!r}")
            seen.add(key)
    return Catalog(rules)


def _rule(origin: str, record: Any, ids: LazyRegex = _ID) -> Rule:
    """One record, checked; `ids` is the id namespace (rule packs have their own, see packs.py)."""
    where = f"{origin}: {record.get('id', '?') if isinstance(record, dict) else '?'}"
    if not isinstance(record, dict):
        raise CatalogError(f"{where}: a rule must be a mapping")
    unknown = set(record) - _FIELDS
    if unknown:
        raise CatalogError(f"{where}: unknown fields {sorted(unknown)}")
    if "codes" in record:
        record = {**record, "match": _code_match(where, record["codes"], record.get("match"))}
    timeline = _timeline_condition(where, record["timeline"]) if "timeline" in record else None
    if timeline is not None and "match" not in record:
        record = {**record, "match": {}}  # a rule of timing alone: the conditions are its whole match
    for key in ("id", "name", "category", "severity", "priority", "match", "title", "cause", "fix"):
        if record.get(key) in (None, "") and not (key == "match" and timeline is not None):
            raise CatalogError(f"{where}: missing {key}")
    if not ids.match(str(record["id"])) or not _NAME.match(str(record["name"])):
        raise CatalogError(f"{where}: id must look like AIB001 and name like area.slug")
    if record["category"] not in CATEGORIES or record["severity"] not in SEVERITIES:
        raise CatalogError(f"{where}: unknown category or severity")
    sources = tuple(record.get("where") or SOURCES)
    if not set(sources) <= set(SOURCES):
        raise CatalogError(f"{where}: unknown source in {sources}")
    match = record["match"]
    if not isinstance(match, dict) or set(match) - _MATCH_FIELDS or not (match.get("any") or match.get("all") or timeline is not None):
        raise CatalogError(f"{where}: match needs any or all, and only {sorted(_MATCH_FIELDS)}")
    basis = "error-code" if "codes" in record else "timeline" if timeline else "signature"
    patterns = tuple(
        _pattern(_checked_regex(where, regex), role, basis) for role in ("any", "all", "none", "facts", "partial") for regex in match.get(role) or ()
    )
    unless = match.get("unless")
    details = tuple(record.get("details") or ())
    known = (FACTS | (TIMING_FACTS if timeline else frozenset())).union(*(re.compile(p.regex).groupindex for p in patterns if p.role != "none"))
    for sentence in details:
        try:
            unknown = sorted(set(_placeholders(sentence)) - known)
        except ValueError as exc:  # an unbalanced brace
            raise CatalogError(f"{where}: bad detail sentence {sentence!r}: {exc}") from None
        if unknown:
            raise CatalogError(
                f"{where}: the detail sentence {sentence!r} names {unknown}, which is neither a fact ({', '.join(sorted(FACTS))}) nor a named group of this rule's patterns"
            )
    return Rule(
        id=record["id"],
        name=record["name"],
        category=record["category"],
        severity=record["severity"],
        priority=int(record["priority"]),
        title=record["title"].strip(),
        cause=" ".join(record["cause"].split()),
        fix=" ".join(record["fix"].split()),
        patterns=patterns,
        where=sources,
        unless=_checked_regex(where, unless) if unless else None,
        details=details,
        docs=tuple(record.get("docs") or ()),
        basis=basis,
        timeline=timeline,
        context=int(record.get("context") or 0),
    )


def _pattern(regex: str, role: str, basis: str) -> Pattern:
    """A checked pattern with what the scan derives from it, kept with the compiled catalog: its literals
    and its loosened form (error codes keep their camelCase: "InternalError" is a code, not prose)."""
    loose = logical.loosen(regex, split_camel_case=basis != "error-code")
    return Pattern(regex, role, literals.required_literals(regex), loose, literals.required_literals(loose))


def _timeline_condition(where: str, block: Any) -> TimelineCondition:
    fields = {f.name: f.type for f in dataclasses.fields(TimelineCondition)}
    if not isinstance(block, dict) or not block or set(block) - set(fields):
        raise CatalogError(f"{where}: timeline needs some of {sorted(fields)}")
    for key in ("running", "not_running"):
        if key in block:
            _checked_regex(where, block[key])
    for key in ("near_timeout", "silence_minutes"):
        if key in block and (not isinstance(block[key], (int, float)) or block[key] <= 0):
            raise CatalogError(f"{where}: timeline.{key} must be a positive number")
    return TimelineCondition(**block)


def _code_match(where: str, codes: Any, match: Any) -> dict:
    """An error-code rule's patterns: each code where codes stand, a distinctive one anywhere, HTTP statuses."""
    if not isinstance(codes, dict) or not codes or set(codes) - _CODE_FIELDS:
        raise CatalogError(f"{where}: codes needs some of {sorted(_CODE_FIELDS)}")
    for key, names in codes.items():
        if not isinstance(names, list) or not all(isinstance(n, (str, int)) and re.fullmatch(r"\w+", str(n)) for n in names):
            raise CatalogError(f"{where}: codes.{key} must be a list of code names")
    # One alternation per kind, not a pattern per code: the scan's automaton stays small and fast.
    bare, coded, status = ("|".join(str(c) for c in codes.get(key, ())) for key in ("bare", "coded", "status"))
    patterns = [rf"\b(?:{bare})\b"] if bare else []
    patterns += [rf"{_CODE_CONTEXT}(?:{coded})\b", rf"\((?:{coded})\)"] if coded else []  # az CLI: "(Conflict) message"
    patterns += [rf"{_STATUS_CONTEXT}(?:{status})\b"] if status else []
    extra = match if isinstance(match, dict) else {}
    return {**extra, "any": patterns + list(extra.get("any") or ())}


def _checked_regex(where: str, regex: Any) -> str:
    if not isinstance(regex, str) or not regex:
        raise CatalogError(f"{where}: a pattern must be a non-empty string")
    try:
        re.compile(regex)
    except re.error as exc:
        raise CatalogError(f"{where}: bad pattern {regex!r}: {exc}") from None
    return regex


def _placeholders(sentence: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(sentence) if field]


def fill_details(rule: Rule, facts: dict[str, str]) -> str:
    """The rule's cause, followed by each detail sentence whose placeholders are all known."""
    parts = [rule.cause]
    for sentence in rule.details:
        if all(facts.get(name) not in (None, "") for name in _placeholders(sentence)):
            parts.append(sentence.format_map(facts))
    return " ".join(parts)
