"""One fleet check: discover templates, diagnose only those whose last run changed, report transitions.

Azure is reached through the two callables fleet/run.py passes in (discover, diagnose), so this module
holds only the bookkeeping: fingerprints, transitions, notifications, evidence and metrics.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aib_doctor.core.diagnose import build_state
from aib_doctor.core.redact import redacted
from aib_doctor.core.timeline import seconds_between
from aib_doctor.files import write_atomic
from aib_doctor.fleet import notify
from aib_doctor.fleet.metrics import write_metrics
from aib_doctor.fleet.state import StateStore, TemplateState
from aib_doctor.model import BuildStatus, CheckResult, Outcome, Report, Status, TemplateSummary
from aib_doctor.render.json_report import report_dict

EVIDENCE_KEEP = 10


@dataclass(frozen=True)
class Scope:
    subscriptions: tuple[str, ...] = ()
    """Empty with all_subscriptions: every subscription the identity can see."""
    all_subscriptions: bool = False
    resource_groups: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    """Name patterns (fnmatch) to leave out."""
    exclude_tags: tuple[str, ...] = ()
    """key or key=value; a template carrying it is left out."""

    def covers(self, subscription: str, resource_group: str, name: str, tags: dict[str, str] | None = None) -> bool:
        if self.subscriptions and subscription.lower() not in {s.lower() for s in self.subscriptions}:
            return False
        if self.resource_groups and resource_group.lower() not in {g.lower() for g in self.resource_groups}:
            return False
        if self.templates and name.lower() not in {t.lower() for t in self.templates}:
            return False
        if any(fnmatch.fnmatchcase(name.lower(), pattern.lower()) for pattern in self.exclude):
            return False
        tags = {k.lower(): v for k, v in (tags or {}).items()}
        for rule in self.exclude_tags:
            key, _, value = rule.partition("=")
            if key.lower() in tags and (not value or tags[key.lower()] == value):
                return False
        return True


@dataclass
class Diagnosed:
    """What the diagnose callable returns for one template."""

    report: Report
    save_log: Callable[[Path], None] | None = None
    """Writes the redacted log into a folder, when a log was found."""


def fingerprint(t: TemplateSummary) -> str:
    text = "\x1f".join(str(v or "") for v in (t.provisioning_state, t.run_state, t.start_time, t.message))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def listed_status(t: TemplateSummary) -> Status:
    return build_state(BuildStatus(provisioning_state=t.provisioning_state, run_state=t.run_state)) or "unknown"


def duration(t: TemplateSummary) -> float | None:
    return seconds_between(t.start_time, t.end_time)


def run_check(
    scope: Scope,
    discover: Callable[[], tuple[list[TemplateSummary], str]],
    diagnose: Callable[[TemplateSummary], Diagnosed],
    store: StateStore,
    notify_url: str | None = None,
    prometheus: Path | None = None,
    evidence_keep: int = EVIDENCE_KEEP,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> CheckResult:
    """`sleep` paces webhook retries and `clock` stamps the state, the evidence and the metrics (tests pass fakes)."""
    started = clock()
    found, how = discover()
    result = CheckResult(discovery=how)
    previous = store.templates()
    seen: set[str] = set()
    unchanged: list[str] = []
    for summary in found:
        key = summary.id.lower()
        if not scope.covers(summary.subscription, summary.resource_group, summary.name, dict(summary.tags)):
            continue
        seen.add(key)
        before = previous.get(key)
        run_print = fingerprint(summary)
        if before is not None and before.fingerprint == run_print:
            unchanged.append(key)
            transition = "still_failing" if before.status == "failed" else "unchanged"
            result.outcomes.append(Outcome(summary, transition, before.status))
            continue
        result.outcomes.append(_changed(summary, before, run_print, diagnose, store, evidence_keep, clock))
    if unchanged:
        store.touch(unchanged, clock())
    for key, before in previous.items():
        if key not in seen and scope.covers(before.subscription, before.resource_group, before.name) and _discovered_scope(scope, found, before):
            store.forget(key)
            gone = TemplateSummary(key, before.name, before.resource_group, before.subscription)
            result.outcomes.append(Outcome(gone, "gone", before.status))
    if notify_url:
        for note_key, _kind, payload in store.pending_notifications():
            delivery = notify.post(notify_url, payload, sleep=sleep)
            if delivery == "sent":
                store.mark_sent(note_key, clock())
                result.notifications_sent += 1
            elif delivery == "unreachable":
                result.notifications_note = "the webhook did not answer; the rest stay queued for the next check"
                break
    result.notifications_pending = len(store.pending_notifications()) if notify_url else 0
    if prometheus is not None:
        rows = [
            {
                "subscription": t.subscription,
                "resource_group": t.resource_group,
                "name": t.name,
                "status": t.status,
                "last_duration": t.last_duration,
                "failures": t.failures,
                "last_checked": t.last_checked,
            }
            for t in store.templates().values()
        ]
        write_metrics(prometheus, rows, clock())
    store.record_check(started, clock(), {"discovery": how, **result.counts()})
    return result


def _discovered_scope(scope: Scope, found: list[TemplateSummary], before: TemplateState) -> bool:
    """A template is gone only if discovery looked where it lived (its subscription was listed)."""
    if scope.subscriptions:
        return True
    return scope.all_subscriptions or any(t.subscription.lower() == before.subscription.lower() for t in found)


def _changed(summary, before, run_print, diagnose, store: StateStore, keep: int, clock: Callable[[], float]) -> Outcome:
    status = listed_status(summary)
    report = None
    notification = None
    evidence = None
    primary = before.primary_rule if before else None
    failures = before.failures if before else 0
    if status == "failed":
        try:
            diagnosed = diagnose(summary)  # a direct GET first: the listing may lag
        except Exception as exc:  # one template's trouble must not stop the fleet check; it is retried next time
            return Outcome(summary, "error", status, error=str(exc))
        report = diagnosed.report
        status = report.status
    if status == "failed":
        primary = report.primary.rule if report.primary else None
        failures += 1
        if before is not None and before.status == "failed" and before.primary_rule == primary:
            transition = "still_failing"
        else:
            transition = "new_failure"
            evidence = _keep_evidence(store.folder, summary, run_print, report, diagnosed.save_log, keep, clock())
            notification = (f"{summary.id.lower()}|{run_print}|new_failure", "new_failure", notify.failure_payload(summary, report, evidence))
    elif status == "succeeded" and before is not None and before.status == "failed":
        transition = "recovered"
        primary = None
        notification = (f"{summary.id.lower()}|{run_print}|recovered", "recovered", notify.recovery_payload(summary))
    else:
        transition = "new_template" if before is None else "changed"
        if status == "succeeded":
            primary = None
    state = TemplateState(
        summary.id.lower(),
        summary.name,
        summary.resource_group,
        summary.subscription,
        run_print,
        status,
        summary.start_time,
        primary,
        failures,
        duration(summary) if status in ("failed", "succeeded") else (before.last_duration if before else None),
    )
    store.save(state, clock(), notification)
    return Outcome(summary, transition, status, report, evidence)


def _keep_evidence(folder: Path, summary: TemplateSummary, run_print: str, report: Report, save_log, keep: int, now: float) -> str:
    """The report and the log of a new failure, kept because users delete failed templates and their logs.

    Folders are named by the second (then the run's fingerprint), so the oldest sort first and go first."""
    base = folder / "evidence" / _safe(summary.subscription) / _safe(summary.resource_group) / _safe(summary.name)
    target = base / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))}-{run_print[:8]}"
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(target / "report.json", [(json.dumps(report_dict(redacted(report)), indent=2) + "\n").encode("utf-8")])
    if save_log is not None:
        try:
            save_log(target)
        except Exception as exc:  # the report is kept even when the log cannot be
            write_atomic(target / "log-unavailable.txt", [f"{exc}\n".encode()])
    runs = sorted(p for p in base.iterdir() if p.is_dir())
    for old in runs[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return str(target)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"
