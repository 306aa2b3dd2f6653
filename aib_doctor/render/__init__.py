"""Renderers: pure functions from a result to text. Every (result, format) pair is mapped here, exhaustively.

A format added to an enum without a renderer fails the `match` (assert_never) instead of falling back to text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from enum import Enum

from aib_doctor.model import Check, CheckResult, LintResult, Report
from aib_doctor.render.annotations import check_annotations, lint_annotations, report_annotations
from aib_doctor.render.check_report import render_check_json, render_check_markdown, render_check_text
from aib_doctor.render.json_report import render_json
from aib_doctor.render.lint_report import lint_dict, lint_summary, render_lint_json, render_lint_markdown, render_lint_sarif, render_lint_text
from aib_doctor.render.markdown_report import render_markdown
from aib_doctor.render.rules_report import Described, rule_json, rule_markdown, rule_text, rules_json, rules_markdown, rules_text
from aib_doctor.render.text_report import render_text

if sys.version_info >= (3, 11):
    from typing import assert_never
else:
    from typing_extensions import assert_never


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    github = "github"
    """GitHub Actions annotations (workflow commands), then the text."""
    azure_devops = "azure-devops"
    """Azure DevOps logging commands (##vso[task.logissue]), then the text."""


class LintFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"
    github = "github"
    azure_devops = "azure-devops"


def render(report: Report, fmt: Format) -> str:
    match fmt:
        case Format.text:
            return render_text(report).plain
        case Format.json:
            return render_json(report)
        case Format.markdown:
            return render_markdown(report)
        case Format.github | Format.azure_devops:
            return report_annotations(report, fmt.value, render_text(report).plain)
        case _:
            assert_never(fmt)


def render_check(result: CheckResult, fmt: Format) -> str:
    match fmt:
        case Format.text:
            return render_check_text(result)
        case Format.json:
            return render_check_json(result)
        case Format.markdown:
            return render_check_markdown(result)
        case Format.github | Format.azure_devops:
            return check_annotations(result, fmt.value, render_check_text(result))
        case _:
            assert_never(fmt)


def render_lint(results: Sequence[LintResult], fmt: LintFormat, checks: Mapping[str, Check]) -> str:
    """One or more files' results. `checks` describes the checks the findings came from (SARIF lists them as its rules).
    JSON is one object for one file and a list of them for several; SARIF is one run for all."""
    match fmt:
        case LintFormat.text:
            return "".join(render_lint_text(result) for result in results)
        case LintFormat.json:
            return render_lint_json(results[0]) if len(results) == 1 else json.dumps([lint_dict(r) for r in results], indent=2) + "\n"
        case LintFormat.markdown:
            return "\n".join(render_lint_markdown(result) for result in results)
        case LintFormat.sarif:
            return render_lint_sarif(results, checks)
        case LintFormat.github | LintFormat.azure_devops:
            return lint_annotations(results, fmt.value, [lint_summary(result) for result in results])
        case _:
            assert_never(fmt)


def render_rule(item: Described, fmt: Format) -> str:
    match fmt:
        case Format.text | Format.github | Format.azure_devops:  # a rule is no problem to annotate: CI logs get the text
            return rule_text(item)
        case Format.json:
            return rule_json(item)
        case Format.markdown:
            return rule_markdown(item)
        case _:
            assert_never(fmt)


def render_rules(items: Sequence[Described], fmt: Format) -> str:
    match fmt:
        case Format.text | Format.github | Format.azure_devops:  # nothing to annotate in a listing
            return rules_text(items)
        case Format.json:
            return rules_json(items)
        case Format.markdown:
            return rules_markdown(items)
        case _:
            assert_never(fmt)
