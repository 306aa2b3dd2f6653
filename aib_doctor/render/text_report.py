"""The terminal report: styled text, so a TTY gets colour (rich) and a pipe gets the same words in plain text."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from aib_doctor.model import Evidence, Finding, Report, Subject, Timeline

if TYPE_CHECKING:
    import rich.text

WIDTH = 100


class Text:
    """Text with a style on some of its pieces: `plain` for a pipe or a file, `rich()` for a terminal (rich is
    imported only then: it costs a tenth of a short run's start-up)."""

    def __init__(self) -> None:
        self.pieces: list[tuple[str, str | None]] = []

    def append(self, text: str, style: str | None = None) -> None:
        self.pieces.append((text, style))

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.pieces)

    def rich(self) -> rich.text.Text:
        from rich.text import Text as RichText

        out = RichText()
        for text, style in self.pieces:
            out.append(text, style=style)
        return out


_STATUS_STYLE = {"failed": "bold red", "succeeded": "bold green", "running": "bold yellow", "unknown": "bold"}


def humanize_seconds(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def subject_line(subject: Subject) -> str:
    group = subject.azure.resource_group if subject.azure else None
    return " ".join(str(part) for part in (subject.kind or "input", subject.name, group, subject.file, subject.folder) if part)


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def subject_details(subject: Subject) -> list[str]:
    """The run and the log behind a template report, one line each."""
    lines = []
    azure = subject.azure
    if azure and azure.run_state:
        state = azure.run_state + (f" ({azure.run_sub_state})" if azure.run_sub_state else "")
        span = " to ".join(t for t in (azure.start_time, azure.end_time) if t and not t.startswith("0001"))
        lines.append(f"Last run: {state}" + (f", {span}" if span else ""))
    if azure and (azure.vm_size or azure.build_timeout_minutes):
        lines.append(f"Build VM: {azure.vm_size or 'default size'}; timeout {azure.build_timeout_minutes} minutes")
    log = subject.log
    if log:
        amount = "all of it" if log.bytes_read >= log.size else f"the last {_megabytes(log.bytes_read)} of {_megabytes(log.size)}"
        lines.append(f"Log: {log.account}/packerlogs/{log.blob} in {log.staging_resource_group} (read {amount})")
    for output in subject.outputs or ():
        lines.append(f"Output {output.name}: {output.artifact_id or output.artifact_uri}")
    return lines


def _wrapped(out: Text, label: str, body: str) -> None:
    lines = textwrap.wrap(body, WIDTH - 9) or [""]
    out.append(f"  {label:<6} ", style="bold")
    out.append(lines[0] + "\n")
    for line in lines[1:]:
        out.append(" " * 9 + line + "\n")


def _evidence_line(evidence: Evidence) -> str:
    where = evidence.source if evidence.line is None else f"{evidence.source}:{evidence.line}"
    return f"{where}  {shortened(evidence.text, evidence.matched)}"


def shortened(text: str, matched: str = "", width: int = 160) -> str:
    """The text cut to width around the matched phrase (centred on it), not before it."""
    if len(text) <= width:
        return text
    at = text.find(matched) if matched else -1
    if at < 0:
        return text[: width - 3] + "..."
    start = max(0, min(at + len(matched) // 2 - width // 2, len(text) - width))
    head, tail = ("..." if start > 0 else ""), ("..." if start + width < len(text) else "")
    return head + text[start + len(head) : start + width - len(tail)] + tail


def _finding(out: Text, finding: Finding, heading: str) -> None:
    out.append(f"{heading} ", style="bold")
    out.append(f"{finding.rule} {finding.name}", style="bold cyan")
    out.append(f"  [{finding.category}, {finding.severity}, {finding.confidence} confidence from {finding.basis}]\n")
    out.append(finding.title + "\n", style="bold")
    _wrapped(out, "Cause:", finding.cause)
    _wrapped(out, "Fix:", finding.fix)
    if finding.evidence:
        out.append("  Evidence:\n", style="bold")
        for evidence in finding.evidence:
            out.append("    " + _evidence_line(evidence) + "\n", style="dim")
    for url in finding.docs:
        out.append(f"  Docs:  {url}\n")


def _timeline(out: Text, timeline: Timeline) -> None:
    facts = []
    if timeline.operation_id:
        facts.append(f"operation {timeline.operation_id}")
    if timeline.os:
        facts.append(f"{timeline.os} ({timeline.communicator})")
    if timeline.phases:
        facts.append("phases: " + " > ".join(timeline.phases))
    if facts:
        out.append("\nBuild: " + "; ".join(facts) + "\n")
    if timeline.customizers:
        out.append("Customizers:\n", style="bold")
        for run in timeline.customizers:
            label = run.type + (f" '{run.name}'" if run.name else "")
            started = (run.started or "-").replace("T", " ")
            style = "red" if run.status == "failed" else None
            out.append(
                f"  #{run.index + 1:<3}{label:<32} {started:<20} {humanize_seconds(run.seconds):>8}  {run.status}\n",
                style=style,
            )
    if timeline.failed_step:
        out.append("Failed step: ", style="bold red")
        out.append(timeline.failed_step.description + "\n")


def render_text(report: Report) -> Text:
    out = Text()
    out.append(report.status.upper(), style=_STATUS_STYLE.get(report.status, "bold"))
    out.append(f"  {subject_line(report.subject)}\n")
    for line in subject_details(report.subject):
        out.append(line + "\n", style="dim")
    secondary = list(report.findings)
    if report.primary:
        out.append("\n")
        _finding(out, report.primary, "Cause found:")
        secondary = secondary[1:]
    elif report.status == "failed":
        out.append("\nThe build failed, but no known error signature explains it.\n", style="bold red")
    if report.error_lines:
        out.append("Last error-looking lines:\n", style="bold")
        for evidence in report.error_lines:
            out.append("  " + _evidence_line(evidence) + "\n", style="dim")
    if secondary:
        out.append("\nAlso found:\n", style="bold")
        for finding in secondary:
            out.append(f"  {finding.rule} {finding.name}", style="cyan")
            out.append(f" [{finding.category}]: {finding.title}\n")
            if finding.evidence:
                shown = next((e for e in finding.evidence if e.matched), finding.evidence[0])  # not a line quoted above it
                out.append("      " + _evidence_line(shown) + "\n", style="dim")
    _timeline(out, report.timeline)
    return out
