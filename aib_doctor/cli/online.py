"""The commands that read Azure: template (diagnose a template and its newest log), watch (follow a running
build), fetch-log (download the log or a redacted bundle) and check (the fleet, from cron).

They build the Azure adapters and hand them to the features (template/, fleet/), which never import them.
"""

# No `from __future__ import annotations`: typer reads the commands' annotations (see app.py).

import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import typer

from aib_doctor.cli.app import (
    AuthMode,
    AuthOption,
    GroupOption,
    NameArgument,
    OutputOption,
    PlainHelpCommand,
    RulesOption,
    SubscriptionOption,
    app,
    catalog_with_packs,
    command,
    emit,
    exit_code_for,
    may_be_terminal,
    rich_console,
    say,
    write_out,
)
from aib_doctor.errors import LogUnavailable
from aib_doctor.exitcodes import ExitCode
from aib_doctor.render import Format


@app.command(cls=PlainHelpCommand, short_help="Diagnose a template and its newest log, from Azure.")
@command
def template(
    ctx: typer.Context,
    name: str = NameArgument,
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

    catalog = catalog_with_packs(rules)
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
    name: str = NameArgument,
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

    catalog = catalog_with_packs(rules)
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

    out = rich_console()
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
    name: str = NameArgument,
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
        result = run_fleet_check(scope, state, wait, notify_url, prometheus, evidence_keep, auth_mode.value, catalog=catalog_with_packs(rules))
    except StateLocked as exc:
        say(f"aib-doctor: {exc}; this check did nothing (use --wait to queue behind it)")
        return ExitCode.OK
    from aib_doctor.core.redact import redacted
    from aib_doctor.render import render_check

    write_out(render_check(redacted(result), output))
    if result.new_failures:
        return ExitCode.DIAGNOSED
    return ExitCode.UNAVAILABLE if result.errors else ExitCode.OK


def _progress():
    """A rich progress bar on a terminal; a silent stand-in otherwise."""
    from contextlib import nullcontext

    if not may_be_terminal(sys.stderr):
        return nullcontext(None)
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    stderr = rich_console(stderr=True)
    if not stderr.is_terminal:
        return nullcontext(None)
    return Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=stderr)
