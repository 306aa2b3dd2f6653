"""Lint results as text, JSON, Markdown and SARIF 2.1.0 (for GitHub code scanning)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aib_doctor import __version__
from aib_doctor.model import Check, Finding, LintResult, TemplateLocation

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
"""SARIF 2.1.0 levels are none, note, warning and error: our info is its note."""


def _at(finding: Finding) -> TemplateLocation:
    """Where a lint or preflight finding is; every one of them has a location."""
    assert finding.location is not None, finding.rule
    return finding.location


def _where(result: LintResult, at: TemplateLocation) -> str:
    line = f":{at.line}" if at.line else ""
    return f"{result.file}{line} {at.pointer or '/'}"


def render_lint_text(result: LintResult) -> str:
    lines = []
    for issue in result.findings:
        at = _at(issue)
        lines.append(f"{_where(result, at)}: {issue.severity} {issue.rule} {issue.name}: {at.message}")
        lines.append(f"    {issue.title}. Fix: {issue.fix}")
    for expression in result.unresolved:
        lines.append(f"{result.file}: note: could not evaluate {expression} offline; checks that need it were run on the text as written")
    lines.append(lint_summary(result))
    return "\n".join(lines) + "\n"


def lint_summary(result: LintResult) -> str:
    errors = sum(i.severity == "error" for i in result.findings)
    warnings = sum(i.severity == "warning" for i in result.findings)
    names = ", ".join(result.templates) or "-"
    return f"{result.file}: {len(result.templates)} template(s) ({names}): {errors} errors, {warnings} warnings"


def lint_dict(result: LintResult) -> dict:
    return {
        "schema_version": 1,
        "file": result.file,
        "templates": list(result.templates),
        "unresolved": list(result.unresolved),
        "issues": [
            {
                "check": i.rule,
                "name": i.name,
                "severity": i.severity,
                "category": i.category,
                "title": i.title,
                "message": _at(i).message,
                "fix": i.fix,
                "pointer": _at(i).pointer,
                "line": _at(i).line,
                "template": _at(i).template,
            }
            for i in result.findings
        ],
    }


def render_lint_json(result: LintResult) -> str:
    return json.dumps(lint_dict(result), indent=2) + "\n"


def render_lint_markdown(result: LintResult) -> str:
    out = [f"## aib-doctor lint: {result.file}", ""]
    if not result.findings:
        out.append("No problems found.")
    else:
        out += ["| Severity | Check | Where | Problem | Fix |", "|---|---|---|---|---|"]
        for i in result.findings:
            at = _at(i)
            where = f"`{at.pointer or '/'}`" + (f" (line {at.line})" if at.line else "")
            cells = [i.severity, f"{i.rule} `{i.name}`", where, at.message, i.fix]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    if result.unresolved:
        out += ["", "Not evaluated offline: " + ", ".join(f"`{u}`" for u in result.unresolved)]
    return "\n".join(out) + "\n"


def render_lint_sarif(linted: Sequence[LintResult], checks: Mapping[str, Check]) -> str:
    """One run for every file linted. `checks` describes every check a finding may come from (SARIF's rules carry the
    checks' own cause and fix)."""
    used = sorted({i.rule for result in linted for i in result.findings})
    rules = [
        {
            "id": check.id,
            "name": check.name,
            "shortDescription": {"text": check.title},
            "fullDescription": {"text": check.cause},
            "help": {"text": check.fix},
            "defaultConfiguration": {"level": SARIF_LEVEL[check.severity]},
            "properties": {"category": check.category},
        }
        for check in (checks[c] for c in used)
    ]
    results = []
    for file, issue in ((result.file, issue) for result in linted for issue in result.findings):
        at = _at(issue)
        location = {
            "physicalLocation": {"artifactLocation": {"uri": file}},
            "logicalLocations": [{"fullyQualifiedName": at.pointer or "/", "kind": "member"}],
        }
        if at.line:
            location["physicalLocation"]["region"] = {"startLine": at.line}
        results.append(
            {
                "ruleId": issue.rule,
                "ruleIndex": used.index(issue.rule),
                "level": SARIF_LEVEL[issue.severity],
                "message": {"text": f"{issue.title}: {at.message}. {issue.fix}"},
                "locations": [location],
                "properties": {"jsonPointer": at.pointer, "template": at.template},
            }
        )
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "aib-doctor",
                        "version": __version__,
                        "informationUri": "https://learn.microsoft.com/azure/virtual-machines/linux/image-builder-troubleshoot",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
