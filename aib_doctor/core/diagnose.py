"""Status + scans of every source + the catalog -> one Report, with the root cause as the primary finding.

Ranking lives in the rule data: the primary is the fired rule with the highest priority (specific
causes high, wrappers such as "Packer build command has failed" low, benign notes never), and
among equals the one whose evidence comes first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from aib_doctor.core.catalog import Catalog, fill_details
from aib_doctor.core.lazy_regex import LazyRegex
from aib_doctor.core.logical import strip_prefixes
from aib_doctor.core.scan import PatternTable, ScanResult
from aib_doctor.core.template_facts import name_customizers, properties, template_facts
from aib_doctor.core.timeline import TimelineBuilder, describe_run
from aib_doctor.core.timing import fire_timeline_rules
from aib_doctor.core.vocabulary import Fired, Vocabulary, ends_in_success, error_lines, guess_category, is_error, line_evidence, load_vocabulary, text_lines
from aib_doctor.model import CONFIDENCES, BuildStatus, Evidence, Finding, Report, Rule, Subject, Timeline

EVIDENCE_PER_FINDING = 6
CONFIDENCE = {"signature": "high", "partial": "medium", "error-code": "medium", "vocabulary": "low", "timeline": "medium", "template": "high"}
PARTIAL_PENALTY = 10
LOOSE_PENALTY = 4
SOURCE_ORDER = {"provisioningError": 0, "lastRunStatus": 1, "template": 2, "input": 3, "customization.log": 4, "validation.log": 5}
_FAILED_RUN_STATES = {"failed", "partiallysucceeded", "canceled"}
_RUNNING_RUN_STATES = {"running", "canceling"}
_STATED_ERROR = LazyRegex(r"^\s*(?:ERROR|FATAL)\b|^\s*##\[error\]|FullyQualifiedErrorId")
"""A pasted line that says outright that something failed (az CLI, DevOps, PowerShell)."""


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
    vocabulary: Vocabulary | None = None,
) -> Report:
    """`template` (the resource as ARM returns it) adds its VM size, timeout, customizer names and lint issues;
    `preflight` issues found online join them."""
    logs = [s for s in scans if s.source in ("customization.log", "input")]
    builder = logs[0].timeline if logs else TimelineBuilder()
    state = build_state(status)
    fired = [hit for rule in catalog if (hit := _fire(rule, table, scans))]
    log_source = logs[0].source if logs else "input"
    texts = [s.text_for_vocabulary() for s in scans]
    fired = fire_timeline_rules(fired, builder, status, template, log_source, state == "failed" or (state is None and builder.failed))
    benign = _benign_lines(fired, texts, table)
    fired = _without_benign_lines(fired, benign)
    pasted = not any(s.source in ("customization.log", "validation.log") for s in scans)
    lines = text_lines(texts)
    causes = {(e.source, e.line) for f in fired if f.rule.category != "benign" and f.rule.severity == "error" for e in f.evidence if e.line is not None}
    if state is None and pasted and ends_in_success(lines, causes):
        state = "succeeded"  # a paste whose errors were retried: it says so at its end
    if state is None:
        log_failed = builder.failed or any(f.rule.severity == "error" and f.rule.category != "benign" for f in fired)
        state = "failed" if log_failed else "succeeded" if builder.finished else "unknown"
    fired.sort(key=_rank)
    cause = next((i for i, f in enumerate(fired) if f.rule.category != "benign" and f.rule.severity != "info"), None)
    unexplained = _without_explained_lines(texts, benign)
    # What a paste says failed that no benign rule explains (a log's texts are only what the vocabulary reads).
    unexplained_errors = error_lines(text_lines(unexplained)) if pasted else []
    # A log has its own verdict: a log that says nothing failed gets no guess; pasted text may.
    if cause is None and state in ("failed", "unknown"):
        # No signature or code: the category's vocabulary, when the text has error content at all.
        guess = guess_category(vocabulary or load_vocabulary(), unexplained)
        if guess is not None:
            fired.insert(0, guess)
            cause, state = 0, "failed"
    if state == "unknown" and pasted and (unexplained_errors or any(_STATED_ERROR.search(text) for _, _, text in text_lines(unexplained))):
        state = "failed"  # the paste says it failed even when nothing explains why: exit 3, with its error lines
    # The log line of the root cause tells which customizer failed when all of them have an `ending`.
    cause_line = None
    if cause is not None:
        in_log = [e for e in fired[cause].evidence if e.source in ("customization.log", "input")]
        cause_line = next((e.line for e in _matched(in_log)), None)
    elif logs:  # nothing explains it: the last error line inside a customizer still tells which one failed
        inside = [e.line for e in logs[0].error_lines if e.line and any(r.start_line and r.start_line < e.line < (r.end_line or 0) for r in builder.runs())]
        cause_line = inside[-1] if inside else None
    timeline = builder.build(failed=state == "failed", error_line=cause_line)
    facts = {}
    if template is not None:
        timeline = name_customizers(timeline, template, whole_log=bool(logs) and logs[0].numbered)
        facts = template_facts(template)
    facts |= _facts(timeline)
    findings = [_finding(f, facts | f.groups) for f in fired]
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
        if not errors:  # error content in words the scan's markers do not know ("Exited with error code 127")
            errors = tuple(line_evidence(*line) for line in unexplained_errors[-8:])
    return Report(state, subject or Subject(), primary, tuple(findings), timeline, errors)


def _with_lint(template: dict, primary: Finding | None, findings: list[Finding], extra: Sequence[Finding] = ()) -> tuple[Finding | None, list[Finding]]:
    """The template's lint (and preflight) findings as secondary findings; the primary names the one that explains it."""
    if not {"source", "customize", "distribute"} & set(properties(template)):
        return primary, findings  # a status-only document: nothing to lint
    from aib_doctor.lint import check_info, lint_document  # only a template needs the checks: text starts faster

    issues = [*lint_document(template).findings, *extra]
    for issue in issues:
        if primary is not None and issue.location is not None and primary.rule in check_info(issue.rule).explains:
            note = f" The template shows why: {issue.rule} {issue.name}, {issue.location.message} at {issue.location.pointer}."
            primary = replace(primary, cause=primary.cause + note)
            findings[0] = primary
            break
    return primary, findings + issues


def _fire(rule: Rule, table: PatternTable, scans: Sequence[ScanResult]) -> Fired | None:
    """How the rule fires over all its sources together, or None.

    Whole signature: every `all` pattern and one `any` pattern matched. Partial: one of the rule's
    `partial` patterns (its distinctive phrase) without the rest.
    """
    seen: dict[str, list] = {"any": [], "all": [], "none": [], "facts": [], "partial": []}
    for index, role in table.rule_entries[rule.id]:
        hits = [s.hits[index] for s in scans if index in s.hits]
        seen[role].append(hits)
    if any(seen["none"]):
        return None
    has_all = all(seen["all"])
    if has_all and (not seen["any"] or any(seen["any"])):
        basis = rule.basis
    elif any(seen["partial"]):
        basis = "partial"
    else:
        return None
    evidence: dict[Evidence, None] = {}
    groups: dict[str, str] = {}
    loose = True
    for role in ("all", "any", "partial", "facts"):
        for hits in seen[role]:
            for hit in hits:
                if role != "facts":
                    evidence.update(dict.fromkeys(hit.evidence))
                    loose = loose and hit.loose
                for key, value in hit.groups.items():
                    groups.setdefault(key, value)
    ordered = tuple(sorted(evidence, key=_position)[:EVIDENCE_PER_FINDING])
    return Fired(rule, ordered, groups, basis, loose)


def _without_benign_lines(fired: list[Fired], benign: set[tuple[str, int]]) -> list[Fired]:
    """A line a benign rule explains (cleanup retries, "Will retry") is no evidence of a failure: other
    rules lose it, and a rule left with no evidence does not fire."""
    if not benign:
        return fired
    kept = []
    for f in fired:
        if f.rule.category == "benign":
            kept.append(f)
            continue
        evidence = tuple(e for e in f.evidence if (e.source, e.line) not in benign)
        if evidence:
            kept.append(replace(f, evidence=evidence))
    return kept


# A PowerShell error record ends with its FullyQualifiedErrorId line, a few lines below the message; the
# lines between say where it happened and what kind of error it was, nothing of another error.
_RECORD_END = LazyRegex(r"FullyQualifiedErrorId\s*:")
_RECORD_LINES = 12
_RECORD_TAIL = LazyRegex(r"\bAt (?:line:\d|\S+:\d+ char:)|(?:^|\s)\+(?:\s|$)|~~~|is not recognized|name of a cmdlet|Exception\b")


def _benign_lines(fired: list[Fired], texts, table: PatternTable) -> set[tuple[str, int]]:
    """The lines benign rules explain: every line of the texts their patterns match (a finding keeps only
    its first few as evidence), and the rest of the PowerShell error record such a line starts (its
    position, category and error id lines say nothing the message did not)."""
    harmless = [f for f in fired if f.rule.category == "benign"]
    explained = {(e.source, e.line) for f in harmless for e in f.evidence if e.line is not None}
    if not explained:
        return explained
    patterns = [table.entries[i].regex for f in harmless for i, role in table.rule_entries[f.rule.id] if role in ("any", "all")]
    explained |= {(source, n) for source, lines in texts for n, text in lines if n is not None and _matches(patterns, text)}
    benign = set(explained)
    for source, lines in texts:
        numbered = [(n, t) for n, t in lines if n is not None]
        for i, (start, _) in enumerate(numbered):
            if (source, start) not in explained:
                continue
            record = []
            for n, text in numbered[i + 1 :]:
                if n - start > _RECORD_LINES:
                    break
                record.append(n)
                if _RECORD_END.search(text):
                    benign |= {(source, m) for m in record}
                    break
                if is_error(text) and (source, n) not in explained and not _RECORD_TAIL.search(text):
                    break  # another error's message: this benign line heads no record
    return benign


def _matches(patterns, text: str) -> bool:
    """A pattern matches the line as it is or its message (prefixes and Markdown bold removed)."""
    message = strip_prefixes(text)
    return any(p.search(text) or p.search(message) for p in patterns)


def _without_explained_lines(texts, benign: set[tuple[str, int]]):
    """The texts less the lines a benign rule explained (a cleanup retry is not the error to guess from)."""
    if not benign:
        return texts
    return [(source, tuple((n, t) for n, t in lines if (source, n) not in benign)) for source, lines in texts]


def _finding(fired: Fired, facts: dict[str, str]) -> Finding:
    rule = fired.rule
    return Finding(
        rule=rule.id,
        name=rule.name,
        category=rule.category,
        severity=rule.severity,
        title=rule.title,
        cause=fill_details(rule, facts),
        fix=rule.fix,
        evidence=fired.evidence,
        docs=rule.docs,
        confidence=CONFIDENCE[fired.basis],
        basis=fired.basis,
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


def _rank(fired: Fired) -> tuple:
    """Benign last; then the most specific cause (a partial or loosely matched signature counts a little
    less than the whole one); then the surer basis; then the one seen first."""
    rule = fired.rule
    matched = _matched(fired.evidence)
    first = _position(matched[0]) if matched else (9, 0)
    priority = rule.priority - PARTIAL_PENALTY * (fired.basis == "partial") - LOOSE_PENALTY * fired.loose
    return (rule.category == "benign", -priority, CONFIDENCES.index(CONFIDENCE[fired.basis]), first, rule.id)


def _matched(evidence: Sequence[Evidence]) -> Sequence[Evidence]:
    """The evidence a pattern matched, without the lines quoted above it for context (all of it when none says)."""
    return [e for e in evidence if e.matched] or evidence
