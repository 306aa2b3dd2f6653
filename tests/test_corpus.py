"""The golden corpus: realistic failure texts of every category, each with its expected report."""

from __future__ import annotations

import collections
import json

import pytest
import yaml
from conftest import FIXTURES, ROOT

from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.diagnose import diagnose
from aib_doctor.core.inputs import read_input
from aib_doctor.core.scan import pattern_table
from aib_doctor.model import CATEGORIES
from aib_doctor.render.json_report import report_dict

CORPUS = FIXTURES / "corpus"
MANIFEST = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))


def golden_path(path):
    return path.with_name(path.stem + ".expected.json")


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_corpus_case(entry, request):
    path = CORPUS / entry["file"]
    catalog = load_catalog()
    table = pattern_table(catalog)
    intake = read_input(str(path.relative_to(ROOT)), table)
    report = diagnose(intake.scans, catalog, table, intake.status, intake.subject, intake.template)
    category = entry["file"].split("/")[0]
    assert report.status == entry["status"]
    assert (report.primary.rule if report.primary else None) == entry["primary"]
    if category == "benign":
        assert report.findings and all(f.category == "benign" for f in report.findings)
    else:
        assert report.primary.category == category
    document = json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
    golden = golden_path(path)
    if request.config.getoption("--update-goldens"):
        golden.write_text(document, encoding="utf-8")
    assert golden.exists(), f"no golden for {entry['file']}: run pytest --update-goldens and review the diff"
    assert document == golden.read_text(encoding="utf-8")


def test_every_category_has_three_fixtures_from_different_kinds_of_text():
    # Three kinds where the category shows up in several (log, status, CLI, PowerShell, DevOps, pasted);
    # devops_pipeline is DevOps output by nature and benign lines live in logs, so two kinds there.
    narrow = {"devops_pipeline", "benign"}
    kinds = collections.defaultdict(set)
    counts = collections.Counter()
    for entry in MANIFEST:
        category = entry["file"].split("/")[0]
        counts[category] += 1
        kinds[category].add(entry["kind"])
    short = {c: (counts[c], sorted(kinds[c])) for c in CATEGORIES if counts[c] < 3 or len(kinds[c]) < (2 if c in narrow else 3)}
    assert not short, short


def test_no_fixture_outside_the_manifest():
    listed = {e["file"] for e in MANIFEST}
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*") if not p.name.endswith(".expected.json")}
    assert on_disk == listed
