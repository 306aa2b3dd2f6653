"""Any bytes into any reader: a report or one clear InputError, never another exception (which would be exit 5).

Readers: a log or pasted text (analyze FILE and -), a template JSON, a bundle folder, lint's input; and
redaction, which every output goes through."""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.diagnose import diagnose
from aib_doctor.core.inputs import read_input, read_json_text
from aib_doctor.core.logstream import iter_blocks
from aib_doctor.core.redact import redact, redact_chunks
from aib_doctor.core.scan import pattern_table
from aib_doctor.errors import InputError
from aib_doctor.lint import lint_text

CATALOG = load_catalog()
TABLE = pattern_table(CATALOG)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

_words = st.sampled_from(
    [
        "ERROR:",
        "PACKER OUT",
        "(telemetry) Starting provisioner",
        "(telemetry) ending",
        "failed",
        "\n",
        "\r\n",
        "{",
        "}",
        "[",
        "]",
        '"',
        "\\",
        "\x00",
        "\ufeff",
        "sig=",
        "-----BEGIN RSA PRIVATE KEY-----",
    ]
)
TEXTISH = st.lists(st.one_of(_words, st.text(max_size=40)), max_size=30).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))
BYTES = st.one_of(st.binary(max_size=2000), TEXTISH, TEXTISH.map(lambda b: b.decode("utf-8", "replace").encode("utf-16")))

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)),
    max_leaves=30,
)
_KEYS = [
    "properties",
    "provisioningState",
    "provisioningError",
    "lastRunStatus",
    "message",
    "runState",
    "source",
    "customize",
    "inline",
    "distribute",
    "vmProfile",
    "resources",
    "type",
    "parameters",
]
TEMPLATES = st.recursive(
    st.one_of(
        st.none(), st.integers(), st.text(max_size=20), st.sampled_from(["Failed", "[parameters('a')]", "Microsoft.VirtualMachineImages/imageTemplates"])
    ),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.sampled_from(_KEYS), children, max_size=5)),
    max_leaves=25,
)


def _analyze(path: str, stdin=None) -> None:
    try:
        intake = read_input(path, TABLE, stdin=stdin)
        diagnose(intake.scans, CATALOG, TABLE, intake.status, intake.subject, intake.template)
    except InputError:
        pass


@SETTINGS
@given(data=BYTES)
def test_any_file_is_a_report_or_one_clear_line(data, tmp_path):
    path = tmp_path / "input"
    path.write_bytes(data)
    _analyze(str(path))


@SETTINGS
@given(data=BYTES)
def test_any_stdin_is_a_report_or_one_clear_line(data):
    _analyze("-", stdin=io.BytesIO(data))


@SETTINGS
@given(document=st.one_of(JSON_VALUES, TEMPLATES))
def test_any_json_document_is_a_report_or_one_clear_line(document, tmp_path):
    path = tmp_path / "template.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    _analyze(str(path))


@SETTINGS
@given(document=st.one_of(JSON_VALUES, TEMPLATES), log=BYTES)
def test_any_bundle_folder_is_a_report_or_one_clear_line(document, log, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    (folder / "template.json").write_text(json.dumps(document), encoding="utf-8")
    (folder / "customization.log").write_bytes(log)
    _analyze(str(folder))


@SETTINGS
@given(data=st.one_of(BYTES, st.one_of(JSON_VALUES, TEMPLATES).map(lambda d: json.dumps(d).encode())))
def test_any_lint_input_is_findings_or_one_clear_line(data, tmp_path):
    path = tmp_path / "template.json"
    path.write_bytes(data)
    try:
        lint_text(read_json_text(str(path)), str(path))
    except InputError:
        pass


@SETTINGS
@given(data=BYTES, size=st.integers(min_value=1, max_value=300))
def test_redaction_keeps_every_line_of_any_text(data, size):
    text = data.decode("utf-8", "replace")
    assert redact(text).count("\n") == text.count("\n")
    out = b"".join(redact_chunks(data[i : i + size] for i in range(0, len(data), size)))
    # The log stream reads UTF-16 (a BOM, or NULs after ASCII) as text: count lines in what it read.
    read = b"".join(block.data for block in iter_blocks(data[i : i + size] for i in range(0, len(data), size)))
    assert out.count(b"\n") >= read.count(b"\n") - read.count(b"\r")  # line count kept (CR-only breaks are not lines)
