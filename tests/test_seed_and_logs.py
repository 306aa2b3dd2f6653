"""Every error section of the seed article, and the full-length logs, diagnose as a reader of them would."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.diagnose import diagnose
from aib_doctor.core.inputs import read_input
from aib_doctor.core.scan import pattern_table

SEED = [
    ("01-update-upgrade-conflict.txt", "failed", "AIB001"),
    ("02-terminal-provisioning-failed.txt", "failed", "AIB002"),
    ("03-error-getting-managed-image.txt", "failed", "AIB003"),
    ("04-image-version-not-found.txt", "failed", "AIB004"),
    ("05-downloading-external-file.txt", "failed", "AIB005"),
    ("06-packer-build-command-failure.txt", "failed", "AIB006"),
    ("07-timeout-exceeded.txt", "failed", "AIB007"),
    ("08-long-file-download.txt", "unknown", "AIB008"),
    ("09-shared-image-gallery-wait.txt", "failed", "AIB009"),
    ("10-low-windows-resources.log", "failed", "AIB010"),
    ("11-no-artifacts-deadline.log", "failed", "AIB011"),
    ("12-resource-not-found.txt", "failed", "AIB013"),
    ("13-sysprep-timing.log", "failed", "AIB012"),
    ("14-context-cancellation.log", "failed", "AIB014"),
    ("15-devops-operation-canceled.txt", "failed", "AIB015"),
    ("16-deprovisioning-script-missing.log", "failed", "AIB016"),
]


def analyze(path):
    catalog = load_catalog()
    table = pattern_table(catalog)
    intake = read_input(str(path), table)
    return diagnose(intake.scans, catalog, table, intake.status, intake.subject)


@pytest.mark.parametrize("name,status,primary", SEED, ids=[s[0] for s in SEED])
def test_seed_error_section(name, status, primary):
    report = analyze(FIXTURES / "seed" / name)
    assert report.status == status
    assert report.primary is not None and report.primary.rule == primary


def test_seed_managed_image_names_the_missing_action_in_the_secondary_finding():
    report = analyze(FIXTURES / "seed" / "03-error-getting-managed-image.txt")
    generic = next(f for f in report.findings if f.rule == "AIB018")
    assert "The missing permission is 'Microsoft.Compute/images/read'." in generic.cause


def test_seed_no_artifacts_with_deadline_is_not_called_benign():
    report = analyze(FIXTURES / "seed" / "11-no-artifacts-deadline.log")
    assert "AIB019" not in {f.rule for f in report.findings}


def test_windows_success_log():
    report = analyze(FIXTURES / "logs" / "windows-success.log")
    assert report.status == "succeeded" and report.primary is None
    assert {f.category for f in report.findings} == {"benign"}
    t = report.timeline
    assert t.operation_id == "4e1b8f0a-6c2d-4b3e-9f10-2a3b4c5d6e7f"
    assert (t.os, t.communicator) == ("windows", "winrm")
    assert t.phases == ("deploy", "connect", "customize", "deprovision", "capture", "cleanup", "finished")
    # Offsets written into the fixture: powershell 251-302 s, restart 302-381, update 382-1321, sysprep 1322-1421.
    assert [(c.type, c.name, c.seconds, c.status) for c in t.customizers] == [
        ("powershell", None, 51, "ok"),
        ("windows-restart", None, 79, "ok"),
        ("windows-update", None, 939, "ok"),
        ("powershell", "deprovisioning", 99, "ok"),
    ]
    assert t.failed_step is None


def test_linux_success_log():
    report = analyze(FIXTURES / "logs" / "linux-success.log")
    assert report.status == "succeeded" and report.primary is None
    assert [(c.type, c.status) for c in report.timeline.customizers] == [("shell", "ok"), ("file", "ok"), ("shell", "ok")]
    assert report.timeline.customizers[2].name == "deprovisioning"
    assert (report.timeline.os, report.timeline.communicator) == ("linux", "ssh")


def test_linux_script_failure_names_the_package_then_the_step_and_exit_code():
    report = analyze(FIXTURES / "logs" / "linux-script-failed.log")
    # apt's error (line 37) is the cause; the script's exit (line 39) is what it led to.
    assert report.status == "failed" and report.primary.rule == "AIB065"
    assert report.primary.cause.endswith("The package is nginx-extras-custom.")
    assert report.primary.evidence[0].line == 37
    exit_finding = report.findings[1]
    assert exit_finding.rule == "AIB017"
    assert "The failing step was the shell customizer (#1); it exited with code 100." in exit_finding.cause
    assert [e.line for e in exit_finding.evidence if e.matched][0] == 39
    # the lines the script printed just above its exit say why (apt's error among them)
    assert [e.line for e in exit_finding.evidence if not e.matched] == [36, 37, 38]
    assert report.timeline.failed_step.customizer == 0


def test_windows_sysprep_timing_failure_names_the_short_customization():
    report = analyze(FIXTURES / "logs" / "windows-sysprep-timing-failed.log")
    assert report.primary.rule == "AIB012"
    # The one user customizer ran from 206 s to 208 s after the start of the fixture.
    assert report.primary.cause.endswith("Here all customizations before Sysprep took 2 seconds.")
    assert report.timeline.failed_step.phase == "deprovision"


def test_template_json_is_read_structurally(tmp_path):
    template = tmp_path / "t.json"
    template.write_text(
        '{"name": "web01", "id": "/subscriptions/1/resourceGroups/rg/providers/Microsoft.VirtualMachineImages/imageTemplates/web01",'
        ' "properties": {"provisioningState": "Succeeded", "lastRunStatus": {"runState": "Failed", "message":'
        " \"Failed in building/customizing image: Failed while waiting for packerizer: Timeout waiting for microservice to complete: 'context deadline exceeded'\"}}}"
    )
    report = analyze(template)
    assert report.status == "failed" and report.primary.rule == "AIB007"
    assert report.primary.evidence[0].source == "lastRunStatus"
    assert report.subject.name == "web01"


def test_provisioning_failure_in_cli_shaped_template_json(tmp_path):
    template = tmp_path / "show.json"
    template.write_text(
        '{"name": "web01", "provisioningState": "Failed", "provisioningError": {"provisioningErrorCode": "Other",'
        ' "message": "Update/Upgrade of image templates is currently not supported"}, "source": {"type": "PlatformImage"}}'
    )
    report = analyze(template)
    assert report.status == "failed" and report.primary.rule == "AIB001"
    assert report.primary.evidence[0].source == "provisioningError"


def test_wrapper_ranks_below_the_cause_across_sources(tmp_path):
    (tmp_path / "template.json").write_text(
        '{"name": "u", "properties": {"provisioningState": "Succeeded", "lastRunStatus": {"runState": "Failed",'
        ' "message": "Packer build command has failed: exit status 1."}}}'
    )
    (tmp_path / "customization.log").write_bytes((FIXTURES / "logs" / "linux-script-failed.log").read_bytes())
    report = analyze(tmp_path)
    assert [f.rule for f in report.findings][:3] == ["AIB065", "AIB017", "AIB006"]
    wrapper = report.findings[2]
    assert "According to the log, the shell customizer (#1) started at 2023-06-12 10:03:41 and never ended." in wrapper.cause


def test_unexplained_failure_shows_the_last_error_lines():
    log = (
        "[11111111-2222-3333-4444-555555555555] PACKER OUT ==> azure-arm: Deploying deployment template ...\n"
        "[11111111-2222-3333-4444-555555555555] PACKER OUT ==> azure-arm: ERROR: frobnicator exploded\n"
        "[11111111-2222-3333-4444-555555555555] PACKER OUT Build 'azure-arm' errored: frobnicator exploded\n"
    )
    from conftest import diagnose_source

    report = diagnose_source("customization.log", log)
    assert report.status == "failed" and report.primary is None
    assert [(e.line, e.text.split("==> ")[-1]) for e in report.error_lines][0] == (2, "azure-arm: ERROR: frobnicator exploded")
    assert report.timeline.failed_step.phase == "deploy"
