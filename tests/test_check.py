"""`aib-doctor check`: a sequence of checks over changing state, one notification per transition."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
from conftest import FIXTURES
from fake_azure import (
    ACCOUNT,
    GRAPH,
    IB,
    RG,
    SUB,
    FakeGraph,
    Webhook,
    graph_row,
    mock_storage,
    mock_template,
    upload,
)
from typer.testing import CliRunner

import aib_doctor.fleet.notify as notify
from aib_doctor.cli import app

runner = CliRunner()
RUN = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"
STAGING = "IT_rg-images_web01_0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SYSPREP_LOG = (FIXTURES / "logs" / "windows-sysprep-timing-failed.log").read_bytes()


@pytest.fixture
def hook(monkeypatch):
    monkeypatch.setattr(notify, "BACKOFF", 0.01)
    server = Webhook()
    yield server
    server.close()


def check(state, *extra):
    result = runner.invoke(app, ["check", "--state", str(state), *extra])
    assert "Traceback" not in (result.stderr or ""), result.stderr
    return result


def failed(message, start):
    return {
        "provisioningState": "Succeeded",
        "exactStagingResourceGroup": STAGING,
        "lastRunStatus": {"startTime": start, "endTime": "2024-06-11T10:00:00Z", "runState": "Failed", "message": message},
    }


def test_fail_same_fail_recovered_new_failure(arm, azurite, hook, tmp_path):
    state = tmp_path / "state"
    packer_failed = "Packer build command has failed: exit status 1."
    rows = [graph_row("web01", run_state="Failed", start="2024-06-11T08:00:00Z", message=packer_failed)]
    graph = FakeGraph(arm, rows)
    mock_template(arm, "web01", failed(packer_failed, "2024-06-11T08:00:00Z"))
    mock_storage(arm, STAGING, azurite)
    upload(azurite, f"{RUN}/customization.log", SYSPREP_LOG)

    first = check(state, "--notify", hook.url, "-o", "json")
    assert first.exit_code == 1
    outcome = json.loads(first.stdout)["templates"][0]
    assert outcome["transition"] == "new_failure" and outcome["report"]["primary"]["rule"] == "AIB012"
    evidence = tmp_path / outcome["evidence"]
    assert oct((evidence / "report.json").stat().st_mode & 0o777) == "0o600"
    assert (evidence / "report.json").exists() and (evidence / "customization.log").read_bytes().startswith(b"[922bdf36")
    assert len(hook.received) == 1 and "AIB012" in hook.received[0]["text"] and hook.received[0]["title"] == "AIB build failed: web01"

    gets = len([c for c in arm.calls if c.request.url.startswith(f"{IB}/web01")])
    second = check(state, "--notify", hook.url, "-o", "json")
    assert second.exit_code == 0
    assert json.loads(second.stdout)["templates"][0]["transition"] == "still_failing"
    assert len([c for c in arm.calls if c.request.url.startswith(f"{IB}/web01")]) == gets  # unchanged: no GET
    assert len(hook.received) == 1

    graph.rows = [graph_row("web01", run_state="Succeeded", start="2024-06-12T08:00:00Z")]
    third = check(state, "--notify", hook.url)
    assert third.exit_code == 0 and "RECOVERED" in third.stdout
    assert len(hook.received) == 2 and "recovered" in hook.received[1]["text"]

    newer = "6f5e4d3c-2b1a-4098-8e7d-6c5b4a3f2e1d"
    timeout = (
        "Failed in building/customizing image: Failed while waiting for packerizer: Timeout waiting for microservice to complete: 'context deadline exceeded'. "
        f"Image Build log location: https://{ACCOUNT}.blob.core.windows.net/packerlogs/{newer}/customization.log."
    )
    graph.rows = [graph_row("web01", run_state="Failed", start="2024-06-13T08:00:00Z", message=timeout)]
    arm.replace("GET", f"{IB}/web01", json=__import__("fake_azure").template_body("web01", failed(timeout, "2024-06-13T08:00:00Z")))
    upload(azurite, f"{newer}/customization.log", (FIXTURES / "logs" / "linux-script-failed.log").read_bytes())
    fourth = check(state, "--notify", hook.url, "-o", "json")
    assert fourth.exit_code == 1
    report = json.loads(fourth.stdout)["templates"][0]["report"]
    assert report["primary"]["rule"] == "AIB065"  # the new run's log (the message names it), a different cause: a new failure
    assert report["subject"]["log"]["blob"] == f"{newer}/customization.log"
    assert "AIB007" in [f["rule"] for f in report["findings"]]
    assert len(hook.received) == 3

    fifth = check(state, "--notify", hook.url)
    assert fifth.exit_code == 0 and len(hook.received) == 3  # nothing new: nothing sent again

    graph.rows = [graph_row("linux01")]
    sixth = check(state, "-o", "json")
    transitions = {t["name"]: t["transition"] for t in json.loads(sixth.stdout)["templates"]}
    assert transitions == {"linux01": "new_template", "web01": "gone"}


def test_same_error_on_a_new_run_is_still_failing_not_a_new_alert(arm, azurite, hook, tmp_path):
    message = "Update/Upgrade of image templates is currently not supported"
    graph = FakeGraph(arm, [graph_row("web01", provisioning="Failed", run_state="", message="", start="")])
    mock_template(arm, "web01", {"provisioningState": "Failed", "provisioningError": {"provisioningErrorCode": "Other", "message": message}})
    assert check(tmp_path, "--notify", hook.url).exit_code == 1
    graph.rows = [graph_row("web01", provisioning="Failed", run_state="", message="resubmitted", start="")]
    result = check(tmp_path, "--notify", hook.url, "-o", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["templates"][0]["transition"] == "still_failing"
    assert len(hook.received) == 1


def test_unsent_notification_is_retried_next_time_and_sent_once(arm, azurite, hook, tmp_path):
    FakeGraph(arm, [graph_row("web01", provisioning="Failed", run_state="")])
    mock_template(arm, "web01", {"provisioningState": "Failed", "provisioningError": {"provisioningErrorCode": "Other", "message": "Missing field 'identity'"}})
    hook.fail = True
    first = check(tmp_path, "--notify", hook.url)
    assert first.exit_code == 1 and "0 sent, 1 waiting" in first.stdout
    hook.fail = False
    second = check(tmp_path, "--notify", hook.url)
    assert second.exit_code == 0 and "1 sent, 0 waiting" in second.stdout
    check(tmp_path, "--notify", hook.url)
    assert len(hook.received) == 1


def test_exclusions_by_name_pattern_and_tag(arm, azurite, tmp_path):
    FakeGraph(arm, [graph_row("web01"), graph_row("test-web"), graph_row("lab01", tags={"aib-doctor": "ignore"}), graph_row("other", group="rg-other")])
    result = check(tmp_path, "--exclude", "test-*", "--exclude-tag", "aib-doctor=ignore", "-g", RG, "-o", "json")
    assert sorted(t["name"] for t in json.loads(result.stdout)["templates"]) == ["web01"]


def test_prometheus_textfile(arm, azurite, tmp_path):
    FakeGraph(arm, [graph_row("web01", start="2024-06-11T08:00:00.123456789Z", end="2024-06-11T08:40:00.123456789Z")])
    metrics = tmp_path / "aib.prom"
    assert check(tmp_path / "state", "--prometheus", str(metrics)).exit_code == 0
    text = metrics.read_text()
    labels = f'subscription="{SUB}",resource_group="{RG}",template="web01"'
    assert f'aib_template_last_run_state{{{labels},state="succeeded"}} 1' in text
    assert f'aib_template_last_run_state{{{labels},state="failed"}} 0' in text
    assert f"aib_template_last_run_duration_seconds{{{labels}}} 2400" in text
    assert f"aib_template_failures_total{{{labels}}} 0" in text
    assert f"aib_template_last_check_timestamp_seconds{{{labels}}} " in text
    assert "aib_check_last_run_timestamp_seconds " in text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # written atomically
    assert oct(metrics.stat().st_mode & 0o777) == "0o644"  # node_exporter runs as another user


def test_graph_unavailable_falls_back_to_listing_each_subscription(arm, azurite, tmp_path):
    arm.post(GRAPH, status=403, json={"error": {"code": "AuthorizationFailed", "message": "no Resource Graph for you"}})
    arm.get(
        f"https://management.azure.com/subscriptions/{SUB}/providers/Microsoft.VirtualMachineImages/imageTemplates",
        json={
            "value": [
                __import__("fake_azure").template_body(
                    "web01",
                    {
                        "provisioningState": "Succeeded",
                        "lastRunStatus": {"runState": "Succeeded", "startTime": "2024-06-11T08:00:00Z", "endTime": "2024-06-11T09:00:00Z", "message": ""},
                    },
                )
            ]
        },
    )
    result = check(tmp_path, "-o", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["summary"]["discovery"].startswith("per-subscription listing")
    assert [t["name"] for t in document["templates"]] == ["web01"]


def test_azure_unreachable_is_exit_4(arm, azurite, tmp_path):
    arm.post(GRAPH, status=500, json={"error": {"code": "InternalServerError", "message": "down"}})
    arm.get(
        f"https://management.azure.com/subscriptions/{SUB}/providers/Microsoft.VirtualMachineImages/imageTemplates",
        status=500,
        json={"error": {"code": "InternalServerError", "message": "down"}},
    )
    result = check(tmp_path)
    assert result.exit_code == 4 and "listing image templates" in result.stderr


def test_overlapping_checks(arm, azurite, tmp_path):
    from aib_doctor.fleet.state import StateLocked, StateStore

    FakeGraph(arm, [graph_row("web01")])
    with StateStore(tmp_path):
        busy = check(tmp_path)
        assert busy.exit_code == 0 and "another aib-doctor check is running" in busy.stderr
        with pytest.raises(StateLocked):
            StateStore(tmp_path, wait_seconds=0.3)
    assert check(tmp_path).exit_code == 0  # the lock is free again


def test_thousand_templates_in_three_subscriptions_cost_one_query(arm, azurite, tmp_path):
    subscriptions = [SUB, "22222222-3333-4444-5555-666666666666", "33333333-4444-5555-6666-777777777777"]
    rows = [graph_row(f"tpl{n:04d}", subscription=subscriptions[n % 3]) for n in range(1000)]
    failing = {f"tpl{n:04d}" for n in range(0, 1000, 150)}  # 7 templates failed to submit
    for row in rows:
        if row["name"] in failing:
            row.update(provisioningState="Failed", runState="")
    graph = FakeGraph(arm, rows)
    for name in failing:
        subscription = next(r["subscriptionId"] for r in rows if r["name"] == name)
        arm.get(
            f"https://management.azure.com/subscriptions/{subscription}/resourceGroups/{RG}/providers/Microsoft.VirtualMachineImages/imageTemplates/{name}",
            json=__import__("fake_azure").template_body(
                name, {"provisioningState": "Failed", "provisioningError": {"provisioningErrorCode": "Other", "message": "Missing field 'identity'"}}
            ),
        )
    args = [a for s in subscriptions for a in ("--subscription", s)]
    first = check(tmp_path, *args, "-o", "json")
    assert first.exit_code == 1
    assert json.loads(first.stdout)["summary"]["transitions"] == {"new_failure": 7, "new_template": 993}
    arm_calls = [c for c in arm.calls if c.request.url.startswith("https://management.azure.com")]
    assert len(graph.bodies) == 1 and len(arm_calls) == 1 + 7  # one query, a GET per failed template
    before = len(arm.calls)
    second = check(tmp_path, *args, "-o", "json")
    assert second.exit_code == 0
    assert [c.request.url.split("?")[0] for c in arm.calls[before:] if "management.azure.com" in c.request.url] == [GRAPH]
    assert json.loads(second.stdout)["summary"]["transitions"] == {"still_failing": 7, "unchanged": 993}


def test_graph_paging_and_quota_headers(arm, azurite):
    from aib_doctor.azure import connect
    from aib_doctor.azure.graph import query_graph

    graph = FakeGraph(
        arm, [graph_row(f"tpl{n:04d}") for n in range(2500)], headers={"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:02"}
    )
    waits = []
    rows = query_graph(connect(None), [SUB], sleep=waits.append)
    assert len(rows) == 2500 and len({r.id for r in rows}) == 2500
    assert [b["options"].get("$skipToken") for b in graph.bodies] == [None, "1000", "2000"]
    assert waits == [2.0, 2.0]


def test_state_survives_a_killed_check(arm, azurite, tmp_path):
    """SIGKILL a check in the middle: every committed template has its notification; the next check finishes the job."""
    import os
    import signal
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, str(FIXTURES.parent / "tests" / "check_child.py"), str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    database = tmp_path / "state.sqlite3"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if database.exists():
            try:
                with sqlite3.connect(database) as db:
                    if db.execute("SELECT count(*) FROM templates").fetchone()[0] >= 5:
                        break
            except sqlite3.OperationalError:
                pass
        if child.poll() is not None:
            pytest.fail(f"the child ended early: {child.stderr.read().decode()}")
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        committed = db.execute("SELECT count(*) FROM templates").fetchone()[0]
        queued = db.execute("SELECT count(*) FROM notifications").fetchone()[0]
        assert 5 <= committed < 40
        assert queued == committed  # each template and its notification committed together, or neither
    finish = subprocess.run([sys.executable, str(FIXTURES.parent / "tests" / "check_child.py"), str(tmp_path), "fast"], capture_output=True, timeout=120)
    assert finish.returncode == 0, finish.stderr.decode()
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM templates").fetchone()[0] == 40
        assert db.execute("SELECT count(*), count(DISTINCT key) FROM notifications").fetchone() == (40, 40)


def test_evidence_is_kept_within_bounds(tmp_path):
    from aib_doctor.fleet.check import Diagnosed, Scope, run_check
    from aib_doctor.fleet.state import StateStore
    from aib_doctor.model import Finding, Report, Subject, TemplateSummary, Timeline

    ticks = iter(range(1_700_000_000, 1_800_000_000, 60))  # a minute passes each time the check reads the clock
    with StateStore(tmp_path) as store:
        for n in range(5):
            # Each check sees a new failed run with a different message: a new failure each time.
            row = TemplateSummary("/subscriptions/s/resourceGroups/rg/providers/x/imageTemplates/t", "t", "rg", "s", "Failed", None, None, f"error {n}")
            finding = Finding(f"AIB{n:03d}", "n", "network", "error", "t", "c", "f", (), ())
            diagnosed = Diagnosed(Report("failed", Subject(), finding, (finding,), Timeline()))
            run_check(Scope(("s",)), lambda row=row: ([row], "test"), lambda _, d=diagnosed: d, store, evidence_keep=2, clock=lambda: next(ticks))
    folder = tmp_path / "evidence" / "s" / "rg" / "t"
    kept = sorted(folder.iterdir())
    assert [json.loads((k / "report.json").read_text())["primary"]["rule"] for k in kept] == ["AIB003", "AIB004"]  # the newest two
    assert kept[0].name.startswith("20231114T")


def test_the_check_clock_stamps_state_and_metrics(tmp_path):
    from aib_doctor.fleet.check import Scope, run_check
    from aib_doctor.fleet.state import StateStore
    from aib_doctor.model import TemplateSummary

    row = TemplateSummary("/subscriptions/s/resourceGroups/rg/providers/x/imageTemplates/t", "t", "rg", "s", "Succeeded", "Succeeded")
    metrics = tmp_path / "aib.prom"
    with StateStore(tmp_path / "state") as store:
        run_check(Scope(("s",)), lambda: ([row], "test"), None, store, prometheus=metrics, clock=lambda: 1_700_000_000.0)
        assert store.templates()[row.id.lower()].last_checked == 1_700_000_000.0
    assert "aib_check_last_run_timestamp_seconds 1700000000\n" in metrics.read_text()


def _failed_rows(count: int):
    from aib_doctor.model import TemplateSummary

    return [
        TemplateSummary(f"/subscriptions/s/resourceGroups/rg/providers/x/imageTemplates/t{n}", f"t{n}", "rg", "s", "Failed", None, None, "boom")
        for n in range(count)
    ]


def test_an_unreachable_webhook_keeps_the_rest_queued_and_says_so(tmp_path):
    import socket

    from aib_doctor.fleet.check import Diagnosed, Scope, run_check
    from aib_doctor.fleet.state import StateStore
    from aib_doctor.model import Finding, Report, Subject, Timeline
    from aib_doctor.render.check_report import render_check_text

    with socket.socket() as sock:  # a port on 127.0.0.1 where nothing listens: connection refused
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    finding = Finding("AIB001", "n", "network", "error", "t", "c", "f", (), ())
    diagnosed = Diagnosed(Report("failed", Subject(), finding, (finding,), Timeline()))
    waits = []
    with StateStore(tmp_path) as store:
        result = run_check(Scope(("s",)), lambda: (_failed_rows(9), "test"), lambda _: diagnosed, store, notify_url=dead, sleep=waits.append)
        assert len(store.pending_notifications()) == 9
    assert result.notifications_sent == 0 and result.notifications_pending == 9
    assert len(waits) == 1  # two tries of the first notification, one pause between; the other eight are not tried
    assert "the webhook did not answer; the rest stay queued for the next check" in render_check_text(result)


def test_templates_whose_diagnosis_failed_are_counted_and_exit_4(tmp_path, monkeypatch):
    import aib_doctor.fleet.run as fleet_run
    from aib_doctor.fleet.check import run_check
    from aib_doctor.fleet.state import StateStore

    def every_diagnosis_fails(scope, state, wait, notify_url, prometheus, evidence_keep, auth_mode, **_):
        def broken(_):
            raise ConnectionError("the staging storage account did not answer")

        with StateStore(tmp_path) as store:
            return run_check(scope, lambda: (_failed_rows(3), "test"), broken, store)

    monkeypatch.setattr(fleet_run, "run_fleet_check", every_diagnosis_fails)
    result = runner.invoke(app, ["check", "--subscription", "s"])
    assert result.exit_code == 4
    assert "3 templates (test); 0 new failures; 3 could not be diagnosed" in result.stdout
    assert json.loads(runner.invoke(app, ["check", "--subscription", "s", "-o", "json"]).stdout)["summary"]["errors"] == 3


def test_check_markdown_output_is_markdown(tmp_path, monkeypatch):
    import aib_doctor.fleet.run as fleet_run
    from aib_doctor.fleet.check import Diagnosed, run_check
    from aib_doctor.fleet.state import StateStore
    from aib_doctor.model import Finding, Report, Subject, Timeline

    finding = Finding("AIB001", "n.a", "network", "error", "the title", "c", "f", (), ())

    def one_new_failure(scope, state, wait, notify_url, prometheus, evidence_keep, auth_mode, **_):
        with StateStore(tmp_path) as store:
            return run_check(scope, lambda: (_failed_rows(1), "test"), lambda _: Diagnosed(Report("failed", Subject(), finding, (finding,), Timeline())), store)

    monkeypatch.setattr(fleet_run, "run_fleet_check", one_new_failure)
    result = runner.invoke(app, ["check", "--subscription", "s", "-o", "markdown"])
    assert result.exit_code == 1
    assert result.stdout.startswith("## aib-doctor check: 1 templates (test); 1 new failures")
    assert "| t0 | rg | s | AIB001 `n.a`: the title |" in result.stdout and "### New failure: t0 (rg)" in result.stdout
