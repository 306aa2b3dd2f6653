"""Every template check has a template that fails it and a similar one that passes it."""

from __future__ import annotations

import copy
import json

import pytest
from typer.testing import CliRunner

from aib_doctor.cli import app
from aib_doctor.lint import lint_document, lint_text
from aib_doctor.lint.registry import REGISTRY

IDENTITY = {
    "type": "UserAssigned",
    "userAssignedIdentities": {"/subscriptions/1/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib": {}},
}
LINUX = {
    "identity": IDENTITY,
    "location": "westeurope",
    "properties": {
        "buildTimeoutInMinutes": 90,
        "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest"},
        "customize": [{"type": "Shell", "name": "tools", "inline": ["sudo apt-get update", "sudo apt-get install -y jq"]}],
        "vmProfile": {"vmSize": "Standard_D2s_v3"},
        "distribute": [
            {
                "type": "ManagedImage",
                "imageId": "/subscriptions/1/resourceGroups/rg/providers/Microsoft.Compute/images/u",
                "location": "westeurope",
                "runOutputName": "u",
            }
        ],
    },
}
WINDOWS = {
    "identity": IDENTITY,
    "location": "westeurope",
    "properties": {
        "buildTimeoutInMinutes": 180,
        "source": {
            "type": "PlatformImage",
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2022-datacenter-azure-edition",
            "version": "latest",
        },
        "customize": [
            {"type": "PowerShell", "name": "tools", "inline": ["choco install -y git"], "runElevated": True, "runAsSystem": True},
            {"type": "WindowsRestart"},
            {"type": "WindowsUpdate"},
        ],
        "vmProfile": {"vmSize": "Standard_D4s_v5"},
        "distribute": [
            {
                "type": "SharedImage",
                "galleryImageId": "/subscriptions/1/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/w",
                "runOutputName": "w",
                "targetRegions": [{"name": "westeurope"}],
            }
        ],
    },
}


def variant(base, path=(), value=None, delete=None):
    document = copy.deepcopy(base)
    if delete:
        *parents, last = delete
        target = document
        for key in parents:
            target = target[key]
        del target[last]
        return document
    *parents, last = path
    target = document
    for key in parents:
        target = target[key]
    target[last] = value
    return document


P = ("properties",)
CASES = {
    "TPL001": (variant(LINUX, delete=("identity",)), LINUX),
    "TPL002": (variant(LINUX, P + ("buildTimeoutInMinutes",), 5), variant(LINUX, P + ("buildTimeoutInMinutes",), 6)),
    "TPL003": (variant(LINUX, P + ("buildTimeoutInMinutes",), 961), variant(LINUX, P + ("buildTimeoutInMinutes",), 960)),
    "TPL004": (variant(WINDOWS, P + ("buildTimeoutInMinutes",), 45), variant(LINUX, P + ("buildTimeoutInMinutes",), 45)),
    "TPL005": (variant(WINDOWS, P + ("vmProfile",), {"vmSize": "Standard_D1_v2"}), WINDOWS),
    "TPL006": (
        variant(LINUX, P + ("customize", 0, "inline", 1), "sudo apt-get install jq"),
        variant(LINUX, P + ("customize", 0, "inline", 1), "sudo DEBIAN_FRONTEND=noninteractive apt-get install jq"),
    ),
    "TPL007": (variant(LINUX, P + ("customize", 0, "inline", 1), "sudo ufw enable"), variant(LINUX, P + ("customize", 0, "inline", 1), "sudo ufw --version")),
    "TPL008": (
        variant(WINDOWS, P + ("customize", 0, "inline"), ["Restart-Computer -Force"]),
        variant(WINDOWS, P + ("customize", 0, "inline"), ["Write-Host 'restart handled by WindowsRestart'"]),
    ),
    "TPL009": (
        variant(WINDOWS, P + ("customize", 0, "inline"), ["Remove-Item C:\\DeprovisioningScript.ps1 -Force"]),
        variant(WINDOWS, P + ("customize", 0, "inline"), ["Remove-Item C:\\buildArtifacts -Recurse -Force"]),
    ),
    "TPL010": (
        variant(LINUX, P + ("customize",), [{"type": "File", "sourceUri": "https://s/x.conf", "destination": "/etc/x.conf"}]),
        variant(LINUX, P + ("customize",), [{"type": "File", "sourceUri": "https://s/x.conf", "destination": "/tmp/x.conf"}]),
    ),
    "TPL011": (
        variant(WINDOWS, P + ("customize",), [{"type": "File", "sourceUri": "https://s/sql.iso", "destination": "C:\\sql.iso"}]),
        variant(WINDOWS, P + ("customize",), [{"type": "File", "sourceUri": "https://s/app.config", "destination": "C:\\app.config"}]),
    ),
    "TPL012": (variant(LINUX, P + ("customize", 0, "scriptUri"), "https://s/a.sh"), LINUX),
    "TPL013": (
        variant(LINUX, P + ("customize",), [{"type": "Shell", "scriptUri": "https://s/a.sh"}]),
        variant(LINUX, P + ("customize",), [{"type": "Shell", "scriptUri": "https://s/a.sh", "sha256Checksum": "ab" * 32}]),
    ),
    "TPL014": (variant(LINUX, P + ("distribute", 0, "type"), "managedImage"), LINUX),
    "TPL015": (
        variant(LINUX, P + ("distribute",), [{"type": "VHD", "runOutputName": "u"}, {"type": "VHD", "runOutputName": "U"}]),
        variant(LINUX, P + ("distribute",), [{"type": "VHD", "runOutputName": "u"}, {"type": "VHD", "runOutputName": "v"}]),
    ),
    "TPL016": (variant(WINDOWS, P + ("distribute", 0, "replicationRegions"), ["westeurope"]), WINDOWS),
    "TPL017": (
        variant(LINUX, P + ("planInfo",), {"planName": "p", "planProduct": "o", "planPublisher": "x"}),
        variant(LINUX, P + ("source", "planInfo"), {"planName": "p", "planProduct": "o", "planPublisher": "x"}),
    ),
    "TPL018": (
        variant(LINUX, P + ("vmProfile", "vnetConfig"), {"subnetId": "/s/b", "containerInstanceSubnetId": "/s/c", "proxyVmSize": "Standard_A1_v2"}),
        variant(LINUX, P + ("vmProfile", "vnetConfig"), {"subnetId": "/s/b", "containerInstanceSubnetId": "/s/c"}),
    ),
    "TPL019": (
        variant(LINUX, P + ("vmProfile", "vnetConfig"), {"containerInstanceSubnetId": "/s/c"}),
        variant(LINUX, P + ("vmProfile", "vnetConfig"), {"subnetId": "/s/b"}),
    ),
    "TPL020": (
        variant(LINUX, P + ("customize", 0, "inline", 1), "curl -o a.tgz 'https://s.blob.core.windows.net/c/a.tgz?sv=2022&sig=AbCdEf123'"),
        variant(LINUX, P + ("customize", 0, "inline", 1), "curl -o a.tgz https://s.blob.core.windows.net/c/a.tgz"),
    ),
    "TPL022": (
        variant(LINUX, P + ("customize", 0, "inline", 1), "echo 'waagent -force -deprovision' > /tmp/DeprovisioningScript.sh"),
        variant(LINUX, P + ("customize", 0, "inline", 1), "cat /tmp/DeprovisioningScript.sh"),
    ),
    "TPL023": (
        variant(WINDOWS, P + ("customize", 0), {"type": "PowerShell", "inline": ["whoami"], "runElevated": True}),
        variant(WINDOWS, P + ("customize", 0), {"type": "PowerShell", "inline": ["whoami"]}),
    ),
    "TPL024": (
        variant(LINUX, P + ("vmProfile",), {"vmSize": "Standard_D2s_v3", "osDiskSizeGb": 64}),
        variant(LINUX, P + ("vmProfile",), {"vmSize": "Standard_D2s_v3", "osDiskSizeGB": 64}),
    ),
    "TPL021": (
        variant(WINDOWS, P + ("customize", 0), {"type": "PowerShell", "inline": ["whoami"], "runAsSystem": True}),
        variant(WINDOWS, P + ("customize", 0), {"type": "PowerShell", "inline": ["whoami"], "runAsSystem": True, "runElevated": True}),
    ),
}


def test_every_check_has_cases():
    assert set(CASES) == set(REGISTRY)


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_check_fails_and_passes(check_id):
    failing, passing = CASES[check_id]
    assert check_id in {i.rule for i in lint_document(failing).findings}
    assert check_id not in {i.rule for i in lint_document(passing).findings}


def test_the_good_templates_are_clean():
    assert lint_document(LINUX).findings == () and lint_document(WINDOWS).findings == ()


def test_az_cli_shape_is_read():
    flat = {"name": "u", "identity": IDENTITY, **copy.deepcopy(LINUX["properties"]), "buildTimeoutInMinutes": 3}
    findings = lint_document(flat).findings
    assert [(f.rule, f.location.pointer) for f in findings] == [("TPL002", "/buildTimeoutInMinutes")]


ARM = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {
        "imageTemplateName": {"type": "string", "defaultValue": "win-golden"},
        "timeout": {"type": "int", "defaultValue": 4},
        "identityId": {"type": "string"},
        "scriptBase": {"type": "string", "defaultValue": "https://stscripts.blob.core.windows.net/scripts/"},
    },
    "variables": {"distributeType": "sharedImage"},
    "resources": [
        {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31", "name": "aib", "location": "[resourceGroup().location]"},
        {
            "type": "Microsoft.VirtualMachineImages/imageTemplates",
            "apiVersion": "2024-02-01",
            "name": "[parameters('imageTemplateName')]",
            "location": "[resourceGroup().location]",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {"[parameters('identityId')]": {}}},
            "properties": {
                "buildTimeoutInMinutes": "[parameters('timeout')]",
                "source": {
                    "type": "PlatformImage",
                    "publisher": "MicrosoftWindowsServer",
                    "offer": "WindowsServer",
                    "sku": "2022-datacenter",
                    "version": "latest",
                },
                "customize": [{"type": "PowerShell", "scriptUri": "[concat(parameters('scriptBase'), 'setup.ps1')]"}],
                "vmProfile": {"vmSize": "Standard_D4s_v5"},
                "distribute": [
                    {"type": "[variables('distributeType')]", "galleryImageId": "/x", "runOutputName": "w", "targetRegions": [{"name": "westeurope"}]}
                ],
            },
        },
    ],
}


def test_arm_template_is_evaluated_and_unresolved_parameters_named():
    text = json.dumps(ARM, indent=2)
    result = lint_text(text, "main.json")
    assert result.templates == ("win-golden",)
    found = {(f.rule, f.location.pointer) for f in result.findings}
    assert ("TPL002", "/resources/1/properties/buildTimeoutInMinutes") in found  # [parameters('timeout')] -> 4
    assert ("TPL014", "/resources/1/properties/distribute/0/type") in found  # variables('distributeType') -> sharedImage
    assert ("TPL013", "/resources/1/properties/customize/0/scriptUri") in found
    assert result.unresolved == ("parameters('identityId')", "resourceGroup()")
    line = next(f.location.line for f in result.findings if f.rule == "TPL002")
    assert '"buildTimeoutInMinutes"' in text.splitlines()[line - 1]


runner = CliRunner()


def test_cli_exit_codes_and_fail_on(tmp_path):
    warn_only = tmp_path / "warn.json"
    warn_only.write_text(json.dumps(variant(LINUX, P + ("customize", 0, "inline", 1), "sudo apt-get install jq")))
    assert runner.invoke(app, ["lint", str(warn_only)]).exit_code == 0
    assert runner.invoke(app, ["lint", str(warn_only), "--fail-on", "warning"]).exit_code == 1
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(LINUX))
    assert runner.invoke(app, ["lint", str(clean), "--fail-on", "warning"]).exit_code == 0
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = runner.invoke(app, ["lint", str(broken)])
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    assert runner.invoke(app, ["lint", str(tmp_path / "missing.json")]).exit_code == 2


def test_sarif_points_at_rules_lines_and_pointers(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(variant(LINUX, P + ("buildTimeoutInMinutes",), 2), indent=2))
    sarif = json.loads(runner.invoke(app, ["lint", str(path), "-o", "sarif"]).stdout)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    run = sarif["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["TPL002"]
    result = run["results"][0]
    assert result["ruleId"] == "TPL002" and result["level"] == "error" and result["ruleIndex"] == 0
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == str(path)
    assert path.read_text().splitlines()[location["physicalLocation"]["region"]["startLine"] - 1].strip().startswith('"buildTimeoutInMinutes"')
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "/properties/buildTimeoutInMinutes"


def test_json_and_markdown_outputs(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(variant(LINUX, delete=("identity",))))
    document = json.loads(runner.invoke(app, ["lint", str(path), "-o", "json"]).stdout)
    assert [(i["check"], i["pointer"], i["severity"]) for i in document["issues"]] == [("TPL001", "/identity", "error")]
    markdown = runner.invoke(app, ["lint", str(path), "-o", "markdown"]).stdout
    assert "| error | TPL001 `identity.missing` | `/identity` (line 1) |" in markdown


def test_diagnosis_names_the_lint_problem_that_caused_the_failure(tmp_path):
    template = variant(LINUX, P + ("buildTimeoutInMinutes",), 4)
    template["properties"]["lastRunStatus"] = {"runState": "Failed", "message": "Packer build command has failed: exit status 1."}
    template["properties"]["provisioningState"] = "Succeeded"
    (tmp_path / "template.json").write_text(json.dumps(template))
    (tmp_path / "customization.log").write_text(
        "[11111111-2222-3333-4444-555555555555] PACKER ERR 2024/01/01 10:00:00 * client_jwt will expire within 5 minutes, please use a JWT that is valid for at least 5 minutes\n"
    )
    document = json.loads(runner.invoke(app, ["analyze", str(tmp_path), "-o", "json"]).stdout)
    assert document["primary"]["rule"] == "AIB045"
    assert document["primary"]["cause"].endswith(
        "The template shows why: TPL002 timeout.too-short, buildTimeoutInMinutes is 4 at /properties/buildTimeoutInMinutes."
    )
    lint_finding = next(f for f in document["findings"] if f["rule"] == "TPL002")
    assert lint_finding["evidence"] == [{"source": "template", "line": None, "text": "/properties/buildTimeoutInMinutes: buildTimeoutInMinutes is 4"}]


def lint_inline(*lines, base=None):
    from aib_doctor.lint import lint_document

    document = variant(base or LINUX, P + ("customize", 0, "inline"), list(lines))
    return {f.rule for f in lint_document(document).findings}


@pytest.mark.parametrize(
    "line,fires",
    [
        ("sudo apt-get upgrade", True),
        ("sudo apt-get -y upgrade", False),
        ("sudo yum update", True),
        ("sudo yum update -y", False),
        ("sudo apt-get update", False),  # refreshes the lists, never asks
    ],
)
def test_upgrades_without_yes_are_interactive_too(line, fires):
    assert ("TPL006" in lint_inline(line)) is fires


@pytest.mark.parametrize(
    "line,fires",
    [
        ("sudo DEBIAN_FRONTEND=noninteractive apt-get install -y iptables-persistent", False),
        ("grep PermitRootLogin /etc/ssh/sshd_config", False),
        ("sudo iptables -L", False),
        ("echo 'PermitRootLogin no' | sudo tee -a /etc/ssh/sshd_config", True),
        ("sudo sed -i 's/^#Port 22/Port 2222/' /etc/ssh/sshd_config", True),
        ("sudo iptables -A INPUT -p tcp --dport 22 -j DROP", True),
    ],
)
def test_firewall_check_fires_on_changes_not_on_reading_or_installing(line, fires):
    assert ("TPL007" in lint_inline(line)) is fires


def test_file_destination_tmp_itself_is_fine():
    from aib_doctor.lint import lint_document

    for destination, fires in (("/tmp", False), ("/tmp/", False), ("/tmpfoo/x", True)):
        document = variant(LINUX, P + ("customize",), [{"type": "File", "sourceUri": "https://s/x.conf", "destination": destination}])
        assert ("TPL010" in {f.rule for f in lint_document(document).findings}) is fires, destination


def test_reboot_fix_does_not_send_linux_to_windows_restart():
    from aib_doctor.lint import check_info

    fix = check_info("TPL008").fix
    assert "On Windows, add a WindowsRestart" in fix and "on Linux" in fix


def test_windows_on_a_small_or_default_vm_is_flagged_without_windows_update():
    from aib_doctor.lint import lint_document

    without_size = variant(WINDOWS, P + ("vmProfile",), {})
    assert "TPL005" in {f.rule for f in lint_document(without_size).findings}
    assert "TPL005" not in {f.rule for f in lint_document(variant(WINDOWS, P + ("vmProfile",), {"vmSize": "Standard_D4s_v3"})).findings}


def test_nested_deployment_templates_are_linted_and_none_found_is_exit_2(tmp_path):
    from typer.testing import CliRunner

    from aib_doctor.cli import app

    module = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "resources": [
            {
                "type": "Microsoft.Resources/deployments",
                "name": "imageModule",
                "properties": {
                    "mode": "Incremental",
                    "template": {
                        "resources": [
                            {
                                "type": "Microsoft.VirtualMachineImages/imageTemplates",
                                "name": "inner",
                                "properties": variant(LINUX, P + ("buildTimeoutInMinutes",), 5)["properties"],
                            }
                        ]
                    },
                },
            }
        ],
    }
    path = tmp_path / "main.json"
    path.write_text(json.dumps(module))
    result = CliRunner().invoke(app, ["lint", str(path), "-o", "json"])
    assert result.exit_code == 1 and "TPL002" in result.stdout and "/resources/0/properties/template/resources/0/properties" in result.stdout
    path.write_text(json.dumps({"$schema": module["$schema"], "resources": [{"type": "Microsoft.Storage/storageAccounts", "name": "s"}]}))
    result = CliRunner().invoke(app, ["lint", str(path)])
    assert result.exit_code == 2 and "nested deployments" in result.stderr


def test_lint_reads_stdin_utf16_and_a_list_like_analyze(tmp_path):
    from typer.testing import CliRunner

    from aib_doctor.cli import app

    short = variant(LINUX, P + ("buildTimeoutInMinutes",), 5)
    runner = CliRunner()
    assert "TPL002" in runner.invoke(app, ["lint", "-", "-o", "json"], input=json.dumps(short)).stdout
    path = tmp_path / "t.json"
    path.write_bytes(json.dumps(short).encode("utf-16"))
    assert "TPL002" in runner.invoke(app, ["lint", str(path), "-o", "json"]).stdout
    path.write_text(json.dumps([LINUX, short]))
    result = runner.invoke(app, ["lint", str(path), "-o", "json"])
    assert result.exit_code == 1 and '"/1/properties/buildTimeoutInMinutes"' in result.stdout


def test_sarif_levels_are_sarif_levels():
    from aib_doctor.lint import lint_document, template_checks
    from aib_doctor.render import LintFormat, render_lint

    sarif = json.loads(render_lint([lint_document(CASES["TPL023"][0])], LintFormat.sarif, template_checks()))  # an info finding
    levels = {r["level"] for r in sarif["runs"][0]["results"]} | {d["defaultConfiguration"]["level"] for d in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "note" in levels and levels <= {"none", "note", "warning", "error"}
