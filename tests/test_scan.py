"""The scan: the same answers for any chunking and on any thread, and lines the prefilter and the set see differently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from aib_doctor.cli import app
from aib_doctor.core import patterns as patterns_module
from aib_doctor.core import scan as scan_module
from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.logstream import MAX_LINE, Block, iter_blocks
from aib_doctor.core.patterns import find_lines, pattern_table, without_captures
from aib_doctor.core.scan import Scan, scan_chunks

SHUTDOWN = "A system shutdown is in progress. (1115)"  # AIB010, resources.windows-update-low-resources
runner = CliRunner()


def table():
    return pattern_table(load_catalog())


def summary(result):
    """Everything a scan hands the diagnosis, in comparable form."""
    timeline = result.timeline
    return (
        result.hits,
        result.error_lines,
        result.short_text,
        timeline.operation_id,
        timeline.failed,
        timeline.finished,
        timeline.build(failed=True, error_line=None),
        timeline.clock,
    )


def pieces(data: bytes, sizes: list[int]) -> list[bytes]:
    """data cut at the given sizes in turn (cycling), the last piece whatever is left."""
    out, pos, i = [], 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        out.append(data[pos : pos + size])
        pos += size
        i += 1
    return out


def analyze(path: Path):
    result = runner.invoke(app, ["analyze", str(path), "-o", "json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else result.stderr


def test_a_match_past_the_line_cap_is_not_a_crash_and_not_evidence(tmp_path):
    far = tmp_path / "far.txt"
    far.write_text("x" * (MAX_LINE + 10) + " " + SHUTDOWN + "\n")
    code, report = analyze(far)
    assert code == 0 and report["primary"] is None  # nothing an engineer can read in the kept part of the line
    near = tmp_path / "near.txt"
    near.write_text("x" * 1000 + " " + SHUTDOWN + "\n" + "y" * (MAX_LINE + 10) + "\n")
    code, report = analyze(near)
    assert code == 1 and report["primary"]["rule"] == "AIB010"


def test_a_match_spanning_a_newline_is_not_a_crash(tmp_path):
    text = "Error: A system shutdown is in progress.\n(1115)\n"
    # The physical-line pass sees only "Error:" on line 1: no match crosses a newline, the set agrees with the prefilter.
    shutdown = {index for index, _ in table().rule_entries["AIB010"]}
    found = find_lines(table(), Block(text.encode(), 0, len(text)))
    assert [(line, start, raw) for line, start, raw, _ in found.lines] == [(0, 0, b"Error: A system shutdown is in progress.")]
    assert not shutdown & set(found.lines[0][3]) and found.count == 2
    paste = tmp_path / "paste.txt"
    paste.write_text(text)
    code, report = analyze(paste)
    assert code == 1 and report["primary"]["rule"] == "AIB010"  # the logical pass joins the two lines
    assert report["primary"]["evidence"][0]["line"] == 1


def test_the_prefilter_has_no_capture_groups():
    assert without_captures(r"a(?P<x>b)(c)\(d\)[(]x(?:y)(?i:z)[^]()](?=q)") == r"a(?:b)(?:c)\(d\)[(]x(?:y)(?i:z)[^]()](?=q)"
    prefilter_spans = table().search(b"xx SkuNotAvailable\n", 0, 19)
    assert len(prefilter_spans) == 1 and prefilter_spans[0] == (3, 18)


def test_the_public_search_gives_what_the_engine_call_gives():
    import re2

    regexp = re2.compile(b"(?m)^b+$")
    public = patterns_module._public_search(regexp)
    for text, pos in [(b"a\nbb\nc", 0), (b"a\nbb\nc", 3), (b"zzz", 0)]:
        assert public(text, pos, len(text))[0] == patterns_module._engine_search(regexp)(text, pos, len(text))[0]


LOGS = sorted((FIXTURES / "logs").glob("*.log")) + sorted((FIXTURES / "corpus").glob("*/*.log"))[:6]


@pytest.mark.parametrize("path", LOGS, ids=[p.name for p in LOGS])
def test_every_chunk_size_gives_the_same_scan(path, monkeypatch):
    data = path.read_bytes()
    whole = summary(scan_chunks(table(), "customization.log", [data]))  # small: matched line by line
    for sizes in ([1], [2, 3, 5], [4096], [1 << 20], [4 << 20]):
        assert summary(scan_chunks(table(), "customization.log", pieces(data, sizes))) == whole, sizes
    monkeypatch.setattr(patterns_module, "SMALL_BLOCK", 0)  # every block through the prefilter
    for sizes in ([4096], [4 << 20]):
        assert summary(scan_chunks(table(), "customization.log", pieces(data, sizes))) == whole, sizes


# Lines of every kind the scan treats differently: rule patterns (with named groups, with `unless`), timeline
# markers, error-looking lines, not-an-error lines, an operation id, nothing, CRLF, invalid UTF-8, a line past the cap.
LINES = [
    "[922bdf36-b53c-4e78-9cd8-6b70b9674685] PACKER OUT azure-arm: (telemetry) Starting provisioner powershell",
    "[922bdf36-b53c-4e78-9cd8-6b70b9674685] PACKER OUT azure-arm: (telemetry) ending powershell",
    "PACKER OUT ==> azure-arm: Waiting for WinRM to become available...",
    "PACKER ERR ==> Some builds didn't complete successfully and had errors:",
    "ERROR: (SkuNotAvailable) The requested VM size Standard_D2s_v3 is not available in location westus.",
    SHUTDOWN,
    "Error: Retryable error while polling, will retry",
    "CBS    Failed to get session package state [HRESULT = 0x80070490 - ERROR_NOT_FOUND]",
    "0 errors, 0 warnings; errors=0",
    "Build 'azure-arm' errored after 1 hour 2 minutes: Timeout waiting for microservice",
    "plain output line\r",
    "bad \xff\xfe bytes",
    "",
    "z" * (MAX_LINE + 3) + " SkuNotAvailable",
]


@settings(max_examples=80, deadline=None)
@given(
    lines=st.lists(st.sampled_from(range(len(LINES))), min_size=1, max_size=60),
    sizes=st.lists(st.integers(min_value=1, max_value=70_000), min_size=1, max_size=8),
    final_newline=st.booleans(),
    dense=st.sampled_from([1, 2, 5]),
)
def test_any_chunking_of_any_lines_gives_the_same_scan(lines, sizes, final_newline, dense):
    text = "\n".join(LINES[i] for i in lines) + ("\n" if final_newline else "")
    data = text.encode("utf-8", "surrogateescape").replace("\xff".encode(), b"\xff").replace("\xfe".encode(), b"\xfe")
    whole = summary(scan_chunks(table(), "customization.log", [data]))
    assert summary(scan_chunks(table(), "customization.log", pieces(data, sizes))) == whole
    # The prefilter, and its dense way (rule lines, then error-looking lines from the end), answer what line by line answers.
    original = patterns_module.DENSE_ERRORS, patterns_module.SMALL_BLOCK
    try:
        patterns_module.DENSE_ERRORS, patterns_module.SMALL_BLOCK = dense, 0
        assert summary(scan_chunks(table(), "customization.log", [data])) == whole
        assert summary(scan_chunks(table(), "customization.log", pieces(data, sizes))) == whole
    finally:
        patterns_module.DENSE_ERRORS, patterns_module.SMALL_BLOCK = original


def test_the_dense_way_keeps_the_last_error_lines_of_a_long_block(monkeypatch):
    noisy = [f"step {n}: Error {n} ignored" if n % 3 else f"step {n}: Retryable error {n}" for n in range(3000)]
    data = ("\n".join([*noisy, SHUTDOWN, *noisy[:40]]) + "\n").encode()
    whole = summary(scan_chunks(table(), "customization.log", [data]))
    monkeypatch.setattr(patterns_module, "SMALL_BLOCK", 0)
    monkeypatch.setattr(patterns_module, "DENSE_ERRORS", 10)
    dense = summary(scan_chunks(table(), "customization.log", [data]))
    assert dense == whole
    errors = dense[1]
    # lines 3002-3041 are noisy[0..39]; n % 3 == 0 is a retried (not-an-error) line: the last 8 others are n = 28 .. 38
    assert [e.line for e in errors] == [3030, 3031, 3033, 3034, 3036, 3037, 3039, 3040]
    assert errors[-1].text == "step 38: Error 38 ignored"


def test_blocks_searched_on_threads_or_inline_give_the_same_scan(monkeypatch):
    log = (FIXTURES / "logs" / "windows-sysprep-timing-failed.log").read_bytes()
    body = b"".join(line for line in log.splitlines(keepends=True) if b"Found command:" not in line)
    data = body * 300 + log  # ~5 MB: blocks large enough for the worker thread, the failure at the end
    inline = Scan(table(), "customization.log")
    for block in iter_blocks(pieces(data, [3 << 20])):
        inline.feed(block)
    expected = summary(inline.result())
    assert summary(scan_chunks(table(), "customization.log", pieces(data, [3 << 20]))) == expected
    monkeypatch.setattr(scan_module, "DENSE_LINES", 0)  # every block after the first searched inline
    assert summary(scan_chunks(table(), "customization.log", pieces(data, [3 << 20]))) == expected
