"""The project's own data: frozen dataclasses passed between the core, the adapters and the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field

CATEGORIES = (
    "permissions",
    "policy",
    "quota_capacity",
    "subscription_setup",
    "template_conflict",
    "template_invalid",
    "source_image",
    "artifact_download",
    "network",
    "customizer_failed",
    "build_timeout",
    "windows_update",
    "resource_exhaustion",
    "deprovision",
    "distribution",
    "service_side",
    "devops_pipeline",
    "benign",
)
SEVERITIES = ("error", "warning", "info")
# Where a text came from. "input" is pasted text of unknown origin: every rule may match it.
SOURCES = ("lastRunStatus", "provisioningError", "customization.log", "input", "template")
# How a finding was reached (DESIGN.md): a whole signature, its distinctive part, an error code, the
# category's vocabulary, the timeline, or the template itself.
BASES = ("signature", "partial", "error-code", "vocabulary", "timeline", "template")
CONFIDENCES = ("high", "medium", "low")
PHASES = ("deploy", "connect", "customize", "deprovision", "capture", "cleanup", "finished")


@dataclass(frozen=True)
class Pattern:
    """One regular expression of a rule, in the syntax RE2 and Python share."""

    regex: str
    role: str
    """"any", "all", "none", "facts" or "partial": how the rule combines it. A "partial" pattern (the
    signature's distinctive phrase) fires the rule alone, at medium confidence, when the rest is missing."""


@dataclass(frozen=True)
class Rule:
    """One known error signature, loaded from the catalog's YAML."""

    id: str
    name: str
    category: str
    severity: str
    priority: int
    """Higher is more specific; the primary finding is the highest-priority real cause."""
    title: str
    cause: str
    fix: str
    patterns: tuple[Pattern, ...]
    where: tuple[str, ...]
    """Sources the rule may match; "input" always may."""
    unless: str | None = None
    """A line matching this never counts as a match of this rule (e.g. a command echoing the error text)."""
    details: tuple[str, ...] = ()
    """Sentences with {placeholders}, each added to the cause when every placeholder is known."""
    docs: tuple[str, ...] = ()
    basis: str = "signature"
    """"signature" for a rule matched by its patterns, "error-code" for one generated from the code table."""


@dataclass(frozen=True)
class Evidence:
    source: str
    line: int | None
    text: str


@dataclass(frozen=True)
class Finding:
    rule: str
    name: str
    category: str
    severity: str
    title: str
    cause: str
    fix: str
    evidence: tuple[Evidence, ...]
    docs: tuple[str, ...]
    confidence: str = "high"
    basis: str = "signature"


@dataclass(frozen=True)
class CustomizerRun:
    """One `(telemetry) Starting provisioner X` ... `ending X` pair from the log."""

    type: str
    index: int
    started: str | None
    ended: str | None
    seconds: int | None
    status: str
    """"ok", "failed" (started, never ended, build failed) or "running" (log ends inside it)."""
    name: str | None = None
    start_line: int | None = None
    end_line: int | None = None


@dataclass(frozen=True)
class FailedStep:
    phase: str | None
    customizer: int | None
    """Index into Timeline.customizers, when the failure happened inside one."""
    description: str


@dataclass(frozen=True)
class Timeline:
    operation_id: str | None = None
    os: str | None = None
    communicator: str | None = None
    phases: tuple[str, ...] = ()
    customizers: tuple[CustomizerRun, ...] = ()
    failed_step: FailedStep | None = None


@dataclass(frozen=True)
class BuildStatus:
    """What the template resource says about itself (provisioningState and lastRunStatus)."""

    provisioning_state: str | None = None
    provisioning_error_code: str | None = None
    provisioning_error_message: str | None = None
    run_state: str | None = None
    run_sub_state: str | None = None
    message: str | None = None
    start_time: str | None = None
    end_time: str | None = None


@dataclass(frozen=True)
class Report:
    status: str
    """"failed", "succeeded", "running" or "unknown"."""
    subject: dict
    primary: Finding | None
    findings: tuple[Finding, ...]
    timeline: Timeline
    error_lines: tuple[Evidence, ...] = ()
    """The last error-looking lines, shown when no rule explains a failure."""


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
    transition: str
    """new_failure, still_failing, recovered, new_template, changed, unchanged, gone or error."""
    status: str
    report: dict | None = None
    evidence: str | None = None
    error: str | None = None


@dataclass
class CheckResult:
    outcomes: list[Outcome] = field(default_factory=list)
    discovery: str = ""
    notifications_sent: int = 0
    notifications_pending: int = 0

    @property
    def new_failures(self) -> int:
        return sum(o.transition == "new_failure" for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.transition] = counts.get(outcome.transition, 0) + 1
        return counts
