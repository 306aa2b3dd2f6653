"""Rule packs: an organisation's own rules, in the built-in catalog's schema, loaded beside it (`--rules DIR`).

A pack is a folder of `*.yaml` rule files and, for `rules --check`, `cases/<ID>.yaml` files holding
`fires` and `quiet` cases, as the built-in rules have in tests/cases. Pack rules live in their own
namespace, so they can never shadow or be shadowed by a built-in rule: an id is a prefix of 2-10
capital letters other than AIB, TPL and PRE followed by three digits (ACME001), and the name starts
with that prefix in lower case (acme.proxy-timeout). Every mistake names its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aib_doctor.core.catalog import Catalog, CatalogError, _rule
from aib_doctor.core.lazy_regex import LazyRegex
from aib_doctor.errors import RulePackError
from aib_doctor.model import SOURCES, Rule

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when PyYAML was built with it
PACK_ID = LazyRegex(r"^(?P<prefix>[A-Z]{2,10})\d{3}$")
RESERVED = frozenset({"AIB", "TPL", "PRE"})
"""The built-in namespaces: catalog rules, template checks and preflight checks."""


@dataclass(frozen=True)
class Case:
    rule: str
    expectation: str  # "fires" or "quiet"
    source: str
    text: str
    origin: str  # file:line


def with_packs(catalog: Catalog, folders: Iterable[Path]) -> Catalog:
    """The catalog and every pack's rules; a pack rule whose id or name is taken is a mistake."""
    pack_rules = [rule for folder in folders for rule in load_pack(folder)]
    if not pack_rules:
        return catalog
    taken = {key: "the built-in catalog" for rule in catalog for key in (rule.id, rule.name)}
    for rule in pack_rules:
        for key in (rule.id, rule.name):
            if key in taken:
                raise RulePackError(f"{rule.id}: {key!r} is already defined in {taken[key]}")
            taken[key] = "another pack rule"
    return Catalog((*catalog.rules, *pack_rules))


def load_pack(folder: Path) -> list[Rule]:
    """The rules in the folder's *.yaml files, in file order, each checked as the built-in ones are."""
    if not folder.is_dir():
        raise RulePackError(f"{folder}: not a folder of rule files")
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise RulePackError(f"{folder}: no *.yaml rule files")
    rules = []
    for path in files:
        for line, record, field_lines in _items(path):
            rules.append(_pack_rule(path, line, record, field_lines))
    return rules


_ORIGIN = "\0"
"""Stands for file:line in the catalog's message until the line of the field it names is known."""
_FIELD_ALIASES = {"detail": "details", "pattern": "match"}


def _pack_rule(path: Path, line: int, record: Any, field_lines: dict[str, int]) -> Rule:
    origin = f"{path}:{line}"
    if isinstance(record, dict):
        rule_id, name = str(record.get("id", "")), str(record.get("name", ""))
        matched = PACK_ID.match(rule_id)
        if not matched or matched["prefix"] in RESERVED:
            raise RulePackError(f"{origin}: id {rule_id!r} must be your own prefix (2-10 capital letters, not AIB, TPL or PRE) and three digits, like ACME001")
        if not name.startswith(matched["prefix"].lower() + "."):
            raise RulePackError(f"{origin}: {rule_id}: name {name!r} must start with {matched['prefix'].lower()}. (the id's prefix)")
    try:
        return _rule(_ORIGIN, record, PACK_ID)
    except CatalogError as exc:
        message = str(exc)
        named = sorted((found.start(), _FIELD_ALIASES.get(found[0], found[0])) for found in re.finditer(r"[A-Za-z_]+", message))
        line = next((field_lines[field] for _, field in named if field in field_lines), line)
        raise RulePackError(message.replace(_ORIGIN, f"{path}:{line}", 1)) from None
    except (TypeError, ValueError, AttributeError) as exc:  # a field of the wrong type, e.g. priority: high
        raise RulePackError(f"{origin}: a field has the wrong type ({exc})") from None


@dataclass(frozen=True)
class PackCheck:
    """What `rules --check DIR` found: each case and whether it held, and the rules without both kinds of case."""

    rules: tuple[Rule, ...]
    results: tuple[tuple[Case, bool], ...]
    uncovered: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.uncovered and all(held for _, held in self.results)


def check_pack(catalog: Catalog, folder: Path) -> PackCheck:
    """Load the pack beside `catalog` and run its cases through the whole diagnosis, built-in rules included:
    a fires case must produce the rule's finding, a quiet case must not."""
    from aib_doctor.core.diagnose import diagnose
    from aib_doctor.core.scan import pattern_table, scan_chunks, scan_text

    extended = with_packs(catalog, [folder])
    pack_rules = tuple(extended.rules[len(catalog.rules) :])
    table = pattern_table(extended)
    cases = load_cases(folder)
    ids = {rule.id for rule in pack_rules}
    results = []
    for case in cases:
        if case.rule not in ids:
            raise RulePackError(f"{case.origin}: cases for {case.rule}, which is not a rule of this pack")
        if case.source == "customization.log":
            scan = scan_chunks(table, case.source, [case.text.encode("utf-8")])
        else:
            scan = scan_text(table, case.source, case.text)
        fired = {finding.rule for finding in diagnose([scan], extended, table).findings}
        results.append((case, (case.rule in fired) == (case.expectation == "fires")))
    kinds = {(case.rule, case.expectation) for case in cases}
    uncovered = tuple(rule.id for rule in pack_rules if not {(rule.id, "fires"), (rule.id, "quiet")} <= kinds)
    return PackCheck(pack_rules, tuple(results), uncovered)


def load_cases(folder: Path) -> list[Case]:
    """The pack's cases/<ID>.yaml files: {fires: [{source, text}], quiet: [...]}; source defaults to customization.log."""
    cases = []
    for path in sorted((folder / "cases").glob("*.y*ml")):
        document, lines = _document(path)
        if not isinstance(document, dict) or set(document) - {"fires", "quiet"}:
            raise RulePackError(f"{path}:{lines.get('start', 1)}: a case file holds 'fires' and 'quiet' lists")
        for expectation in ("fires", "quiet"):
            for index, case in enumerate(document.get(expectation) or []):
                origin = f"{path}:{lines.get((expectation, index), 1)}"
                if not isinstance(case, dict) or not isinstance(case.get("text"), str):
                    raise RulePackError(f"{origin}: a case is a mapping with a 'text' (and optionally a 'source')")
                source = case.get("source", "customization.log")
                if source not in SOURCES:
                    raise RulePackError(f"{origin}: unknown source {source!r} (one of {', '.join(SOURCES)})")
                cases.append(Case(path.stem, expectation, source, case["text"], origin))
    return cases


def _items(path: Path) -> list[tuple[int, Any, dict[str, int]]]:
    """Each rule record with its line and the line of each of its fields."""
    document, lines = _document(path)
    if document is None:
        return []
    if not isinstance(document, list):
        raise RulePackError(f"{path}:{lines.get('start', 1)}: a rule file is a YAML list of rules (each item starting with '- id: ...')")
    return [(lines.get(index, 1), record, lines.get(("fields", index), {})) for index, record in enumerate(document)]


def _document(path: Path) -> tuple[Any, dict]:
    """The parsed file and the line of each top-level item (list index, or (key, index) for a mapping of lists), and of
    each field of a list item that is a mapping (("fields", index) -> {field: line})."""
    try:
        text = path.read_text(encoding="utf-8")
        document = yaml.load(text, Loader=_LOADER)
        root = yaml.compose(text, Loader=_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError(f"{path}: cannot read ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise RulePackError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    lines: dict = {"start": root.start_mark.line + 1} if root is not None else {}
    if isinstance(root, yaml.SequenceNode):
        lines |= {index: node.start_mark.line + 1 for index, node in enumerate(root.value)}
        for index, node in enumerate(root.value):
            if isinstance(node, yaml.MappingNode):
                lines[("fields", index)] = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
    elif isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if isinstance(value, yaml.SequenceNode):
                lines |= {(key.value, index): node.start_mark.line + 1 for index, node in enumerate(value.value)}
    return document, lines
