"""Status + scans of every source + the catalog -> one Report, with the root cause as the primary finding.

Ranking lives in the rule data: the primary is the fired rule with the highest priority (specific
causes high, wrappers such as "Packer build command has failed" low, benign notes never), and
among equals the one whose evidence comes first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from aib_doctor.core.catalog import Catalog, fill_details
from aib_doctor.core.scan import PatternTable, ScanResult
from aib_doctor.core.template_facts import name_customizers, properties, template_facts
from aib_doctor.core.timeline import TimelineBuilder, describe_run
from aib_doctor.lint import check_info, lint_document
from aib_doctor.model import BuildStatus, Evidence, Finding, Report, Rule, Subject, Timeline

EVIDENCE_PER_FINDING = 6
SOURCE_ORDER = {"provisioningError": 0, "lastRunStatus": 1, "template": 2, "input": 3, "customization.log": 4}
_FAILED_RUN_STATES = {"failed", "partiallysucceeded", "canceled"}
_RUNNING_RUN_STATES = {"running", "canceling"}


def build_state(status: BuildStatus | None) -> str | None:
    """failed / succeeded / running from the template's own status; None when it says nothing."""
    if status is None:
        return None
    provisioning = (status.provisioning_state or "").lower()
    run = (status.run_state or "").lower()
    if provisioning == "failed" or run in _FAILED_RUN_STATES:
        return "failed"
    if run in _RUNNING_RUN_STATES or provisioning in ("creating", "updating"):
        return "running"
    if run == "succeeded":
        return "succeeded"
    return None


def diagnose(
    scans: Sequence[ScanResult],
    catalog: Catalog,
    table: PatternTable,
    status: BuildStatus | None = None,
    subject: Subject | None = None,
    template: dict | None = None,
    preflight: Sequence[Finding] = (),
) -> Report:
    """`template` (the resource as ARM returns it) adds its VM size, timeout, customizer names and lint issues;
    `preflight` issues found online join them."""
    logs = [s for s in scans if s.source in ("customization.log", "input")]
    builder = logs[0].timeline if logs else TimelineBuilder()
    fired = [(rule, hits) for rule in catalog if (hits := _fire(rule, table, scans))]
    state = build_state(status)
    if state is None:
        log_failed = builder.failed or any(r.severity == "error" and r.category != "benign" for r, _ in fired)
        state = "failed" if log_failed else "succeeded" if builder.finished else "unknown"
    fired.sort(key=lambda item: _rank(item[0], item[1][0]))
    cause = next((i for i, (rule, _) in enumerate(fired) if rule.category != "benign" and rule.severity != "info"), None)
    # The log line of the root cause tells which customizer failed when all of them have an `ending`.
    cause_line = None
    if cause is not None:
        cause_line = next((e.line for e in fired[cause][1][0] if e.source in ("customization.log", "input")), None)
    timeline = builder.build(failed=state == "failed", error_line=cause_line)
    facts = {}
    if template is not None:
        timeline = name_customizers(timeline, template, whole_log=bool(logs) and logs[0].numbered)
        facts = template_facts(template)
    facts |= _facts(timeline)
    findings = [_finding(rule, evidence, facts | groups) for rule, (evidence, groups) in fired]
    primary = None
    # A succeeded or running build has notes, not a cause; unknown input (a pasted excerpt) may have one.
    if cause is not None and state in ("failed", "unknown"):
        primary = findings.pop(cause)
        findings.insert(0, primary)
    if template is not None:
        primary, findings = _with_lint(template, primary, findings, preflight)
    errors: tuple[Evidence, ...] = ()
    if state == "failed" and primary is None:
        errors = tuple(sorted((e for s in scans for e in s.error_lines), key=_position))[-8:]
    return Report(state, subject or Subject(), primary, tuple(findings), timeline, errors)


def _with_lint(template: dict, primary: Finding | None, findings: list[Finding], extra: Sequence[Finding] = ()) -> tuple[Finding | None, list[Finding]]:
    """The template's lint (and preflight) findings as secondary findings; the primary names the one that explains it."""
    if not {"source", "customize", "distribute"} & set(properties(template)):
        return primary, findings  # a status-only document: nothing to lint
    issues = [*lint_document(template).findings, *extra]
    for issue in issues:
        if primary is not None and issue.location is not None and primary.rule in check_info(issue.rule).explains:
            note = f" The template shows why: {issue.rule} {issue.name}, {issue.location.message} at {issue.location.pointer}."
            primary = replace(primary, cause=primary.cause + note)
            findings[0] = primary
            break
    return primary, findings + issues


def _fire(rule: Rule, table: PatternTable, scans: Sequence[ScanResult]):
    """(evidence, named groups) when the rule fires over all its sources together, else None."""
    seen: dict[str, list] = {"any": [], "all": [], "none": [], "facts": []}
    for index, role in table.rule_entries[rule.id]:
        hits = [s.hits[index] for s in scans if index in s.hits]
        seen[role].append(hits)
    if seen["any"] and not any(seen["any"]):
        return None
    if not all(seen["all"]) or any(seen["none"]):
        return None
    evidence: dict[Evidence, None] = {}
    groups: dict[str, str] = {}
    for role in ("all", "any", "facts"):
        for hits in seen[role]:
            for hit in hits:
                if role != "facts":
                    evidence.update(dict.fromkeys(hit.evidence))
                for key, value in hit.groups.items():
                    groups.setdefault(key, value)
    ordered = tuple(sorted(evidence, key=_position)[:EVIDENCE_PER_FINDING])
    return ordered, groups


def _finding(rule: Rule, evidence: tuple[Evidence, ...], facts: dict[str, str]) -> Finding:
    return Finding(
        rule=rule.id,
        name=rule.name,
        category=rule.category,
        severity=rule.severity,
        title=rule.title,
        cause=fill_details(rule, facts),
        fix=rule.fix,
        evidence=evidence,
        docs=rule.docs,
    )


def _facts(timeline: Timeline) -> dict[str, str]:
    """What the timeline can add to a rule's detail sentences."""
    facts: dict[str, str] = {}
    step = timeline.failed_step
    if step is not None:
        facts["failed_step"] = step.description
        if step.customizer is not None:
            facts["failed_customizer"] = describe_run(timeline.customizers[step.customizer])
    unfinished = [c for c in timeline.customizers if c.status != "ok"]
    if unfinished:
        facts["running_customizer"] = describe_run(unfinished[-1])
    done = [c for c in timeline.customizers if c.status == "ok" and c.name != "deprovisioning"]
    if done and all(c.seconds is not None for c in done):
        facts["customize_seconds"] = str(sum(c.seconds for c in done))
    return facts


def _position(evidence: Evidence) -> tuple[int, int]:
    return SOURCE_ORDER.get(evidence.source, 9), evidence.line or 0


def _rank(rule: Rule, evidence: tuple[Evidence, ...]) -> tuple:
    """Benign last; then the most specific cause; then the one seen first."""
    first = _position(evidence[0]) if evidence else (9, 0)
    return (rule.category == "benign", -rule.priority, first, rule.id)
