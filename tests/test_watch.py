"""`watch` through the real SDK clients: the template's status mocked with `responses` and changed between polls,
the log an append blob in Azurite that grows between polls. The clock and the sleep are the test's: nothing sleeps."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from fake_azure import ACCOUNT, AZURITE_KEY, IB, RG, arm_error, mock_storage, template_body
from fake_logs import cancelled, filler, head, progress, windows_update_start
from typer.testing import CliRunner

import aib_doctor.cli.online as cli_module
from aib_doctor.cli import app

RUN = "5f0c9a7e-1d2b-4c3a-9e8f-7a6b5c4d3e2f"
STAGING = "IT_rg-images_win01_6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"
BLOB = f"{RUN}/customization.log"
START = "2025-04-08T10:00:00Z"
CUSTOMIZE = [{"type": "PowerShell", "name": "install-agents", "inline": ["echo agents"]}, {"type": "WindowsUpdate", "name": "patch-tuesday"}]


class LiveTemplate:
    """The template resource as ARM answers it now: tests change its run status (or delete it) between polls."""

    def __init__(self, rsps, name: str = "win01") -> None:
        self.name = name
        self.run = {"startTime": START, "endTime": "0001-01-01T00:00:00Z", "runState": "Running", "runSubState": "Building", "message": ""}
        self.deleted = False
        rsps.add_callback("GET", f"{IB}/{name}", callback=self._answer)

    def _answer(self, request):
        if self.deleted:
            return 404, {"x-ms-error-code": "ResourceNotFound"}, json.dumps(arm_error("ResourceNotFound", f"The Resource '{self.name}' was not found."))
        props = {"lastRunStatus": self.run, "exactStagingResourceGroup": STAGING, "customize": CUSTOMIZE, "buildTimeoutInMinutes": 240}
        return 200, {}, json.dumps(template_body(self.name, props))


class Blob:
    """customization.log as an append blob in Azurite, as the service writes it."""

    def __init__(self, endpoint: str, name: str = BLOB) -> None:
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient(endpoint, credential={"account_name": ACCOUNT, "account_key": AZURITE_KEY})
        container = service.get_container_client("packerlogs")
        if not container.exists():
            container.create_container()
        self.client = container.get_blob_client(name)
        self.size = 0

    def append(self, data: bytes) -> None:
        if not self.client.exists():
            self.client.create_append_blob()
        for start in range(0, len(data), 4 << 20):  # an append block holds at most 4 MiB
            self.client.append_block(data[start : start + (4 << 20)])
        self.size += len(data)

    def replace(self, data: bytes) -> None:
        self.client.delete_blob()
        self.size = 0
        self.append(data)


class Steps:
    """The clock and the sleep handed to watch: each sleep moves the clock on and runs the next step of the build."""

    def __init__(self, steps) -> None:
        self.now = datetime(2025, 4, 8, 10, 0, 0, tzinfo=timezone.utc)
        self.steps = list(steps)
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.steps:
            self.steps.pop(0)()


def watch(monkeypatch, steps: Steps, *args):
    monkeypatch.setattr(cli_module, "WATCH_TIME", (steps.clock, steps.sleep))
    return CliRunner().invoke(app, ["watch", "win01", "-g", RG, *args])


@pytest.fixture
def blob_reads(monkeypatch):
    """(offset, length) of every ranged read of a blob the adapter made (each one ranged GET to Azurite)."""
    from aib_doctor.azure.blobs import BlobRangeReader

    reads: list[tuple[int, int]] = []
    original = BlobRangeReader.read

    def recorded(self, offset, length):
        reads.append((offset, length))
        return original(self, offset, length)

    monkeypatch.setattr(BlobRangeReader, "read", recorded)
    return reads


def growing_build(template: LiveTemplate, blob: Blob, sizes: list[int]) -> list:
    """A Windows build polled every 50 minutes: no log yet, the log appears, Windows Update starts, a silence,
    progress past 80% of the timeout, then the cancel at the timeout. `sizes` gets each step's appended bytes."""

    def add(data: bytes, sub_state: str = "Customizing"):
        def step():
            template.run["runSubState"] = sub_state
            blob.append(data)
            sizes.append(len(data))

        return step

    def quiet():
        sizes.append(0)

    def end():
        add(cancelled())()
        template.run.update(runState="Failed", runSubState="", endTime="2025-04-08T14:02:10Z")

    return [add(head()), add(filler(1) + windows_update_start()), quiet, add(progress(0.5)), end]


def test_watch_follows_a_growing_log_reading_only_new_bytes_and_ends_with_the_report(arm, azurite, monkeypatch, blob_reads):
    template = LiveTemplate(arm)
    mock_storage(arm, STAGING, azurite)
    blob = Blob(azurite)
    sizes: list[int] = []
    steps = Steps(growing_build(template, blob, sizes))
    result = watch(monkeypatch, steps, "--interval", "3000")
    print("\n--- aib-doctor watch win01 -g rg-images --interval 3000 (text, piped) ---\n" + result.stdout)
    assert result.exit_code == 1, result.stderr
    out = result.stdout
    # What was shown while it ran.
    assert "10:00:00 Building | elapsed 0s of 240 min | no log yet" in out
    assert f"following {ACCOUNT}/packerlogs/{BLOB}" in out
    # The first 340 bytes are held back until the encoding is known (512 bytes): shown with the next poll.
    assert "10:50:00 Customizing | elapsed 50m00s of 240 min | log 340 bytes (+340 read)" in out
    assert "11:40:00 Customizing | elapsed 1h40m of 240 min | the 'patch-tuesday' customizer (windows-update, #2) for 0s" in out
    assert "11:40:00   | 2025/04/08 11:40:01 [INFO] (telemetry) Starting provisioner windows-update" in out
    assert "13:20:00 Customizing | elapsed 3h20m of 240 min | the 'patch-tuesday' customizer (windows-update, #2) for 1h39m" in out
    assert "warning: the 'patch-tuesday' customizer (windows-update, #2) is known to be slow here: WindowsUpdate with no filters" in out
    assert "warning: no log output for 50 min (since 11:40:00 UTC) while the 'patch-tuesday' customizer (windows-update, #2) runs" in out
    assert "warning: the build has run 3 h 20 min, 83% of its 240-minute timeout" in out
    assert "13:20:00   | 2025/04/08 13:58:40 ui:     azure-arm: Waiting for operation to complete (system performance: 97% cpu; 71% memory)..." in out
    # Only new bytes, each poll: the reads are adjacent ranges that add up to the log, and the report read nothing more.
    reads = blob_reads
    print("ranged reads of the log (offset, length):", reads, "blob size:", blob.size)
    assert [length for _, length in reads] == [size for size in sizes if size]
    assert [offset for offset, _ in reads] == [sum(sizes[:i]) for i, size in enumerate(sizes) if size]
    assert sum(length for _, length in reads) == blob.size
    # The same report as `template`, from the bytes already read.
    assert "Cause found: AIB151 timeout.windows-update-still-running" in out
    assert "(read all of it)" in out and "Last run: Failed, 2025-04-08T10:00:00Z to 2025-04-08T14:02:10Z" in out


def test_json_output_keeps_the_report_alone_on_stdout(arm, azurite, monkeypatch):
    template = LiveTemplate(arm)
    mock_storage(arm, STAGING, azurite)
    sizes: list[int] = []
    result = watch(monkeypatch, Steps(growing_build(template, Blob(azurite), sizes)), "--interval", "3000", "-o", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["primary"]["rule"] == "AIB151"
    assert report["subject"]["log"]["bytes_read"] == report["subject"]["log"]["size"] == sum(sizes)
    assert "Customizing | elapsed" in result.stderr


def test_a_replaced_log_is_read_again_from_byte_0_and_said_so(arm, azurite, monkeypatch, blob_reads):
    template = LiveTemplate(arm)
    arm.get(f"{IB}/win01/runOutputs", json={"value": []})
    mock_storage(arm, STAGING, azurite)
    blob = Blob(azurite)
    first = head() + filler(0.25)

    def new_run():
        blob.replace(head())

    def end():
        template.run.update(runState="Succeeded", runSubState="", endTime="2025-04-08T11:30:00Z")

    steps = Steps([lambda: blob.append(first), new_run, end])
    result = watch(monkeypatch, steps, "--interval", "600")
    assert result.exit_code == 0, result.stderr
    assert f"the log shrank from {len(first):,} to {len(head()):,} bytes: a new run replaced it; reading it from byte 0" in result.stdout
    assert [offset for offset, _ in blob_reads] == [0, 0]


def test_a_new_run_of_the_template_is_followed_from_its_own_start(arm, azurite, monkeypatch):
    template = LiveTemplate(arm)
    arm.get(f"{IB}/win01/runOutputs", json={"value": []})
    mock_storage(arm, STAGING, azurite)
    blob = Blob(azurite)

    def restarted():
        template.run.update(startTime="2025-04-08T10:20:00Z")

    steps = Steps([lambda: blob.append(head()), restarted, lambda: template.run.update(runState="Succeeded", endTime="2025-04-08T11:00:00Z")])
    result = watch(monkeypatch, steps, "--interval", "600")
    assert result.exit_code == 0, result.stderr
    assert "a new run started at 2025-04-08T10:20:00Z: following it from byte 0" in result.stdout


def test_start_runs_the_template_first_and_waits_for_the_new_run(arm, azurite, monkeypatch):
    template = LiveTemplate(arm)
    template.run.update(runState="Succeeded", runSubState="", startTime="2025-04-07T08:00:00Z", endTime="2025-04-07T09:00:00Z")
    arm.get(f"{IB}/win01/runOutputs", json={"value": []})
    arm.post(f"{IB}/win01/run", status=202, headers={"Azure-AsyncOperation": f"{IB}/win01/operations/1"})
    mock_storage(arm, STAGING, azurite)
    blob = Blob(azurite)

    def service_starts():
        template.run.update(runState="Running", runSubState="Building", startTime=START, endTime="0001-01-01T00:00:00Z")

    steps = Steps([service_starts, lambda: blob.append(head()), lambda: template.run.update(runState="Succeeded", endTime="2025-04-08T10:30:00Z")])
    result = watch(monkeypatch, steps, "--start", "--interval", "60")
    assert result.exit_code == 0, result.stderr
    assert any(call.request.method == "POST" and call.request.url.startswith(f"{IB}/win01/run") for call in arm.calls)
    assert "run requested; waiting for the service to start it" in result.stdout
    assert "SUCCEEDED" in result.stdout.upper()


def test_a_template_deleted_mid_watch_is_retried_with_backoff_then_exit_4(arm, azurite, monkeypatch):
    template = LiveTemplate(arm)
    mock_storage(arm, STAGING, azurite)
    steps = Steps([lambda: setattr(template, "deleted", True)])
    result = watch(monkeypatch, steps, "--interval", "30")
    assert result.exit_code == 4
    assert steps.sleeps == [30, 30, 60, 120, 240, 300]  # the interval, then the backoff between the five retries
    assert result.stderr.strip().count("\n") == 0 and "template 'win01' not found" in result.stderr
    assert result.stdout.count("retrying in") == 5


def test_ctrl_c_stops_watching_and_leaves_the_build_alone(arm, azurite, monkeypatch):
    LiveTemplate(arm)
    mock_storage(arm, STAGING, azurite)

    def interrupt():
        raise KeyboardInterrupt

    result = watch(monkeypatch, Steps([interrupt]))
    assert result.exit_code == 130
    assert "stopped watching; the build goes on in Azure" in result.stderr
    assert not any(call.request.method == "POST" and "/cancel" in call.request.url for call in arm.calls)


@pytest.mark.parametrize("run_state", ["Failed", "Succeeded"])
def test_a_build_already_over_gets_the_template_report_at_once(arm, azurite, monkeypatch, run_state):
    template = LiveTemplate(arm)
    template.run.update(runState=run_state, endTime="2025-04-08T14:02:10Z")
    arm.get(f"{IB}/win01/runOutputs", json={"value": []})
    mock_storage(arm, STAGING, azurite)
    Blob(azurite).append(head() + windows_update_start() + progress(0.01) + cancelled())
    steps = Steps([])
    result = watch(monkeypatch, steps)
    assert steps.sleeps == []
    assert result.exit_code == (1 if run_state == "Failed" else 0), result.stderr


def test_an_unreachable_blob_is_one_clear_azure_error_not_a_traceback(arm):
    import socket

    from azure.storage.blob import BlobClient

    from aib_doctor.azure.blobs import BlobRangeReader
    from aib_doctor.errors import AzureAccessError

    with socket.socket() as sock:  # a port nothing listens on: the network is down
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = BlobClient(
        f"http://127.0.0.1:{port}/devstoreaccount1", "packerlogs", BLOB, credential={"account_name": ACCOUNT, "account_key": AZURITE_KEY}, retry_total=0
    )
    reader = BlobRangeReader(client)
    with pytest.raises(AzureAccessError, match=f"reading the size of {BLOB}: could not reach Azure"):
        reader.size()
    with pytest.raises(AzureAccessError, match=f"reading bytes 0-9 of {BLOB}"):
        list(reader.read(0, 10))
