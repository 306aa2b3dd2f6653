"""Lint results as text, JSON, Markdown and SARIF 2.1.0 (for GitHub code scanning)."""

from __future__ import annotations

import json

from aib_doctor import __version__
from aib_doctor.lint import LintResult
from aib_doctor.lint.registry import check_info

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _where(result: LintResult, issue) -> str:
    line = f":{issue.line}" if issue.line else ""
    return f"{result.file}{line} {issue.pointer or '/'}"


def render_lint_text(result: LintResult) -> str:
    lines = []
    for issue in result.issues:
        lines.append(f"{_where(result, issue)}: {issue.severity} {issue.check} {issue.name}: {issue.message}")
        lines.append(f"    {issue.title}. Fix: {issue.fix}")
    for expression in result.unresolved:
        lines.append(f"{result.file}: note: could not evaluate {expression} offline; checks that need it were run on the text as written")
    errors = sum(i.severity == "error" for i in result.issues)
    warnings = sum(i.severity == "warning" for i in result.issues)
    names = ", ".join(result.templates) or "-"
    lines.append(f"{result.file}: {len(result.templates)} template(s) ({names}): {errors} errors, {warnings} warnings")
    return "\n".join(lines) + "\n"


def lint_dict(result: LintResult) -> dict:
    return {
        "schema_version": 1,
        "file": result.file,
        "templates": result.templates,
        "unresolved": result.unresolved,
        "issues": [
            {
                "check": i.check,
                "name": i.name,
                "severity": i.severity,
                "category": i.category,
                "title": i.title,
                "message": i.message,
                "fix": i.fix,
                "pointer": i.pointer,
                "line": i.line,
                "template": i.template,
            }
            for i in result.issues
        ],
    }


def render_lint_json(result: LintResult) -> str:
    return json.dumps(lint_dict(result), indent=2) + "\n"


def render_lint_markdown(result: LintResult) -> str:
    out = [f"## aib-doctor lint: {result.file}", ""]
    if not result.issues:
        out.append("No problems found.")
    else:
        out += ["| Severity | Check | Where | Problem | Fix |", "|---|---|---|---|---|"]
        for i in result.issues:
            where = f"`{i.pointer or '/'}`" + (f" (line {i.line})" if i.line else "")
            cells = [i.severity, f"{i.check} `{i.name}`", where, i.message, i.fix]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    if result.unresolved:
        out += ["", "Not evaluated offline: " + ", ".join(f"`{u}`" for u in result.unresolved)]
    return "\n".join(out) + "\n"


def render_lint_sarif(result: LintResult) -> str:
    used = sorted({i.check for i in result.issues})
    rules = [
        {
            "id": check.id,
            "name": check.name,
            "shortDescription": {"text": check.title},
            "fullDescription": {"text": check.cause},
            "help": {"text": check.fix},
            "defaultConfiguration": {"level": check.severity},
            "properties": {"category": check.category},
        }
        for check in (check_info(c) for c in used)
    ]
    results = []
    for issue in result.issues:
        location = {
            "physicalLocation": {"artifactLocation": {"uri": result.file}},
            "logicalLocations": [{"fullyQualifiedName": issue.pointer or "/", "kind": "member"}],
        }
        if issue.line:
            location["physicalLocation"]["region"] = {"startLine": issue.line}
        results.append(
            {
                "ruleId": issue.check,
                "ruleIndex": used.index(issue.check),
                "level": issue.severity,
                "message": {"text": f"{issue.title}: {issue.message}. {issue.fix}"},
                "locations": [location],
                "properties": {"jsonPointer": issue.pointer, "template": issue.template},
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
