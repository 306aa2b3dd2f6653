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


def test_no_pattern_holds_a_control_character(catalog):
    # a "\b" inside a double-quoted YAML string is a backspace, not a word boundary: such a pattern
    # compiles and never matches
    for rule in catalog:
        for pattern in rule.patterns:
            assert not re.search(r"[\x00-\x08\x0b-\x1f]", pattern.regex), (rule.id, pattern.regex)


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
    match = {"any": ["code (?P<code>\\d+)"], "facts": ["in (?P<where>\\w+) at (?P<when>\\w+)"]}
    rule = build_catalog([("t.yaml", GOOD | {"cause": "Base.", "match": match, "details": ["Code {code}.", "In {where} at {when}."]})]).rules[0]
    assert fill_details(rule, {"code": "7", "where": "x"}) == "Base. Code 7."
    assert fill_details(rule, {}) == "Base."


def test_a_detail_placeholder_must_be_a_fact_or_a_named_group():
    named = dict(GOOD, match={"any": ["size (?P<size>\\d+)"]}, details=["On {vm_size}, {size} bytes."])
    assert build_catalog([("t.yaml", named)]).rules[0].details == ("On {vm_size}, {size} bytes.",)
    misspelt = dict(named, details=["On {vm_sise}."])
    with pytest.raises(CatalogError, match=r"t.yaml: AIB900: the detail sentence 'On \{vm_sise\}.' names \['vm_sise'\]"):
        build_catalog([("t.yaml", misspelt)])
    only_in_none = dict(GOOD, match={"any": ["abc"], "none": ["(?P<size>\\d+)"]}, details=["{size}"])
    with pytest.raises(CatalogError, match="names \\['size'\\]"):
        build_catalog([("t.yaml", only_in_none)])
    with pytest.raises(CatalogError, match="bad detail sentence"):
        build_catalog([("t.yaml", dict(GOOD, details=["{vm_size"]))])


def test_the_facts_a_detail_may_name_are_the_ones_a_diagnosis_fills():
    from aib_doctor.core.catalog import FACTS
    from aib_doctor.core.diagnose import _facts
    from aib_doctor.core.template_facts import template_facts
    from aib_doctor.model import CustomizerRun, FailedStep, Timeline

    timeline = Timeline(
        customizers=(CustomizerRun("shell", 0, "t0", "t1", 5, "ok"), CustomizerRun("shell", 1, "t1", None, None, "failed")),
        failed_step=FailedStep("customize", 1, "the second customizer"),
    )
    assert set(template_facts({})) | set(_facts(timeline)) == FACTS


@pytest.mark.parametrize(
    "timeline,message",
    [
        ({"later": 5}, "timeline needs some of"),
        ({}, "timeline needs some of"),
        ({"running": "("}, "bad pattern"),
        ({"near_timeout": -1}, "must be a positive number"),
        ({"silence_minutes": "long"}, "must be a positive number"),
    ],
)
def test_malformed_timeline_conditions_are_rejected(timeline, message):
    with pytest.raises(CatalogError, match=message):
        build_catalog([("t.yaml", GOOD | {"timeline": timeline})])


def test_a_timeline_rule_may_match_on_timing_alone_and_name_the_timing_facts():
    record = {k: v for k, v in GOOD.items() if k != "match"} | {"timeline": {"silence_minutes": 30}, "details": ["Silent {silence} since {silent_since}."]}
    rule = build_catalog([("t.yaml", record)]).rules[0]
    assert rule.basis == "timeline" and rule.patterns == () and rule.timeline.silence_minutes == 30
    with pytest.raises(CatalogError, match="names \\['silence'\\]"):
        build_catalog([("t.yaml", GOOD | {"details": ["Silent {silence}."]})])  # only a timeline rule knows the timing


def test_the_timing_facts_are_the_ones_a_timeline_rule_fills():
    from aib_doctor.core.catalog import TIMING_FACTS
    from aib_doctor.core.timeline import LogLine
    from aib_doctor.core.timing import Timing, _groups
    from aib_doctor.model import CustomizerRun

    run = CustomizerRun("shell", 1, "2024-01-01T10:00:00", None, None, "running")
    done = CustomizerRun("shell", 0, "2024-01-01T09:00:00", "2024-01-01T09:10:00", 600, "ok")
    line = LogLine(3, "waiting")
    timing = Timing(14000, "by the log's own timestamps", 240, "the default", run, 7000, 3600, line, "2024-01-01T11:00:00", line, done)
    assert set(_groups(timing)) == TIMING_FACTS
