"""Online preflight against ARM mocked with `responses`: each gap comes with the az command that closes it."""

from __future__ import annotations

import copy
import json

from fake_azure import ARM, SUB
from typer.testing import CliRunner

from aib_doctor.cli import app

runner = CliRunner()
IDENTITY_ID = f"/subscriptions/{SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib-builder"
GALLERY_DEF = f"/subscriptions/{SUB}/resourceGroups/rg-gallery/providers/Microsoft.Compute/galleries/golden/images/win2022"
SUBNET = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-build/subnets/aib"
IMAGES = f"{ARM}/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westeurope/publishers/MicrosoftWindowsServer/artifacttypes/vmimage/offers/WindowsServer/skus/2022-datacenter-azure-edition/versions"
READER = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
BLOB_READER = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
PROVIDERS = (
    "Microsoft.VirtualMachineImages",
    "Microsoft.Compute",
    "Microsoft.Storage",
    "Microsoft.Network",
    "Microsoft.KeyVault",
    "Microsoft.ContainerInstance",
)

TEMPLATE = {
    "name": "win2022-golden",
    "location": "westeurope",
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY_ID: {}}},
    "properties": {
        "buildTimeoutInMinutes": 180,
        "source": {
            "type": "PlatformImage",
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2022-datacenter-azure-edition",
            "version": "latest",
        },
        "customize": [{"type": "PowerShell", "scriptUri": "https://stscripts01.blob.core.windows.net/scripts/setup.ps1", "sha256Checksum": "ab" * 32}],
        "vmProfile": {"vmSize": "Standard_D4s_v5", "vnetConfig": {"subnetId": SUBNET}},
        "distribute": [{"type": "SharedImage", "galleryImageId": GALLERY_DEF, "runOutputName": "w", "targetRegions": [{"name": "westeurope"}]}],
    },
}


def mock_azure(arm, roles, generation="V2", providers_state="Registered", identity=True, versions=True):
    if identity:
        arm.get(f"{ARM}{IDENTITY_ID}", json={"id": IDENTITY_ID, "properties": {"principalId": "5f1d2e3c-0000-4000-8000-00000000abcd", "clientId": "c1"}})
    else:
        arm.get(f"{ARM}{IDENTITY_ID}", status=404, json={"error": {"code": "ResourceNotFound", "message": "not found"}})
    arm.get(
        f"{ARM}/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments",
        json={
            "value": [
                {"properties": {"roleDefinitionId": definition, "scope": scope, "principalId": "5f1d2e3c-0000-4000-8000-00000000abcd"}}
                for definition, scope in roles
            ]
        },
    )
    arm.get(
        f"{ARM}{READER}",
        json={"properties": {"roleName": "Reader", "permissions": [{"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}]}},
    )
    arm.get(
        f"{ARM}{CONTRIBUTOR}",
        json={
            "properties": {
                "roleName": "Contributor",
                "permissions": [
                    {
                        "actions": ["*"],
                        "notActions": ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write"],
                        "dataActions": [],
                        "notDataActions": [],
                    }
                ],
            }
        },
    )
    arm.get(
        f"{ARM}{BLOB_READER}",
        json={
            "properties": {
                "roleName": "Storage Blob Data Reader",
                "permissions": [
                    {
                        "actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/read"],
                        "notActions": [],
                        "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
                        "notDataActions": [],
                    }
                ],
            }
        },
    )
    for namespace in PROVIDERS:
        state = providers_state if namespace == "Microsoft.ContainerInstance" else "Registered"
        arm.get(f"{ARM}/subscriptions/{SUB}/providers/{namespace}", json={"namespace": namespace, "registrationState": state})
    arm.get(IMAGES, json=[{"name": "20348.2340.240303", "location": "westeurope"}, {"name": "20348.2402.240405", "location": "westeurope"}] if versions else [])
    arm.get(
        f"{IMAGES}/20348.2402.240405",
        json={"name": "20348.2402.240405", "properties": {"hyperVGeneration": "V2", "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]}},
    )
    arm.get(
        f"{ARM}{GALLERY_DEF}",
        json={"properties": {"hyperVGeneration": generation, "osType": "Windows", "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]}},
    )


def lint_online(tmp_path, template=TEMPLATE):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template))
    result = runner.invoke(app, ["lint", str(path), "--online", "-o", "json"])
    assert "Traceback" not in (result.stderr or "")
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def test_everything_in_place_gives_no_gaps(arm, azurite, tmp_path):
    mock_azure(
        arm,
        [
            (CONTRIBUTOR, f"/subscriptions/{SUB}"),
            (BLOB_READER, f"/subscriptions/{SUB}/resourceGroups/rg-scripts/providers/Microsoft.Storage/storageAccounts/stscripts01"),
        ],
    )
    result, document = lint_online(tmp_path)
    assert result.exit_code == 0, result.stdout
    assert document["issues"] == []


def test_reader_only_identity_gets_each_missing_role_with_its_command(arm, azurite, tmp_path):
    mock_azure(arm, [(READER, f"/subscriptions/{SUB}")], generation="V1", providers_state="NotRegistered")
    result, document = lint_online(tmp_path)
    assert result.exit_code == 1
    issues = {(i["check"], i["pointer"]): i for i in document["issues"]}
    principal = "5f1d2e3c-0000-4000-8000-00000000abcd"
    gallery = issues[("PRE002", "/properties/distribute/0/galleryImageId")]
    assert "Microsoft.Compute/galleries/images/versions/write" in gallery["message"]
    assert (
        gallery["fix"]
        == f'az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal --role "Contributor" --scope /subscriptions/{SUB}/resourceGroups/rg-gallery'
    )
    network = issues[("PRE002", "/properties/vmProfile/vnetConfig/subnetId")]
    assert "Microsoft.Network/virtualNetworks/subnets/join/action" in network["message"]
    assert network["fix"].endswith(
        f'--role "Network Contributor" --scope /subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-build'
    )
    storage = issues[("PRE002", "/properties/customize/0/scriptUri")]
    assert storage["fix"].endswith('--role "Storage Blob Data Reader" --scope $(az storage account show -n stscripts01 --query id -o tsv)')
    mismatch = issues[("PRE004", "/properties/distribute/0/galleryImageId")]
    assert "Hyper-V generation V1 vs the source's V2" in mismatch["message"]
    assert mismatch["fix"].startswith("az sig image-definition create -g rg-gallery -r golden -i win2022-v2 --hyper-v-generation V2")
    provider = issues[("PRE005", "/")]
    assert provider["fix"] == f"az provider register -n Microsoft.ContainerInstance --subscription {SUB}"


def test_missing_identity_and_source_not_in_region(arm, azurite, tmp_path):
    mock_azure(arm, [], identity=False, versions=False)
    result, document = lint_online(tmp_path)
    found = {i["check"]: i for i in document["issues"]}
    assert found["PRE001"]["fix"] == "az identity create -g rg-id -n aib-builder"
    assert "is not offered in westeurope" in found["PRE003"]["message"]
    assert "PRE002" not in found  # no identity, no role assignments to judge


def test_template_preflight_adds_findings_to_the_diagnosis(arm, azurite):
    from fake_azure import IB, template_body

    body = template_body(
        "win01",
        {
            "provisioningState": "Failed",
            "provisioningError": {
                "provisioningErrorCode": "Other",
                "message": "Not authorized to access the resource: /subscriptions/x. Please check the user assigned identity has the correct permissions.",
            },
        },
    )
    body["identity"] = TEMPLATE["identity"]
    body["properties"].update(copy.deepcopy(TEMPLATE["properties"]))
    body["location"] = "westeurope"
    arm.get(f"{IB}/win01", json=body)
    mock_azure(arm, [(READER, f"/subscriptions/{SUB}")])
    result = runner.invoke(app, ["template", "win01", "-g", "rg-images", "--preflight", "-o", "json"])
    document = json.loads(result.stdout)
    assert result.exit_code == 1 and document["primary"]["rule"] == "AIB028"
    assert "PRE002" in [f["rule"] for f in document["findings"]]
    assert "The template shows why: PRE002 identity.missing-role, no role assignment grants" in document["primary"]["cause"]
