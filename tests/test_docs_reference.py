"""docs/rules.md's reference part is generated from the catalog and the checks (`make docs`); stale is a failure."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

from aib_doctor.core.catalog import load_catalog
from aib_doctor.lint import template_checks


def test_the_rules_reference_is_current():
    result = subprocess.run([sys.executable, "scripts/rules_reference.py", "--check", "docs/rules.md"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_reference_lists_every_rule_and_check_once():
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    ids = [rule.id for rule in load_catalog()] + list(template_checks())
    assert ids and all(text.count(f"\n### {rule_id} `") == 1 for rule_id in ids)
