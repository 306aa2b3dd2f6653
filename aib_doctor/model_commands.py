"""The model's types of the commands besides analyze: template checks and lint results, what the Azure
reads return (templates, run outputs, staging storage and logs), `watch`'s polls and the fleet `check`.

Kept apart from model.py, which names them too (module __getattr__), because building a frozen dataclass costs
about a millisecond at import and a pasted text's diagnosis needs none of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aib_doctor.model import Category, Finding, Report, Severity, Status, Transition


@dataclass(frozen=True)
class Check:
    """A template check as `rules`, SARIF and a diagnosis describe it: TPL### offline (lint), PRE### online (preflight)."""

    id: str
    name: str
    severity: Severity
    category: Category
    title: str
    cause: str
    fix: str
    explains: tuple[str, ...] = ()
    """AIB rules whose failure this problem causes: a diagnosis names the check when both appear."""


@dataclass(frozen=True)
class LintResult:
    """The checks of one file, which may hold several templates (an ARM template)."""

    file: str
    templates: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    unresolved: tuple[str, ...] = ()
    """ARM expressions that could not be evaluated offline (parameters without defaults, functions)."""


@dataclass(frozen=True)
class RunOutput:
    """One artifact of a succeeded build (the template's runOutputs)."""

    name: str
    artifact_id: str | None = None
    artifact_uri: str | None = None


@dataclass(frozen=True)
class LogRead:
    """The log a template diagnosis read: where it was found, and how much of it was read."""

    account: str
    staging_resource_group: str
    found_by: str
    """Which clue found the staging group: message, exactStagingResourceGroup, stagingResourceGroup, tags or name."""
    blob: str
    also: tuple[str, ...] = ()
    """The run's other logs, read whole with it (validation.log)."""
    size: int = 0
    read_from: int = 0
    """0 when the whole log was read; else where the tail window started."""
    bytes_read: int = 0


@dataclass(frozen=True)
class AzureTemplate:
    """A template read from Azure: where it lives, its build VM and timeout, and its last run's state.

    Every field is stated in the report, null where Azure says nothing."""

    resource_group: str
    subscription: str
    vm_size: str | None = None
    build_timeout_minutes: int | None = None
    provisioning_state: str | None = None
    run_state: str | None = None
    run_sub_state: str | None = None
    start_time: str | None = None
    end_time: str | None = None


@dataclass(frozen=True)
class WatchPoll:
    """What one poll of `watch` saw of a running build; the renderers show what changed."""

    at: str
    """The poll's time, UTC, ISO 8601."""
    phase: str
    """runSubState (Queued, Building, Customizing, ...), else runState."""
    elapsed_seconds: int | None
    timeout_minutes: int
    customizer: str | None = None
    """The customizer in progress, described with its template name and index."""
    customizer_seconds: int | None = None
    lines: tuple[str, ...] = ()
    """The newest log lines added since the previous poll (redacted, prefixes stripped)."""
    bytes_read: int = 0
    """Bytes of the log read by this poll: only what was added since the previous one."""
    log_size: int | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class StorageAccount:
    """A storage account of a build's staging resource group, where its logs are."""

    name: str
    resource_group: str
    blob_endpoint: str
    """primaryEndpoints.blob from ARM: sovereign clouds and emulators use other hosts."""
    id: str


@dataclass(frozen=True)
class RunLogs:
    """One run's folder in the `packerlogs` container."""

    folder: str
    last_modified: str
    size: int
    """Size of customization.log."""
    logs: tuple[str, ...]
    """Blob names: customization.log first, then validation.log when present."""


@dataclass(frozen=True)
class TemplateSummary:
    """One template as a fleet listing shows it (Resource Graph or a per-subscription list)."""

    id: str
    name: str
    resource_group: str
    subscription: str
    provisioning_state: str | None = None
    run_state: str | None = None
    run_sub_state: str | None = None
    message: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    tags: tuple[tuple[str, str], ...] = ()


@dataclass
class Outcome:
    template: TemplateSummary
    transition: Transition
    status: Status
    report: Report | None = None
    """The diagnosis of a failed run that changed since the previous check."""
    evidence: str | None = None
    """The folder where a new failure's report and log were kept."""
    error: str | None = None


@dataclass
class CheckResult:
    outcomes: list[Outcome] = field(default_factory=list)
    discovery: str = ""
    notifications_sent: int = 0
    notifications_pending: int = 0
    notifications_note: str = ""
    """Why notifications stayed queued (the webhook did not answer), when they did."""

    @property
    def errors(self) -> int:
        """Templates whose diagnosis failed this time (Azure or their log could not be read); retried next time."""
        return sum(o.transition == "error" for o in self.outcomes)

    @property
    def new_failures(self) -> int:
        return sum(o.transition == "new_failure" for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.transition] = counts.get(outcome.transition, 0) + 1
        return counts
