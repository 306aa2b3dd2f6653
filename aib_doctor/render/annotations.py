"""CI annotations: GitHub Actions workflow commands (`::error file=F,line=N,title=T::message`) and Azure DevOps
logging commands (`##vso[task.logissue type=error;sourcepath=F;linenumber=N;code=C]message`).

A CI log turns these lines into errors and warnings on the run, and GitHub puts lint's on the pull request's
lines. Each output is the annotations followed by a plain summary line per subject, so the log still reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aib_doctor.model import CheckResult, Finding, LintResult, Report

Style = Literal["github", "azure-devops"]


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def _devops_data(text: str) -> str:
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def _devops_property(text: str) -> str:
    return _devops_data(text).replace(";", "%3B").replace("]", "%5D")


def annotation(style: Style, level: str, message: str, title: str = "", file: str | None = None, line: int | None = None, code: str = "") -> str:
    """One annotation line; `level` is error, warning or info (a notice on GitHub; Azure DevOps has only errors and
    warnings, so an info is a plain log line there)."""
    if style == "github":
        command = {"error": "error", "warning": "warning"}.get(level, "notice")
        props = [f"file={_github_property(file)}"] if file else []
        props += [f"line={line}"] if file and line else []
        props += [f"title={_github_property(title)}"] if title else []
        head = f"{command} {','.join(props)}" if props else command
        return f"::{head}::{_github_data(message)}"
    if level not in ("error", "warning"):
        return f"{title}: {message}" if title else message
    props = [f"type={level}"]
    props += [f"sourcepath={_devops_property(file)}"] if file else []
    props += [f"linenumber={line}"] if file and line else []
    props += [f"code={_devops_property(code)}"] if code else []
    return f"##vso[task.logissue {';'.join(props)}]{_devops_data((title + ': ' if title else '') + message)}"


def _finding_message(finding: Finding) -> str:
    return f"{finding.cause} Fix: {finding.fix}"


def report_annotations(report: Report, style: Style, text: str) -> str:
    """The primary cause as an error (or the unexplained failure with its last error line), then the text report."""
    lines = []
    where = report.subject.file or report.subject.folder or report.subject.name or "input"
    if report.primary is not None:
        primary = report.primary
        title = f"{primary.rule} {primary.name}: {primary.title}"
        lines.append(annotation(style, primary.severity, _finding_message(primary), title, code=primary.rule))
    elif report.status == "failed":
        last = report.error_lines[-1].text if report.error_lines else "no error line found"
        lines.append(annotation(style, "error", f"No rule explains this failure of {where}. Last error line: {last}", "aib-doctor: unexplained failure"))
    return "\n".join(lines) + "\n" + text if lines else text


def lint_annotations(results: Sequence[LintResult], style: Style, summaries: Sequence[str]) -> str:
    """Each finding on its file and line, then each file's summary line."""
    lines = []
    for result in results:
        for finding in result.findings:
            at = finding.location
            message = f"{at.message if at else finding.title}. {finding.title}. Fix: {finding.fix}"
            title = f"{finding.rule} {finding.name}"
            lines.append(annotation(style, finding.severity, message, title, result.file, at.line if at else None, finding.rule))
    return "\n".join([*lines, *summaries]) + "\n"


def check_annotations(result: CheckResult, style: Style, text: str) -> str:
    """A new failure is an error naming the template and its cause; a template whose diagnosis failed is a warning."""
    lines = []
    for outcome in result.outcomes:
        name = f"{outcome.template.resource_group}/{outcome.template.name}"
        if outcome.transition == "new_failure":
            primary = outcome.report.primary if outcome.report else None
            cause = f"{primary.rule} {primary.name}: {primary.title}. Fix: {primary.fix}" if primary else "no rule explains it"
            lines.append(annotation(style, "error", cause, f"Image Builder build failed: {name}", code=primary.rule if primary else ""))
        elif outcome.error:
            lines.append(annotation(style, "warning", outcome.error, f"aib-doctor could not diagnose {name}"))
    return "\n".join(lines) + "\n" + text if lines else text
