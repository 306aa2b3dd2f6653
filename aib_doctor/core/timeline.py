"""What happened in a build, from the few marker lines of customization.log: phases, customizers, the failed step.

The scanner hands each marker line here once; everything kept is bounded by the number of
customizers, not by the size of the log. Marker patterns are unanchored so every line form seen in
the wild matches: `[opid] PACKER OUT ...`, the bracket lost, no prefix, `PACKER <date> ui:`, CI
timestamps in front, Markdown bold around it. The log's clock (LogClock) is kept too: its first
timestamp, the line that ended the build with the lines just before it, and its last line, from
which aib_doctor.core.timing measures durations and silences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from aib_doctor.core.lazy_regex import LazyRegex
from aib_doctor.model import PHASES, CustomizerRun, FailedStep, Timeline

# kind -> regex (the syntax RE2 and Python share). Phase kinds are named after PHASES.
MARKERS = {
    "deploy": r"Deploying deployment template|Validating deployment template|Creating resource group",
    "connect": r"Waiting for WinRM|WinRM connected|Waiting for SSH|Connected to SSH",
    "start": r"\(telemetry\) Starting provisioner (?P<type>[A-Za-z0-9_.-]+)",
    "end": r"\(telemetry\) ending (?P<type>[A-Za-z0-9_.-]+)",
    "deprovision": r"DeprovisioningScript|Sysprepping VM|waagent -force -deprovision",
    "capture": r"Snapshot ID :|Skipping image creation|Capturing image",
    "cleanup": r"[Dd]eleting individual resources|not deleting \.\.\.|Removing the created Deployment object|Cleanup requested",
    "finished": r"\(telemetry\) Finalizing|Build '[^']+' finished|Done exporting Packer logs",
    "failed": r"Build '[^']+' errored|Some builds didn't complete successfully|machine readable: [A-Za-z0-9_-]+,error|Cancelling build after receiving|Cancelling builder after context cancel|Provisioning step had errors|Failed to prepare build",
}
OPERATION_ID = LazyRegex(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\]\*{0,2} PACKER")
_TIMESTAMP = LazyRegex(r"(\d{4})[/-](\d{2})[/-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
UNDATED_LINES = 3
_PACKER_DURATION = LazyRegex(r"errored after ([0-9][0-9a-z. ]*?)\s*(?::|$)")
_DURATION_PART = LazyRegex(r"([0-9]+(?:\.[0-9]+)?)\s*(hours?|minutes?|seconds?|milliseconds?|ms|h|m|s)(?![a-z])")
_UNIT_SECONDS = {"hour": 3600, "minute": 60, "second": 1, "millisecond": 0.001, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def timestamp(text: str) -> str | None:
    """The first date-time on a line, as ISO 8601 without a zone (Packer logs carry none)."""
    m = _TIMESTAMP.search(text)
    return "{}-{}-{}T{}:{}:{}".format(*m.groups()) if m else None


def parse_time(text: str | None) -> datetime | None:
    """A log or ARM timestamp; ARM's carry nanoseconds and a Z, datetime takes microseconds and +00:00."""
    if not text or text.startswith("0001"):
        return None
    try:
        return datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00"))
    except ValueError:
        return None


def utc_time(text: str | None) -> datetime | None:
    """A log or ARM timestamp as an aware UTC time: log timestamps carry no zone, and they are UTC."""
    moment = parse_time(text)
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def seconds_between(start: str | None, end: str | None) -> float | None:
    first, last = parse_time(start), parse_time(end)
    return max((last - first).total_seconds(), 0.0) if first and last else None


def duration_seconds(text: str) -> int | None:
    """Packer's durations: "3 hours 59 minutes", "1 minute 32 seconds" and Go's "3h59m58.1s"."""
    parts = _DURATION_PART.findall(text)
    if not parts:
        return None
    return int(sum(float(number) * _UNIT_SECONDS[unit.rstrip("s") if len(unit) > 2 else unit] for number, unit in parts))


def last_line_and_time(data: bytes) -> tuple[str | None, int, str | None]:
    """Of whole lines: the last non-blank one, how far up it is (1 = the last line), and the time the log last
    spoke: the newest timestamp, when at most UNDATED_LINES undated lines follow it. Packer leaves a script's
    output undated; many undated lines mean output went on after that time, so no time is claimed.
    Bounded by the caller's slice, so a silence is found without reading every line."""
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    last, back, undated = None, 0, 0
    for distance, raw in enumerate(reversed(lines), 1):
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            continue
        if last is None:
            last, back = text, distance
        found = timestamp(text)
        if found:
            return last, back, found
        undated += 1
        if undated > UNDATED_LINES:
            break
    return last, back, None


def _whole(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds)


@dataclass(frozen=True)
class LogLine:
    """A line the clock keeps: its number (None in a tail window) and text."""

    line: int | None
    text: str


@dataclass
class LogClock:
    """What the log's own timestamps say about how a build ended; a handful of values, whatever the log's size."""

    first_time: str | None = None
    """The first timestamp of the log (only meaningful when the whole log was read)."""
    end: LogLine | None = None
    """The first line saying the build failed or was cancelled."""
    end_time: str | None = None
    """The first timestamp on or after the end line."""
    last_before_end: LogLine | None = None
    """The last line before the end line: what was printed before any silence."""
    quiet_since: str | None = None
    """The newest timestamp before the end line: when the log last said something it dated."""
    last_line: LogLine | None = None
    """The log's last line."""
    last_time: str | None = None
    """The newest timestamp of the log."""
    packer_seconds: int | None = None
    """The build's duration as Packer states it ("errored after 3 hours 59 minutes")."""


class TimelineBuilder:
    """Accumulates marker hits in log order; `build()` gives the Timeline and the log's own verdict."""

    def __init__(self, whole_log: bool = True) -> None:
        self.whole_log = whole_log
        """False for a tail window: its first timestamp is not the build's start."""
        self.clock = LogClock()
        self.operation_id: str | None = None
        self.os: str | None = None
        self.communicator: str | None = None
        self._phases: set[str] = set()
        self._runs: list[CustomizerRun] = []
        self._open: list[int] = []  # indexes of runs started and not yet ended
        self._start_texts: list[str] = []  # each run's `Starting provisioner` line, for evidence
        self.failed = False
        self.finished = False

    def see_first_line(self, text: str) -> None:
        """One of the log's first lines: the operation id and the first timestamp are there."""
        if self.operation_id is None:
            m = OPERATION_ID.search(text)
            if m:
                self.operation_id = m.group(1).lower()
        if self.clock.first_time is None and self.whole_log:
            self.clock.first_time = timestamp(text)

    @property
    def awaits_end(self) -> bool:
        """True until the end line has been seen: the scanner then hands over the bytes before it."""
        return self.clock.end is None

    def see_end(self, lineno: int | None, text: str, before: bytes) -> None:
        """The first failed or cancelled line, with the bytes just before it (the last lines printed)."""
        clock = self.clock
        clock.end = LogLine(lineno, text.strip())
        clock.end_time = timestamp(text)
        last, back, newest = last_line_and_time(before)
        if last is not None:
            clock.last_before_end = LogLine(None if lineno is None else lineno - back, last)
        clock.quiet_since = newest

    def see_log_end(self, lineno: int | None, tail: bytes) -> None:
        """The log's last bytes (`lineno` is the number of its last line)."""
        last, back, newest = last_line_and_time(tail)
        if last is not None:
            self.clock.last_line = LogLine(None if lineno is None else lineno - back + 1, last)
        self.clock.last_time = newest

    def mark(self, kind: str, lineno: int | None, text: str, groups: dict[str, str]) -> None:
        if kind == "start":
            self._phases.add("customize")
            run = CustomizerRun(_clean(groups["type"]), len(self._runs), timestamp(text), None, None, "running", start_line=lineno)
            self._open.append(run.index)
            self._runs.append(run)
            self._start_texts.append(text.strip())
        elif kind == "end":
            self._end(_clean(groups["type"]), timestamp(text), lineno)
        elif kind == "connect":
            self._phases.add("connect")
            if "WinRM" in text:
                self.os, self.communicator = "windows", "winrm"
            else:
                self.os, self.communicator = "linux", "ssh"
        elif kind == "deprovision":
            self._phases.add("deprovision")
            if self._open:
                last = self._open[-1]
                self._runs[last] = replace(self._runs[last], name="deprovisioning")
        elif kind == "failed":
            self.failed = True
            if self.clock.end_time is None and self.clock.end is not None:
                self.clock.end_time = timestamp(text)
            m = _PACKER_DURATION.search(text)
            if m and self.clock.packer_seconds is None:
                self.clock.packer_seconds = duration_seconds(m.group(1))
        elif kind == "finished":
            self._phases.add("finished")
            if "finished" in text and "Build '" in text:
                self.finished = True
        else:
            self._phases.add(kind)

    def runs(self) -> tuple[CustomizerRun, ...]:
        """The runs so far; one not ended has status "running"."""
        return tuple(self._runs)

    def start_text(self, index: int) -> str:
        return self._start_texts[index]

    def _end(self, kind: str, when: str | None, lineno: int | None) -> None:
        for position in range(len(self._open) - 1, -1, -1):
            index = self._open[position]
            run = self._runs[index]
            if run.type == kind:
                del self._open[position]
                self._runs[index] = replace(run, ended=when, seconds=_whole(seconds_between(run.started, when)), status="ok", end_line=lineno)
                return

    def build(self, failed: bool | None = None, error_line: int | None = None) -> Timeline:
        """The timeline; `failed` overrides the log's own verdict when the status knows better.

        `error_line` is the log line of the diagnosed error: when every customizer has an `ending`
        marker (Packer prints one even for a provisioner that failed), the run around it failed.
        """
        failed = self.failed if failed is None else failed
        runs = list(self._runs)
        if failed:
            for index in self._open:
                runs[index] = replace(runs[index], status="failed")
            if not self._open and error_line is not None:
                for run in runs:
                    if run.start_line is not None and run.start_line <= error_line <= (run.end_line or 0):
                        runs[run.index] = replace(run, status="failed")
        phases = tuple(p for p in PHASES if p in self._phases)
        return Timeline(
            operation_id=self.operation_id,
            os=self.os,
            communicator=self.communicator,
            phases=phases,
            customizers=tuple(runs),
            failed_step=self._failed_step(runs, phases) if failed else None,
        )

    def _failed_step(self, runs: list[CustomizerRun], phases: tuple[str, ...]) -> FailedStep | None:
        failed = [run for run in runs if run.status == "failed"]
        if failed:
            run = failed[-1]
            when = f" at {run.started.replace('T', ' ')}" if run.started else ""
            phase = "deprovision" if run.name == "deprovisioning" else "customize"
            outcome = "and never ended" if run.ended is None else f"and failed after {run.seconds}s"
            return FailedStep(phase, run.index, f"{describe_run(run)} started{when} {outcome}")
        reached = [p for p in phases if p not in ("cleanup", "finished")]
        if not reached:
            return None
        phase = reached[-1]
        return FailedStep(phase, None, f"the build failed during the {phase} phase")


def describe_run(run: CustomizerRun) -> str:
    """'the deprovisioning step (powershell, #5)' or "the 'install-tools' customizer (shell, #2)"."""
    if run.name == "deprovisioning":
        return f"the deprovisioning step ({run.type}, #{run.index + 1})"
    if run.name:
        return f"the '{run.name}' customizer ({run.type}, #{run.index + 1})"
    return f"the {run.type} customizer (#{run.index + 1})"


def _clean(kind: str) -> str:
    # People paste logs with Markdown bold; the marker's last word then ends in '**'.
    return kind.strip("*.")
