"""What happened in a build, from the few marker lines of customization.log: phases, customizers, the failed step.

The scanner hands each marker line here once; everything kept is bounded by the number of
customizers, not by the size of the log. Marker patterns are unanchored so every line form seen in
the wild matches: `[opid] PACKER OUT ...`, the bracket lost, no prefix, `PACKER <date> ui:`, CI
timestamps in front, Markdown bold around it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

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
    "failed": r"Build '[^']+' errored|Some builds didn't complete successfully|machine readable: [A-Za-z0-9_-]+,error|Cancelling build after receiving|Provisioning step had errors|Failed to prepare build",
}
OPERATION_ID = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\]\*{0,2} PACKER")
_TIMESTAMP = re.compile(r"(\d{4})[/-](\d{2})[/-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


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


def seconds_between(start: str | None, end: str | None) -> float | None:
    first, last = parse_time(start), parse_time(end)
    return max((last - first).total_seconds(), 0.0) if first and last else None


def _whole(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds)


class TimelineBuilder:
    """Accumulates marker hits in log order; `build()` gives the Timeline and the log's own verdict."""

    def __init__(self) -> None:
        self.operation_id: str | None = None
        self.os: str | None = None
        self.communicator: str | None = None
        self._phases: set[str] = set()
        self._runs: list[CustomizerRun] = []
        self._open: list[int] = []  # indexes of runs started and not yet ended
        self.failed = False
        self.finished = False

    def see_operation_id(self, text: str) -> None:
        if self.operation_id is None:
            m = OPERATION_ID.search(text)
            if m:
                self.operation_id = m.group(1).lower()

    def mark(self, kind: str, lineno: int | None, text: str, groups: dict[str, str]) -> None:
        if kind == "start":
            self._phases.add("customize")
            run = CustomizerRun(_clean(groups["type"]), len(self._runs), timestamp(text), None, None, "running", start_line=lineno)
            self._open.append(run.index)
            self._runs.append(run)
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
        elif kind == "finished":
            self._phases.add("finished")
            if "finished" in text and "Build '" in text:
                self.finished = True
        else:
            self._phases.add(kind)

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
