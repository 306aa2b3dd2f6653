"""Diagnose a remote log by reading its tail first, widening only until the evidence is in hand.

The reader is a RangeReader (aib_doctor.template.ports): a blob in production, bytes in memory in
tests. Each widening re-reads from a point four times further back, so the bytes read stay within
4/3 of the final window. A window that does not start at the
beginning of the log drops its first, partial line and numbers no lines (their position is unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from aib_doctor.core.catalog import Catalog
from aib_doctor.core.diagnose import diagnose
from aib_doctor.core.logstream import iter_blocks
from aib_doctor.core.scan import PatternTable, Scan, ScanResult
from aib_doctor.model import BuildStatus, Finding, Report, Subject
from aib_doctor.template.ports import RangeReader

FIRST_WINDOW = 1 << 20
GROWTH = 4


def _drop_partial_first_line(chunks: Iterable[bytes]) -> Iterable[bytes]:
    dropping = True
    for chunk in chunks:
        if dropping:
            newline = chunk.find(b"\n")
            if newline < 0:
                continue
            chunk, dropping = chunk[newline + 1 :], False
        yield chunk


def scan_window(reader: RangeReader, table: PatternTable, start: int, size: int) -> ScanResult:
    chunks = reader.read(start, size - start)
    scan = Scan(table, "customization.log", numbered=start == 0)
    for block in iter_blocks(_drop_partial_first_line(chunks) if start else chunks):
        scan.feed(block)
    return scan.result()


def evidence_in_hand(report: Report) -> bool:
    """The root cause is in the log window and so is the start of the step that failed."""
    primary = report.primary
    if primary is None or not any(e.source == "customization.log" for e in primary.evidence):
        return False
    step = report.timeline.failed_step
    return step is not None and step.customizer is not None


def diagnose_log(
    reader: RangeReader,
    catalog: Catalog,
    table: PatternTable,
    status_scans: Sequence[ScanResult],
    status: BuildStatus | None,
    subject: Subject,
    template: dict | None = None,
    full: bool = False,
    first_window: int = FIRST_WINDOW,
    extra_scans: Sequence[ScanResult] = (),
    preflight: Sequence[Finding] = (),
) -> Report:
    """`extra_scans` are read already (validation.log): they join every round of the diagnosis.

    The report's subject.log (which the caller sets) gets how much was read: size, read_from, bytes_read."""
    size = reader.size()
    window = size if full else min(size, first_window)
    read = 0
    while True:
        start = size - window
        scan = scan_window(reader, table, start, size)
        read += size - start
        report = diagnose([*status_scans, scan, *extra_scans], catalog, table, status, subject, template, preflight)
        running = report.status == "running"
        if start == 0 or evidence_in_hand(report) or (running and report.primary is None):
            log = replace(subject.log, size=size, read_from=start, bytes_read=read) if subject.log else None
            return replace(report, subject=replace(report.subject, log=log))
        window = min(size, window * GROWTH)
