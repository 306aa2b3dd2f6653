"""The command line: parse, wire inputs into the core, render, and map every outcome to an exit code.

This is the only module that prints to the terminal or exits. It imports what a command needs inside
the command (the core, renderers, rich, lint, the Azure SDK), so `--help` and a one-line `analyze` start fast.
"""

# No `from __future__ import annotations`: typer reads every command's annotations, and as strings each one
# is compiled again at start-up (typing.ForwardRef); the few names imported only for type checking are quoted.

import functools
import inspect
import os
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from aib_doctor import __version__
from aib_doctor.errors import AibDoctorError, InputError, LogUnavailable, OutputError
from aib_doctor.exitcodes import ExitCode
from aib_doctor.render import Format, LintFormat

if TYPE_CHECKING:
    from rich.console import Console

    from aib_doctor.core.catalog import Catalog
    from aib_doctor.model import Report

EXIT_CODES_HELP = (
    "Exit codes: 0 nothing wrong; 1 a failure was found and explained; 2 usage error or unreadable input; "
    "3 a failure was found but no rule explains it; 4 Azure or the log could not be reached; "
    "5 internal error (a bug; rerun with --debug); 130 interrupted."
)

ROOT_HELP = f"""Explain Azure VM Image Builder failures: what failed, why, the evidence and the fix.

{EXIT_CODES_HELP}

Settings come from the flag, else its environment variable (shown as env var), else the config file
($AIB_DOCTOR_CONFIG, else config.toml in the user's config folder), else the default. NO_COLOR turns off
colour and bold. Shell completion: aib-doctor --install-completion.

\b
Examples:
  aib-doctor analyze customization.log
  aib-doctor template win2022-golden -g rg-images
  aib-doctor lint image-template.json
  aib-doctor rules AIB012"""

app = typer.Typer(
    name="aib-doctor",
    help=ROOT_HELP,
    no_args_is_help=True,
    # Plain click help: metavars say what to type (TEXT, PATH, a flag has none), no styles, and no rich import to print it.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)


class PlainHelpCommand(typer.core.TyperCommand):
    """Arguments in the usage line and the help as click writes them (`PATH`, `[ID]`), not as `{PATH}` and `PATH <str>`."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        arguments = [param.metavar or param.name.upper() for param in self.get_params(ctx) if param.param_type_name == "argument"]
        return [self.options_metavar, *arguments] if self.options_metavar else arguments

    def format_options(self, ctx, formatter) -> None:
        params = self.get_params(ctx)
        arguments = [(p.metavar or p.name.upper(), getattr(p, "help", None) or "") for p in params if p.param_type_name == "argument"]
        options = [record for p in params if p.param_type_name == "option" and (record := p.get_help_record(ctx))]
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _no_color() -> bool:
    """https://no-color.org: any non-empty NO_COLOR turns off colour and every other style (bold, dim) too."""
    return bool(os.environ.get("NO_COLOR"))


def _console(stderr: bool = False) -> "Console":
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True, color_system=None if _no_color() else "auto")


def say(line: str) -> None:
    """One line on stderr, as it is (no markup, no rich import), redacted like every other output (Azure's messages quote SAS URLs)."""
    from aib_doctor.core.redact import redact

    sys.stderr.write(redact(line) + "\n")
    sys.stderr.flush()


def _may_be_terminal(stream) -> bool:
    """Whether rich could take the stream for a terminal (a tty, or forced by the environment): only then is it imported."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) or any(os.environ.get(name) for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"))


# Metavars say what to type: TEXT, PATH, FOLDER; a flag has none.
OutputOption = typer.Option(
    Format.text,
    "--output",
    "-o",
    metavar="text|json|markdown|github|azure-devops",
    help="Report format; github and azure-devops add CI annotations (workflow / logging commands) before the text.",
    case_sensitive=False,
)
RulesOption = typer.Option(
    None,
    "--rules",
    metavar="FOLDER",
    envvar="AIB_DOCTOR_RULES",
    help="Repeatable: a folder of your own rules (docs/rules.md), used beside the built-in catalog. In the env var, separate folders with ':' (';' on Windows).",
)


class AuthMode(str, Enum):
    auto = "auto"
    login = "login"
    key = "key"


GroupOption = typer.Option(..., "--resource-group", "-g", metavar="TEXT", help="The template's resource group.")
SubscriptionOption = typer.Option(
    None, "--subscription", metavar="TEXT", envvar="AZURE_SUBSCRIPTION_ID", help="Else the config file, else the Azure CLI's default."
)
AuthOption = typer.Option(
    AuthMode.auto,
    "--auth-mode",
    metavar="auto|login|key",
    envvar="AIB_DOCTOR_AUTH_MODE",
    case_sensitive=False,
    help="How to read the log blob: login (Entra ID), key (account key via ARM listKeys), auto (login, then key).",
)
DebugOption = typer.Option(False, "--debug", metavar="", help="Show tracebacks for errors (also accepted before the command).")


def exit_code_for(report: "Report") -> ExitCode:
    if report.primary is not None:
        return ExitCode.DIAGNOSED
    return ExitCode.UNDIAGNOSED if report.status == "failed" else ExitCode.OK


def command(fn):
    """Run a command body (which takes ctx); turn its result or exception into one exit code and at most one line on stderr."""

    @functools.wraps(fn)
    def wrapper(*args, debug: bool = False, **kwargs):
        ctx = kwargs.get("ctx")
        debug = debug or bool(ctx is not None and (ctx.find_root().obj or {}).get("debug"))
        if debug:  # azure-identity's warnings, which the Azure adapters otherwise quiet (azure.default_credential)
            import logging

            logging.getLogger("azure.identity").setLevel(logging.WARNING)
        try:
            code = fn(*args, **kwargs)
        except typer.Exit:
            raise
        except AibDoctorError as exc:
            if debug:
                import traceback

                traceback.print_exc()
            say(f"aib-doctor: {exc}")
            raise typer.Exit(int(exc.exit_code)) from None
        except OSError as exc:  # a file asked for cannot be written or read: disk full, read-only, permission
            if debug:
                import traceback

                traceback.print_exc()
            where = f"{exc.filename}: " if exc.filename else ""
            say(f"aib-doctor: {where}{(exc.strerror or str(exc)).lower()}")
            raise typer.Exit(int(ExitCode.USAGE)) from None
        except KeyboardInterrupt:
            say("aib-doctor: interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:  # a bug: one line, never a traceback unless asked
            if debug:
                import traceback

                traceback.print_exc()
            say(f"aib-doctor: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
            raise typer.Exit(int(ExitCode.INTERNAL)) from None
        raise typer.Exit(int(code))

    # Every command also takes --debug after its name: one more parameter in the signature typer reads.
    signature = inspect.signature(fn)
    debug_parameter = inspect.Parameter("debug", inspect.Parameter.KEYWORD_ONLY, default=DebugOption, annotation=bool)
    wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), debug_parameter])
    wrapper.__annotations__ = {**fn.__annotations__, "debug": bool}
    return wrapper


def emit(report: "Report", fmt: Format) -> None:
    from aib_doctor.core.redact import redacted
    from aib_doctor.render import render

    report = redacted(report)
    if fmt is Format.text and _may_be_terminal(sys.stdout):
        from aib_doctor.render.text_report import render_text

        out = _console()
        if out.is_terminal:
            with _writing():
                out.print(render_text(report).rich(), end="")
            return
    write_out(render(report, fmt))


def write_out(text: str) -> None:
    if sys.stdout is None:
        raise OutputError("cannot write output: standard output is closed")
    with _writing():
        sys.stdout.write(text)
        sys.stdout.flush()


@contextmanager
def _writing():
    """stdout as Unix tools treat it: a closed pipe (`| head -1`) ends the output quietly and the command keeps its
    exit code; a full disk or a closed stdout is the user's environment (exit 2), not a bug."""
    try:
        yield
    except BrokenPipeError:
        _discard_stdout()
    except (OSError, ValueError) as exc:  # ValueError: stdout was closed
        _discard_stdout()
        reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else "standard output is closed"
        raise OutputError(f"cannot write output: {reason}") from None


def _discard_stdout() -> None:
    """Send what is still buffered to /dev/null, so the interpreter's last flush does not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"aib-doctor {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", metavar="", help="Show tracebacks for errors."),
    version: bool = typer.Option(False, "--version", metavar="", is_eager=True, callback=_print_version, help="Print the version and exit."),
) -> None:
    ctx.obj = {"debug": debug}
    try:
        ctx.default_map = _config_defaults(ctx.command)
    except AibDoctorError as exc:
        say(f"aib-doctor: {exc}")
        raise typer.Exit(int(exc.exit_code)) from None


def _config_defaults(group) -> dict:
    """The config file as click's default_map, which click consults after the flag and the environment."""
    from aib_doctor.settings import config_path, default_map, read_config

    path, named = config_path()
    config = read_config(path, named)
    if not config:
        return {}
    options = {
        name: {opt[2:]: (param.name, bool(getattr(param, "multiple", False))) for param in command.params for opt in param.opts if opt.startswith("--")}
        for name, command in group.commands.items()
    }
    for names in options.values():
        names.pop("help", None)
        names.pop("debug", None)
    return default_map(config, options, path)


def _catalog(rules: list[Path] | None) -> "Catalog":
    """The built-in catalog (its checked form kept in the user's cache), with the rule packs of --rules /
    AIB_DOCTOR_RULES beside it."""
    from aib_doctor.cache import user_cache
    from aib_doctor.core.catalog import load_catalog

    if not rules:
        return load_catalog(user_cache())
    from aib_doctor.core.catalog.packs import with_packs

    return with_packs(load_catalog(user_cache()), rules)


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

    catalog = _catalog(rules)
    table = pattern_table(catalog)
    intake = read_input(path, table, stdin=sys.stdin.buffer if path == "-" and sys.stdin is not None else None)
    for note in intake.notes:
        say(f"aib-doctor: {note}")
    report = diagnose(intake.scans, catalog, table, intake.status, intake.subject, intake.template)
    emit(report, output)
    return exit_code_for(report)


@app.command(cls=PlainHelpCommand, short_help="Diagnose a template and its newest log, from Azure.")
@command
def template(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The image template's name."),
    resource_group: str = GroupOption,
    subscription: str = SubscriptionOption,
    auth_mode: AuthMode = AuthOption,
    full_log: bool = typer.Option(False, "--full-log", metavar="", help="Read the whole log, not just enough of its tail."),
    preflight: bool = typer.Option(False, "--preflight", metavar="", help="Also check identity, roles, source image, gallery definition and providers."),
    output: Format = OutputOption,
    rules: list[Path] = RulesOption,
) -> ExitCode:
    """Fetch a template's status and newest customization.log from Azure and diagnose them together.

    \b
    Examples:
      aib-doctor template win2022-golden -g rg-images
      aib-doctor template win2022-golden -g rg-images --full-log -o json
      aib-doctor template win2022-golden -g rg-images --preflight --auth-mode key
    """
    from aib_doctor.azure import connect
    from aib_doctor.azure.templates import ArmTemplateSource
    from aib_doctor.core.scan import pattern_table
    from aib_doctor.template.diagnosis import diagnose_template

    catalog = _catalog(rules)
    table = pattern_table(catalog)
    session = connect(subscription)
    source = ArmTemplateSource(session, auth_mode.value)
    result = diagnose_template(source, resource_group, name, catalog, table, full_log, arm=session if preflight else None)
    for note in result.notes:
        say(f"aib-doctor: {note}")
    emit(result.report, output)
    return ExitCode.UNAVAILABLE if result.log_unavailable else exit_code_for(result.report)


@app.command(cls=PlainHelpCommand, short_help="Follow a running build live, then report on it.")
@command
def watch(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The image template's name."),
    resource_group: str = GroupOption,
    subscription: str = SubscriptionOption,
    interval: float = typer.Option(30.0, "--interval", metavar="SECONDS", min=1.0, help="Seconds between polls."),
    start: bool = typer.Option(False, "--start", metavar="", help="Start a run of the template first, then follow it."),
    auth_mode: AuthMode = AuthOption,
    output: Format = OutputOption,
    rules: list[Path] = RulesOption,
) -> ExitCode:
    """Follow a running build live: phase, customizer, elapsed time against the timeout, new log lines; then its report.

    Ctrl-C stops watching and leaves the build running (exit 130).

    \b
    Examples:
      aib-doctor watch win2022-golden -g rg-images
      aib-doctor watch win2022-golden -g rg-images --start --interval 15
      aib-doctor watch win2022-golden -g rg-images -o json > report.json
    """
    from aib_doctor.azure import connect
    from aib_doctor.azure.templates import ArmTemplateSource
    from aib_doctor.core.scan import pattern_table
    from aib_doctor.template.watch import Watch

    catalog = _catalog(rules)
    table = pattern_table(catalog)
    source = ArmTemplateSource(connect(subscription), auth_mode.value)
    clock, sleep = WATCH_TIME
    watcher = Watch(source, resource_group, name, catalog, table, clock, sleep, interval, start)
    try:
        with _watch_display(output) as show:
            result = watcher.run(show)
    except KeyboardInterrupt:
        say("aib-doctor: stopped watching; the build goes on in Azure")
        return ExitCode.INTERRUPTED
    for note in result.notes:
        say(f"aib-doctor: {note}")
    emit(result.report, output)
    return ExitCode.UNAVAILABLE if result.log_unavailable else exit_code_for(result.report)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


WATCH_TIME = (_utc_now, time.sleep)
"""watch's clock and sleep; the tests hand in their own and never sleep."""


@contextmanager
def _watch_display(fmt: Format):
    """A `show(poll)` callable: a live panel on a terminal; else one plain line per change (stdout for text, stderr
    for JSON and Markdown, whose report must stay alone on stdout)."""
    from aib_doctor.core.redact import redacted
    from aib_doctor.render.watch_view import watch_lines, watch_panel

    out = _console()
    previous = None
    if fmt is Format.text and out.is_terminal:
        from rich.live import Live

        recent: list[str] = []
        with Live(console=out, auto_refresh=False, transient=True) as live:

            def show(poll):
                poll = redacted(poll)  # new log lines are the log's own text
                for line in [*poll.notes, *(f"warning: {w}" for w in poll.warnings)]:
                    live.console.print(line, markup=False)
                recent[:] = (recent + list(poll.lines))[-8:]
                live.update(watch_panel(poll, recent), refresh=True)

            yield show
        return
    stream = sys.stdout if fmt is Format.text else sys.stderr

    def show(poll):
        nonlocal previous
        poll = redacted(poll)  # new log lines are the log's own text
        for line in watch_lines(poll, previous):
            stream.write(line + "\n")
        stream.flush()
        previous = poll

    yield show


@app.command("fetch-log", cls=PlainHelpCommand, short_help="Download a template's log, or a redacted bundle.")
@command
def fetch_log(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The image template's name."),
    resource_group: str = GroupOption,
    subscription: str = SubscriptionOption,
    output_file: Path = typer.Option(None, "--output-file", "-o", metavar="PATH", help="Where to write the log (a folder with --run all)."),
    run: str = typer.Option("latest", "--run", metavar="latest|GUID|all", help="latest, a run folder GUID, or all."),
    bundle: Path = typer.Option(None, "--bundle", metavar="FOLDER", help="Write template.json, status.json and the logs, redacted, into this folder."),
    force: bool = typer.Option(False, "--force", metavar="", help="Replace existing files."),
    auth_mode: AuthMode = AuthOption,
) -> ExitCode:
    """Download a template's customization.log (and validation.log), or a redacted bundle for offline analysis.

    \b
    Examples:
      aib-doctor fetch-log win2022-golden -g rg-images -o customization.log
      aib-doctor fetch-log win2022-golden -g rg-images --run all -o logs/
      aib-doctor fetch-log win2022-golden -g rg-images --bundle case-1234 && aib-doctor analyze case-1234
    """
    from aib_doctor.azure import connect
    from aib_doctor.azure.templates import ArmTemplateSource
    from aib_doctor.template.diagnosis import locate_logs
    from aib_doctor.template.fetch import fetch_logs, write_bundle

    source = ArmTemplateSource(connect(subscription), auth_mode.value)
    document = source.template(resource_group, name)
    located = locate_logs(source, resource_group, name, document, run)
    for note in located.notes:
        say(f"aib-doctor: {note}")
    if not located.selected:
        raise LogUnavailable(f"no log in {located.staging_group}/packerlogs yet: the build has not written one")
    with _progress() as progress:
        if bundle is not None:
            written = write_bundle(bundle, document, located, force, progress)
        else:
            written = fetch_logs(name, located, output_file, run == "all", force, progress)
    for path, size in written:
        say(f"aib-doctor: wrote {path} ({size:,} bytes)")
    return ExitCode.OK


CHECK_HELP = """Scheduled fleet check for cron: diagnose only the templates whose last run changed since the
previous check and report what is new. Exit codes for cron: 0 no new failures; 1 new failures;
4 Azure unreachable, or a template's diagnosis failed (the summary counts them; they are retried next time); 2 usage error.

\b
Examples:
  aib-doctor check --all-subscriptions --exclude 'test-*'
  AIB_DOCTOR_NOTIFY=https://hooks.slack.com/services/... aib-doctor check -g rg-images
  aib-doctor check --subscription SUB --prometheus /var/lib/node_exporter/aib.prom -o json"""


@app.command(help=CHECK_HELP, cls=PlainHelpCommand, short_help="Fleet check for cron: report only what is new.")
@command
def check(
    ctx: typer.Context,
    subscription: list[str] = typer.Option(
        None, "--subscription", metavar="TEXT", envvar="AZURE_SUBSCRIPTION_ID", help="Repeatable. Else the config file, else the Azure CLI's default."
    ),
    all_subscriptions: bool = typer.Option(False, "--all-subscriptions", metavar="", help="Every subscription the identity can see."),
    resource_group: list[str] = typer.Option(None, "--resource-group", "-g", metavar="TEXT", help="Repeatable: only these groups."),
    template_names: list[str] = typer.Option(None, "--template", metavar="TEXT", help="Repeatable: only these templates."),
    exclude: list[str] = typer.Option(None, "--exclude", metavar="PATTERN", help="Repeatable name pattern to leave out (fnmatch, e.g. 'test-*')."),
    exclude_tag: list[str] = typer.Option(None, "--exclude-tag", metavar="KEY[=VALUE]", help="Repeatable: leave out templates tagged key or key=value."),
    state: Path = typer.Option(None, "--state", metavar="FOLDER", envvar="AIB_DOCTOR_STATE", help="State folder (default: the user's state directory)."),
    wait: float = typer.Option(0, "--wait", metavar="SECONDS", help="Seconds to wait for another running check to finish."),
    notify_url: str = typer.Option(
        None,
        "--notify",
        metavar="URL",
        envvar="AIB_DOCTOR_NOTIFY",
        help="Webhook (Slack or Teams) for new failures and recoveries. A webhook URL is a secret: prefer the env var or the config file to a flag.",
    ),
    prometheus: Path = typer.Option(None, "--prometheus", metavar="PATH", help="Write a node_exporter textfile here."),
    evidence_keep: int = typer.Option(10, "--keep-evidence", metavar="N", help="Evidence folders kept per template."),
    auth_mode: AuthMode = AuthOption,
    output: Format = OutputOption,
    rules: list[Path] = RulesOption,
) -> ExitCode:
    from aib_doctor.fleet.check import Scope
    from aib_doctor.fleet.run import run_fleet_check
    from aib_doctor.fleet.state import StateLocked

    scope = Scope(
        tuple(subscription or ()),
        all_subscriptions,
        tuple(resource_group or ()),
        tuple(template_names or ()),
        tuple(exclude or ()),
        tuple(exclude_tag or ()),
    )
    try:
        result = run_fleet_check(scope, state, wait, notify_url, prometheus, evidence_keep, auth_mode.value, catalog=_catalog(rules))
    except StateLocked as exc:
        say(f"aib-doctor: {exc}; this check did nothing (use --wait to queue behind it)")
        return ExitCode.OK
    from aib_doctor.core.redact import redacted
    from aib_doctor.render import render_check

    write_out(render_check(redacted(result), output))
    if result.new_failures:
        return ExitCode.DIAGNOSED
    return ExitCode.UNAVAILABLE if result.errors else ExitCode.OK


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


def _progress():
    """A rich progress bar on a terminal; a silent stand-in otherwise."""
    from contextlib import nullcontext

    if not _may_be_terminal(sys.stderr):
        return nullcontext(None)
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    stderr = _console(stderr=True)
    if not stderr.is_terminal:
        return nullcontext(None)
    return Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=stderr)


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

    catalog = _catalog(rules)
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


def main() -> None:
    if _no_color():
        import typer.rich_utils

        typer.rich_utils.COLOR_SYSTEM = None  # typer's own switch for its help and error panels (None: no styles at all)
    app()
