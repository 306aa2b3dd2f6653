"""From a template name to a report: fetch the template, find its newest log, read it tail-first, diagnose.

Azure is reached through the ports (aib_doctor.template.ports); this module holds the order of the
look-ups and what to do when one of them comes back empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from aib_doctor.core.catalog import Catalog
from aib_doctor.core.diagnose import build_state, diagnose
from aib_doctor.core.inputs import status_scans, template_status
from aib_doctor.core.redact import redact_chunks
from aib_doctor.core.scan import PatternTable, ScanResult
from aib_doctor.core.template_facts import properties, template_facts
from aib_doctor.errors import InputError, LogUnavailable
from aib_doctor.files import file_chunks, write_atomic
from aib_doctor.lint.preflight import ArmReader, preflight_document
from aib_doctor.model import AzureTemplate, LogRead, Report, RunLogs, Subject
from aib_doctor.template.ports import LogStore, Progress, TemplateSource
from aib_doctor.template.staging import LogLocation, choose_staging_group, parse_log_location
from aib_doctor.template.tail import diagnose_log, scan_whole


@dataclass
class LocatedLog:
    store: LogStore
    account: str
    """The storage account's name."""
    selected: list[RunLogs]
    """The run folders asked for (--run): the newest or the one the status names, one by GUID, or all."""
    staging_group: str
    route: str
    """Which clue found the staging group (template.staging.StagingChoice.route)."""
    notes: list[str] = field(default_factory=list)


def locate_logs(source: TemplateSource, resource_group: str, name: str, template: dict, run: str = "latest") -> LocatedLog:
    """The staging group, its storage account, and the run folder(s) asked for."""
    props = properties(template)
    location = parse_log_location((props.get("lastRunStatus") or {}).get("message"))

    def groups():  # listed only when the message and the template name no group
        yield from source.resource_groups()

    choice = choose_staging_group(resource_group, name, props, groups())
    if choice is None:
        raise LogUnavailable(
            f"no staging resource group found for template {name!r}: none is named in its status, properties or tags, "
            f"and no group is named IT_{resource_group}_{name}_<guid>; it was probably deleted, and the logs with it"
        )
    accounts = source.storage_accounts(choice.group)
    if location and location.account:
        accounts = [a for a in accounts if a.name == location.account] or accounts
    if not accounts:
        raise LogUnavailable(
            f"the staging resource group {choice.group!r} holds no storage account: the logs are gone "
            "(the build's resources were removed, or the group was emptied by hand)"
        )
    store, notes = source.log_store(accounts[0])
    return LocatedLog(store, accounts[0].name, _select(store.runs(), run, location), choice.group, choice.route, notes)


def _select(runs: list[RunLogs], run: str, location: LogLocation | None) -> list[RunLogs]:
    if not runs:
        return []
    if run == "all":
        return runs
    if run == "latest":
        # The status message names the exact run that failed; otherwise the newest by last-modified time.
        named = location.blob.split("/")[0] if location and location.blob else None
        return [next((r for r in runs if r.folder == named), runs[0])]
    match = [r for r in runs if r.folder.lower() == run.lower()]
    if not match:
        raise InputError(f"no run {run!r} in packerlogs; runs there: " + ", ".join(r.folder for r in runs))
    return match


@dataclass(frozen=True)
class FollowedLog:
    """A log read already, from byte 0, while a build ran (`watch`): the diagnosis uses it instead of reading again."""

    blob: str
    scan: ScanResult
    size: int
    bytes_read: int


@dataclass
class TemplateDiagnosis:
    report: Report
    notes: list[str]
    log_unavailable: bool = False
    """The build needed its log and it could not be read (exit 4 even with a report)."""
    located: LocatedLog | None = None
    """Where the log was found, for callers that keep a copy (check's evidence)."""


def diagnose_template(
    source: TemplateSource,
    resource_group: str,
    name: str,
    catalog: Catalog,
    table: PatternTable,
    full_log: bool = False,
    arm: ArmReader | None = None,
    template: dict | None = None,
    followed: FollowedLog | None = None,
) -> TemplateDiagnosis:
    """`arm`, when given, runs the preflight against the live template: its gaps join the findings.

    `template`, when given, is the resource as just read; `followed`, the run's log as `watch` read it."""
    template = template if template is not None else source.template(resource_group, name)
    status = template_status(template)
    preflight_issues = preflight_document(arm, template) if arm is not None else []
    facts = template_facts(template)
    azure = AzureTemplate(
        resource_group=resource_group,
        subscription=source.subscription,
        vm_size=(properties(template).get("vmProfile") or {}).get("vmSize"),
        build_timeout_minutes=int(facts["timeout_minutes"]),
        provisioning_state=status.provisioning_state,
        run_state=status.run_state,
        run_sub_state=status.run_sub_state,
        start_time=status.start_time,
        end_time=status.end_time,
    )
    subject = Subject("template", id=template.get("id"), name=name, azure=azure)
    scans = status_scans(status, table)
    state = build_state(status)
    notes: list[str] = []
    # A submission failure has no log; a succeeded build needs none; a template never run has none.
    if (status.provisioning_state or "").lower() == "failed" or state in (None, "succeeded"):
        if state == "succeeded":
            subject = replace(subject, outputs=tuple(source.run_outputs(resource_group, name)))
        elif state is None:
            notes.append(f"template {name!r} has not run yet (provisioningState {status.provisioning_state})")
        return TemplateDiagnosis(diagnose(scans, catalog, table, status, subject, template, preflight_issues), notes)
    try:
        located = locate_logs(source, resource_group, name, template)
    except LogUnavailable as exc:
        notes.append(f"log unavailable: {exc}")
        return TemplateDiagnosis(diagnose(scans, catalog, table, status, subject, template, preflight_issues), notes, state == "failed")
    notes += located.notes
    if not located.selected:
        queued = (status.run_sub_state or "").lower() == "queued"
        notes.append("no log yet: the build is queued" if queued else f"no log in {located.staging_group}/packerlogs yet")
        return TemplateDiagnosis(diagnose(scans, catalog, table, status, subject, template, preflight_issues), notes, state == "failed")
    run = located.selected[0]
    subject = replace(subject, log=LogRead(located.account, located.staging_group, located.route, run.logs[0], also=run.logs[1:]))
    # validation.log is small and written after the build: read it whole when the run has one.
    extra = []
    for blob in run.logs[1:]:
        extra.append(scan_whole(located.store.reader(blob), table, "validation.log" if blob.endswith("validation.log") else "customization.log"))
    if followed is not None and followed.blob == run.logs[0]:
        report = diagnose([*scans, followed.scan, *extra], catalog, table, status, subject, template, preflight_issues)
        log = replace(subject.log, size=followed.size, read_from=0, bytes_read=followed.bytes_read)
        return TemplateDiagnosis(replace(report, subject=replace(report.subject, log=log)), notes, located=located)
    reader = located.store.reader(run.logs[0])
    report = diagnose_log(reader, catalog, table, scans, status, subject, template, full=full_log, extra_scans=extra, preflight=preflight_issues)
    return TemplateDiagnosis(report, notes, located=located)


def save_logs(located: LocatedLog, folder: Path, hook_for: Callable[[str], Progress | None] | None = None) -> None:
    """The selected run's logs into folder, redacted (for bundles and check's evidence).

    `hook_for(blob)` may return a progress callback for that blob's download.
    """
    for blob in located.selected[0].logs:
        target = folder / blob.rsplit("/", 1)[-1]
        raw = target.with_name(f".{target.name}.raw")
        try:
            located.store.download(blob, raw, hook_for(blob) if hook_for else None)
            write_atomic(target, redact_chunks(file_chunks(raw)))
        finally:
            raw.unlink(missing_ok=True)
