"""The commands that work from files on this machine: analyze (a log, a pasted error, a template, a bundle),
lint (templates before submitting them; --online adds Azure's view) and rules (the catalog).
"""

# No `from __future__ import annotations`: typer reads the commands' annotations (see app.py).

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from aib_doctor.cli.app import (
    OutputOption,
    PlainHelpCommand,
    RulesOption,
    SubscriptionOption,
    app,
    catalog_with_packs,
    command,
    emit,
    exit_code_for,
    say,
    write_out,
)
from aib_doctor.errors import InputError
from aib_doctor.exitcodes import ExitCode
from aib_doctor.render import Format, LintFormat

if TYPE_CHECKING:
    from aib_doctor.core.catalog import Catalog


@app.command(cls=PlainHelpCommand, short_help="Explain a log, error text, template JSON or bundle, offline.")
@command
def analyze(
    ctx: typer.Context,
    path: str = typer.Argument(..., metavar="PATH", help="customization.log, pasted error text, a template JSON, a bundle folder, or - for stdin."),
    output: Format = OutputOption,
    rules: list[Path] = RulesOption,
) -> ExitCode:
    """Diagnose offline: a customization.log, error text from az CLI / PowerShell / DevOps, a template JSON, or a bundle.

    \b
    Examples:
      aib-doctor analyze customization.log
      az image builder show -n web01 -g rg-images | aib-doctor analyze - --output json
      aib-doctor analyze case-1234/ -o markdown
      aib-doctor analyze build-output.txt --rules ./org-rules
    """
    from aib_doctor.core.diagnose import diagnose
    from aib_doctor.core.inputs import read_input
    from aib_doctor.core.scan import pattern_table

    catalog = catalog_with_packs(rules)
    table = pattern_table(catalog)
    intake = read_input(path, table, stdin=sys.stdin.buffer if path == "-" and sys.stdin is not None else None)
    for note in intake.notes:
        say(f"aib-doctor: {note}")
    report = diagnose(intake.scans, catalog, table, intake.status, intake.subject, intake.template)
    emit(report, output)
    return exit_code_for(report)


class FailOn(str, Enum):
    error = "error"
    warning = "warning"


@app.command(cls=PlainHelpCommand, short_help="Check templates before submitting them.")
@command
def lint(
    ctx: typer.Context,
    paths: list[str] = typer.Argument(
        ...,
        metavar="PATH...",
        help="One or more: an imageTemplate JSON, `az image builder show` or `list` output, an ARM template (`az bicep build` output for Bicep), or - for stdin.",
    ),
    output: LintFormat = typer.Option(
        LintFormat.text,
        "--output",
        "-o",
        metavar="text|json|markdown|sarif|github|azure-devops",
        case_sensitive=False,
        help="Report format: sarif for code scanning (one run for every file), github / azure-devops for CI annotations on each file and line.",
    ),
    fail_on: FailOn = typer.Option(FailOn.error, "--fail-on", metavar="error|warning", case_sensitive=False, help="Exit 1 on errors only, or on warnings too."),
    online: bool = typer.Option(False, "--online", metavar="", help="Also check identity, roles, source, gallery and providers in Azure."),
    subscription: str = SubscriptionOption,
) -> ExitCode:
    """Check templates before submitting them: the failures documented for Image Builder that show in the template.

    \b
    Examples:
      aib-doctor lint image-template.json
      az bicep build -f image.bicep --stdout > image.json && aib-doctor lint image.json -o sarif > lint.sarif
      aib-doctor lint templates/*.json -o github --fail-on warning
      aib-doctor lint image-template.json --online
    """
    from aib_doctor.lint import template_checks

    results = [_lint_file(path, online, subscription) for path in paths]
    from aib_doctor.core.redact import redacted
    from aib_doctor.render import render_lint

    write_out(render_lint(redacted(results), output, template_checks()))
    failing = ("error",) if fail_on is FailOn.error else ("error", "warning")
    return ExitCode.DIAGNOSED if any(i.severity in failing for result in results for i in result.findings) else ExitCode.OK


def _lint_file(path: str, online: bool, subscription: str | None):
    from aib_doctor.core.inputs import read_json_text
    from aib_doctor.lint import lint_text

    text = read_json_text(path, sys.stdin.buffer if path == "-" and sys.stdin is not None else None)
    result = lint_text(text, "<stdin>" if path == "-" else path)
    if online:
        import json
        from dataclasses import replace

        from aib_doctor.azure import connect
        from aib_doctor.lint.preflight import preflight_document

        result = replace(result, findings=result.findings + tuple(preflight_document(connect(subscription), json.loads(text))))
    return result


@app.command(cls=PlainHelpCommand, short_help="List the known errors and checks, or show one.")
@command
def rules(
    ctx: typer.Context,
    rule_id: str = typer.Argument(None, metavar="[ID]", help="A rule or check id (AIB012, TPL002) or name (deprovision.sysprep-timing)."),
    output: Format = OutputOption,
    rules: list[Path] = RulesOption,
    check_pack: Path = typer.Option(None, "--check", metavar="FOLDER", help="Validate a rule pack and run its fires/quiet cases (FOLDER/cases/ID.yaml)."),
) -> ExitCode:
    """List the catalog of known errors and the template checks, or show one's cause, fix and references.

    \b
    Examples:
      aib-doctor rules
      aib-doctor rules AIB012 -o markdown
      aib-doctor rules --check ./org-rules
      aib-doctor rules --rules ./org-rules ACME001
    """
    from aib_doctor.lint import template_checks
    from aib_doctor.render import render_rule, render_rules

    catalog = catalog_with_packs(rules)
    if check_pack is not None:
        return _check_pack(catalog, check_pack)
    checks = sorted(template_checks().values(), key=lambda c: (c.id.startswith("PRE"), c.id))  # offline TPL, then online PRE
    if rule_id:
        found = catalog.get(rule_id) or next((c for c in checks if rule_id in (c.name, c.id, c.id.lower())), None)
        if found is None:
            raise InputError(f"no rule or check {rule_id!r}; `aib-doctor rules` lists them all")
        write_out(render_rule(found, output))
        return ExitCode.OK
    write_out(render_rules([*catalog, *checks], output))
    return ExitCode.OK


def _check_pack(catalog: "Catalog", folder: Path) -> ExitCode:
    """`rules --check FOLDER`: one line per case that does not hold, one per rule without both kinds of case, a summary."""
    from aib_doctor.core.catalog.packs import check_pack

    result = check_pack(catalog, folder)
    lines = [
        f"{case.origin}: {case.rule} should {'fire' if case.expectation == 'fires' else 'stay quiet'} on this case but does not"
        for case, held in result.results
        if not held
    ]
    lines += [f"{folder}: {rule_id} needs at least one 'fires' and one 'quiet' case in cases/{rule_id}.yaml" for rule_id in result.uncovered]
    failed = sum(not held for _, held in result.results)
    verdict = "ok" if result.passed else "FAILED"
    lines.append(f"{folder}: {len(result.rules)} rule(s), {len(result.results)} case(s), {failed} failed: {verdict}")
    write_out("\n".join(lines) + "\n")
    return ExitCode.OK if result.passed else ExitCode.DIAGNOSED
