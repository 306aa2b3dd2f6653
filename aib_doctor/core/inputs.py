"""What `analyze` accepts: a customization.log, pasted error text, a template JSON, or a bundle folder.

Each input becomes the same things the Azure path produces: a BuildStatus (when the input says
one), a scan per text source, and a subject describing what was read. Files are streamed in
chunks; only a JSON document small enough to be a template is read whole.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import BinaryIO

from aib_doctor.core.lazy_regex import LazyRegex
from aib_doctor.core.logstream import MAX_LINE, looks_like_utf16le
from aib_doctor.core.scan import READ_SIZE, PatternTable, ScanResult, scan_chunks, scan_text, unescaped
from aib_doctor.core.template_facts import properties as template_properties
from aib_doctor.core.template_shape import check_template_shape, parse_json
from aib_doctor.errors import InputError
from aib_doctor.files import CHUNK, read_chunks
from aib_doctor.model import BuildStatus, Subject

_LOG_HINT = LazyRegex(rb"PACKER (?:OUT|ERR|\d{4}/|==>)|\(telemetry\)")
_STATE = LazyRegex(r'"(provisioningState|runState|runSubState)"\s*:\s*"(\w+)"')


@dataclass(frozen=True)
class Intake:
    """An input, read: the sources' scans, the status it states, and what it was."""

    scans: tuple[ScanResult, ...]
    status: BuildStatus | None
    subject: Subject
    template: dict | None = None
    notes: tuple[str, ...] = ()
    """What was skipped, for the user (cli prints them): lines too long to search whole."""


MAX_JSON = 64 << 20
"""Largest JSON file read whole (lint); templates are kilobytes."""


def read_json_text(path: str, stdin: BinaryIO | None = None) -> str:
    """A JSON file (or - for stdin) read whole as text, as `analyze` reads one: UTF-8 or UTF-16, never binary or a folder."""
    if path == "-":
        if stdin is None:
            raise InputError("no standard input to read: it is closed")
        data = stdin.read(MAX_JSON + 1)
    else:
        target = Path(path)
        if target.is_dir():
            raise InputError(f"{path}: is a folder; give a template JSON file")
        try:
            with target.open("rb") as handle:
                data = handle.read(MAX_JSON + 1)
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
    name = "<stdin>" if path == "-" else path
    if len(data) > MAX_JSON:
        raise InputError(f"{name}: over {MAX_JSON >> 20} MB; a template JSON is kilobytes")
    if not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise InputError(f"{name}: the input is empty")
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or looks_like_utf16le(data)
    if not utf16 and b"\x00" in data[:8192]:
        raise InputError(f"{name}: this looks like a binary file, not a template JSON")
    if utf16:
        return _decode_head(data, True)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not UTF-8 or UTF-16 text") from None


def read_input(path: str, table: PatternTable, stdin: BinaryIO | None = None) -> Intake:
    if path == "-":
        if stdin is None:
            raise InputError("no standard input to read: it is closed")
        return _read_stream("<stdin>", read_chunks(stdin, READ_SIZE), table)
    target = Path(path)
    if target.is_dir():
        return _read_bundle(target, table)
    if not target.exists():
        raise InputError(f"{path}: no such file or folder")
    try:
        with target.open("rb") as handle:
            return _read_stream(path, read_chunks(handle, READ_SIZE), table)
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder") from None


def _sniff(name: str, head: bytes) -> bool:
    """Whether the text is UTF-16; empty, compressed and binary inputs are refused here."""
    if not head.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise InputError(f"{name}: the input is empty")
    if head.startswith(b"\x1f\x8b"):
        raise InputError(f"{name}: gzip-compressed; decompress it first (gunzip, or gzip -dc {name} | aib-doctor analyze -)")
    if head.startswith(b"PK\x03\x04"):
        raise InputError(f"{name}: a zip archive; extract the log first")
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or looks_like_utf16le(head)
    if not utf16 and b"\x00" in head[:8192]:
        raise InputError(f"{name}: this looks like a binary file, not a log, error text or template JSON")
    return utf16


def _cut_notes(name: str, scan: ScanResult) -> tuple[str, ...]:
    if not scan.cut_lines:
        return ()
    more = f" (and {len(scan.cut_lines) - 1} more)" if len(scan.cut_lines) > 1 else ""
    return (f"{name}: line {scan.cut_lines[0]}{more} is longer than {MAX_LINE >> 10} KB; only its first {MAX_LINE >> 10} KB were searched",)


def _read_stream(name: str, chunks: Iterator[bytes], table: PatternTable) -> Intake:
    head = next(chunks, b"")
    utf16 = _sniff(name, head)
    # What the input is, is read from its first CHUNK bytes (the scan reads larger pieces).
    text_head = _decode_head(head[:CHUNK], utf16)
    if text_head.lstrip().startswith(("{", "[")) and len(head) < CHUNK:
        template = _template_json(text_head, name)
        if template is not None:
            return template_intake(template, table, Subject("template", file=name))
    looks_like_log = bool(_LOG_HINT.search(head[:CHUNK]))
    source = "customization.log" if looks_like_log else "input"
    stream = chain([head], chunks)
    # Escaped quotes mark a pasted JSON string (ARM statusMessage, az --debug); read it unescaped.
    if not looks_like_log and b'\\"' in head[:CHUNK]:
        stream = unescaped(stream)
    scan = scan_chunks(table, source, stream)
    status = None if looks_like_log else _stated_status(text_head)
    return Intake((scan,), status, Subject("log" if looks_like_log else "text", file=name), notes=_cut_notes(name, scan))


def _decode_head(head: bytes, utf16: bool) -> str:
    if not utf16:
        return head.decode("utf-8", "replace").lstrip("\ufeff")
    encoding = "utf-16-be" if head.startswith(codecs.BOM_UTF16_BE) else "utf-16-le"
    return head.decode(encoding, "replace").lstrip("\ufeff")


def _template_json(text: str, name: str) -> dict | None:
    try:
        document = parse_json(text, name)
    except ValueError:
        return None
    if isinstance(document, list) and len(document) == 1:
        document = document[0]
    if isinstance(document, list):
        raise InputError(f"the JSON holds {len(document)} templates; save one (az image builder show) and analyze that")
    if not isinstance(document, dict):
        return None
    properties = document.get("properties", document)
    if isinstance(properties, dict) and ({"provisioningState", "lastRunStatus", "source", "customize"} & set(properties)):
        return document
    return None


def _stated_status(text: str) -> BuildStatus | None:
    """Pasted `az image builder show` fragments are not valid JSON; their state fields still count."""
    states = dict(_STATE.findall(text[:65536]))
    if not states:
        return None
    return BuildStatus(
        provisioning_state=states.get("provisioningState"),
        run_state=states.get("runState"),
        run_sub_state=states.get("runSubState"),
    )


def template_status(template: dict) -> BuildStatus:
    """A template resource (ARM shape with `properties`, or az CLI's flattened shape) -> BuildStatus."""
    properties = template.get("properties", template)
    error = properties.get("provisioningError") or {}
    run = properties.get("lastRunStatus") or {}
    return BuildStatus(
        provisioning_state=properties.get("provisioningState"),
        provisioning_error_code=error.get("provisioningErrorCode"),
        provisioning_error_message=error.get("message"),
        run_state=run.get("runState"),
        run_sub_state=run.get("runSubState"),
        message=run.get("message"),
        start_time=run.get("startTime"),
        end_time=run.get("endTime"),
    )


def status_scans(status: BuildStatus, table: PatternTable) -> list[ScanResult]:
    scans = []
    if status.provisioning_error_message or status.provisioning_error_code:
        text = f"{status.provisioning_error_code or ''}: {status.provisioning_error_message or ''}"
        scans.append(scan_text(table, "provisioningError", text))
    if status.message:
        scans.append(scan_text(table, "lastRunStatus", status.message))
    return scans


def template_intake(template: dict, table: PatternTable, subject: Subject, logs: tuple[ScanResult, ...] = ()) -> Intake:
    check_template_shape(template_properties(template), subject.file or f"{subject.folder}/template.json")
    status = template_status(template)
    subject = replace(subject, id=template.get("id") or None, name=template.get("name") or None)
    return Intake(tuple(status_scans(status, table)) + logs, status, subject, template)


def _read_bundle(folder: Path, table: PatternTable) -> Intake:
    """A folder written by `fetch-log --bundle`, or any folder holding template.json and/or *.log files."""
    # customization.log first: the timeline comes from the first log scanned.
    logs = sorted((p for p in folder.glob("*.log") if not p.is_dir()), key=lambda p: (p.name != "customization.log", p.name))
    scans, notes = [], []
    for log in logs:
        try:
            with log.open("rb") as handle:
                head = handle.read(CHUNK)
                if head:  # an empty log in a bundle is a build that wrote nothing yet: scanned as empty
                    _sniff(str(log), head)
                source = "validation.log" if log.name == "validation.log" else "customization.log"
                scans.append(scan_chunks(table, source, chain([head], read_chunks(handle, READ_SIZE))))
        except OSError as exc:
            raise InputError(f"{log}: cannot read it ({exc.strerror})") from None
        notes += _cut_notes(str(log), scans[-1])
    template_file = folder / "template.json"
    subject = Subject("bundle", folder=str(folder))
    if template_file.is_file():
        try:
            template = parse_json(template_file.read_text(encoding="utf-8-sig"), str(template_file))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{template_file}: not valid JSON ({exc})") from None
        if isinstance(template, list) and len(template) == 1:
            template = template[0]
        if not isinstance(template, dict):
            raise InputError(f"{template_file}: not a template object (`az image builder show` output)")
        return replace(template_intake(template, table, subject, tuple(scans)), notes=tuple(notes))
    if not scans:
        raise InputError(f"{folder}: no template.json or *.log in this folder, nothing to analyze")
    return Intake(tuple(scans), None, subject, notes=tuple(notes))
