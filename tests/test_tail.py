"""Tail-first reading keeps what it read: each widening fetches only the range before it, never a byte twice."""

from __future__ import annotations

import os
import tempfile

import pytest
from fake_logs import timed_out_log

from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.scan import pattern_table
from aib_doctor.model import BuildStatus, LogRead, Subject
from aib_doctor.template.tail import KeptTail, diagnose_log


class Bytes:
    """A RangeReader over bytes that records every range asked for."""

    def __init__(self, data: bytes, fail_at: int | None = None) -> None:
        self.data, self.reads, self.fail_at = data, [], fail_at

    def size(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int):
        self.reads.append((offset, length))
        for start in range(offset, offset + length, 1 << 20):
            if self.fail_at is not None and start >= self.fail_at:
                raise ConnectionError("connection reset")
            yield self.data[start : min(start + (1 << 20), offset + length)]


# The run status of the build in fake_logs: it ran 4 h 4 min (a tail window has no start time of its own).
STATUS = BuildStatus(provisioning_state="Succeeded", run_state="Failed", start_time="2025-04-08T09:58:00Z", end_time="2025-04-08T14:02:10Z")


def diagnosed(reader, **kwargs):
    catalog = load_catalog()
    subject = Subject("template", log=LogRead("stg", "IT_x", "message", "run/customization.log"))
    return diagnose_log(reader, catalog, pattern_table(catalog), [], STATUS, subject, **kwargs)


def test_widening_fetches_only_the_missing_earlier_ranges():
    data = timed_out_log(24, 6)
    reader = Bytes(data)
    report = diagnosed(reader)
    assert report.primary.rule == "AIB151"
    size = len(data)
    # 1 MiB, then the 3 MiB before it, then the 12 MiB before those: disjoint, adjacent, ending at the log's end.
    assert reader.reads == [(size - (1 << 20), 1 << 20), (size - (4 << 20), 3 << 20), (size - (16 << 20), 12 << 20)]
    assert report.subject.log.bytes_read == 16 << 20 == sum(length for _, length in reader.reads)
    assert report.subject.log.read_from == size - (16 << 20)


def test_reading_back_to_the_start_reads_the_log_exactly_once():
    data = timed_out_log(6, 5)  # the evidence is 5 MiB back: 1, 4, then the whole 6 MiB
    reader = Bytes(data)
    log = diagnosed(reader).subject.log
    assert log.read_from == 0 and log.bytes_read == len(data) == sum(length for _, length in reader.reads)


def test_past_the_memory_bound_the_kept_bytes_wait_in_temporary_files_that_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = os.urandom(3 << 20)
    with KeptTail(Bytes(data), len(data), memory_limit=1 << 20) as kept:
        kept.widen(len(data) - (1 << 19))
        kept.widen(len(data) - (2 << 20))  # past the bound: this segment rolls over to a file
        kept.widen(0)  # no memory left: straight to a file
        assert b"".join(kept.chunks()) == data
        assert kept.bytes_read == len(data)
    assert list(tmp_path.iterdir()) == []


def test_a_read_that_breaks_leaves_no_file_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = os.urandom(4 << 20)
    with pytest.raises(ConnectionError), KeptTail(Bytes(data, fail_at=2 << 20), len(data), memory_limit=0) as kept:
        kept.widen(0)
    assert list(tmp_path.iterdir()) == []
