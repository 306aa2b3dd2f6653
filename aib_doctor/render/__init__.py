"""Renderers: pure functions from a result to text. Every (result, format) pair is mapped here, exhaustively.

A format added to an enum without a renderer fails the `match` (assert_never) instead of falling back to text.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from enum import Enum

from aib_doctor.model import Check, CheckResult, LintResult, Report
from aib_doctor.render.check_report import render_check_json, render_check_markdown, render_check_text
from aib_doctor.render.json_report import render_json
from aib_doctor.render.lint_report import render_lint_json, render_lint_markdown, render_lint_sarif, render_lint_text
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


class LintFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"


def render(report: Report, fmt: Format) -> str:
    match fmt:
        case Format.text:
            return render_text(report).plain
        case Format.json:
            return render_json(report)
        case Format.markdown:
            return render_markdown(report)
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
        case _:
            assert_never(fmt)


def render_lint(result: LintResult, fmt: LintFormat, checks: Mapping[str, Check]) -> str:
    """`checks` describes the checks the findings came from (SARIF lists them as its rules)."""
    match fmt:
        case LintFormat.text:
            return render_lint_text(result)
        case LintFormat.json:
            return render_lint_json(result)
        case LintFormat.markdown:
            return render_lint_markdown(result)
        case LintFormat.sarif:
            return render_lint_sarif(result, checks)
        case _:
            assert_never(fmt)


def render_rule(item: Described, fmt: Format) -> str:
    match fmt:
        case Format.text:
            return rule_text(item)
        case Format.json:
            return rule_json(item)
        case Format.markdown:
            return rule_markdown(item)
        case _:
            assert_never(fmt)


def render_rules(items: Sequence[Described], fmt: Format) -> str:
    match fmt:
        case Format.text:
            return rules_text(items)
        case Format.json:
            return rules_json(items)
        case Format.markdown:
            return rules_markdown(items)
        case _:
            assert_never(fmt)
