"""The result of a fleet check as text (for cron mail), JSON (a summary and a report per template) or Markdown (a ticket)."""

from __future__ import annotations

import json

from aib_doctor.model import CheckResult
from aib_doctor.render.json_report import report_dict

LABELS = {
    "new_failure": "NEW FAILURE",
    "still_failing": "still failing",
    "recovered": "RECOVERED",
    "new_template": "new template",
    "gone": "gone",
    "error": "ERROR",
}


def check_dict(result: CheckResult) -> dict:
    return {
        "schema_version": 1,
        "summary": {
            "discovery": result.discovery,
            "templates": sum(o.transition != "gone" for o in result.outcomes),
            "transitions": result.counts(),
            "new_failures": result.new_failures,
            "notifications_sent": result.notifications_sent,
            "notifications_pending": result.notifications_pending,
            "notifications_note": result.notifications_note or None,
            "errors": result.errors,
        },
        "templates": [
            {
                "id": o.template.id,
                "name": o.template.name,
                "resource_group": o.template.resource_group,
                "subscription": o.template.subscription,
                "transition": o.transition,
                "status": o.status,
                "report": report_dict(o.report) if o.report else None,
                "evidence": o.evidence,
                "error": o.error,
            }
            for o in result.outcomes
        ],
    }


def render_check_json(result: CheckResult) -> str:
    return json.dumps(check_dict(result), indent=2, ensure_ascii=False) + "\n"


def render_check_text(result: CheckResult) -> str:
    total = sum(o.transition != "gone" for o in result.outcomes)
    errors = f"; {result.errors} could not be diagnosed" if result.errors else ""
    lines = [f"aib-doctor check: {total} templates ({result.discovery}); {result.new_failures} new failures{errors}"]
    for outcome in result.outcomes:
        label = LABELS.get(outcome.transition)
        if label is None:
            continue
        t = outcome.template
        line = f"  {label:<13} {t.name} ({t.resource_group}, {t.subscription})"
        primary = outcome.report.primary if outcome.report else None
        if outcome.transition in ("new_failure", "still_failing") and primary:
            line += f": {primary.rule} {primary.name}: {primary.title}"
        elif outcome.transition == "new_failure":
            line += ": no known error signature explains it"
        if outcome.error:
            line += f": {outcome.error}"
        lines.append(line)
        if outcome.evidence:
            lines.append(f"                evidence: {outcome.evidence}")
    if result.notifications_sent or result.notifications_pending:
        note = f" ({result.notifications_note})" if result.notifications_note else ""
        lines.append(f"notifications: {result.notifications_sent} sent, {result.notifications_pending} waiting to be sent{note}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_check_markdown(result: CheckResult) -> str:
    """For a ticket or a chat message: what changed as a table, then each new failure's cause and fix."""
    total = sum(o.transition != "gone" for o in result.outcomes)
    errors = f"; {result.errors} could not be diagnosed" if result.errors else ""
    out = [f"## aib-doctor check: {total} templates ({result.discovery}); {result.new_failures} new failures{errors}", ""]
    rows = []
    for outcome in result.outcomes:
        label = LABELS.get(outcome.transition)
        if label is None:
            continue
        t = outcome.template
        primary = outcome.report.primary if outcome.report else None
        if primary is not None and outcome.transition in ("new_failure", "still_failing"):
            finding = f"{primary.rule} `{primary.name}`: {primary.title}"
        elif outcome.transition == "new_failure":
            finding = "no known error signature explains it"
        else:
            finding = outcome.error or ""
        rows.append(f"| {label} | {_cell(t.name)} | {_cell(t.resource_group)} | {t.subscription} | {_cell(finding)} |")
    if rows:
        out += ["| | Template | Resource group | Subscription | Finding |", "|---|---|---|---|---|", *rows, ""]
    for outcome in result.outcomes:
        if outcome.transition != "new_failure":
            continue
        primary = outcome.report.primary if outcome.report else None
        out += [f"### New failure: {outcome.template.name} ({outcome.template.resource_group})", ""]
        if primary is not None:
            out += [f"**{primary.rule} `{primary.name}`**: {primary.title}", "", f"**Cause.** {primary.cause}", "", f"**Fix.** {primary.fix}", ""]
        if outcome.evidence:
            out += [f"Evidence kept in `{outcome.evidence}`.", ""]
    if result.notifications_sent or result.notifications_pending:
        note = f" ({result.notifications_note})" if result.notifications_note else ""
        out += [f"Notifications: {result.notifications_sent} sent, {result.notifications_pending} waiting to be sent{note}.", ""]
    return "\n".join(out)
