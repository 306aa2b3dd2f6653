"""The catalog loads, validates its records and compiles every pattern in both engines."""

from __future__ import annotations

import re

import pytest
import re2

from aib_doctor.core.catalog import build_catalog, fill_details
from aib_doctor.errors import CatalogError
from aib_doctor.model import CATEGORIES

GOOD = {
    "id": "AIB900",
    "name": "test.good",
    "category": "network",
    "severity": "error",
    "priority": 10,
    "match": {"any": ["abc"]},
    "title": "t",
    "cause": "c",
    "fix": "f",
}


def test_ids_and_names_are_unique_and_categories_known(catalog):
    assert len({r.id for r in catalog}) == len(catalog)
    assert len({r.name for r in catalog}) == len(catalog)
    assert all(r.category in CATEGORIES for r in catalog)


def test_every_pattern_compiles_in_re2_and_python(catalog):
    for rule in catalog:
        for pattern in rule.patterns:
            re.compile(pattern.regex)
            re2.compile(pattern.regex)


def test_benign_rules_have_priority_zero(catalog):
    assert all(r.priority == 0 for r in catalog if r.category == "benign")


@pytest.mark.parametrize(
    "change,message",
    [
        ({"category": "nonsense"}, "unknown category"),
        ({"id": "X1"}, "id must look like"),
        ({"match": {"none": ["x"]}}, "match needs any or all"),
        ({"match": {"any": ["("]}}, "bad pattern"),
        ({"cause": ""}, "missing cause"),
        ({"colour": "red"}, "unknown fields"),
        ({"where": ["stdout"]}, "unknown source"),
    ],
)
def test_malformed_records_are_rejected(change, message):
    with pytest.raises(CatalogError, match=message):
        build_catalog([("t.yaml", GOOD | change)])


def test_duplicate_ids_are_rejected():
    with pytest.raises(CatalogError, match="duplicate"):
        build_catalog([("t.yaml", GOOD), ("t.yaml", GOOD | {"name": "test.other"})])


def test_detail_sentences_appear_only_when_every_placeholder_is_known():
    rule = build_catalog([("t.yaml", GOOD | {"cause": "Base.", "details": ["Code {code}.", "In {where} at {when}."]})]).rules[0]
    assert fill_details(rule, {"code": "7", "where": "x"}) == "Base. Code 7."
    assert fill_details(rule, {}) == "Base."
