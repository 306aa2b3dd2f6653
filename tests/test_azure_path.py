"""`template` and `fetch-log` through the real SDK clients: ARM mocked with `responses`, blobs in Azurite."""

from __future__ import annotations

import json
import time

import pytest
from conftest import FIXTURES
from fake_azure import (
    ACCOUNT,
    IB,
    RG,
    SUB,
    arm_error,
    mock_groups,
    mock_storage,
    mock_template,
    upload,
)
from fake_logs import timed_out_log
from typer.testing import CliRunner

import aib_doctor.azure as azure_package
from aib_doctor.cli import app
from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.scan import pattern_table

runner = CliRunner()
RUN = "9a8b7c6d-5e4f-4a3b-8c1d-0e9f8a7b6c5d"
OPID = "922bdf36-b53c-4e78-9cd8-6b70b9674685"
STAGING = "IT_rg-images_win01_6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"
SYSPREP_LOG = (FIXTURES / "logs" / "windows-sysprep-timing-failed.log").read_bytes()


def failed_message(account=ACCOUNT, run=RUN, era="2020"):
    if era == "2024":
        return (
            "During the image build a failure has occurred. Packer build logs are at location "
            f"/subscriptions/{SUB}/resourceGroups/{STAGING}/providers/Microsoft.Storage/storageAccounts/{account}/blobServices/default/"
            f"containers/packerlogs/{run}/customization.log. Please navigate to this location using portal or other tools to download "
            f"logs for identifying which build/customization step failed. Use this operationId {OPID} to search packer logs."
        )
    build = "Image Build" if era == "2020" else "Image build"
    return (
        "Failed while waiting for packerizer: Microservice has failed: Failed while processing request: Error when executing packerizer: "
        "Packer build command has failed: exit status 1. During the image build, a failure has occurred, please review the build log. "
        f"{build} log location: https://{account}.blob.core.windows.net/packerlogs/{run}/customization.log. OperationId: {OPID}. "
        "Use this operationId to search packer logs."
    )


def failed_run(message=None, **extra):
    return {
        "provisioningState": "Succeeded",
        "lastRunStatus": {"startTime": "2020-05-05T21:58:00Z", "endTime": "2020-05-05T22:59:41Z", "runState": "Failed", "message": message or failed_message()},
        **extra,
    }


def diagnose(name="win01", **kwargs):
    from aib_doctor.azure import connect
    from aib_doctor.azure.templates import ArmTemplateSource
    from aib_doctor.template.diagnosis import diagnose_template

    catalog = load_catalog()
    return diagnose_template(ArmTemplateSource(connect(None)), RG, name, catalog, pattern_table(catalog), **kwargs)


def cli(*args):
    return runner.invoke(app, list(args))


def test_failed_build_diagnosed_from_status_and_log(arm, azurite):
    mock_template(arm, "win01", failed_run(exactStagingResourceGroup=f"/subscriptions/{SUB}/resourceGroups/{STAGING}"))
    mock_storage(arm, STAGING, azurite)
    upload(azurite, f"{RUN}/customization.log", SYSPREP_LOG)
    result = diagnose()
    report = result.report
    assert report.status == "failed" and report.primary.rule == "AIB012"
    assert "This build ran on Standard_D1_v2." in report.primary.cause
    # The 60-minute build ran 61 minutes: the timeout that cancelled the looping deprovisioning step (AIB150)
    # follows the cause; the bare cancellation (AIB080) and the status wrapper (AIB006) rank below both.
    rules = [f.rule for f in report.findings]
    assert rules[:2] == ["AIB012", "AIB150"] and rules.index("AIB080") < rules.index("AIB006")
    assert "the deprovisioning step (powershell, #2)" in report.findings[1].cause
    assert report.timeline.customizers[0].name == "make-build-folder"
    assert report.subject.log.found_by == "exactStagingResourceGroup"
    assert report.subject.log.blob == f"{RUN}/customization.log"
    assert report.subject.log.bytes_read == len(SYSPREP_LOG)
    token_calls = [c for c in arm.calls if c.request.url.endswith("/oauth2/v2.0/token")]
    assert token_calls, "the ARM token must come from the mocked service principal login"
    assert all(c.request.headers.get("Authorization", "").startswith("Bearer ") for c in arm.calls if c.request.url.startswith(IB))


def test_cli_template_command_exit_code_and_json(arm, azurite):
    mock_template(arm, "win01", failed_run(exactStagingResourceGroup=f"/subscriptions/{SUB}/resourceGroups/{STAGING}"))
    mock_storage(arm, STAGING, azurite)
    upload(azurite, f"{RUN}/customization.log", SYSPREP_LOG)
    result = cli("template", "win01", "-g", RG, "-o", "json")
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["primary"]["name"] == "deprovision.sysprep-timing"
    assert document["subject"]["name"] == "win01" and document["subject"]["subscription"] == SUB


# --- every route to the staging group, every era of the message -------------------------------


@pytest.mark.parametrize(
    "properties,groups,route",
    [
        (failed_run(failed_message(era="2024")), None, "message"),
        (failed_run(failed_message(era="2021"), exactStagingResourceGroup=f"/subscriptions/{SUB}/resourceGroups/{STAGING}"), None, "exactStagingResourceGroup"),
        (failed_run(stagingResourceGroup=f"/subscriptions/{SUB}/resourceGroups/{STAGING}"), None, "stagingResourceGroup"),
        (
            failed_run(),
            [("other", {}), (STAGING, {"imageTemplateName": "win01", "imageTemplateResourceGroupName": RG, "createdBy": "AzureVMImageBuilder"})],
            "tags",
        ),
        (failed_run(), [("other", {}), (STAGING, {})], "name"),
    ],
    ids=["message-2024", "exact-2021", "staging", "tags", "name"],
)
def test_staging_group_routes(arm, azurite, properties, groups, route):
    mock_template(arm, "win01", properties)
    if groups is not None:
        mock_groups(arm, groups)
    mock_storage(arm, STAGING, azurite)
    upload(azurite, f"{RUN}/customization.log", SYSPREP_LOG)
    report = diagnose().report
    assert report.subject.log.found_by == route
    assert report.subject.log.staging_resource_group == STAGING
    assert report.primary.rule == "AIB012"
    listed = any(c.request.url.split("?")[0].endswith("/resourcegroups") for c in arm.calls)
    assert listed == (groups is not None), "resource groups are listed only when no earlier clue names the group"


def test_truncated_staging_name_is_found(arm, azurite):
    long_name = "imagebuilderTemplateWin2022Hardened"
    truncated = "IT_rg-images_imagebuilderTempla_0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b"
    mock_template(arm, long_name, failed_run())
    mock_groups(arm, [(truncated, {})])
    mock_storage(arm, truncated, azurite)
    upload(azurite, f"{RUN}/customization.log", SYSPREP_LOG)
    assert diagnose(long_name).report.subject.log.staging_resource_group == truncated


def test_newest_run_by_last_modified_not_by_name(arm, azurite):
    mock_template(arm, "win01", failed_run("Packer build command has failed: exit status 1.", exactStagingResourceGroup=STAGING))
    mock_storage(arm, STAGING, azurite)
    older = "ffffffff-0000-4000-8000-000000000000"
    newer = "00000000-0000-4000-8000-000000000000"
    upload(azurite, f"{older}/customization.log", (FIXTURES / "logs" / "linux-script-failed.log").read_bytes())
    time.sleep(1.1)  # blob last-modified times have one-second resolution
    upload(azurite, f"{newer}/customization.log", SYSPREP_LOG)
    upload(azurite, f"{newer}/validation.log", b"validation ok\n")
    report = diagnose().report
    assert report.subject.log.blob == f"{newer}/customization.log"
    assert report.primary.rule == "AIB012"


# --- what each kind of template state does ----------------------------------------------------


def test_submission_failure_needs_no_log(arm, azurite):
    mock_template(
        arm,
        "win01",
        {
            "provisioningState": "Failed",
            "provisioningError": {
                "provisioningErrorCode": "Other",
                "message": "'Conflict'. Details: Update/Upgrade of image templates is currently not supported",
            },
        },
    )
    result = cli("template", "win01", "-g", RG, "-o", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["primary"]["rule"] == "AIB001"
    assert not any("Microsoft.Storage" in c.request.url for c in arm.calls)


def test_succeeded_build_exits_0_with_outputs(arm, azurite):
    mock_template(
        arm,
        "win01",
        {
            "provisioningState": "Succeeded",
            "lastRunStatus": {"startTime": "2024-03-14T09:00:00Z", "endTime": "2024-03-14T09:40:00Z", "runState": "Succeeded", "message": ""},
        },
    )
    arm.get(
        f"{IB}/win01/runOutputs",
        json={
            "value": [
                {
                    "name": "win",
                    "id": f"{IB}/win01/runOutputs/win",
                    "properties": {
                        "artifactId": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/images/win",
                        "provisioningState": "Succeeded",
                    },
                }
            ]
        },
    )
    result = cli("template", "win01", "-g", RG, "-o", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["status"] == "succeeded" and document["primary"] is None
    assert document["subject"]["outputs"][0]["artifactId"].endswith("/images/win")
    assert (document["subject"]["start_time"], document["subject"]["end_time"]) == ("2024-03-14T09:00:00Z", "2024-03-14T09:40:00Z")


def test_running_build_reports_sub_state_and_the_log_so_far(arm, azurite):
    mock_template(
        arm,
        "win01",
        {
            "provisioningState": "Succeeded",
            "exactStagingResourceGroup": STAGING,
            "lastRunStatus": {
                "startTime": "2024-03-14T09:00:00Z",
                "endTime": "0001-01-01T00:00:00Z",
                "runState": "Running",
                "runSubState": "Customizing",
                "message": "",
            },
        },
    )
    mock_storage(arm, STAGING, azurite)
    partial = (FIXTURES / "logs" / "windows-success.log").read_bytes()[:6000]
    upload(azurite, f"{RUN}/customization.log", partial)
    result = cli("template", "win01", "-g", RG, "-o", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["status"] == "running" and document["subject"]["run_sub_state"] == "Customizing"
    assert document["timeline"]["customizers"][-1]["status"] == "running"


def test_queued_build_has_no_log_yet(arm, azurite):
    mock_template(
        arm,
        "win01",
        {
            "provisioningState": "Succeeded",
            "exactStagingResourceGroup": STAGING,
            "lastRunStatus": {"runState": "Running", "runSubState": "Queued", "message": ""},
        },
    )
    mock_storage(arm, STAGING, azurite)
    upload(azurite, "placeholder.txt", b"not a run folder\n")
    result = cli("template", "win01", "-g", RG)
    assert result.exit_code == 0
    assert "no log yet: the build is queued" in result.stderr


# --- errors: one clear line, the documented exit code ----------------------------------------


def test_template_not_found_offers_close_names(arm, azurite):
    arm.get(
        f"{IB}/win1",
        status=404,
        json=arm_error("ResourceNotFound", "The Resource 'Microsoft.VirtualMachineImages/imageTemplates/win1' under resource group 'rg-images' was not found."),
    )
    arm.get(
        IB,
        json={
            "value": [
                {"id": f"{IB}/win01", "name": "win01", "location": "eastus", "properties": {}},
                {"id": f"{IB}/linux01", "name": "linux01", "location": "eastus", "properties": {}},
            ]
        },
    )
    result = cli("template", "win1", "-g", RG)
    assert result.exit_code == 4
    assert "template 'win1' not found in resource group 'rg-images'; did you mean 'win01'" in result.stderr
    assert result.stderr.count("\n") == 1


def test_forbidden_template_names_action_and_scope(arm, azurite):
    message = (
        "The client '0c6e8d1f-3a2b-4c5d-9e8f-7a6b5c4d3e2f' with object id '0c6e8d1f' does not have authorization to perform action "
        f"'Microsoft.VirtualMachineImages/imageTemplates/read' over scope '/subscriptions/{SUB}/resourceGroups/{RG}' or the scope is invalid."
    )
    arm.get(f"{IB}/win01", status=403, json=arm_error("AuthorizationFailed", message))
    result = cli("template", "win01", "-g", RG)
    assert result.exit_code == 4
    assert "permission denied (AuthorizationFailed)" in result.stderr
    assert "'Microsoft.VirtualMachineImages/imageTemplates/read' over scope" in result.stderr


def test_deleted_staging_group_says_the_logs_are_gone(arm, azurite):
    mock_template(arm, "win01", failed_run(exactStagingResourceGroup=STAGING))
    arm.get(
        f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/{STAGING}/providers/Microsoft.Storage/storageAccounts",
        status=404,
        json=arm_error("ResourceGroupNotFound", f"Resource group '{STAGING}' could not be found."),
    )
    result = cli("template", "win01", "-g", RG, "-o", "json")
    assert result.exit_code == 4
    assert f"the staging resource group '{STAGING}' no longer exists, and the build logs were deleted with it" in result.stderr
    assert json.loads(result.stdout)["primary"]["rule"] == "AIB006"  # what the status alone says


def test_empty_staging_group(arm, azurite):
    mock_template(arm, "win01", failed_run(exactStagingResourceGroup=STAGING))
    arm.get(f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/{STAGING}/providers/Microsoft.Storage/storageAccounts", json={"value": []})
    result = cli("template", "win01", "-g", RG)
    assert result.exit_code == 4
    assert "holds no storage account: the logs are gone" in result.stderr


def test_throttling_honours_retry_after(arm, azurite, monkeypatch):
    monkeypatch.setattr(azure_package, "CLIENT_OPTIONS", {"retry_total": 2, "retry_backoff_factor": 0.01})
    arm.get(f"{IB}/win01", status=429, json=arm_error("TooManyRequests", "Rate limit exceeded"), headers={"Retry-After": "1"})
    mock_template(
        arm,
        "win01",
        {
            "provisioningState": "Failed",
            "provisioningError": {"provisioningErrorCode": "Other", "message": "Update/Upgrade of image templates is currently not supported"},
        },
    )
    result = cli("template", "win01", "-g", RG)
    assert result.exit_code == 1
    calls = [c for c in arm.calls if c.request.url.startswith(f"{IB}/win01")]
    assert len(calls) == 2


def test_transient_server_error_is_retried(arm, azurite, monkeypatch):
    monkeypatch.setattr(azure_package, "CLIENT_OPTIONS", {"retry_total": 2, "retry_backoff_factor": 0.01})
    arm.get(f"{IB}/win01", status=503, json=arm_error("ServiceUnavailable", "try again"))
    mock_template(
        arm,
        "win01",
        {
            "provisioningState": "Failed",
            "provisioningError": {"provisioningErrorCode": "Other", "message": "Update/Upgrade of image templates is currently not supported"},
        },
    )
    assert cli("template", "win01", "-g", RG).exit_code == 1


def test_throttling_that_never_ends_is_exit_4(arm, azurite):
    arm.get(f"{IB}/win01", status=429, json=arm_error("TooManyRequests", "Rate limit exceeded"), headers={"Retry-After": "0"})
    result = cli("template", "win01", "-g", RG)
    assert result.exit_code == 4 and "throttling" in result.stderr


def test_no_credentials_is_one_line_exit_4(arm, azurite, monkeypatch):
    for variable in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(variable)
    monkeypatch.setenv("PATH", "/nonexistent")  # no az, azd or pwsh to ask
    result = cli("template", "win01", "-g", RG)
    assert result.exit_code == 4
    assert "no Azure credentials could be used" in result.stderr
    assert result.stderr.count("\n") == 1


def test_no_subscription_is_a_usage_error(arm, azurite, monkeypatch):
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID")
    result = cli("template", "win01", "-g", RG)
    assert result.exit_code == 2 and "no subscription known" in result.stderr


# --- reading only what is needed ----------------------------------------------------------------


def big_log(megabytes: int) -> bytes:
    """The sysprep failure with megabytes of remote output between the first customizer and the deprovisioning step."""
    lines = SYSPREP_LOG.splitlines(keepends=True)
    split = next(i for i, line in enumerate(lines) if b"Found command:" in line) - 1
    filler = (f"[{OPID}] PACKER OUT     azure-arm: Installing package 0042 of 4096: Contoso.Agent.Component ... done\n").encode()
    body = filler * ((megabytes << 20) // len(filler))
    return b"".join(lines[:split]) + body + b"".join(lines[split:])


def test_64mb_log_diagnosed_from_a_small_tail(arm, azurite):
    data = big_log(64)
    mock_template(arm, "win01", failed_run(exactStagingResourceGroup=STAGING))
    mock_storage(arm, STAGING, azurite)
    upload(azurite, f"{RUN}/customization.log", data)
    report = diagnose().report
    assert report.primary.rule == "AIB012"
    log = report.subject.log
    assert log.size == len(data)
    assert log.bytes_read == 1 << 20  # one 1 MiB window held the failure and the step that failed
    assert log.bytes_read < len(data) / 50
    assert report.primary.evidence[0].line is None  # a tail window cannot number lines
    assert report.timeline.failed_step.phase == "deprovision"


def test_full_log_reads_everything_and_numbers_lines(arm, azurite):
    data = big_log(3)
    mock_template(arm, "win01", failed_run(exactStagingResourceGroup=STAGING))
    mock_storage(arm, STAGING, azurite)
    upload(azurite, f"{RUN}/customization.log", data)
    report = diagnose(full_log=True).report
    assert report.subject.log.bytes_read == len(data)
    assert report.primary.evidence[0].line == data[: data.index(b"Cannot find any service")].count(b"\n") + 1


def test_window_widens_until_the_failed_step_starts(arm, azurite):
    # The failing customizer starts 3 MiB before the end: a 1 MiB window, then the 3 MiB before it (4 MiB read in all).
    start = f"[{OPID}] PACKER ERR 2020/05/05 22:01:31 [INFO] (telemetry) Starting provisioner shell\n".encode()
    line = f"[{OPID}] PACKER OUT     azure-arm: compiling module 7 of 9 ...\n".encode()
    filler = line * ((3 << 20) // len(line))
    end = f"[{OPID}] PACKER OUT ==> azure-arm: Script exited with non-zero exit status: 2. Allowed exit codes are: [0]\n".encode()
    data = b"x\n" * (6 << 19) + start + filler + end
    mock_template(arm, "win01", failed_run(exactStagingResourceGroup=STAGING))
    mock_storage(arm, STAGING, azurite)
    upload(azurite, f"{RUN}/customization.log", data)
    report = diagnose().report
    assert report.primary.rule == "AIB017"
    assert report.subject.log.bytes_read == 4 << 20
    assert report.timeline.failed_step.customizer == 0


def test_64mb_log_that_timed_out_in_windows_update_is_diagnosed_from_at_most_8mb(arm, azurite):
    # Windows Update starts 3 MiB before the end of a 64 MiB log and runs until the cancel at the timeout.
    data = timed_out_log(64, 3)
    status = {"startTime": "2025-04-08T09:58:00Z", "endTime": "2025-04-08T14:02:10Z", "runState": "Failed", "message": failed_message()}
    customize = [{"type": "PowerShell", "name": "install-agents", "inline": ["echo agents"]}, {"type": "WindowsUpdate", "name": "patch-tuesday"}]
    mock_template(arm, "win01", {"lastRunStatus": status, "exactStagingResourceGroup": STAGING, "customize": customize, "buildTimeoutInMinutes": 240})
    mock_storage(arm, STAGING, azurite)
    upload(azurite, f"{RUN}/customization.log", data)
    report = diagnose().report
    log = report.subject.log
    print(f"\n64 MiB timeout case: log {log.size:,} bytes, read {log.bytes_read:,} bytes from offset {log.read_from:,}")
    assert report.primary.rule == "AIB151" and report.primary.category == "build_timeout"
    assert "the 'patch-tuesday' customizer (windows-update" in report.primary.cause
    assert "4 h 4 min (by the template's run status)" in report.primary.cause
    assert log.bytes_read == 4 << 20 <= 8 << 20  # 1 MiB, then only the 3 MiB before it


# --- fetch-log: files, resume, bundles --------------------------------------------------------


def test_fetch_log_writes_the_whole_log_and_never_overwrites_unasked(arm, azurite, tmp_path):
    data = big_log(9)
    mock_template(arm, "win01", failed_run(exactStagingResourceGroup=STAGING))
    mock_storage(arm, STAGING, azurite)
    upload(azurite, f"{RUN}/customization.log", data)
    target = tmp_path / "c.log"
    result = cli("fetch-log", "win01", "-g", RG, "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes() == data
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["c.log"]  # no temp file left behind
    again = cli("fetch-log", "win01", "-g", RG, "-o", str(target))
    assert again.exit_code == 2 and "already exists; pass --force" in again.stderr
    assert cli("fetch-log", "win01", "-g", RG, "-o", str(target), "--force").exit_code == 0


def test_fetch_log_resumes_after_a_dropped_connection(arm, azurite, tmp_path):
    from dropping_proxy import DroppingProxy

    data = big_log(6)
    port = int(azurite.split(":")[2].split("/")[0])
    proxy = DroppingProxy(port, drop_after=1 << 20)
    try:
        mock_template(arm, "win01", failed_run(exactStagingResourceGroup=STAGING))
        mock_storage(arm, STAGING, f"http://127.0.0.1:{proxy.port}/devstoreaccount1")
        upload(azurite, f"{RUN}/customization.log", data)
        target = tmp_path / "c.log"
        result = cli("fetch-log", "win01", "-g", RG, "-o", str(target))
        assert result.exit_code == 0, result.stderr
        assert proxy.drops == 1
        assert target.read_bytes() == data
    finally:
        proxy.close()


def test_fetch_every_run_and_one_run_by_guid(arm, azurite, tmp_path):
    mock_template(arm, "win01", failed_run(exactStagingResourceGroup=STAGING))
    mock_storage(arm, STAGING, azurite)
    first, second = "11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002"
    upload(azurite, f"{first}/customization.log", b"run one\n")
    upload(azurite, f"{second}/customization.log", b"run two\n")
    upload(azurite, f"{second}/validation.log", b"validated\n")
    folder = tmp_path / "logs"
    assert cli("fetch-log", "win01", "-g", RG, "--run", "all", "-o", str(folder)).exit_code == 0
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*.log")) == [
        f"{first}/customization.log",
        f"{second}/customization.log",
        f"{second}/validation.log",
    ]
    one = tmp_path / "one.log"
    assert cli("fetch-log", "win01", "-g", RG, "--run", first, "-o", str(one)).exit_code == 0
    assert one.read_bytes() == b"run one\n"
    missing = cli("fetch-log", "win01", "-g", RG, "--run", "nope", "-o", str(tmp_path / "x.log"))
    assert missing.exit_code == 2 and first in missing.stderr


def test_bundle_round_trip_gives_the_same_report(arm, azurite, tmp_path):
    secret_line = f"[{OPID}] PACKER OUT     azure-arm: downloading https://stor.blob.core.windows.net/c/tool.zip?sv=2022&sig=SUPERSECRETSIG\n".encode()
    data = SYSPREP_LOG.replace(b"Directory: C:\\", secret_line.rstrip(b"\n").split(b"azure-arm: ")[1], 1)
    assert b"SUPERSECRETSIG" in data
    mock_template(arm, "win01", failed_run(exactStagingResourceGroup=STAGING))
    mock_storage(arm, STAGING, azurite)
    upload(azurite, f"{RUN}/customization.log", data)
    bundle = tmp_path / "bundle"
    assert cli("fetch-log", "win01", "-g", RG, "--bundle", str(bundle)).exit_code == 0
    assert sorted(p.name for p in bundle.iterdir()) == ["customization.log", "status.json", "template.json"]
    assert all(b"SUPERSECRETSIG" not in p.read_bytes() for p in bundle.iterdir())
    online = json.loads(cli("template", "win01", "-g", RG, "--full-log", "-o", "json").stdout)
    offline_result = cli("analyze", str(bundle), "-o", "json")
    assert offline_result.exit_code == 1
    offline = json.loads(offline_result.stdout)
    for key in ("status", "primary", "findings", "timeline"):
        assert offline[key] == online[key], key
    refused = cli("fetch-log", "win01", "-g", RG, "--bundle", str(bundle))
    assert refused.exit_code == 2 and "not empty" in refused.stderr


# --- auth modes, with the blob service mocked where Azurite cannot play the part ---------------

BLOB = "https://aibstage01.blob.core.windows.net"
LISTING = (
    '<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://aibstage01.blob.core.windows.net/" '
    'ContainerName="packerlogs"><Blobs><Blob><Name>9a8b/customization.log</Name><Properties>'
    "<Last-Modified>Tue, 05 May 2020 22:59:41 GMT</Last-Modified><Etag>0x8D7F1</Etag><Content-Length>12</Content-Length>"
    "<Content-Type>text/plain</Content-Type><BlobType>BlockBlob</BlobType></Properties></Blob></Blobs><NextMarker /></EnumerationResults>"
)


def _storage_error(code: str) -> tuple[int, dict, str]:
    body = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>denied</Message></Error>'
    return 403, {"x-ms-error-code": code, "Content-Type": "application/xml"}, body


def _account(arm):
    mock_storage(arm, STAGING, BLOB + "/", key="a2V5a2V5a2V5a2V5a2V5a2V5")
    from aib_doctor.azure import connect
    from aib_doctor.azure.storage import storage_accounts

    session = connect(None)
    return session, storage_accounts(session, STAGING)[0]


def test_auto_falls_back_to_the_key_and_says_which_role_would_avoid_it(arm, azurite):
    from aib_doctor.azure.blobs import open_log_store

    def listing(request):
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return _storage_error("AuthorizationPermissionMismatch")
        return 200, {"Content-Type": "application/xml"}, LISTING

    arm.add_callback("GET", f"{BLOB}/packerlogs", callback=listing)
    session, account = _account(arm)
    store, notes = open_log_store(session, account, "auto")
    assert [r.folder for r in store.runs()] == ["9a8b"]
    assert "'Storage Blob Data Reader' on /subscriptions/" in notes[0] and "Falling back to the account key" in notes[0]
    auths = [c.request.headers["Authorization"].split()[0] for c in arm.calls if c.request.url.startswith(BLOB)]
    assert auths == ["Bearer", "SharedKey"]


def test_login_only_reports_the_missing_role(arm, azurite):
    from aib_doctor.azure.blobs import open_log_store
    from aib_doctor.errors import AzureAccessError

    arm.add_callback("GET", f"{BLOB}/packerlogs", callback=lambda r: _storage_error("AuthorizationPermissionMismatch"))
    session, account = _account(arm)
    with pytest.raises(AzureAccessError, match="Storage Blob Data Reader.*or use --auth-mode key"):
        open_log_store(session, account, "login")


def test_key_mode_when_shared_keys_are_disabled(arm, azurite):
    from aib_doctor.azure.blobs import open_log_store
    from aib_doctor.errors import AzureAccessError

    arm.add_callback("GET", f"{BLOB}/packerlogs", callback=lambda r: _storage_error("KeyBasedAuthenticationNotPermitted"))
    session, account = _account(arm)
    with pytest.raises(AzureAccessError, match="does not allow shared-key access.*--auth-mode login"):
        open_log_store(session, account, "key")


def test_download_that_keeps_failing_leaves_nothing_and_exits_4(arm, azurite, tmp_path):
    from dropping_proxy import DroppingProxy

    data = big_log(2)
    port = int(azurite.split(":")[2].split("/")[0])
    proxy = DroppingProxy(port, drop_after=64 << 10, drops=1000)
    try:
        mock_template(arm, "win01", failed_run(exactStagingResourceGroup=STAGING))
        mock_storage(arm, STAGING, f"http://127.0.0.1:{proxy.port}/devstoreaccount1")
        upload(azurite, f"{RUN}/customization.log", data)
        result = cli("fetch-log", "win01", "-g", RG, "-o", str(tmp_path / "c.log"))
        assert result.exit_code == 4, result.stderr
        assert "nothing was written" in result.stderr
        assert list(tmp_path.iterdir()) == []
    finally:
        proxy.close()


def test_validation_log_is_diagnosed_with_the_build_log(arm, azurite):
    mock_template(arm, "win01", failed_run("Packer build command has failed: exit status 1.", exactStagingResourceGroup=STAGING))
    mock_storage(arm, STAGING, azurite)
    upload(azurite, f"{RUN}/customization.log", (FIXTURES / "logs" / "windows-success.log").read_bytes())
    upload(
        azurite,
        f"{RUN}/validation.log",
        f"[{OPID}] PACKER OUT ==> azure-arm: Script exited with non-zero exit status: 4. Allowed exit codes are: [0]\n".encode(),
    )
    report = diagnose().report
    assert report.primary.rule == "AIB017"
    assert report.subject.log.also == (f"{RUN}/validation.log",)
    assert {e.source for e in report.primary.evidence} == {"validation.log"}  # labelled where it came from


def test_a_bug_inside_an_adapter_is_exit_5_not_azure_unreachable(arm, azurite, monkeypatch):
    from azure.mgmt.imagebuilder import models

    mock_template(arm, "win01", failed_run(exactStagingResourceGroup=STAGING))
    monkeypatch.setattr(models.ImageTemplate, "as_dict", lambda self, *args, **kwargs: {}["properties"])  # a bug of ours
    result = cli("template", "win01", "-g", RG)
    assert result.exit_code == 5
    assert result.stderr.startswith("aib-doctor: internal error: KeyError") and "Azure" not in result.stderr
