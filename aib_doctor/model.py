"""The project's own data: frozen dataclasses passed between the core, the adapters and the renderers.

The closed vocabularies (status, severity, source, category, confidence, basis) are Literal types;
strings from outside (the catalog's YAML, the check registry) are checked against them once, on load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from aib_doctor.model_commands import AzureTemplate, LogRead, RunOutput

Category = Literal[
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
]
Severity = Literal["error", "warning", "info"]
Source = Literal["lastRunStatus", "provisioningError", "customization.log", "validation.log", "input", "template"]
"""Where a text came from. "input" is pasted text of unknown origin: every rule may match it."""
Status = Literal["failed", "succeeded", "running", "unknown"]
Transition = Literal["new_failure", "still_failing", "recovered", "new_template", "changed", "unchanged", "gone", "error"]
"""What a fleet check saw happen to a template since the previous check."""
SubjectKind = Literal["log", "text", "template", "bundle"]
Confidence = Literal["high", "medium", "low"]
Basis = Literal["signature", "partial", "error-code", "vocabulary", "timeline", "template"]
"""How a finding was reached: a whole known signature, its distinctive part, an error code, the category's
vocabulary, what the timeline shows, or the template itself (TPL and PRE checks)."""

CATEGORIES: tuple[Category, ...] = get_args(Category)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
SOURCES: tuple[Source, ...] = get_args(Source)
BASES: tuple[Basis, ...] = get_args(Basis)
CONFIDENCES: tuple[Confidence, ...] = get_args(Confidence)
PHASES = ("deploy", "connect", "customize", "deprovision", "capture", "cleanup", "finished")


@dataclass(frozen=True)
class Pattern:
    """One regular expression of a rule, in the syntax RE2 and Python share."""

    regex: str
    role: str
    """"any", "all", "none", "facts" or "partial": how the rule combines it. A "partial" pattern (the
    signature's distinctive phrase) fires the rule alone, at medium confidence, when the rest is missing."""
    literals: tuple[tuple[bytes, ...], ...] | None = None
    """Groups of lower-cased text, one of each of which every match contains (core.literals); None when none is known."""
    loose: str = ""
    """The pattern loosened for logical text (core.logical.loosen)."""
    loose_literals: tuple[tuple[bytes, ...], ...] | None = None
    """The loosened pattern's literals."""


@dataclass(frozen=True)
class TimelineCondition:
    """What a `basis: timeline` rule asks of the build's timing besides its patterns (aib_doctor.core.timing)."""

    running: str | None = None
    """A regex the Packer type of the customizer still running at the end must match."""
    not_running: str | None = None
    """A regex it must not match (the same build left to a more specific rule)."""
    near_timeout: float | None = None
    """The build ran at least this fraction of the timeout in effect (and not far past it)."""
    silence_minutes: int | None = None
    """The log printed nothing dated for at least this long before the build ended."""


@dataclass(frozen=True)
class Rule:
    """One known error signature, loaded from the catalog's YAML."""

    id: str
    name: str
    category: Category
    severity: Severity
    priority: int
    """Higher is more specific; the primary finding is the highest-priority real cause."""
    title: str
    cause: str
    fix: str
    patterns: tuple[Pattern, ...]
    where: tuple[Source, ...]
    """Sources the rule may match; "input" always may."""
    unless: str | None = None
    """A line matching this never counts as a match of this rule (e.g. a command echoing the error text)."""
    details: tuple[str, ...] = ()
    """Sentences with {placeholders}, each added to the cause when every placeholder is known."""
    docs: tuple[str, ...] = ()
    basis: Basis = "signature"
    """"signature" for a rule matched by its patterns, "error-code" for one generated from the code table,
    "timeline" for one that also states conditions on the build's timing."""
    timeline: TimelineCondition | None = None
    context: int = 0
    """Lines printed just above the first match to quote with it (what a script printed before it exited)."""


@dataclass(frozen=True)
class Evidence:
    """A line that shows why a finding was reached, where it was read."""

    source: Source
    line: int | None
    """1-based, in the source; None where the position is unknown (a tail window of a log, a template)."""
    text: str
    matched: str = field(default="", compare=False)
    """The phrase in text that the rule matched: a shortened line keeps it in view. Not part of the JSON report,
    nor of equality (the same line matched by two patterns is one piece of evidence)."""


@dataclass(frozen=True)
class TemplateLocation:
    """Where in a template file a check (TPL or PRE) found its problem, and what it found there."""

    pointer: str
    """JSON pointer into the file."""
    message: str
    """What is wrong there, in a few words ("buildTimeoutInMinutes is 4")."""
    template: str = ""
    """The template's name (a file may hold several)."""
    line: int | None = None


@dataclass(frozen=True)
class Finding:
    """One explained problem: an AIB rule that fired, or a TPL / PRE check that found a gap in the template."""

    rule: str
    """AIB###, TPL### or PRE###."""
    name: str
    category: Category
    severity: Severity
    title: str
    cause: str
    fix: str
    evidence: tuple[Evidence, ...]
    docs: tuple[str, ...]
    confidence: Confidence = "high"
    basis: Basis = "signature"
    location: TemplateLocation | None = None
    """Set for TPL and PRE findings."""


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
    """Where the build stopped: its phase, the customizer running then, and a sentence that says so."""

    phase: str | None
    customizer: int | None
    """Index into Timeline.customizers, when the failure happened inside one."""
    description: str


@dataclass(frozen=True)
class Timeline:
    """What the build went through, as its log tells it: phases, customizers and the step that failed."""

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
class Subject:
    """What was analyzed: a file (log, pasted text, template JSON), a bundle folder, or a template in Azure."""

    kind: SubjectKind | None = None
    file: str | None = None
    folder: str | None = None
    id: str | None = None
    name: str | None = None
    azure: AzureTemplate | None = None
    """Set for a template read from Azure."""
    outputs: tuple[RunOutput, ...] | None = None
    """A succeeded build's artifacts."""
    log: LogRead | None = None


@dataclass(frozen=True)
class Report:
    """One diagnosis: what was analyzed, its status, the primary finding and the others, the timeline."""

    status: Status
    subject: Subject
    primary: Finding | None
    findings: tuple[Finding, ...]
    timeline: Timeline
    error_lines: tuple[Evidence, ...] = ()
    """The last error-looking lines, shown when no rule explains a failure."""


COMMAND_TYPES = frozenset(
    {"Check", "LintResult", "RunOutput", "LogRead", "AzureTemplate", "WatchPoll", "StorageAccount", "RunLogs", "TemplateSummary", "Outcome", "CheckResult"}
)
"""The types of the commands besides analyze (lint, template, watch, check), kept in model_commands.py and
importable from here: they are built when first named, so a pasted text's diagnosis starts without them."""


def __getattr__(name: str):
    if name in COMMAND_TYPES:
        from aib_doctor import model_commands

        return getattr(model_commands, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
