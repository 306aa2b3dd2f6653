"""Global options, help, environment variables and the config file: flag > env > file > default; NO_COLOR."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from conftest import FIXTURES
from typer.testing import CliRunner

from aib_doctor import __version__
from aib_doctor.cli import app
from aib_doctor.model import CheckResult

runner = CliRunner()
COMMANDS = sorted(typer.main.get_command(app).commands)  # every command, including ones added later
SCRIPT = Path(sys.executable).with_name("aib-doctor")


@pytest.fixture
def fleet_calls(monkeypatch, tmp_path):
    """`check` with its Azure side replaced: the arguments it was called with."""
    calls = []

    def fake(scope, state, wait, notify_url, prometheus, evidence_keep, auth_mode, catalog=None):
        calls.append(
            {"state": state, "notify": notify_url, "auth_mode": auth_mode, "rules": [r.id for r in catalog or ()], "subscriptions": scope.subscriptions}
        )
        return CheckResult(discovery="test")

    monkeypatch.setattr("aib_doctor.fleet.run.run_fleet_check", fake)
    for name in ("AIB_DOCTOR_NOTIFY", "AIB_DOCTOR_STATE", "AIB_DOCTOR_AUTH_MODE", "AIB_DOCTOR_RULES", "AZURE_SUBSCRIPTION_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIB_DOCTOR_CONFIG", str(tmp_path / "config.toml"))
    (tmp_path / "config.toml").write_text("")
    return calls


def test_version_alone_prints_it_and_exits_0():
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"aib-doctor {__version__}\n")


def test_debug_is_accepted_after_the_command_too():
    for args in (["--debug", "rules", "AIB012"], ["rules", "AIB012", "--debug"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and result.stdout.startswith("AIB012 "), args
    broken = runner.invoke(app, ["analyze", str(FIXTURES / "no-such.log"), "--debug"])
    assert broken.exit_code == 2


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_examples_and_plain_metavars(command):
    text = runner.invoke(app, [command, "--help"], terminal_width=200).stdout
    examples = text.split("Examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert 2 <= len(examples) <= 4 and all("aib-doctor " + command in line for line in examples), examples
    assert not re.search(r"<\w+>|\{|list\[|BOOLEAN", text), text  # click's plain metavars, in the usage line too
    options = text.split("Options:\n", 1)[1]
    assert re.search(r"--debug\s+Show tracebacks", options)


def test_root_help_documents_completion_settings_and_examples():
    text = runner.invoke(app, ["--help"], terminal_width=200).stdout
    assert "--install-completion" in text and "aib-doctor --install-completion" in text
    assert "AIB_DOCTOR_CONFIG" in text and "NO_COLOR" in text and "aib-doctor analyze customization.log" in text


def test_completion_script_is_offered():
    result = runner.invoke(app, ["--show-completion", "bash"])
    assert result.exit_code == 0 and "_AIB_DOCTOR_COMPLETE" in result.stdout


def test_precedence_flag_over_env_over_file_over_default(fleet_calls, monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    assert runner.invoke(app, ["check"]).exit_code == 0
    assert fleet_calls[-1]["auth_mode"] == "auto" and fleet_calls[-1]["notify"] is None  # defaults
    config.write_text('auth-mode = "key"\nnotify = "https://hooks.example.test/file"\n[check]\nstate = "/srv/aib-state"\n')
    runner.invoke(app, ["check"])
    assert (fleet_calls[-1]["state"], fleet_calls[-1]["notify"], fleet_calls[-1]["auth_mode"]) == (
        Path("/srv/aib-state"),
        "https://hooks.example.test/file",
        "key",
    )
    monkeypatch.setenv("AIB_DOCTOR_AUTH_MODE", "login")
    monkeypatch.setenv("AIB_DOCTOR_NOTIFY", "https://hooks.example.test/env")
    runner.invoke(app, ["check"])
    assert (fleet_calls[-1]["auth_mode"], fleet_calls[-1]["notify"]) == ("login", "https://hooks.example.test/env")
    runner.invoke(app, ["check", "--auth-mode", "auto", "--notify", "https://hooks.example.test/flag", "--state", "here"])
    assert (
        fleet_calls[-1]["auth_mode"] == "auto" and fleet_calls[-1]["notify"] == "https://hooks.example.test/flag" and fleet_calls[-1]["state"] == Path("here")
    )


def test_the_subscription_from_the_environment_beats_the_file(fleet_calls, monkeypatch, tmp_path):
    (tmp_path / "config.toml").write_text('subscription = "sub-from-file"\n')
    runner.invoke(app, ["check"])
    assert fleet_calls[-1]["subscriptions"] == ("sub-from-file",)
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "sub-from-env")
    runner.invoke(app, ["check"])
    assert fleet_calls[-1]["subscriptions"] == ("sub-from-env",)
    runner.invoke(app, ["check", "--subscription", "a", "--subscription", "b"])
    assert fleet_calls[-1]["subscriptions"] == ("a", "b")


def test_state_and_rules_from_the_environment(fleet_calls, monkeypatch):
    monkeypatch.setenv("AIB_DOCTOR_STATE", "/var/lib/aib")
    monkeypatch.setenv("AIB_DOCTOR_RULES", str(FIXTURES / "rulepacks" / "contoso"))
    assert runner.invoke(app, ["check"]).exit_code == 0
    assert fleet_calls[-1]["state"] == Path("/var/lib/aib") and "CONTOSO001" in fleet_calls[-1]["rules"]


def test_a_command_table_overrides_the_top_level_and_rules_may_be_one_string(fleet_calls, tmp_path):
    (tmp_path / "config.toml").write_text(f'auth-mode = "key"\nrules = "{FIXTURES / "rulepacks" / "contoso"}"\n[check]\nauth-mode = "login"\n')
    runner.invoke(app, ["check"])
    assert fleet_calls[-1]["auth_mode"] == "login" and "CONTOSO002" in fleet_calls[-1]["rules"]
    assert "CONTOSO001" in runner.invoke(app, ["rules"]).stdout  # top-level rules reach every command that has --rules


@pytest.mark.parametrize(
    "text,message",
    [
        ('colour = "never"\n', "unknown setting 'colour'"),
        ("[check]\nfull-log = true\n", "[check] has no setting 'full-log'"),
        ("auth-mode = key\n", "not valid TOML"),
    ],
)
def test_a_mistake_in_the_config_file_is_one_line_and_exit_2(fleet_calls, tmp_path, text, message):
    (tmp_path / "config.toml").write_text(text)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2 and message in result.stderr and str(tmp_path / "config.toml") in result.stderr
    assert not fleet_calls


def test_a_named_config_file_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("AIB_DOCTOR_CONFIG", str(tmp_path / "missing.toml"))
    result = runner.invoke(app, ["rules"])
    assert result.exit_code == 2 and "no such config file" in result.stderr


def test_no_color_means_no_escape_codes_at_all(tmp_path):
    """FORCE_COLOR makes rich style the report as on a terminal; NO_COLOR must still win, bold included."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "AIB_DOCTOR_CONFIG")} | {
        "FORCE_COLOR": "1",
        "AIB_DOCTOR_CONFIG": str(tmp_path / "none.toml"),
    }
    (tmp_path / "none.toml").write_text("")
    log = str(FIXTURES / "logs" / "windows-sysprep-timing-failed.log")
    styled = subprocess.run([str(SCRIPT), "analyze", log], capture_output=True, env=env, timeout=120)
    assert b"\x1b[" in styled.stdout  # the control: styles are there without NO_COLOR
    plain = subprocess.run([str(SCRIPT), "analyze", log], capture_output=True, env=env | {"NO_COLOR": "1"}, timeout=120)
    assert plain.returncode == 1 and b"deprovision.sysprep-timing" in plain.stdout and b"\x1b[" not in plain.stdout
    usage = subprocess.run([str(SCRIPT), "analyze"], capture_output=True, env=env | {"NO_COLOR": "1"}, timeout=120)
    assert usage.returncode == 2 and b"\x1b[" not in usage.stderr
