"""Diagnose a remote log by reading its tail first, widening only until the evidence is in hand.

The reader is a RangeReader (aib_doctor.template.ports): a blob in production, bytes in memory in
tests. Each widening starts four times further back and fetches only the earlier range it lacks: what
was read is kept (in memory up to a bound, beyond it in temporary files that are always removed), so no
byte is downloaded twice and the bytes read never exceed the log's size. A window that does not start at
the beginning of the log drops its first, partial line and numbers no lines (their position is unknown).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from aib_doctor.core.catalog import Catalog
from aib_doctor.core.diagnose import diagnose
from aib_doctor.core.logstream import iter_blocks
from aib_doctor.core.scan import PatternTable, Scan, ScanResult
from aib_doctor.model import BuildStatus, Finding, Report, Subject
from aib_doctor.template.ports import RangeReader

FIRST_WINDOW = 1 << 20
GROWTH = 4
MEMORY_LIMIT = 16 << 20
"""Bytes of a tail kept in memory; the rest of a wider window waits in temporary files."""
_PIECE = 1 << 20


class KeptTail:
    """The log's bytes from `start` to its end, read once: each widening fetches only the range before `start`.

    A context manager: its temporary files are removed on exit, whatever happened."""

    def __init__(self, reader: RangeReader, size: int, memory_limit: int = MEMORY_LIMIT) -> None:
        self._reader = reader
        self.size = size
        self.start = size
        self.bytes_read = 0
        self._memory_left = memory_limit
        self._segments: list = []  # SpooledTemporaryFile each, in log order

    def __enter__(self) -> KeptTail:
        return self

    def __exit__(self, *exc) -> None:
        for segment in self._segments:
            segment.close()  # a rolled-over segment's file is deleted on close
        self._segments.clear()

    def widen(self, start: int) -> None:
        """Hold the log from `start` on, fetching only [start, self.start)."""
        if start >= self.start:
            return
        # SpooledTemporaryFile rolls over to a file past max_size, but never when max_size is 0.
        segment = tempfile.SpooledTemporaryFile(max_size=self._memory_left) if self._memory_left > 0 else tempfile.TemporaryFile()
        try:
            for chunk in self._reader.read(start, self.start - start):
                segment.write(chunk)
                self.bytes_read += len(chunk)
        except BaseException:
            segment.close()
            raise
        self._memory_left -= self.start - start
        self._segments.insert(0, segment)
        self.start = start

    def chunks(self) -> Iterator[bytes]:
        for segment in self._segments:
            segment.seek(0)
            while piece := segment.read(_PIECE):
                yield piece


def _drop_partial_first_line(chunks: Iterable[bytes]) -> Iterable[bytes]:
    dropping = True
    for chunk in chunks:
        if dropping:
            newline = chunk.find(b"\n")
            if newline < 0:
                continue
            chunk, dropping = chunk[newline + 1 :], False
        yield chunk


def scan_chunks_at(chunks: Iterable[bytes], table: PatternTable, start: int, source: str = "customization.log") -> ScanResult:
    """A scan of the log's bytes from offset `start` to its end."""
    scan = Scan(table, source, numbered=start == 0)
    for block in iter_blocks(_drop_partial_first_line(chunks) if start else chunks):
        scan.feed(block)
    return scan.result()


def scan_whole(reader: RangeReader, table: PatternTable, source: str = "customization.log") -> ScanResult:
    return scan_chunks_at(reader.read(0, reader.size()), table, 0, source)


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
    with KeptTail(reader, size) as kept:
        while True:
            kept.widen(size - window)
            scan = scan_chunks_at(kept.chunks(), table, kept.start)
            report = diagnose([*status_scans, scan, *extra_scans], catalog, table, status, subject, template, preflight)
            running = report.status == "running"
            if kept.start == 0 or evidence_in_hand(report) or (running and report.primary is None):
                log = replace(subject.log, size=size, read_from=kept.start, bytes_read=kept.bytes_read) if subject.log else None
                return replace(report, subject=replace(report.subject, log=log))
            window = min(size, window * GROWTH)
