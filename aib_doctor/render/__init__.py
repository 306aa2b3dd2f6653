"""Renderers: pure functions from a result to text. Every (result, format) pair is mapped here, exhaustively.

A format added to an enum without a renderer fails the `match` (assert_never) instead of falling back to text.
Each arm imports its renderer when it runs: the CLI imports this module for the format enums, and a JSON
report should not pay for rich.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING

if sys.version_info >= (3, 11):
    from typing import assert_never
else:
    from typing_extensions import assert_never

if TYPE_CHECKING:
    from aib_doctor.model import Check, CheckResult, LintResult, Report
    from aib_doctor.render.rules_report import Described


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
            from aib_doctor.render.text_report import render_text

            return render_text(report).plain
        case Format.json:
            from aib_doctor.render.json_report import render_json

            return render_json(report)
        case Format.markdown:
            from aib_doctor.render.markdown_report import render_markdown

            return render_markdown(report)
        case Format.github | Format.azure_devops:
            from aib_doctor.render.annotations import report_annotations
            from aib_doctor.render.text_report import render_text

            return report_annotations(report, fmt.value, render_text(report).plain)
        case _:
            assert_never(fmt)


def render_check(result: CheckResult, fmt: Format) -> str:
    match fmt:
        case Format.text:
            from aib_doctor.render.check_report import render_check_text

            return render_check_text(result)
        case Format.json:
            from aib_doctor.render.check_report import render_check_json

            return render_check_json(result)
        case Format.markdown:
            from aib_doctor.render.check_report import render_check_markdown

            return render_check_markdown(result)
        case Format.github | Format.azure_devops:
            from aib_doctor.render.annotations import check_annotations
            from aib_doctor.render.check_report import render_check_text

            return check_annotations(result, fmt.value, render_check_text(result))
        case _:
            assert_never(fmt)


def render_lint(results: Sequence[LintResult], fmt: LintFormat, checks: Mapping[str, Check]) -> str:
    """One or more files' results. `checks` describes the checks the findings came from (SARIF lists them as its rules).
    JSON is one object for one file and a list of them for several; SARIF is one run for all."""
    match fmt:
        case LintFormat.text:
            from aib_doctor.render.lint_report import render_lint_text

            return "".join(render_lint_text(result) for result in results)
        case LintFormat.json:
            import json

            from aib_doctor.render.lint_report import lint_dict, render_lint_json

            return render_lint_json(results[0]) if len(results) == 1 else json.dumps([lint_dict(r) for r in results], indent=2) + "\n"
        case LintFormat.markdown:
            from aib_doctor.render.lint_report import render_lint_markdown

            return "\n".join(render_lint_markdown(result) for result in results)
        case LintFormat.sarif:
            from aib_doctor.render.lint_report import render_lint_sarif

            return render_lint_sarif(results, checks)
        case LintFormat.github | LintFormat.azure_devops:
            from aib_doctor.render.annotations import lint_annotations
            from aib_doctor.render.lint_report import lint_summary

            return lint_annotations(results, fmt.value, [lint_summary(result) for result in results])
        case _:
            assert_never(fmt)


def render_rule(item: Described, fmt: Format) -> str:
    match fmt:
        case Format.text | Format.github | Format.azure_devops:  # a rule is no problem to annotate: CI logs get the text
            from aib_doctor.render.rules_report import rule_text

            return rule_text(item)
        case Format.json:
            from aib_doctor.render.rules_report import rule_json

            return rule_json(item)
        case Format.markdown:
            from aib_doctor.render.rules_report import rule_markdown

            return rule_markdown(item)
        case _:
            assert_never(fmt)


def render_rules(items: Sequence[Described], fmt: Format) -> str:
    match fmt:
        case Format.text | Format.github | Format.azure_devops:  # nothing to annotate in a listing
            from aib_doctor.render.rules_report import rules_text

            return rules_text(items)
        case Format.json:
            from aib_doctor.render.rules_report import rules_json

            return rules_json(items)
        case Format.markdown:
            from aib_doctor.render.rules_report import rules_markdown

            return rules_markdown(items)
        case _:
            assert_never(fmt)
