"""The command line: parse, wire inputs into the core, render, and map every outcome to an exit code.

This is the only module that prints to the terminal or exits.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback

import typer
from rich.console import Console

from aib_doctor import __version__
from aib_doctor.catalog import load_catalog
from aib_doctor.diagnose import diagnose
from aib_doctor.errors import AibDoctorError, InputError
from aib_doctor.exitcodes import ExitCode
from aib_doctor.inputs import read_input
from aib_doctor.model import Report, Rule
from aib_doctor.render import Format, render
from aib_doctor.render.text_report import render_text
from aib_doctor.scan import pattern_table

EXIT_CODES_HELP = """Exit codes: 0 nothing wrong; 1 a failure was found and explained; 2 usage error or
unreadable input; 3 a failure was found but no rule explains it; 4 Azure or the log could not be
reached; 5 internal error (a bug; rerun with --debug); 130 interrupted."""

app = typer.Typer(
    name="aib-doctor",
    help="Explain Azure VM Image Builder failures: what failed, why, the evidence and the fix.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

OutputOption = typer.Option(Format.text, "--output", "-o", help="Report format.", case_sensitive=False)


def exit_code_for(report: Report) -> ExitCode:
    if report.primary is not None:
        return ExitCode.DIAGNOSED
    return ExitCode.UNDIAGNOSED if report.status == "failed" else ExitCode.OK


def command(fn):
    """Run a command body (which takes ctx); turn its result or exception into one exit code and at most one line on stderr."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = kwargs.get("ctx")
        debug = bool(ctx is not None and (ctx.find_root().obj or {}).get("debug"))
        try:
            code = fn(*args, **kwargs)
        except typer.Exit:
            raise
        except AibDoctorError as exc:
            if debug:
                traceback.print_exc()
            stderr.print(f"aib-doctor: {exc}", markup=False)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            stderr.print("aib-doctor: interrupted", markup=False)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:  # a bug: one line, never a traceback unless asked
            if debug:
                traceback.print_exc()
            stderr.print(
                f"aib-doctor: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
                markup=False,
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None
        raise typer.Exit(int(code))

    return wrapper


def emit(report: Report, fmt: Format) -> None:
    out = Console(highlight=False, soft_wrap=True)
    if fmt is Format.text and out.is_terminal:
        out.print(render_text(report), end="")
    else:
        sys.stdout.write(render(report, fmt))
        sys.stdout.flush()


@app.callback()
def root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    ctx.obj = {"debug": debug}
    if version:
        typer.echo(f"aib-doctor {__version__}")
        raise typer.Exit(0)


@app.command()
@command
def analyze(
    ctx: typer.Context,
    path: str = typer.Argument(..., help="customization.log, pasted error text, a template JSON, a bundle folder, or - for stdin."),
    output: Format = OutputOption,
) -> ExitCode:
    """Diagnose offline: a customization.log, error text from az CLI / PowerShell / DevOps, a template JSON, or a bundle."""
    catalog = load_catalog()
    table = pattern_table(catalog)
    intake = read_input(path, table, stdin=sys.stdin.buffer if path == "-" else None)
    report = diagnose(intake.scans, catalog, table, intake.status, intake.subject, intake.template)
    emit(report, output)
    return exit_code_for(report)


def _rule_dict(rule: Rule) -> dict:
    return {
        "id": rule.id,
        "name": rule.name,
        "category": rule.category,
        "severity": rule.severity,
        "priority": rule.priority,
        "where": list(rule.where),
        "title": rule.title,
        "cause": rule.cause,
        "fix": rule.fix,
        "patterns": [{"role": p.role, "regex": p.regex} for p in rule.patterns],
        "docs": list(rule.docs),
    }


def _rule_text(rule: Rule) -> str:
    lines = [
        f"{rule.id} {rule.name}",
        rule.title,
        f"category: {rule.category}   severity: {rule.severity}   priority: {rule.priority}",
        f"matches in: {', '.join(rule.where)}",
        "",
        f"Cause: {rule.cause}",
        "",
        f"Fix: {rule.fix}",
        "",
        "Patterns:",
        *(f"  {p.role:<5} {p.regex}" for p in rule.patterns),
    ]
    if rule.unless:
        lines.append(f"  unless a line matches {rule.unless}")
    lines += [f"Docs: {url}" for url in rule.docs]
    return "\n".join(lines) + "\n"


@app.command()
@command
def rules(
    ctx: typer.Context,
    rule_id: str = typer.Argument(None, metavar="[ID]", help="A rule id (AIB012) or name (deprovision.sysprep-timing)."),
    output: Format = OutputOption,
) -> ExitCode:
    """List the catalog of known errors, or show one rule's cause, fix and references."""
    catalog = load_catalog()
    if rule_id:
        rule = catalog.get(rule_id)
        if rule is None:
            raise InputError(f"no rule {rule_id!r}; `aib-doctor rules` lists them all")
        if output is Format.json:
            sys.stdout.write(json.dumps(_rule_dict(rule), indent=2) + "\n")
        elif output is Format.markdown:
            sys.stdout.write(f"### {rule.id} `{rule.name}`: {rule.title}\n\n**Cause.** {rule.cause}\n\n**Fix.** {rule.fix}\n")
        else:
            sys.stdout.write(_rule_text(rule))
        return ExitCode.OK
    if output is Format.json:
        sys.stdout.write(json.dumps([_rule_dict(r) for r in catalog], indent=2) + "\n")
    elif output is Format.markdown:
        rows = [f"| {r.id} | `{r.name}` | {r.category} | {r.severity} | {r.title} |" for r in catalog]
        sys.stdout.write("\n".join(["| ID | Name | Category | Severity | Title |", "|---|---|---|---|---|", *rows]) + "\n")
    else:
        for r in catalog:
            sys.stdout.write(f"{r.id}  {r.name:<45} {r.category:<20} {r.title}\n")
    return ExitCode.OK


def main() -> None:
    app()
