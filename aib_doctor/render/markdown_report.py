"""The report as Markdown, for a ticket or a pull-request comment."""

from __future__ import annotations

from aib_doctor.model import Finding, Report
from aib_doctor.render.text_report import humanize_seconds, subject_details, subject_line


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(lines: list[str]) -> list[str]:
    # A log line may itself contain ``` ; a longer fence keeps the block closed.
    fence = "````" if any("```" in line for line in lines) else "```"
    return [fence + "text", *lines, fence]


def _finding(finding: Finding) -> list[str]:
    out = [
        f"### {finding.rule} `{finding.name}`: {finding.title}",
        "",
        f"*{finding.category}, {finding.severity}, confidence {finding.confidence} ({finding.basis})*",
        "",
        f"**Cause.** {finding.cause}",
        "",
        f"**Fix.** {finding.fix}",
        "",
    ]
    if finding.evidence:
        out += ["**Evidence**", ""]
        out += _fence([f"{e.source}:{e.line}: {e.text}" if e.line is not None else f"{e.source}: {e.text}" for e in finding.evidence])
        out.append("")
    if finding.docs:
        out += ["Docs: " + ", ".join(f"<{url}>" for url in finding.docs), ""]
    return out


def render_markdown(report: Report) -> str:
    out = [f"## aib-doctor: {report.status}", "", f"Subject: {subject_line(report.subject)}", ""]
    details = subject_details(report.subject)
    if details:
        out += [f"- {line}" for line in details] + [""]
    if report.primary:
        out += _finding(report.primary)
    elif report.status == "failed":
        out += ["The build failed, but no known error signature explains it.", ""]
    if report.error_lines:
        out += ["**Last error-looking lines**", ""]
        out += _fence([f"{e.source}:{e.line}: {e.text}" for e in report.error_lines])
        out.append("")
    others = report.findings[1:] if report.primary else report.findings
    if others:
        out += ["### Also found", "", "| Rule | Name | Category | Title |", "|---|---|---|---|"]
        out += [f"| {f.rule} | `{f.name}` | {f.category} | {_escape_cell(f.title)} |" for f in others]
        out.append("")
    timeline = report.timeline
    if timeline.customizers:
        out += ["### Customizers", "", "| # | Type | Name | Started | Duration | Status |", "|---|---|---|---|---|---|"]
        for run in timeline.customizers:
            out.append(f"| {run.index + 1} | {run.type} | {run.name or ''} | {run.started or ''} | {humanize_seconds(run.seconds)} | {run.status} |")
        out.append("")
    if timeline.failed_step:
        out += [f"**Failed step:** {timeline.failed_step.description}", ""]
    return "\n".join(out)
