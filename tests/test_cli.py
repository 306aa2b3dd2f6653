"""The command line in-process (CliRunner): output, exit codes, bad input handled in one line.

A real process only where it takes one: the installed console script, and a pipe into stdin.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES
from typer.testing import CliRunner

from aib_doctor.cli import app

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_analyze_failed_log_in_process():
    result = runner.invoke(app, ["analyze", str(FIXTURES / "logs" / "windows-sysprep-timing-failed.log"), "-o", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["primary"]["name"] == "deprovision.sysprep-timing"


def test_rules_lists_and_shows_one():
    listing = runner.invoke(app, ["rules"])
    assert listing.exit_code == 0 and "AIB012  deprovision.sysprep-timing" in listing.stdout
    one = runner.invoke(app, ["rules", "deprovision.sysprep-timing"])
    assert one.exit_code == 0 and one.stdout.startswith("AIB012 deprovision.sysprep-timing\n")
    assert "Fix: Use a larger vmSize" in one.stdout
    as_json = runner.invoke(app, ["rules", "AIB012", "-o", "json"])
    assert json.loads(as_json.stdout)["category"] == "deprovision"


def test_unknown_rule_is_a_usage_error():
    result = runner.invoke(app, ["rules", "AIB999"])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "path,code",
    [
        (FIXTURES / "logs" / "windows-sysprep-timing-failed.log", 1),
        (FIXTURES / "logs" / "linux-success.log", 0),
        (FIXTURES / "seed" / "07-timeout-exceeded.txt", 1),
    ],
)
def test_exit_codes(path, code):
    assert invoke("analyze", str(path)).exit_code == code


def test_the_console_script_exits_with_the_code():
    script = Path(sys.executable).with_name("aib-doctor")
    result = subprocess.run([str(script), "analyze", str(FIXTURES / "logs" / "windows-sysprep-timing-failed.log")], capture_output=True, timeout=120)
    assert result.returncode == 1 and b"deprovision.sysprep-timing" in result.stdout and result.stderr == b""


def test_unexplained_failure_exits_3_and_reads_a_pipe():
    text = b"PACKER OUT ==> azure-arm: Deploying deployment template ...\nPACKER OUT Build 'azure-arm' errored: frobnicator exploded\n"
    result = subprocess.run([sys.executable, "-m", "aib_doctor", "analyze", "-", "-o", "json"], input=text, capture_output=True, timeout=120)
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert report["status"] == "failed" and report["primary"] is None
    assert report["error_lines"][-1]["line"] == 2


def test_bad_arguments_exit_2():
    assert runner.invoke(app, ["analyze"]).exit_code == 2
    assert runner.invoke(app, ["analyze", "x.log", "--output", "yaml"]).exit_code == 2


def _bad(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: p / "missing.log", "no such file or folder"),
        (lambda p: (p / "empty-folder").mkdir() or p / "empty-folder", "nothing to analyze"),
        (lambda p: _bad(p, "empty.log", b""), "the input is empty"),
        (lambda p: _bad(p, "blank.log", b"\n\n  \n"), "the input is empty"),
        (lambda p: _bad(p, "image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4), "binary file"),
        (lambda p: _bad(p, "bad.json", b'{"properties": {"provisioningState": "Failed"}'), None),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(tmp_path, make, message):
    result = invoke("analyze", str(make(tmp_path)))
    if message is None:  # unparseable JSON is read as text instead: no crash, a best-effort report
        assert result.exit_code in (0, 1, 3)
        return
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_utf16_log_is_diagnosed(tmp_path):
    text = (FIXTURES / "logs" / "linux-script-failed.log").read_text(encoding="utf-8")
    path = _bad(tmp_path, "utf16.log", b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le"))
    result = invoke("analyze", str(path), "-o", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["primary"]["rule"] == "AIB065"


def test_50mb_single_line_is_truncated_not_a_crash(tmp_path):
    path = tmp_path / "oneline.log"
    with path.open("wb") as handle:
        handle.write(b"[a1] PACKER OUT ")
        for _ in range(50):
            handle.write(b"x" * (1 << 20))
        handle.write(b"\n[a1] PACKER OUT ==> azure-arm: Script exited with non-zero exit status: 2. Allowed exit codes are: [0]\n")
    report = json.loads(invoke("analyze", str(path), "-o", "json").stdout)
    assert report["primary"]["rule"] == "AIB017"
    assert report["primary"]["evidence"][-1]["line"] == 2
    above = report["primary"]["evidence"][0]  # the line above the exit, quoted short
    assert above["line"] == 1 and len(above["text"]) < 500 and above["text"].endswith("[line truncated]")


def test_truncated_log_gets_a_best_effort_report(tmp_path):
    full = (FIXTURES / "logs" / "windows-success.log").read_bytes()
    path = _bad(tmp_path, "truncated.log", full[: len(full) // 2] + b"[4e1b8f0a-6c2d-4b3e-9f10-2a3b4c5d6e7f] PACKER OUT     azu")
    result = invoke("analyze", str(path), "-o", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["status"] == "unknown"
    assert report["timeline"]["customizers"][-1]["status"] == "running"


def test_internal_error_is_one_line_exit_5(monkeypatch):
    import aib_doctor.core.inputs as inputs  # the CLI imports it when analyze runs

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(inputs, "read_input", explode)
    result = runner.invoke(app, ["analyze", "x"])
    assert result.exit_code == 5
    assert "internal error: RuntimeError: boom" in result.stderr


def test_interrupt_is_exit_130(monkeypatch):
    import aib_doctor.core.inputs as inputs  # the CLI imports it when analyze runs

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(inputs, "read_input", interrupted)
    result = runner.invoke(app, ["analyze", "x"])
    assert result.exit_code == 130 and "interrupted" in result.stderr


def test_debug_shows_the_traceback(monkeypatch):
    import aib_doctor.core.inputs as inputs  # the CLI imports it when analyze runs

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(inputs, "read_input", explode)
    result = runner.invoke(app, ["--debug", "analyze", "x"])
    assert result.exit_code == 5 and "Traceback" in result.stderr and "RuntimeError: boom" in result.stderr


def test_bundle_with_broken_template_json_is_exit_2(tmp_path):
    (tmp_path / "template.json").write_text("{broken")
    result = invoke("analyze", str(tmp_path))
    assert result.exit_code == 2 and "not valid JSON" in result.stderr


def test_rules_lists_and_shows_template_checks_too():
    listing = runner.invoke(app, ["rules"]).stdout.splitlines()
    ids = [line.split()[0] for line in listing]
    assert ids[0].startswith("AIB") and ids.index("TPL001") < ids.index("PRE001") and ids[-1] == "PRE005"
    check = runner.invoke(app, ["rules", "tpl002"])
    assert check.exit_code == 0 and check.stdout.startswith("TPL002 timeout.too-short\n") and "Explains: AIB045" in check.stdout
    preflight = json.loads(runner.invoke(app, ["rules", "identity.missing-role", "-o", "json"]).stdout)
    assert preflight["id"] == "PRE002" and preflight["checked"].startswith("online")
    assert "| PRE005 | `subscription.provider-unregistered` |" in runner.invoke(app, ["rules", "-o", "markdown"]).stdout
