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


class LintFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"


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
        case _:
            assert_never(fmt)


def render_lint(result: LintResult, fmt: LintFormat, checks: Mapping[str, Check]) -> str:
    """`checks` describes the checks the findings came from (SARIF lists them as its rules)."""
    match fmt:
        case LintFormat.text:
            from aib_doctor.render.lint_report import render_lint_text

            return render_lint_text(result)
        case LintFormat.json:
            from aib_doctor.render.lint_report import render_lint_json

            return render_lint_json(result)
        case LintFormat.markdown:
            from aib_doctor.render.lint_report import render_lint_markdown

            return render_lint_markdown(result)
        case LintFormat.sarif:
            from aib_doctor.render.lint_report import render_lint_sarif

            return render_lint_sarif(result, checks)
        case _:
            assert_never(fmt)


def render_rule(item: Described, fmt: Format) -> str:
    match fmt:
        case Format.text:
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
        case Format.text:
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
