"""Renderers against exact expected output, from a hand-built report."""

from __future__ import annotations

import json

from conftest import FIXTURES

from aib_doctor.model import AzureTemplate, CustomizerRun, Evidence, FailedStep, Finding, LogRead, Report, RunOutput, Subject, Timeline
from aib_doctor.render import Format, render

PRIMARY = Finding(
    rule="AIB017",
    name="customize.script-nonzero-exit",
    category="customizer_failed",
    severity="error",
    title="A script customizer exited with a non-zero code",
    cause="The script failed.",
    fix="Fix the script.",
    evidence=(Evidence("customization.log", 39, "Script exited with non-zero exit status: 100."),),
    docs=("https://example.test/doc",),
)
WRAPPER = Finding(
    rule="AIB006",
    name="build.packer-build-failed",
    category="customizer_failed",
    severity="error",
    title="A step of the image build failed",
    cause="Wrapper.",
    fix="Read the log.",
    evidence=(Evidence("lastRunStatus", 1, "Packer build command has failed | exit status 1"),),
    docs=(),
)
TIMELINE = Timeline(
    operation_id="a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    os="linux",
    communicator="ssh",
    phases=("deploy", "connect", "customize"),
    customizers=(
        CustomizerRun("file", 0, "2023-06-12T10:03:00", "2023-06-12T10:03:05", 5, "ok"),
        CustomizerRun("shell", 1, "2023-06-12T10:03:41", None, None, "failed", name="install"),
    ),
    failed_step=FailedStep("customize", 1, "the 'install' customizer (shell, #2) started at 2023-06-12 10:03:41 and never ended"),
)
REPORT = Report("failed", Subject("log", file="c.log"), PRIMARY, (PRIMARY, WRAPPER), TIMELINE)


def test_text():
    assert render(REPORT, Format.text) == (
        "FAILED  log c.log\n"
        "\n"
        "Cause found: AIB017 customize.script-nonzero-exit  [customizer_failed, error, high confidence from signature]\n"
        "A script customizer exited with a non-zero code\n"
        "  Cause: The script failed.\n"
        "  Fix:   Fix the script.\n"
        "  Evidence:\n"
        "    customization.log:39  Script exited with non-zero exit status: 100.\n"
        "  Docs:  https://example.test/doc\n"
        "\n"
        "Also found:\n"
        "  AIB006 build.packer-build-failed [customizer_failed]: A step of the image build failed\n"
        "      lastRunStatus:1  Packer build command has failed | exit status 1\n"
        "\n"
        "Build: operation a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d; linux (ssh); phases: deploy > connect > customize\n"
        "Customizers:\n"
        "  #1  file                             2023-06-12 10:03:00        5s  ok\n"
        "  #2  shell 'install'                  2023-06-12 10:03:41         -  failed\n"
        "Failed step: the 'install' customizer (shell, #2) started at 2023-06-12 10:03:41 and never ended\n"
    )


def test_markdown():
    assert render(REPORT, Format.markdown) == "\n".join(
        [
            "## aib-doctor: failed",
            "",
            "Subject: log c.log",
            "",
            "### AIB017 `customize.script-nonzero-exit`: A script customizer exited with a non-zero code",
            "",
            "*customizer_failed, error, high confidence (signature)*",
            "",
            "**Cause.** The script failed.",
            "",
            "**Fix.** Fix the script.",
            "",
            "**Evidence**",
            "",
            "```text",
            "customization.log:39: Script exited with non-zero exit status: 100.",
            "```",
            "",
            "Docs: <https://example.test/doc>",
            "",
            "### Also found",
            "",
            "| Rule | Name | Category | Title |",
            "|---|---|---|---|",
            "| AIB006 | `build.packer-build-failed` | customizer_failed | A step of the image build failed |",
            "",
            "### Customizers",
            "",
            "| # | Type | Name | Started | Duration | Status |",
            "|---|---|---|---|---|---|",
            "| 1 | file |  | 2023-06-12T10:03:00 | 5s | ok |",
            "| 2 | shell | install | 2023-06-12T10:03:41 | - | failed |",
            "",
            "**Failed step:** the 'install' customizer (shell, #2) started at 2023-06-12 10:03:41 and never ended",
            "",
        ]
    )


def test_json_contract():
    document = json.loads(render(REPORT, Format.json))
    assert document == {
        "schema_version": 1,
        "status": "failed",
        "subject": {"kind": "log", "file": "c.log"},
        "primary": {
            "rule": "AIB017",
            "name": "customize.script-nonzero-exit",
            "category": "customizer_failed",
            "severity": "error",
            "confidence": "high",
            "basis": "signature",
            "title": "A script customizer exited with a non-zero code",
            "cause": "The script failed.",
            "fix": "Fix the script.",
            "evidence": [{"source": "customization.log", "line": 39, "text": "Script exited with non-zero exit status: 100."}],
            "docs": ["https://example.test/doc"],
        },
        "findings": [
            document["primary"],
            {
                "rule": "AIB006",
                "name": "build.packer-build-failed",
                "category": "customizer_failed",
                "severity": "error",
                "confidence": "high",
                "basis": "signature",
                "title": "A step of the image build failed",
                "cause": "Wrapper.",
                "fix": "Read the log.",
                "evidence": [{"source": "lastRunStatus", "line": 1, "text": "Packer build command has failed | exit status 1"}],
                "docs": [],
            },
        ],
        "timeline": {
            "operation_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
            "os": "linux",
            "communicator": "ssh",
            "phases": ["deploy", "connect", "customize"],
            "customizers": [
                {"name": None, "type": "file", "index": 0, "started": "2023-06-12T10:03:00", "ended": "2023-06-12T10:03:05", "seconds": 5, "status": "ok"},
                {"name": "install", "type": "shell", "index": 1, "started": "2023-06-12T10:03:41", "ended": None, "seconds": None, "status": "failed"},
            ],
            "failed_step": {
                "phase": "customize",
                "customizer": 1,
                "description": "the 'install' customizer (shell, #2) started at 2023-06-12 10:03:41 and never ended",
            },
        },
        "error_lines": [],
    }


def test_markdown_fence_survives_backticks_in_evidence():
    finding = Finding("AIB001", "a.b", "network", "error", "t", "c", "f", (Evidence("input", 1, "```oops"),), ())
    out = render(Report("failed", Subject(), finding, (finding,), Timeline()), Format.markdown)
    assert "````text\ninput:1: ```oops\n````" in out


def test_template_subject_lines():
    azure = AzureTemplate("rg-images", "sub", "Standard_D1_v2", 60, "Succeeded", "Failed", None, "2020-05-05T21:58:00Z", "2020-05-05T22:59:41Z")
    log = LogRead("stg1", "IT_x", "message", "9a8b/customization.log", size=64 << 20, read_from=63 << 20, bytes_read=1 << 20)
    subject = Subject("template", id="/subscriptions/sub/x/win01", name="win01", azure=azure, log=log)
    text = render(Report("unknown", subject, None, (), Timeline()), Format.text)
    assert text == (
        "UNKNOWN  template win01 rg-images\n"
        "Last run: Failed, 2020-05-05T21:58:00Z to 2020-05-05T22:59:41Z\n"
        "Build VM: Standard_D1_v2; timeout 60 minutes\n"
        "Log: stg1/packerlogs/9a8b/customization.log in IT_x (read the last 1.0 MB of 64.0 MB)\n"
    )


def test_template_subject_json_states_every_azure_field_in_order():
    azure = AzureTemplate("rg-images", "sub", build_timeout_minutes=240, provisioning_state="Succeeded", run_state="Succeeded")
    subject = Subject("template", id="/x/win01", name="win01", azure=azure, outputs=(RunOutput("win", "/images/win"),))
    document = json.loads(render(Report("succeeded", subject, None, (), Timeline()), Format.json))
    assert list(document["subject"].items()) == [
        ("kind", "template"),
        ("name", "win01"),
        ("resource_group", "rg-images"),
        ("subscription", "sub"),
        ("id", "/x/win01"),
        ("vm_size", None),
        ("build_timeout_minutes", 240),
        ("provisioning_state", "Succeeded"),
        ("run_state", "Succeeded"),
        ("run_sub_state", None),
        ("start_time", None),
        ("end_time", None),
        ("outputs", [{"name": "win", "artifactId": "/images/win", "artifactUri": None}]),
    ]
    assert render(Report("succeeded", subject, None, (), Timeline()), Format.text).splitlines()[:4] == [
        "SUCCEEDED  template win01 rg-images",
        "Last run: Succeeded",
        "Build VM: default size; timeout 240 minutes",
        "Output win: /images/win",
    ]


def test_every_result_renders_in_every_format_and_none_falls_back_to_text():
    from aib_doctor.model import CheckResult, Outcome, TemplateSummary
    from aib_doctor.render import LintFormat, render_check, render_lint

    summary = TemplateSummary("/subscriptions/s/resourceGroups/rg/providers/x/imageTemplates/web01", "web01", "rg", "s")
    check = CheckResult([Outcome(summary, "new_failure", "failed", REPORT, "/state/evidence/web01")], "Resource Graph")
    outputs = {fmt: render_check(check, fmt) for fmt in Format}
    assert outputs[Format.text].startswith("aib-doctor check: 1 templates")
    assert json.loads(outputs[Format.json])["templates"][0]["report"]["primary"]["rule"] == "AIB017"
    assert outputs[Format.markdown] == "\n".join(
        [
            "## aib-doctor check: 1 templates (Resource Graph); 1 new failures",
            "",
            "| | Template | Resource group | Subscription | Finding |",
            "|---|---|---|---|---|",
            "| NEW FAILURE | web01 | rg | s | AIB017 `customize.script-nonzero-exit`: A script customizer exited with a non-zero code |",
            "",
            "### New failure: web01 (rg)",
            "",
            "**AIB017 `customize.script-nonzero-exit`**: A script customizer exited with a non-zero code",
            "",
            "**Cause.** The script failed.",
            "",
            "**Fix.** Fix the script.",
            "",
            "Evidence kept in `/state/evidence/web01`.",
            "",
        ]
    )
    from aib_doctor.lint import lint_text, template_checks

    template = FIXTURES / "corpus" / "permissions" / "template-json-identity-not-authorized.json"
    lint = lint_text(template.read_text(encoding="utf-8"), "t.json")
    assert lint.findings  # annotations differ from the text only where there is something to annotate
    lint_outputs = {fmt: render_lint([lint], fmt, template_checks()) for fmt in LintFormat}
    assert len(set(lint_outputs.values())) == len(LintFormat)
    assert len({render(REPORT, fmt) for fmt in Format}) == len(Format)


def test_a_timeline_rule_shows_its_conditions():
    from aib_doctor.core.catalog import load_catalog
    from aib_doctor.render.rules_report import rule_dict, rule_text

    rule = load_catalog().get("AIB152")
    assert "Timeline:\n  silence_minutes: 30\n" in rule_text(rule)
    assert rule_dict(rule)["timeline"] == {"silence_minutes": 30} and "timeline" not in rule_dict(load_catalog().get("AIB012"))


def test_a_long_evidence_line_is_cut_around_what_matched_not_before_it():
    from conftest import diagnose_source

    from aib_doctor.render.text_report import shortened

    padding = "x" * 300
    report = diagnose_source("input", f"{padding} Script exited with non-zero exit status: 100. Allowed exit codes are: [0] {padding}")
    evidence = report.primary.evidence[0]
    assert evidence.matched and evidence.matched in evidence.text
    line = shortened(evidence.text, evidence.matched)
    assert len(line) == 160 and line.startswith("...") and line.endswith("...") and "exit status: 100" in line
    assert shortened("short", "x") == "short" and shortened("a" * 200) == "a" * 157 + "..."
