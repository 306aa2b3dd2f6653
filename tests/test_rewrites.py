"""Robustness: every failure text of the corpora (golden, seed, real-world), rewritten the ways users paste it, keeps its primary category.

Rewrites: hard-wrapped at 60/80/120 columns (at spaces, and mid-word as a terminal does), log prefixes
stripped, Markdown-quoted, embedded in ARM error JSON, behind a PowerShell 7 cmdlet prefix with its
continuation bars, whitespace collapsed onto one line, cut after the line that carried the evidence,
CRLF line ends. At least 95% of all rewrites must keep the category the original text gets.
"""

from __future__ import annotations

import collections
import json
import re
import textwrap

import yaml
from conftest import FIXTURES

from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.diagnose import diagnose
from aib_doctor.core.scan import pattern_table, scan_text

PASS_RATE = 0.95
_PREFIX = re.compile(r"^\s*(?:\[[0-9a-f-]{36}\]\s*)?(?:PACKER (?:OUT|ERR)\s*)?(?:\d{4}-\d\d-\d\dT[\d:.]+Z\s*)?", re.M)


def _texts():
    manifest = yaml.safe_load((FIXTURES / "corpus" / "manifest.yaml").read_text(encoding="utf-8"))
    for entry in manifest:
        if entry["kind"] != "template-json" and entry["status"] == "failed":
            yield entry["file"], (FIXTURES / "corpus" / entry["file"]).read_text(encoding="utf-8")
    for path in sorted((FIXTURES / "seed").glob("*")):
        yield path.name, path.read_text(encoding="utf-8")
    for manifest in sorted((FIXTURES / "realworld").glob("*/manifest.yaml")):
        for entry in yaml.safe_load(manifest.read_text(encoding="utf-8")) or []:
            if entry.get("failure", True) and not entry["file"].endswith(".json"):
                path = manifest.parent / entry["file"]
                yield str(path.relative_to(FIXTURES)), path.read_text(encoding="utf-8", errors="replace")


def _wrap(text: str, width: int, mid_word: bool) -> str:
    lines = []
    for line in text.splitlines():
        if mid_word:
            lines += [line[i : i + width] for i in range(0, len(line), width)] or [""]
        else:
            lines += textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [""]
    return "\n".join(lines)


def _cut(text: str, line: int | None) -> str:
    return "\n".join(text.splitlines()[: line or None])


REWRITES = {
    "wrap-60": lambda t, _: _wrap(t, 60, False),
    "wrap-80": lambda t, _: _wrap(t, 80, False),
    "wrap-120": lambda t, _: _wrap(t, 120, False),
    "terminal-80": lambda t, _: _wrap(t, 80, True),
    "strip-prefixes": lambda t, _: _PREFIX.sub("", t),
    "markdown-quote": lambda t, _: "\n".join("> " + line for line in t.splitlines()),
    "arm-json": lambda t, _: json.dumps({"error": {"code": "DeploymentFailed", "message": t}}),
    "powershell-7": lambda t, _: "New-AzImageBuilderTemplate: " + "\n     | ".join(_wrap(t, 70, False).splitlines()),
    "one-line": lambda t, _: " ".join(t.split()),
    "cut-after-evidence": _cut,
    "crlf": lambda t, _: t.replace("\n", "\r\n"),
}


def _category(text: str, catalog, table) -> str | None:
    report = diagnose([scan_text(table, "input", text)], catalog, table)
    return report.primary.category if report.primary else None


def test_rewrites_keep_the_primary_category():
    catalog = load_catalog()
    table = pattern_table(catalog)
    kept: collections.Counter = collections.Counter()
    tried: collections.Counter = collections.Counter()
    lost = []
    for name, text in _texts():
        original = diagnose([scan_text(table, "input", text)], catalog, table)
        if original.primary is None:
            continue
        # The line a pattern matched, not a line quoted above it for context
        lines = [e for e in original.primary.evidence if e.source == "input"]
        line = next((e.line for e in lines if e.matched), lines[0].line if lines else None)
        for kind, rewrite in REWRITES.items():
            tried[kind] += 1
            got = _category(rewrite(text, line), catalog, table)
            if got == original.primary.category:
                kept[kind] += 1
            else:
                lost.append(f"{kind}: {name} {original.primary.category} -> {got}")
    rates = {kind: f"{kept[kind]}/{tried[kind]}" for kind in REWRITES}
    print("rewrite pass rates:", rates)
    assert sum(kept.values()) >= PASS_RATE * sum(tried.values()), "\n".join([str(rates), *lost])
