"""`watch`: follow a running build poll by poll, reading only the log bytes added since the previous poll.

A poll is one GET of the template and, once the log exists, one HEAD of the blob and one ranged GET of
what was added. The scanner is fed as the bytes arrive, so when the run ends its report needs no second
read of the log (diagnosis.FollowedLog). Azure is reached through the ports, and the clock and the sleep
are handed in: the tests never sleep.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aib_doctor.core.catalog import Catalog
from aib_doctor.core.diagnose import build_state
from aib_doctor.core.inputs import template_status
from aib_doctor.core.logstream import Block, LineSplitter, decode_line
from aib_doctor.core.redact import redact
from aib_doctor.core.scan import PatternTable, Scan
from aib_doctor.core.template_facts import name_customizers, properties, template_facts
from aib_doctor.core.timeline import describe_run, utc_time
from aib_doctor.core.timing import span
from aib_doctor.errors import AzureAccessError, LogUnavailable
from aib_doctor.lint.checks import SMALL_SIZES
from aib_doctor.model import BuildStatus, RunLogs, WatchPoll
from aib_doctor.template.diagnosis import FollowedLog, LocatedLog, TemplateDiagnosis, diagnose_template, locate_logs
from aib_doctor.template.ports import TemplateSource

TIMEOUT_WARNING = 0.8
"""Warn once the build has used this share of its timeout."""
SILENCE_WARNING_SECONDS = 15 * 60
RETRIES = 5
MAX_BACKOFF_SECONDS = 300
LINES_SHOWN = 3
_LOG_PREFIX = re.compile(r"^\[[0-9A-Fa-f-]+\]\s*PACKER(?:\s+(?:OUT|ERR))?\s*")
"""What every line of the log repeats: the operation id and Packer's stream (the display shows the message)."""
Show = Callable[[WatchPoll], None]


@dataclass
class _Followed:
    """The log of the run being followed: where it is, how far it was read, and the scan fed so far."""

    run_start: str | None
    scan: Scan
    located: LocatedLog | None = None
    blob: str | None = None
    offset: int = 0
    bytes_read: int = 0
    splitter: LineSplitter = field(default_factory=LineSplitter)
    last_growth: datetime | None = None
    last_line: str | None = None


class Watch:
    """One `watch` run: `run(show)` polls until the build ends and returns the same diagnosis as `template`."""

    def __init__(
        self,
        source: TemplateSource,
        resource_group: str,
        name: str,
        catalog: Catalog,
        table: PatternTable,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        interval: float = 30.0,
        start: bool = False,
    ) -> None:
        self.source, self.resource_group, self.name = source, resource_group, name
        self.catalog, self.table = catalog, table
        self.clock, self.sleep, self.interval = clock, sleep, interval
        self.start = start
        self._followed: _Followed | None = None
        self._awaiting: str | None = None  # after --start: the previous run's startTime, until the new run shows
        self._warned: set = set()
        self._last: WatchPoll | None = None

    def run(self, show: Show) -> TemplateDiagnosis:
        if self.start:
            before = template_status(self._template()).start_time
            self.source.start_run(self.resource_group, self.name)
            self._awaiting = before or ""
        failures = 0
        while True:
            try:
                result = self._poll(show)
                failures = 0
            except AzureAccessError as exc:
                # The template deleted, credentials lost, the network down: a few tries with backoff, then exit 4.
                failures += 1
                if failures > RETRIES:
                    raise
                delay = min(self.interval * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
                warning = f"{exc}; retrying in {delay:g} s ({failures} of {RETRIES})"
                show(self._poll_view(phase=self._last.phase if self._last else "unknown", warnings=(warning,)))
                self.sleep(delay)
                continue
            if result is not None:
                return result
            self.sleep(self.interval)

    def _template(self) -> dict:
        return self.source.template(self.resource_group, self.name)

    def _poll(self, show: Show) -> TemplateDiagnosis | None:
        template = self._template()
        status = template_status(template)
        state = build_state(status)
        notes: list[str] = []
        if self._awaiting is not None:
            if status.start_time == (self._awaiting or None) and state != "running":
                show(self._poll_view(phase="Starting", status=status, template=template, notes=("run requested; waiting for the service to start it",)))
                return None
            self._awaiting = None
        followed = self._followed
        if followed is None or status.start_time != followed.run_start:
            if followed is not None:
                notes.append(f"a new run started at {status.start_time}: following it from byte 0")
            followed = self._followed = _Followed(status.start_time, Scan(self.table, "customization.log"))
        if state != "running" and followed.blob is None:
            # Not running and nothing followed: the build ended before this watch; diagnose it as `template` does.
            return diagnose_template(self.source, self.resource_group, self.name, self.catalog, self.table, template=template)
        lines, read = self._read_new(followed, template, status, notes)
        if state != "running":
            self._feed(followed, followed.splitter.close())
            log = FollowedLog(followed.blob, followed.scan.result(), followed.offset, followed.bytes_read)
            return diagnose_template(self.source, self.resource_group, self.name, self.catalog, self.table, template=template, followed=log)
        poll = self._poll_view(status=status, template=template, lines=lines, read=read, notes=tuple(notes))
        show(poll)
        return None

    def _read_new(self, followed: _Followed, template: dict, status: BuildStatus, notes: list[str]) -> tuple[tuple[str, ...], int]:
        """The bytes added since the previous poll, fed to the scan; the newest lines among them and how many bytes."""
        if followed.located is None:
            try:
                located = locate_logs(self.source, self.resource_group, self.name, template)
            except LogUnavailable:
                return (), 0  # no staging storage yet: the log appears once the build has created it
            runs = [run for run in located.selected if _written_since(run, status.start_time)]
            if not runs:
                return (), 0
            followed.located, followed.blob = located, runs[0].logs[0]
            notes.append(f"following {located.account}/packerlogs/{followed.blob}")
            followed.last_growth = self.clock()
        reader = followed.located.store.reader(followed.blob)
        size = reader.size()
        if size < followed.offset:
            notes.append(f"the log shrank from {followed.offset:,} to {size:,} bytes: a new run replaced it; reading it from byte 0")
            self._followed = followed = _Followed(followed.run_start, Scan(self.table, "customization.log"), followed.located, followed.blob)
        if size == followed.offset:
            return (), 0
        lines: list[str] = []
        read = 0
        for chunk in reader.read(followed.offset, size - followed.offset):
            read += len(chunk)
            lines = (lines + self._feed(followed, followed.splitter.feed(chunk)))[-LINES_SHOWN:]
        followed.offset += read
        followed.bytes_read += read
        followed.last_growth = self.clock()
        if lines:
            followed.last_line = lines[-1]
        return tuple(lines), read

    def _feed(self, followed: _Followed, blocks: list[Block]) -> list[str]:
        """Feed the scan; the last few non-blank lines of these blocks, as the display shows them."""
        newest: list[str] = []
        for block in blocks:
            followed.scan.feed(block)
            data = block.data
            tail = [raw for raw in data[data.rfind(b"\n", 0, max(0, len(data) - 8192)) + 1 :].split(b"\n") if raw.strip()]
            newest = (newest + [redact(_LOG_PREFIX.sub("", decode_line(raw)[0]).strip()) for raw in tail])[-LINES_SHOWN:]
        return newest

    def _poll_view(
        self,
        phase: str | None = None,
        status: BuildStatus | None = None,
        template: dict | None = None,
        lines: tuple[str, ...] = (),
        read: int = 0,
        notes: tuple[str, ...] = (),
        warnings: tuple[str, ...] = (),
    ) -> WatchPoll:
        now = self.clock()
        previous = self._last
        timeout = int(template_facts(template)["timeout_minutes"]) if template else previous.timeout_minutes if previous else 240
        started = utc_time(status.start_time) if status else None
        elapsed = max(0, int((now - started).total_seconds())) if started else previous.elapsed_seconds if previous else None
        customizer, seconds, run = None, None, None
        followed = self._followed
        if followed is not None and template is not None:
            timeline = name_customizers(followed.scan.timeline.build(failed=False), template, whole_log=True)
            run = next((r for r in reversed(timeline.customizers) if r.status == "running"), None)
            if run is not None:
                customizer = describe_run(run)
                began = utc_time(run.started)
                seconds = max(0, int((now - began).total_seconds())) if began else None
        elif previous is not None:
            customizer, seconds = previous.customizer, previous.customizer_seconds
        if status is not None:
            phase = phase or status.run_sub_state or status.run_state or "unknown"
            warnings = warnings + self._warnings(now, elapsed, timeout, run, customizer, template)
        poll = WatchPoll(
            at=now.isoformat(timespec="seconds"),
            phase=phase or "unknown",
            elapsed_seconds=elapsed,
            timeout_minutes=timeout,
            customizer=customizer,
            customizer_seconds=seconds,
            lines=lines,
            bytes_read=read,
            log_size=followed.offset if followed is not None and followed.blob else None,
            notes=notes,
            warnings=warnings,
        )
        self._last = poll
        return poll

    def _warnings(self, now: datetime, elapsed: int | None, timeout: int, run, customizer: str | None, template: dict | None) -> tuple[str, ...]:
        """Trouble ahead, each said once: most of the timeout gone, a long silence, a known slow customizer."""
        found = []
        if elapsed is not None and elapsed >= TIMEOUT_WARNING * timeout * 60 and "timeout" not in self._warned:
            self._warned.add("timeout")
            found.append(f"the build has run {span(elapsed)}, {round(100 * elapsed / (timeout * 60))}% of its {timeout}-minute timeout")
        followed = self._followed
        if run is not None and followed is not None and followed.last_growth is not None:
            quiet = int((now - followed.last_growth).total_seconds())
            key = ("silence", followed.offset)
            if quiet >= SILENCE_WARNING_SECONDS and key not in self._warned:
                self._warned.add(key)
                since = followed.last_growth.strftime("%H:%M:%S UTC")
                last = f"; the last line: {followed.last_line!r}" if followed.last_line else ""
                found.append(f"no log output for {span(quiet)} (since {since}) while {customizer} runs{last}")
        if run is not None and run.type == "windows-update" and template is not None and ("slow", run.index) not in self._warned:
            slow = _slow_windows_update(template)
            if slow:
                self._warned.add(("slow", run.index))
                found.append(f"{customizer} is known to be slow here: {slow}; it can use up the timeout")
        return tuple(found)


def _slow_windows_update(template: dict) -> str | None:
    """Windows Update without filters or an updateLimit, on a small build VM: hours of updates on one core."""
    props = properties(template)
    size = (props.get("vmProfile") or {}).get("vmSize")
    if size and str(size).lower() not in SMALL_SIZES:
        return None
    for customizer in props.get("customize") or []:
        if str(customizer.get("type", "")).lower() == "windowsupdate" and not customizer.get("filters") and not customizer.get("updateLimit"):
            return f"WindowsUpdate with no filters and no updateLimit on {size or 'the default Standard_D1_v2'}"
    return None


def _written_since(run: RunLogs, start: str | None) -> bool:
    """A run folder's log was written during this run (a new run's folder appears some minutes after it starts)."""
    began, written = utc_time(start), utc_time(run.last_modified)
    return began is None or written is None or written >= began
