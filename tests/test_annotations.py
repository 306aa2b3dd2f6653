"""CI annotations (-o github / -o azure-devops) and lint over several files, against outputs written out by hand."""

from __future__ import annotations

import json
import shutil

from conftest import FIXTURES
from typer.testing import CliRunner

from aib_doctor.cli import app
from aib_doctor.render.annotations import annotation

runner = CliRunner()
TEMPLATE = FIXTURES / "corpus" / "permissions" / "template-json-identity-not-authorized.json"
LOG = FIXTURES / "logs" / "windows-sysprep-timing-failed.log"


def test_github_escapes_data_and_properties():
    line = annotation("github", "error", "50% done\nnext: line", "AIB001 a,b: c", "dir/t,1.json", 7)
    assert line == "::error file=dir/t%2C1.json,line=7,title=AIB001 a%2Cb%3A c::50%25 done%0Anext: line"
    assert annotation("github", "info", "m") == "::notice::m"


def test_azure_devops_escapes_and_has_no_info_level():
    line = annotation("azure-devops", "warning", "50% [x]\nnext", "T", "a;b].json", 3, "TPL001")
    assert line == "##vso[task.logissue type=warning;sourcepath=a%3Bb%5D.json;linenumber=3;code=TPL001]T: 50%AZP25 [x]%0Anext"
    assert annotation("azure-devops", "info", "just a note", "TPL023 x") == "TPL023 x: just a note"


def test_analyze_puts_the_primary_first_then_the_text():
    for style, prefix in (
        ("github", "::error title=AIB012 deprovision.sysprep-timing%3A "),
        ("azure-devops", "##vso[task.logissue type=error;code=AIB012]AIB012 "),
    ):
        result = runner.invoke(app, ["analyze", str(LOG), "-o", style])
        first, second = result.stdout.splitlines()[:2]
        assert result.exit_code == 1 and first.startswith(prefix) and "Fix: Use a larger vmSize" in first
        assert second == f"FAILED  log {LOG}"


def test_an_unexplained_failure_is_still_an_error_annotation():
    text = "PACKER OUT Build 'azure-arm' errored: frobnicator exploded\n"
    result = runner.invoke(app, ["analyze", "-", "-o", "github"], input=text)
    assert result.exit_code == 3
    assert result.stdout.startswith("::error title=aib-doctor%3A unexplained failure::No rule explains this failure")
    assert "frobnicator exploded" in result.stdout.splitlines()[0]


def test_a_good_build_has_no_annotation():
    result = runner.invoke(app, ["analyze", str(FIXTURES / "logs" / "linux-success.log"), "-o", "github"])
    assert result.exit_code == 0 and "::" not in result.stdout.splitlines()[0]


def test_lint_takes_several_files_sarif_is_one_run_json_a_list(tmp_path):
    other = tmp_path / "copy.json"
    shutil.copy(TEMPLATE, other)
    sarif = json.loads(runner.invoke(app, ["lint", str(TEMPLATE), str(other), "-o", "sarif"]).stdout)
    (run,) = sarif["runs"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]]
    assert uris == [str(TEMPLATE), str(other)] and [r["ruleId"] for r in run["results"]] == ["TPL023", "TPL023"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["TPL023"]
    listing = json.loads(runner.invoke(app, ["lint", str(TEMPLATE), str(other), "-o", "json"]).stdout)
    assert [item["file"] for item in listing] == [str(TEMPLATE), str(other)]
    assert json.loads(runner.invoke(app, ["lint", str(TEMPLATE), "-o", "json"]).stdout)["file"] == str(TEMPLATE)  # one file: the object, as before


def test_lint_annotations_point_at_file_and_line_and_exit_code_covers_every_file(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = runner.invoke(app, ["lint", str(TEMPLATE), "-o", "github"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"::notice file={TEMPLATE},line=9,title=TPL023 powershell.elevated-not-system::runElevated without runAsSystem. "
        "An elevated PowerShell customizer does not run as SYSTEM. Fix: Add runAsSystem: true if the script needs the SYSTEM account; otherwise nothing to change.",
        f"{TEMPLATE}: 1 template(s) (win2022-golden): 0 errors, 0 warnings",
    ]
    assert runner.invoke(app, ["lint", str(TEMPLATE), "--fail-on", "warning", "-o", "azure-devops"]).exit_code == 0  # info never fails
    assert runner.invoke(app, ["lint", str(TEMPLATE), str(broken)]).exit_code == 2


def test_check_annotates_each_new_failure_and_each_template_it_could_not_diagnose():
    from conftest import diagnose_source

    from aib_doctor.model import CheckResult, Outcome, TemplateSummary
    from aib_doctor.render import Format, render_check

    report = diagnose_source("customization.log", (FIXTURES / "logs" / "windows-sysprep-timing-failed.log").read_text(encoding="utf-8"))
    web = TemplateSummary("/subscriptions/s/resourceGroups/rg/providers/x/imageTemplates/web01", "web01", "rg", "s")
    db = TemplateSummary("/subscriptions/s/resourceGroups/rg/providers/x/imageTemplates/db01", "db01", "rg", "s")
    result = CheckResult(
        [Outcome(web, "new_failure", "failed", report), Outcome(db, "still_failing", "failed", error="log unavailable: 403")],
        "Resource Graph",
    )
    lines = render_check(result, Format.github).splitlines()
    assert lines[0].startswith("::error title=Image Builder build failed%3A rg/web01::AIB012 deprovision.sysprep-timing: Sysprep ran before")
    assert lines[1] == "::warning title=aib-doctor could not diagnose rg/db01::log unavailable: 403"
    assert lines[2].startswith("aib-doctor check: 2 templates")
    devops = render_check(result, Format.azure_devops).splitlines()
    assert devops[0].startswith("##vso[task.logissue type=error;code=AIB012]Image Builder build failed: rg/web01: AIB012 ")
