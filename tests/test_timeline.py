"""Markers in every line form seen in the wild become the same timeline."""

from __future__ import annotations

import pytest
from conftest import diagnose_source

FORMS = {
    "classic": "[45f485cf-5a8c-4379-9937-8d85493bc791] PACKER ERR 2020/04/30 23:30:51 [INFO] {marker}",
    "bracket lost": "45f485cf-5a8c-4379-9937-8d85493bc791] PACKER ERR 2020/04/30 23:30:51 [INFO] {marker}",
    "no prefix": "2020/04/30 23:30:51 [INFO] {marker}",
    "new packer": "[45f485cf-5a8c-4379-9937-8d85493bc791] PACKER 2020/04/30 23:30:51 [INFO] {marker}",
    "date ui": "2020/04/30 23:30:51 ui: {marker}",
    "CI timestamp": "2020-04-30T23:30:51.9280196Z [45f485cf-5a8c-4379-9937-8d85493bc791] PACKER ERR {marker}",
    "markdown bold": "**[45f485cf-5a8c-4379-9937-8d85493bc791] PACKER ERR 2020/04/30 23:30:51 [INFO] {marker}**",
}


@pytest.mark.parametrize("form", FORMS)
def test_customizer_markers_in_every_line_form(form):
    line = FORMS[form]
    log = "\n".join(
        [
            line.format(marker="Waiting for WinRM, up to timeout: 10m0s"),
            line.format(marker="(telemetry) Starting provisioner powershell").replace("23:30:51", "23:31:00"),
            line.format(marker="(telemetry) ending powershell").replace("23:30:51", "23:32:30"),
            line.format(marker="(telemetry) Starting provisioner windows-restart").replace("23:30:51", "23:32:31"),
        ]
    )
    timeline = diagnose_source("customization.log", log).timeline
    assert timeline.os == "windows" and timeline.communicator == "winrm"
    assert [(c.type, c.status) for c in timeline.customizers] == [("powershell", "ok"), ("windows-restart", "running")]
    assert timeline.customizers[0].started == "2020-04-30T23:31:00"
    assert timeline.customizers[0].seconds == 90
    assert timeline.phases == ("connect", "customize")
    if form not in ("no prefix", "date ui"):
        assert timeline.operation_id == "45f485cf-5a8c-4379-9937-8d85493bc791"


def test_failed_step_is_the_customizer_that_started_and_never_ended():
    log = "\n".join(
        [
            "[11111111-2222-3333-4444-555555555555] PACKER ERR 2020/01/01 10:00:00 [INFO] (telemetry) Starting provisioner shell",
            "[11111111-2222-3333-4444-555555555555] PACKER ERR 2020/01/01 10:00:05 [INFO] (telemetry) ending shell",
            "[11111111-2222-3333-4444-555555555555] PACKER ERR 2020/01/01 10:00:06 [INFO] (telemetry) Starting provisioner shell",
            "[11111111-2222-3333-4444-555555555555] PACKER OUT Build 'azure-arm' errored: something new happened",
        ]
    )
    report = diagnose_source("customization.log", log)
    assert report.status == "failed"
    step = report.timeline.failed_step
    assert step.customizer == 1 and step.phase == "customize"
    assert step.description == "the shell customizer (#2) started at 2020-01-01 10:00:06 and never ended"
    assert report.timeline.customizers[1].status == "failed"


def test_failure_before_any_customizer_names_the_phase():
    log = "PACKER OUT ==> azure-arm: Deploying deployment template ...\nPACKER OUT Build 'azure-arm' errored: boom\n"
    step = diagnose_source("customization.log", log).timeline.failed_step
    assert step.phase == "deploy" and step.customizer is None


def test_failed_step_when_packer_printed_ending_for_the_failed_provisioner():
    log = "\n".join(
        [
            "PACKER ERR 2020/01/01 10:00:00 [INFO] (telemetry) Starting provisioner shell",
            "PACKER ERR 2020/01/01 10:00:05 [INFO] (telemetry) ending shell",
            "PACKER ERR 2020/01/01 10:00:06 [INFO] (telemetry) Starting provisioner powershell",
            "PACKER OUT ==> azure-arm: Script exited with non-zero exit status: 5. Allowed exit codes are: [0]",
            "PACKER ERR 2020/01/01 10:00:09 [INFO] (telemetry) ending powershell",
            "PACKER OUT Build 'azure-arm' errored: Script exited with non-zero exit status: 5",
        ]
    )
    report = diagnose_source("customization.log", log)
    assert [c.status for c in report.timeline.customizers] == ["ok", "failed"]
    assert report.timeline.failed_step.description == ("the powershell customizer (#2) started at 2020-01-01 10:00:06 and failed after 3s")
    assert "The failing step was the powershell customizer (#2); it exited with code 5." in report.primary.cause


def test_an_unexplained_failure_inside_a_customizer_marks_it_failed_not_ok():
    from conftest import diagnose_source

    log = (
        "[922bdf36] PACKER 2024/06/11 10:00:00 ui: ==> azure-arm: (telemetry) Starting provisioner shell\n"
        "[922bdf36] PACKER OUT     azure-arm: frob: fatal: the widget refused\n"
        "[922bdf36] PACKER 2024/06/11 10:00:05 ui: ==> azure-arm: (telemetry) ending shell\n"
        "[922bdf36] PACKER 2024/06/11 10:00:06 ui error: Build 'azure-arm' errored after 5 minutes: the widget refused\n"
    )
    report = diagnose_source("customization.log", log)
    assert report.status == "failed"
    assert [c.status for c in report.timeline.customizers] == ["failed"]  # Packer prints `ending` for a failed one too
    # no signature knows the widget: the words of a failing shell step make it a low-confidence customizer failure
    assert (report.primary.category, report.primary.basis) == ("customizer_failed", "vocabulary")
    assert 2 in [e.line for e in report.primary.evidence]
