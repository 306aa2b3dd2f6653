"""Rule packs (--rules DIR, AIB_DOCTOR_RULES, rules --check DIR): loaded beside the catalog in their own id namespace,
every mistake named with its file and line, and a pack's own fires/quiet cases run through the whole diagnosis."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import FIXTURES
from typer.testing import CliRunner

from aib_doctor.cli import app

runner = CliRunner()
PACK = FIXTURES / "rulepacks" / "contoso"
LOG = FIXTURES / "rulepacks" / "contoso-feed-token.log"

GOOD_RULE = """\
- id: ACME001
  name: acme.proxy-refused
  category: network
  severity: error
  priority: 70
  match:
    any: ['acme-proxy: CONNECT refused']
  title: The Acme egress proxy refused the connection
  cause: The build VM's traffic goes through the Acme egress proxy, which refused the connection to the host.
  fix: Ask the network team to allow the host on the egress proxy.
"""


def test_a_pack_rule_explains_a_log_the_catalog_only_wraps():
    plain = json.loads(runner.invoke(app, ["analyze", str(LOG), "-o", "json"]).stdout)
    assert plain["primary"]["rule"] == "AIB017"  # without the pack: the generic "script exited non-zero"
    result = runner.invoke(app, ["analyze", str(LOG), "-o", "json", "--rules", str(PACK)])
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["primary"]["rule"] == "CONTOSO001" and report["primary"]["category"] == "artifact_download"
    assert report["primary"]["cause"].endswith("The feed was platform-tools.")
    assert report["primary"]["evidence"][0]["line"] == 38
    assert "AIB017" in {f["rule"] for f in report["findings"]}  # the wrapper is still there, as a secondary finding


def test_the_environment_variable_names_packs(monkeypatch, tmp_path):
    other = tmp_path / "acme"
    other.mkdir()
    (other / "acme.yaml").write_text(GOOD_RULE)
    monkeypatch.setenv("AIB_DOCTOR_RULES", f"{PACK}:{other}")
    listing = runner.invoke(app, ["rules", "-o", "json"])
    ids = [item["id"] for item in json.loads(listing.stdout)]
    assert "CONTOSO002" in ids and "ACME001" in ids and "AIB012" in ids
    assert runner.invoke(app, ["rules", "ACME001"]).stdout.startswith("ACME001 acme.proxy-refused\n")


def test_rules_check_runs_the_packs_cases():
    result = runner.invoke(app, ["rules", "--check", str(PACK)])
    assert (result.exit_code, result.stdout) == (0, f"{PACK}: 2 rule(s), 5 case(s), 0 failed: ok\n")


def test_rules_check_names_the_case_that_does_not_hold(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    cases = pack / "cases" / "CONTOSO002.yaml"
    cases.write_text(cases.read_text() + '  - text: "cis-harden: 2 controls failed"\n')  # a "quiet" case that fires
    (pack / "cases" / "CONTOSO001.yaml").write_text("fires:\n  - text: \"contoso-bootstrap: ERROR feed 'x' rejected the token\"\n")
    result = runner.invoke(app, ["rules", "--check", str(pack)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{cases}:5: CONTOSO002 should stay quiet on this case but does not",
        f"{pack}: CONTOSO001 needs at least one 'fires' and one 'quiet' case in cases/CONTOSO001.yaml",
        f"{pack}: 2 rule(s), 4 case(s), 1 failed: FAILED",
    ]


@pytest.mark.parametrize(
    "text,line,message",
    [
        (GOOD_RULE.replace("ACME001", "AIB001"), 1, "id 'AIB001' must be your own prefix"),
        (GOOD_RULE.replace("ACME001", "TPL001"), 1, "id 'TPL001' must be your own prefix"),
        (GOOD_RULE.replace("acme.proxy-refused", "network.proxy-refused"), 1, "name 'network.proxy-refused' must start with acme."),
        (GOOD_RULE + GOOD_RULE.replace("- id", "\n- id"), 13, "'ACME001' is already defined in another pack rule"),
        (GOOD_RULE.replace("  fix:", "  fixes:"), 10, "unknown fields ['fixes']"),  # the line of the field named
        (GOOD_RULE.replace("category: network", "category: networking"), 3, "unknown category or severity"),
        (GOOD_RULE.replace("CONNECT refused", "CONNECT (refused"), 6, "bad pattern"),
        (GOOD_RULE.replace("  fix: Ask", "  details: ['On {size}.']\n  fix: Ask"), 10, "names ['size']"),
        (GOOD_RULE.replace("  fix: Ask the network team to allow the host on the egress proxy.\n", ""), 1, "missing fix"),
        (GOOD_RULE.replace("priority: 70", "priority: high"), 1, "wrong type"),
        (GOOD_RULE.replace("  title:", "title:"), 8, "not valid YAML"),
        ("id: ACME001\n", 1, "a rule file is a YAML list of rules"),
    ],
)
def test_a_mistake_in_a_pack_is_named_with_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "acme.yaml"
    path.write_text("# Acme's rules\n\n" + text)
    result = runner.invoke(app, ["analyze", str(LOG), "--rules", str(tmp_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    first = result.stderr.strip()
    assert first.startswith(f"aib-doctor: {path}:{line + 2}: ") or (message.startswith("'ACME001'") and "ACME001" in first), first
    assert message in first


def test_a_pack_rule_cannot_take_a_built_in_name(tmp_path):
    (tmp_path / "acme.yaml").write_text(GOOD_RULE.replace("ACME", "NETWORK").replace("acme.proxy-refused", "network.build-vm-connection-lost"))
    result = runner.invoke(app, ["rules", "--rules", str(tmp_path)])
    assert result.exit_code == 2 and "'network.build-vm-connection-lost' is already defined in the built-in catalog" in result.stderr


def test_a_missing_or_empty_pack_folder_is_a_usage_error(tmp_path):
    assert "not a folder of rule files" in runner.invoke(app, ["rules", "--rules", str(tmp_path / "nope")]).stderr
    empty = runner.invoke(app, ["rules", "--check", str(tmp_path)])
    assert empty.exit_code == 2 and "no *.yaml rule files" in empty.stderr
