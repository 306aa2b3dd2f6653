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
