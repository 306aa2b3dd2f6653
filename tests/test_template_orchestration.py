"""`template` and `fetch-log` orchestration over in-memory fakes of the ports: which look-ups, in which order, what is read."""

from __future__ import annotations

import pytest
from conftest import FIXTURES
from fakes import SUBSCRIPTION, DictArm, MemoryLogStore, MemoryTemplateSource

from aib_doctor.core.catalog import load_catalog
from aib_doctor.core.diagnose import diagnose
from aib_doctor.core.inputs import read_input
from aib_doctor.core.scan import pattern_table
from aib_doctor.errors import InputError, LogUnavailable
from aib_doctor.model import LogRead, RunOutput
from aib_doctor.template.diagnosis import diagnose_template, locate_logs
from aib_doctor.template.fetch import fetch_logs, write_bundle

RG = "rg-images"
RUN = "9a8b7c6d-5e4f-4a3b-8c1d-0e9f8a7b6c5d"
STAGING = "IT_rg-images_win01_6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"
ACCOUNT = "aibstage01"
SYSPREP_LOG = (FIXTURES / "logs" / "windows-sysprep-timing-failed.log").read_bytes()
LINUX_FAILED_LOG = (FIXTURES / "logs" / "linux-script-failed.log").read_bytes()
PACKER_FAILED = "Packer build command has failed: exit status 1."
MESSAGE_2024 = (
    "During the image build a failure has occurred. Packer build logs are at location "
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{STAGING}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}/blobServices/default/"
    f"containers/packerlogs/{RUN}/customization.log. Please navigate to this location using portal or other tools."
)


def template(name="win01", **properties) -> dict:
    return {
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.VirtualMachineImages/imageTemplates/{name}",
        "name": name,
        "location": "eastus",
        "identity": {
            "type": "UserAssigned",
            "userAssignedIdentities": {"/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i": {}},
        },
        "properties": {
            "source": {"type": "PlatformImage", "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2019-Datacenter", "version": "latest"},
            "customize": [{"type": "PowerShell", "name": "make-build-folder", "inline": ["mkdir c:\\buildArtifacts"]}],
            "distribute": [
                {
                    "type": "ManagedImage",
                    "imageId": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/images/w",
                    "location": "eastus",
                    "runOutputName": "w",
                }
            ],
            "vmProfile": {"vmSize": "Standard_D1_v2"},
            "buildTimeoutInMinutes": 60,
            **properties,
        },
    }


def failed(message=PACKER_FAILED, **extra) -> dict:
    return template(
        provisioningState="Succeeded",
        lastRunStatus={"startTime": "2020-05-05T21:58:00Z", "endTime": "2020-05-05T22:59:41Z", "runState": "Failed", "message": message},
        **extra,
    )


def source_with(document: dict, runs: dict[str, dict[str, bytes]] | None = None, **kwargs) -> MemoryTemplateSource:
    store = MemoryLogStore(runs if runs is not None else {RUN: {"customization.log": SYSPREP_LOG}})
    kwargs.setdefault("accounts", {STAGING: [ACCOUNT]})
    return MemoryTemplateSource({(RG, document["name"]): document}, stores={ACCOUNT: store}, **kwargs)


def diagnosed(source: MemoryTemplateSource, name="win01", **kwargs):
    catalog = load_catalog()
    return diagnose_template(source, RG, name, catalog, pattern_table(catalog), **kwargs)


def test_failed_build_diagnosed_from_status_and_log():
    source = source_with(failed(exactStagingResourceGroup=STAGING))
    result = diagnosed(source)
    report = result.report
    assert report.status == "failed" and report.primary.rule == "AIB012"
    assert "This build ran on Standard_D1_v2." in report.primary.cause
    assert report.timeline.customizers[0].name == "make-build-folder"
    assert report.subject.azure.subscription == SUBSCRIPTION
    assert report.subject.log == LogRead(ACCOUNT, STAGING, "exactStagingResourceGroup", f"{RUN}/customization.log", (), len(SYSPREP_LOG), 0, len(SYSPREP_LOG))
    assert source.calls == ["template", "storage_accounts", "log_store"]
    assert result.notes == [] and not result.log_unavailable


@pytest.mark.parametrize(
    "document,groups,route",
    [
        (failed(MESSAGE_2024), None, "message"),
        (failed(exactStagingResourceGroup=f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{STAGING}"), None, "exactStagingResourceGroup"),
        (failed(stagingResourceGroup=f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{STAGING}"), None, "stagingResourceGroup"),
        (failed(), [("other", {}), (STAGING, {"imageTemplateName": "win01", "imageTemplateResourceGroupName": RG})], "tags"),
        (failed(), [("other", {}), (STAGING, {})], "name"),
    ],
    ids=["message", "exact", "staging", "tags", "name"],
)
def test_staging_group_routes_list_groups_only_as_a_last_resort(document, groups, route):
    source = source_with(document, groups=groups)
    report = diagnosed(source).report
    assert (report.subject.log.found_by, report.subject.log.staging_resource_group) == (route, STAGING)
    assert ("resource_groups" in source.calls) == (groups is not None)


def test_no_staging_group_anywhere_is_log_unavailable_with_the_status_diagnosis():
    result = diagnosed(source_with(failed(), groups=[("other", {})]))
    assert result.log_unavailable and result.report.primary.rule == "AIB006"
    assert "no staging resource group found for template 'win01'" in result.notes[0]


def test_the_run_the_message_names_wins_over_the_newest():
    newer = "00000000-0000-4000-8000-000000000000"
    runs = {newer: {"customization.log": LINUX_FAILED_LOG}, RUN: {"customization.log": SYSPREP_LOG}}
    assert diagnosed(source_with(failed(MESSAGE_2024), runs)).report.subject.log.blob == f"{RUN}/customization.log"
    newest = diagnosed(source_with(failed(exactStagingResourceGroup=STAGING), runs)).report
    assert newest.subject.log.blob == f"{newer}/customization.log" and newest.primary.rule == "AIB065"


def test_submission_failure_needs_no_log():
    document = template(
        provisioningState="Failed",
        provisioningError={"provisioningErrorCode": "Other", "message": "Update/Upgrade of image templates is currently not supported"},
    )
    source = source_with(document)
    assert diagnosed(source).report.primary.rule == "AIB001"
    assert source.calls == ["template"]


def test_succeeded_build_lists_its_outputs_and_reads_no_log():
    document = template(provisioningState="Succeeded", lastRunStatus={"runState": "Succeeded", "startTime": "2024-03-14T09:00:00Z", "message": ""})
    outputs = [RunOutput("win", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/images/win")]
    source = source_with(document, outputs=outputs)
    report = diagnosed(source).report
    assert report.status == "succeeded" and report.primary is None and report.subject.outputs == tuple(outputs)
    assert source.calls == ["template", "run_outputs"]


def test_template_never_run_says_so():
    result = diagnosed(source_with(template(provisioningState="Succeeded")))
    assert result.notes == ["template 'win01' has not run yet (provisioningState Succeeded)"]


def test_queued_build_has_no_log_yet():
    document = template(provisioningState="Succeeded", exactStagingResourceGroup=STAGING, lastRunStatus={"runState": "Running", "runSubState": "Queued"})
    result = diagnosed(source_with(document, runs={}))
    assert result.notes == ["no log yet: the build is queued"] and not result.log_unavailable
    assert result.report.status == "running"


def test_deleted_staging_group_gives_the_status_diagnosis_and_exit_4():
    result = diagnosed(source_with(failed(exactStagingResourceGroup=STAGING), deleted=(STAGING,)))
    assert result.log_unavailable and result.report.primary.rule == "AIB006"
    assert "no longer exists, and the build logs were deleted with it" in result.notes[0]


def test_empty_staging_group():
    result = diagnosed(source_with(failed(exactStagingResourceGroup=STAGING), accounts={STAGING: []}))
    assert result.log_unavailable and "holds no storage account: the logs are gone" in result.notes[0]


def test_the_account_the_message_names_is_the_one_read():
    source = source_with(failed(MESSAGE_2024), accounts={STAGING: ["otheraccount", ACCOUNT]})
    assert diagnosed(source).report.subject.log.account == ACCOUNT


def test_adapter_notes_reach_the_user():
    result = diagnosed(source_with(failed(exactStagingResourceGroup=STAGING), notes=["Falling back to the account key"]))
    assert result.notes == ["Falling back to the account key"]


def big_log(megabytes: int) -> bytes:
    """The sysprep failure with megabytes of output between the first customizer and the deprovisioning step."""
    lines = SYSPREP_LOG.splitlines(keepends=True)
    split = next(i for i, line in enumerate(lines) if b"Found command:" in line) - 1
    filler = b"[922bdf36-b53c-4e78-9cd8-6b70b9674685] PACKER OUT     azure-arm: Installing package 0042 of 4096: Contoso.Agent.Component ... done\n"
    return b"".join(lines[:split]) + filler * ((megabytes << 20) // len(filler)) + b"".join(lines[split:])


def test_a_big_log_is_read_from_its_tail_only():
    data = big_log(16)
    source = source_with(failed(exactStagingResourceGroup=STAGING), runs={RUN: {"customization.log": data}})
    report = diagnosed(source).report
    assert report.primary.rule == "AIB012" and report.timeline.failed_step.phase == "deprovision"
    assert source.stores[ACCOUNT].bytes_read(f"{RUN}/customization.log") == 1 << 20
    assert report.subject.log.read_from == len(data) - (1 << 20)
    full = diagnosed(source_with(failed(exactStagingResourceGroup=STAGING), runs={RUN: {"customization.log": data}}), full_log=True).report
    assert full.subject.log.bytes_read == len(data) and full.primary.evidence[0].line is not None


def test_validation_log_joins_the_diagnosis():
    validation = b"[x] PACKER OUT ==> azure-arm: Script exited with non-zero exit status: 4. Allowed exit codes are: [0]\n"
    runs = {RUN: {"customization.log": (FIXTURES / "logs" / "windows-success.log").read_bytes(), "validation.log": validation}}
    report = diagnosed(source_with(failed(exactStagingResourceGroup=STAGING), runs)).report
    assert report.primary.rule == "AIB017" and report.subject.log.also == (f"{RUN}/validation.log",)


def test_preflight_gaps_join_the_findings():
    document = template(
        provisioningState="Failed",
        provisioningError={"provisioningErrorCode": "Other", "message": "Update/Upgrade of image templates is currently not supported"},
    )
    report = diagnosed(source_with(document), arm=DictArm({})).report
    assert {"PRE001", "PRE005"} <= {f.rule for f in report.findings}


# --- locating runs for fetch-log ---------------------------------------------------------------

RUNS = {
    "11111111-0000-4000-8000-000000000002": {"customization.log": b"run two\n", "validation.log": b"validated\n"},
    "11111111-0000-4000-8000-000000000001": {"customization.log": b"run one\n"},
}


def test_run_selection_latest_by_guid_all_and_missing():
    source = source_with(failed(exactStagingResourceGroup=STAGING), RUNS)
    document = source.template(RG, "win01")
    assert [r.folder for r in locate_logs(source, RG, "win01", document).selected] == ["11111111-0000-4000-8000-000000000002"]
    assert [r.folder for r in locate_logs(source, RG, "win01", document, "11111111-0000-4000-8000-000000000001").selected] == [
        "11111111-0000-4000-8000-000000000001"
    ]
    assert len(locate_logs(source, RG, "win01", document, "all").selected) == 2
    with pytest.raises(InputError, match="no run 'nope' in packerlogs; runs there: 11111111"):
        locate_logs(source, RG, "win01", document, "nope")


def test_no_staging_group_is_log_unavailable_for_fetch_log():
    source = source_with(failed())
    with pytest.raises(LogUnavailable):
        locate_logs(source, RG, "win01", source.template(RG, "win01"))


def test_fetch_every_run_into_run_folders(tmp_path):
    source = source_with(failed(exactStagingResourceGroup=STAGING), RUNS)
    located = locate_logs(source, RG, "win01", source.template(RG, "win01"), "all")
    written = fetch_logs("win01", located, tmp_path / "logs", every_run=True, force=False, progress=None)
    assert sorted(str(p.relative_to(tmp_path / "logs")) for p, _ in written) == [
        "11111111-0000-4000-8000-000000000001/customization.log",
        "11111111-0000-4000-8000-000000000002/customization.log",
        "11111111-0000-4000-8000-000000000002/validation.log",
    ]
    with pytest.raises(InputError, match="already exists"):
        fetch_logs("win01", located, tmp_path / "logs", every_run=True, force=False, progress=None)


def test_bundle_is_redacted_and_analyzes_to_the_same_report(tmp_path):
    secret = b"[922bdf36] PACKER OUT     azure-arm: downloading https://stor.blob.core.windows.net/c/tool.zip?sv=2022&sig=SUPERSECRETSIG\n"
    data = SYSPREP_LOG + secret
    source = source_with(failed(exactStagingResourceGroup=STAGING), runs={RUN: {"customization.log": data}})
    document = source.template(RG, "win01")
    bundle = tmp_path / "bundle"
    write_bundle(bundle, document, locate_logs(source, RG, "win01", document), force=False, progress=None)
    assert sorted(p.name for p in bundle.iterdir()) == ["customization.log", "status.json", "template.json"]
    assert all(b"SUPERSECRETSIG" not in p.read_bytes() for p in bundle.iterdir())
    catalog = load_catalog()
    table = pattern_table(catalog)
    intake = read_input(str(bundle), table)
    offline = diagnose(intake.scans, catalog, table, intake.status, intake.subject, intake.template)
    online = diagnosed(source, full_log=True).report
    assert (offline.status, offline.primary, offline.findings, offline.timeline) == (online.status, online.primary, online.findings, online.timeline)


def test_a_bundle_that_fails_part_way_leaves_nothing_behind(tmp_path):
    import errno

    class FullDisk(MemoryLogStore):
        def download(self, blob, target, progress=None):
            if blob.endswith("validation.log"):
                target.write_bytes(b"half")
                raise OSError(errno.ENOSPC, "No space left on device", str(target))
            return super().download(blob, target, progress)

    store = FullDisk({RUN: {"customization.log": SYSPREP_LOG, "validation.log": b"x"}})
    source = MemoryTemplateSource({(RG, "win01"): failed(exactStagingResourceGroup=STAGING)}, accounts={STAGING: [ACCOUNT]}, stores={ACCOUNT: store})
    document = source.template(RG, "win01")
    with pytest.raises(OSError):
        write_bundle(tmp_path / "bundle", document, locate_logs(source, RG, "win01", document), force=False, progress=None)
    assert list(tmp_path.iterdir()) == []


def test_a_bundles_validation_log_evidence_says_validation_log(tmp_path):
    (tmp_path / "customization.log").write_bytes((FIXTURES / "logs" / "windows-success.log").read_bytes())
    (tmp_path / "validation.log").write_bytes(b"[922bdf36] PACKER OUT ==> azure-arm: Script exited with non-zero exit status: 4. Allowed exit codes are: [0]\n")
    catalog = load_catalog()
    table = pattern_table(catalog)
    intake = read_input(str(tmp_path), table)
    report = diagnose(intake.scans, catalog, table, intake.status, intake.subject, intake.template)
    assert report.primary.rule == "AIB017" and [e.source for e in report.primary.evidence] == ["validation.log"]
