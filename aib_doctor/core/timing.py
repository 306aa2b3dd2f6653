"""Reasoning over time: how long a build and its last customizer ran against the timeout in effect, and how
long the log was silent before the end.

The conditions are rule data (a rule's `timeline:` block, catalog/rules/timeline.yaml); this module measures
what they test, from the best source at hand: the template's run status (startTime, endTime), the duration
Packer states ("errored after 3 hours 59 minutes"), or the log's own first and last timestamps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from aib_doctor.core.template_facts import DEFAULT_TIMEOUT_MINUTES, properties
from aib_doctor.core.timeline import LogLine, TimelineBuilder, utc_time
from aib_doctor.core.vocabulary import Fired
from aib_doctor.model import BuildStatus, CustomizerRun, Evidence, TimelineCondition

TIMEOUT_SLACK_SECONDS = 20 * 60
"""A build is stopped at its timeout; the run status adds the service's own steps after the cancel."""
PATTERN_EVIDENCE = 3


@dataclass(frozen=True)
class Timing:
    """What the clock says about a build that ended: each value None when no source tells it."""

    build_seconds: int | None
    measured_by: str
    timeout_minutes: int
    timeout_from: str
    """Where the timeout comes from: the template, or the default assumed without it."""
    running: CustomizerRun | None
    """The customizer left running when the build ended."""
    running_seconds: int | None
    silence_seconds: int | None
    last_line: LogLine | None
    """The last line printed before the silence."""
    quiet_since: str | None
    end: LogLine | None
    longest_done: CustomizerRun | None


def measure(builder: TimelineBuilder, status: BuildStatus | None, template: dict | None) -> Timing:
    """How a build that ended spent its time; the end is the log's end line, else the run status's endTime."""
    clock = builder.clock
    runs = builder.runs()
    running = next((run for run in reversed(runs) if run.status != "ok"), None)
    status_start = utc_time(status.start_time) if status else None
    status_end = utc_time(status.end_time) if status else None
    end = utc_time(clock.end_time) or status_end
    build_seconds, measured_by = None, ""
    if status_start and status_end:
        build_seconds, measured_by = _seconds(status_start, status_end), "by the template's run status"
    elif clock.packer_seconds is not None:
        build_seconds, measured_by = clock.packer_seconds, "as Packer reports it"
    elif clock.first_time and end:
        build_seconds, measured_by = _seconds(utc_time(clock.first_time), end), "by the log's own timestamps"
    timeout = int((properties(template).get("buildTimeoutInMinutes") or 0) if template else 0) or DEFAULT_TIMEOUT_MINUTES
    timeout_from = "buildTimeoutInMinutes" if template and properties(template).get("buildTimeoutInMinutes") else "the default"
    # Silence: up to the line that ends the build, or for a log that just stops, up to the run's end.
    quiet_since, last_line = clock.quiet_since, clock.last_before_end
    if clock.end is None:
        quiet_since, last_line = clock.last_time, clock.last_line
    silence = _seconds(utc_time(quiet_since), end) if quiet_since and end else None
    running_seconds = _seconds(utc_time(running.started), end) if running and running.started and end else None
    done = [run for run in runs if run.status == "ok" and run.seconds is not None]
    return Timing(
        build_seconds,
        measured_by,
        timeout,
        timeout_from,
        running,
        running_seconds,
        silence,
        last_line,
        quiet_since,
        clock.end,
        max(done, key=lambda run: run.seconds, default=None),
    )


def holds(condition: TimelineCondition, timing: Timing) -> bool:
    """Every condition the rule states holds on this timing."""
    if condition.running is not None:
        if timing.running is None or not re.search(condition.running, timing.running.type):
            return False
    if condition.not_running is not None and timing.running is not None and re.search(condition.not_running, timing.running.type):
        return False
    if condition.near_timeout is not None:
        limit = timing.timeout_minutes * 60
        if timing.build_seconds is None or not condition.near_timeout * limit <= timing.build_seconds <= limit + TIMEOUT_SLACK_SECONDS:
            return False
    if condition.silence_minutes is not None:
        if timing.silence_seconds is None or timing.silence_seconds < condition.silence_minutes * 60:
            return False
    return True


def fire_timeline_rules(
    fired: list[Fired], builder: TimelineBuilder, status: BuildStatus | None, template: dict | None, source: str, failed: bool
) -> list[Fired]:
    """Keep a timeline rule only where its conditions hold on a build that failed, with the times as its
    named groups and the lines that show them as evidence; other rules pass through."""
    if not any(f.rule.timeline for f in fired):
        return fired
    timing = measure(builder, status, template) if failed else None
    kept = []
    for f in fired:
        if f.rule.timeline is None:
            kept.append(f)
        elif timing is not None and holds(f.rule.timeline, timing):
            # The lines that show the times, and the first few of the patterns' (the cancel lines), in log order.
            evidence = sorted(dict.fromkeys(_evidence(timing, source, builder)) | dict.fromkeys(f.evidence[:PATTERN_EVIDENCE]), key=lambda e: e.line or 0)
            kept.append(replace(f, evidence=tuple(evidence), groups=_groups(timing) | f.groups, basis="timeline"))
    return kept


def _evidence(timing: Timing, source: str, builder: TimelineBuilder) -> list[Evidence]:
    lines = []
    if timing.running is not None and timing.running.start_line is not None:
        text = builder.start_text(timing.running.index)
        if text:
            lines.append(LogLine(timing.running.start_line if builder.whole_log else None, text))
    lines += [line for line in (timing.last_line, timing.end) if line is not None]
    return [Evidence(source, line.line, line.text) for line in lines]


def _groups(timing: Timing) -> dict[str, str]:
    """The times as sentences' words: each key present only when known, so a detail sentence needing it drops out."""
    groups = {"timeout_in_effect": f"{timing.timeout_minutes} minutes ({timing.timeout_from})"}
    if timing.build_seconds is not None:
        groups["build_ran"] = f"{span(timing.build_seconds)} ({timing.measured_by})"
    if timing.running is not None and timing.running_seconds is not None:
        groups["running_for"] = span(timing.running_seconds)
        groups["running_since"] = _clock_time(timing.running.started)
        if timing.build_seconds:
            groups["running_share"] = f"{min(100, round(100 * timing.running_seconds / timing.build_seconds))}%"
    if timing.silence_seconds is not None and timing.quiet_since:
        groups["silence"] = span(timing.silence_seconds)
        groups["silent_since"] = _clock_time(timing.quiet_since)
    if timing.last_line is not None:
        groups["last_line"] = repr(timing.last_line.text[:300])
    if timing.longest_done is not None and timing.longest_done.seconds:
        groups["longest_done"] = f"the {timing.longest_done.type} customizer #{timing.longest_done.index + 1} ({span(timing.longest_done.seconds)})"
    return groups


def span(seconds: int) -> str:
    """3 h 56 min, 41 min, 52 s."""
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _clock_time(text: str | None) -> str:
    return (text or "?").replace("T", " ")[:19]


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    return int(max((end - start).total_seconds(), 0)) if start and end else None
