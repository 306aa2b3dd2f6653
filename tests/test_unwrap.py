"""Wrapped errors: the innermost real cause is the primary, the wrappers rank below it."""

from __future__ import annotations

import pytest

from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.diagnose import diagnose
from aib_doctor.core.inputs import read_input
from aib_doctor.core.scan import pattern_table, unescaped

CASES = {
    "cli-deployment-failed-wrapping-policy": (
        "Deployment failed. Correlation ID: 3f2e1d0c-9b8a-4765-8432-10fedcba9876. Failed in building/customizing image: "
        "Packer build command has failed: exit status 1. InvalidTemplateDeployment: The template deployment failed because "
        "of policy violation. Please see details for more information. RequestDisallowedByPolicy: Resource 'pkrvmq3x' was "
        "disallowed by policy.",
        "AIB044",
        ["AIB006"],
    ),
    "devops-put-template-wrapping-conflict": (
        "2024-06-11T08:14:02.1234567Z ##[error]put template call failed for template t_1718093642000 with error: "
        "'Conflict'. Details: Update/Upgrade of image templates is currently not supported (CODE: 409)",
        "AIB001",
        ["AIB070"],
    ),
    "arm-statusmessage-escaped-json": (
        '{"status": "Failed", "statusMessage": "{\\"status\\":\\"Failed\\",\\"error\\":{\\"code\\":\\"ResourceDeploymentFailure\\",'
        '\\"message\\":\\"The resource operation completed with terminal provisioning state \'Failed\'.\\",\\"details\\":[{\\"code\\":'
        '\\"InternalOperationError\\",\\"message\\":\\"Code=\\\\\\"QuotaExceeded\\\\\\" Message=\\\\\\"Operation could not be completed as it '
        'results in exceeding approved standardDSv3Family Cores quota.\\\\\\"\\"}]}}"}',
        "AIB046",
        ["AIB002"],
    ),
    "packer-machine-readable": (
        '[5d2e8a1c-7b3f-4e9a-8c6d-1f2e3a4b5c6d] PACKER ERR 2024/02/01 10:30:00 machine readable: azure-arm,error []string{"Code=\\"SkuNotAvailable\\" '
        "Message=\\\"The requested VM size for resource 'Standard_D8s_v5' is currently not available in location 'westeurope'.\\\"\"}",
        "AIB047",
        [],
    ),
    "packer-azure-response-body": (
        "[5d2e8a1c-7b3f-4e9a-8c6d-1f2e3a4b5c6d] PACKER ERR 2024/02/01 10:29:58 packer-plugin-azure plugin: Azure response status=403 "
        'body={"error":{"code":"LinkedAuthorizationFailed","message":"The client \'9a8b\' with object id \'9a8b\' has permission to perform '
        "action 'Microsoft.Network/networkInterfaces/write' on scope '/subscriptions/1111/resourceGroups/IT_rg_t_1'; however, it does not "
        "have authorization to perform action 'Microsoft.Network/virtualNetworks/subnets/join/action' over scope "
        "'/subscriptions/1111/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/build'\"}}",
        "AIB018",
        [],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_innermost_cause_is_primary(name, tmp_path):
    text, primary, wrappers = CASES[name]
    path = tmp_path / "pasted.txt"
    path.write_text(text + "\n", encoding="utf-8")
    catalog = load_catalog()
    table = pattern_table(catalog)
    intake = read_input(str(path), table)
    report = diagnose(intake.scans, catalog, table, intake.status, intake.subject)
    assert report.primary is not None and report.primary.rule == primary
    assert set(wrappers) <= {f.rule for f in report.findings[1:]}


def test_packer_403_names_the_missing_action():
    text, _, _ = CASES["packer-azure-response-body"]
    from conftest import diagnose_source

    report = diagnose_source("customization.log", text)
    assert "The missing permission is 'Microsoft.Network/virtualNetworks/subnets/join/action'." in report.primary.cause


def test_unescaping_survives_a_chunk_boundary_inside_an_escape():
    text = b'Code=\\"QuotaExceeded\\" next\\nline'
    for cut in range(1, len(text)):
        assert b"".join(unescaped([text[:cut], text[cut:]])) == b'Code="QuotaExceeded" next\nline'


def test_windows_paths_in_plain_pasted_text_are_left_alone(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("Copy-Item C:\\new\\tools C:\\Windows\\Temp; Script exited with non-zero exit status: 3\n")
    catalog = load_catalog()
    table = pattern_table(catalog)
    intake = read_input(str(path), table)
    report = diagnose(intake.scans, catalog, table, intake.status, intake.subject)
    assert report.primary.evidence[0].text.startswith("Copy-Item C:\\new\\tools")
