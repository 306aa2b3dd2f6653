"""Reasoning over time (AIB150-152): from a log alone by its own timestamps, and richer with the template and its run status."""

from __future__ import annotations

import pytest
import yaml
from conftest import FIXTURES, diagnose_source

from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.diagnose import diagnose
from aib_doctor.core.logstream import iter_blocks
from aib_doctor.core.scan import Scan, pattern_table
from aib_doctor.core.timeline import duration_seconds
from aib_doctor.model import BuildStatus

OP = "5d2e8a1c-7b3f-4e9a-8c6d-1f2e3a4b5c6d"
CASES = yaml.safe_load((FIXTURES.parent / "tests" / "cases" / "AIB151.yaml").read_text(encoding="utf-8"))
WINDOWS_UPDATE_AT_TIMEOUT = CASES["fires"][0]["text"]  # 10:01:02 -> 13:59:10, windows-update from 10:12:06


def template(timeout: int | None = None, customize=None) -> dict:
    props = {
        "source": {"type": "PlatformImage", "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter", "version": "latest"},
        "customize": customize
        or [
            {"type": "PowerShell", "name": "install-agents", "inline": ["echo agents"]},
            {"type": "WindowsUpdate", "name": "patch-tuesday", "searchCriteria": "IsInstalled=0"},
        ],
        "distribute": [
            {
                "type": "ManagedImage",
                "imageId": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/images/z",
                "location": "eastus",
                "runOutputName": "z",
            }
        ],
        "vmProfile": {"vmSize": "Standard_D2s_v3"},
    }
    if timeout is not None:
        props["buildTimeoutInMinutes"] = timeout
    return {"name": "win22", "properties": props}


def scan(text: str, whole: bool = True):
    table = pattern_table(load_catalog())
    result = Scan(table, "customization.log", numbered=whole)
    for block in iter_blocks([text.encode()]):
        result.feed(block)
    return result.result()


def run(text: str, whole: bool = True, status: BuildStatus | None = None, document: dict | None = None):
    catalog = load_catalog()
    return diagnose([scan(text, whole)], catalog, pattern_table(catalog), status, None, document)


def test_windows_update_running_at_the_default_timeout_is_build_timeout_from_the_log_alone():
    report = run(WINDOWS_UPDATE_AT_TIMEOUT)
    primary = report.primary
    assert (primary.rule, primary.category, primary.basis, primary.confidence) == ("AIB151", "build_timeout", "timeline", "medium")
    # 10:12:06 -> 13:59:10 is 3 h 47 min of a build of 10:01:02 -> 13:59:10 (3 h 58 min), 95%.
    assert "the windows-update customizer (#2)" in primary.cause
    assert "ran 3 h 47 min (95% of the build)" in primary.cause
    assert "The build ran 3 h 58 min (by the log's own timestamps); the timeout in effect was 240 minutes (the default)." in primary.cause
    assert "updateLimit" in primary.fix and "filters" in primary.fix
    assert [e.line for e in primary.evidence] == [5, 6, 7, 8]  # its start, the last line before the end, the cancel lines
    assert not any(f.rule == "AIB152" for f in report.findings)  # the plugin printed progress until the cancel


def test_the_template_names_the_customizer_and_states_the_timeout():
    primary = run(WINDOWS_UPDATE_AT_TIMEOUT, document=template(240)).primary
    assert primary.rule == "AIB151"
    assert "the 'patch-tuesday' customizer (windows-update, #2)" in primary.cause
    assert "240 minutes (buildTimeoutInMinutes)" in primary.cause and "The build VM was Standard_D2s_v3." in primary.cause


def test_a_longer_timeout_in_the_template_means_the_same_log_did_not_run_out_of_time():
    report = run(WINDOWS_UPDATE_AT_TIMEOUT, document=template(480))
    assert not {"AIB150", "AIB151"} & {f.rule for f in report.findings}


def test_a_short_timeout_in_the_template_makes_a_two_hour_cancel_a_timeout():
    log = WINDOWS_UPDATE_AT_TIMEOUT.replace("13:58:40", "11:58:40").replace("13:59:10", "11:59:10")
    assert "AIB151" not in {f.rule for f in run(log).findings}  # 2 h of the default 240 min
    primary = run(log, document=template(120)).primary
    assert primary.rule == "AIB151" and "120 minutes (buildTimeoutInMinutes)" in primary.cause


def test_a_tail_window_has_no_start_time_and_the_run_status_supplies_the_duration():
    # The first line (the build's start) is outside the window: the log alone cannot tell the duration.
    window = "".join(WINDOWS_UPDATE_AT_TIMEOUT.splitlines(keepends=True)[4:])
    assert "AIB151" not in {f.rule for f in run(window, whole=False).findings}
    status = BuildStatus(provisioning_state="Succeeded", run_state="Failed", start_time="2025-04-08T09:58:00.1234567Z", end_time="2025-04-08T14:02:10Z")
    primary = run(window, whole=False, status=status, document=template()).primary
    assert primary.rule == "AIB151"
    assert "4 h 4 min (by the template's run status)" in primary.cause
    assert all(e.line is None for e in primary.evidence)  # a window numbers no lines


def test_packer_s_own_duration_is_enough_in_a_tail_window():
    text = CASES["fires"][0]["text"].splitlines()[4:6]
    text.append(f"[{OP}] PACKER 2025/04/08 13:59:10 ui error: Build 'azure-arm' errored after 3 hours 58 minutes: context canceled")
    primary = run("\n".join(text) + "\n", whole=False).primary
    assert primary.rule == "AIB151" and "3 h 58 min (as Packer reports it)" in primary.cause


def test_a_log_that_just_stops_measures_its_silence_up_to_the_run_s_end():
    log = (
        f"[{OP}] PACKER 2024/02/01 07:00:00 [INFO] Packer version: 1.9.4\n"
        f"[{OP}] PACKER 2024/02/01 07:04:10 [INFO] (telemetry) Starting provisioner shell\n"
        f"[{OP}] PACKER 2024/02/01 07:04:12 ui:     azure-arm: Reading package lists...\n"
        f"[{OP}] PACKER ui:     azure-arm: Do you want to continue? [Y/n]\n"
    )
    assert "AIB152" not in {f.rule for f in run(log).findings}  # no end line, no status: nothing to measure to
    status = BuildStatus(provisioning_state="Succeeded", run_state="Failed", start_time="2024-02-01T06:58:00Z", end_time="2024-02-01T08:10:12Z")
    finding = next(f for f in run(log, status=status).findings if f.rule == "AIB152")
    assert "The log was silent for 1 h 6 min, from 2024-02-01 07:04:12 until the build ended." in finding.cause
    assert "Do you want to continue? [Y/n]" in finding.cause
    assert finding.evidence[-1].line == 4


def test_the_lost_connection_of_a_timeout_is_explained_by_the_timeout():
    report = diagnose_source("customization.log", yaml.safe_load((FIXTURES.parent / "tests" / "cases" / "AIB150.yaml").read_text())["fires"][0]["text"])
    rules = [f.rule for f in report.findings]
    assert rules[0] == "AIB150" and "AIB014" in rules and "AIB152" in rules
    assert "the last line before the silence: '[" in report.primary.cause and "Do you want to continue? [Y/n]" in report.primary.cause


@pytest.mark.parametrize(
    "text,seconds",
    [("3 hours 59 minutes", 14340), ("1 hour 2 seconds", 3602), ("1 minute 32 seconds", 92), ("3h59m58.1s", 14398), ("250ms", 0), ("soon", None)],
)
def test_packer_durations_in_words_and_in_go_notation(text, seconds):
    assert duration_seconds(text) == seconds


def test_a_bundle_gives_analyze_the_template_s_names_timeout_and_run_status(tmp_path):
    import json

    from typer.testing import CliRunner

    from aib_doctor.cli import app

    document = template(240)
    document["properties"]["lastRunStatus"] = {"startTime": "2025-04-08T09:58:00Z", "endTime": "2025-04-08T14:02:10Z", "runState": "Failed", "message": ""}
    (tmp_path / "template.json").write_text(json.dumps(document))
    (tmp_path / "customization.log").write_text(WINDOWS_UPDATE_AT_TIMEOUT)
    result = CliRunner().invoke(app, ["analyze", str(tmp_path), "-o", "json"])
    primary = json.loads(result.stdout)["primary"]
    assert result.exit_code == 1 and primary["rule"] == "AIB151" and primary["basis"] == "timeline"
    # The run status (09:58:00 -> 14:02:10) outranks the log's own first and last timestamps (3 h 58 min).
    assert "the 'patch-tuesday' customizer (windows-update, #2)" in primary["cause"] and "4 h 4 min (by the template's run status)" in primary["cause"]
