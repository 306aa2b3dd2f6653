"""`template` and `fetch-log` through the real SDK clients: ARM mocked with `responses`, blobs in Azurite."""

from __future__ import annotations

import json

import pytest
import responses
from typer.testing import CliRunner

import aib_doctor.azure as azure_package
from aib_doctor.catalog import load_catalog
from aib_doctor.cli import app
from aib_doctor.scan import pattern_table
from conftest import FIXTURES
from fake_azure import (
    ACCOUNT,
    IB,
    RG,
    SUB,
    arm_error,
    empty_container,
    mock_groups,
    mock_login,
    mock_storage,
    mock_template,
    service_principal_env,
    upload,
)

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


@pytest.fixture
def arm(monkeypatch, azurite):
    """responses for ARM and Entra ID; Azurite passes through; env service principal; no SDK retries."""
    service_principal_env(monkeypatch)
    monkeypatch.setattr(azure_package, "CLIENT_OPTIONS", {"retry_total": 0})
    empty_container(azurite)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru("http://127.0.0.1")
        mock_login(rsps)
        yield rsps


def diagnose(name="win01", **kwargs):
    from aib_doctor.azure import connect
    from aib_doctor.remote import diagnose_template

    catalog = load_catalog()
    return diagnose_template(connect(None), RG, name, catalog, pattern_table(catalog), **kwargs)


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
    assert [f.rule for f in report.findings][:2] == ["AIB012", "AIB006"]
    assert report.timeline.customizers[0].name == "make-build-folder"
    assert report.subject["log"]["found_by"] == "exactStagingResourceGroup"
    assert report.subject["log"]["blob"] == f"{RUN}/customization.log"
    assert report.subject["log"]["bytes_read"] == len(SYSPREP_LOG)
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
        (failed_run(), [("other", {}), (STAGING, {"imageTemplateName": "win01", "imageTemplateResourceGroupName": RG, "createdBy": "AzureVMImageBuilder"})], "tags"),
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
    assert report.subject["log"]["found_by"] == route
    assert report.subject["log"]["staging_resource_group"] == STAGING
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
    assert diagnose(long_name).report.subject["log"]["staging_resource_group"] == truncated


def test_newest_run_by_last_modified_not_by_name(arm, azurite):
    mock_template(arm, "win01", failed_run("Packer build command has failed: exit status 1.", exactStagingResourceGroup=STAGING))
    mock_storage(arm, STAGING, azurite)
    older = "ffffffff-0000-4000-8000-000000000000"
    newer = "00000000-0000-4000-8000-000000000000"
    upload(azurite, f"{older}/customization.log", (FIXTURES / "logs" / "linux-script-failed.log").read_bytes())
    upload(azurite, f"{newer}/customization.log", SYSPREP_LOG)
    upload(azurite, f"{newer}/validation.log", b"validation ok\n")
    report = diagnose().report
    assert report.subject["log"]["blob"] == f"{newer}/customization.log"
    assert report.primary.rule == "AIB012"


# --- what each kind of template state does ----------------------------------------------------


def test_submission_failure_needs_no_log(arm, azurite):
    mock_template(arm, "win01", {"provisioningState": "Failed", "provisioningError": {"provisioningErrorCode": "Other", "message": "'Conflict'. Details: Update/Upgrade of image templates is currently not supported"}})
    result = cli("template", "win01", "-g", RG, "-o", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["primary"]["rule"] == "AIB001"
    assert not any("Microsoft.Storage" in c.request.url for c in arm.calls)


def test_succeeded_build_exits_0_with_outputs(arm, azurite):
    mock_template(arm, "win01", {"provisioningState": "Succeeded", "lastRunStatus": {"startTime": "2024-03-14T09:00:00Z", "endTime": "2024-03-14T09:40:00Z", "runState": "Succeeded", "message": ""}})
    arm.get(f"{IB}/win01/runOutputs", json={"value": [{"name": "win", "id": f"{IB}/win01/runOutputs/win", "properties": {"artifactId": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/images/win", "provisioningState": "Succeeded"}}]})
    result = cli("template", "win01", "-g", RG, "-o", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["status"] == "succeeded" and document["primary"] is None
    assert document["subject"]["outputs"][0]["artifactId"].endswith("/images/win")
    assert (document["subject"]["start_time"], document["subject"]["end_time"]) == ("2024-03-14T09:00:00Z", "2024-03-14T09:40:00Z")


def test_running_build_reports_sub_state_and_the_log_so_far(arm, azurite):
    mock_template(arm, "win01", {"provisioningState": "Succeeded", "exactStagingResourceGroup": STAGING, "lastRunStatus": {"startTime": "2024-03-14T09:00:00Z", "endTime": "0001-01-01T00:00:00Z", "runState": "Running", "runSubState": "Customizing", "message": ""}})
    mock_storage(arm, STAGING, azurite)
    partial = (FIXTURES / "logs" / "windows-success.log").read_bytes()[:6000]
    upload(azurite, f"{RUN}/customization.log", partial)
    result = cli("template", "win01", "-g", RG, "-o", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["status"] == "running" and document["subject"]["run_sub_state"] == "Customizing"
    assert document["timeline"]["customizers"][-1]["status"] == "running"


def test_queued_build_has_no_log_yet(arm, azurite):
    mock_template(arm, "win01", {"provisioningState": "Succeeded", "exactStagingResourceGroup": STAGING, "lastRunStatus": {"runState": "Running", "runSubState": "Queued", "message": ""}})
    mock_storage(arm, STAGING, azurite)
    upload(azurite, "placeholder.txt", b"not a run folder\n")
    result = cli("template", "win01", "-g", RG)
    assert result.exit_code == 0
    assert "no log yet: the build is queued" in result.stderr


# --- errors: one clear line, the documented exit code ----------------------------------------


def test_template_not_found_offers_close_names(arm, azurite):
    arm.get(f"{IB}/win1", status=404, json=arm_error("ResourceNotFound", "The Resource 'Microsoft.VirtualMachineImages/imageTemplates/win1' under resource group 'rg-images' was not found."))
    arm.get(IB, json={"value": [{"id": f"{IB}/win01", "name": "win01", "location": "eastus", "properties": {}}, {"id": f"{IB}/linux01", "name": "linux01", "location": "eastus", "properties": {}}]})
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
    mock_template(arm, "win01", {"provisioningState": "Failed", "provisioningError": {"provisioningErrorCode": "Other", "message": "Update/Upgrade of image templates is currently not supported"}})
    result = cli("template", "win01", "-g", RG)
    assert result.exit_code == 1
    calls = [c for c in arm.calls if c.request.url.startswith(f"{IB}/win01")]
    assert len(calls) == 2


def test_transient_server_error_is_retried(arm, azurite, monkeypatch):
    monkeypatch.setattr(azure_package, "CLIENT_OPTIONS", {"retry_total": 2, "retry_backoff_factor": 0.01})
    arm.get(f"{IB}/win01", status=503, json=arm_error("ServiceUnavailable", "try again"))
    mock_template(arm, "win01", {"provisioningState": "Failed", "provisioningError": {"provisioningErrorCode": "Other", "message": "Update/Upgrade of image templates is currently not supported"}})
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
