"""Every rule has cases that must fire it and similar cases that must not (tests/cases/<ID>.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import diagnose_source

from aib_doctor.core.catalog import load_catalog

CASES = Path(__file__).parent / "cases"


def _cases():
    for path in sorted(CASES.glob("AIB*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for expectation in ("fires", "quiet"):
            for number, case in enumerate(data.get(expectation) or []):
                yield pytest.param(path.stem, expectation, case, id=f"{path.stem}-{expectation}-{number}")


@pytest.mark.parametrize("rule_id,expectation,case", list(_cases()))
def test_rule_case(rule_id, expectation, case):
    report = diagnose_source(case["source"], case["text"])
    fired = {f.rule for f in report.findings}
    if expectation == "fires":
        assert rule_id in fired, f"{rule_id} should fire on: {case['text'][:200]}"
    else:
        assert rule_id not in fired, f"{rule_id} must not fire on: {case['text'][:200]}"


def test_every_rule_has_both_kinds_of_case_and_prose():
    missing = []
    for rule in load_catalog():
        path = CASES / f"{rule.id}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
        if not data.get("fires") or not data.get("quiet"):
            missing.append(f"{rule.id}: needs at least one 'fires' and one 'quiet' case")
        if len(rule.cause.split()) < 8 or len(rule.fix.split()) < 3 or not rule.title:
            missing.append(f"{rule.id}: cause, fix and title must be real sentences")
    assert not missing, "\n".join(missing)


def test_no_case_file_without_a_rule():
    ids = {rule.id for rule in load_catalog()}
    orphans = [p.stem for p in CASES.glob("*.yaml") if p.stem not in ids]
    assert not orphans
