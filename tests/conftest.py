"""Shared helpers: the packaged catalog, its pattern table, and one-call diagnosis of a text."""

from __future__ import annotations

from pathlib import Path

import pytest

from aib_doctor.catalog import load_catalog
from aib_doctor.diagnose import diagnose
from aib_doctor.scan import pattern_table, scan_chunks, scan_text

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def diagnose_source(source: str, text: str, status=None):
    catalog = load_catalog()
    table = pattern_table(catalog)
    if source == "customization.log":
        scan = scan_chunks(table, source, [text.encode("utf-8")])
    else:
        scan = scan_text(table, source, text)
    return diagnose([scan], catalog, table, status)


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()
