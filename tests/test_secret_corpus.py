"""Every secret form of fixtures/secrets/corpus.yaml, in every output aib-doctor writes: none leaks."""

from __future__ import annotations

import json
import sys

import pytest
import re2
from conftest import ROOT

from aib_doctor.core.redact import MASK, find_secrets, redact, redact_chunks
from aib_doctor.core.secret_shapes import SHAPES

sys.path.insert(0, str(ROOT / "scripts"))
import secret_leaks  # noqa: E402

CORPUS = secret_leaks.corpus()
CLEAN_FIXTURES = sorted(p for p in (ROOT / "fixtures").rglob("*") if p.suffix in (".log", ".txt") and "secrets" not in p.parts)


def test_the_corpus_has_at_least_forty_forms():
    assert len(CORPUS) >= 40 and len({form["form"] for form in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("form", CORPUS, ids=lambda f: f["form"])
@pytest.mark.parametrize("spelling", ["plain", "json-escaped", "escaped-twice"])
def test_redact_hides_each_form_in_each_spelling(form, spelling):
    text = {"plain": form["text"], "json-escaped": json.dumps(form["text"]), "escaped-twice": json.dumps(json.dumps(form["text"]))}[spelling]
    out = redact(text)
    assert not secret_leaks.leaks(form, out), out
    assert MASK in out
    assert out.count("\n") == text.count("\n")  # line numbers of a redacted log still match
    if spelling != "plain":
        json.loads(out)  # a redacted JSON string is still JSON (bundles are read back)


@pytest.mark.parametrize("form", CORPUS, ids=lambda f: f["form"])
def test_a_log_is_redacted_in_blocks_of_any_size(form):
    filler = (ROOT / "fixtures" / "logs" / "linux-script-failed.log").read_bytes()
    data = filler + form["text"].encode() + b"\n" + filler
    for size in (7, 4096, len(data)):
        out = b"".join(redact_chunks(data[i : i + size] for i in range(0, len(data), size))).decode()
        assert not secret_leaks.leaks(form, out)
        assert out.count("\n") == data.count(b"\n")


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_every_match_of_a_shape_holds_its_anchor(shape):
    """A text is tried only with the shapes whose anchor it holds: an anchor a match can lack would hide a secret."""
    texts = [spelled for form in CORPUS for spelled in (form["text"], json.dumps(form["text"]), json.dumps(json.dumps(form["text"])))]
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in CLEAN_FIXTURES]
    anchor = re2.compile(f"(?i){shape.anchor}")
    matches = [(text, m) for text in texts for m in shape.regex.finditer(text)]
    assert [m.group() for text, m in matches if not anchor.search(text[max(m.start() - 1, 0) : m.end()])] == []
    assert matches  # the corpus has every shape's form


def test_clean_logs_and_pasted_errors_have_no_secret_but_the_one_sas_signature_planted():
    found = [(p.name, f.shape.name) for p in CLEAN_FIXTURES for f in find_secrets(p.read_text(encoding="utf-8", errors="replace"))]
    assert found == [("cli-external-file-failed.txt", "sas-signature")]


def test_no_form_leaks_from_any_output_and_lint_flags_every_form():
    table, unflagged = secret_leaks.tally()
    assert {output: row.leaked for output, row in table.items() if row.leaked} == {}
    assert unflagged == []
    assert all(row.tried == len(CORPUS) for row in table.values())
    # the forms reach the outputs (redacted), so the absence of leaks means something
    assert min(table[o].shown for o in ("template log -o json", "template log -o markdown", "webhook payload")) >= 40
    assert table["fetch-log --bundle"].shown == table["check evidence archive"].shown == len(CORPUS)
