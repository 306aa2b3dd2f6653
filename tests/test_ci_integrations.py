"""The GitHub Action, the Azure DevOps template and the pre-commit hook, exercised as far as they can be offline:
each file's own step runs with the environment the CI would give it (inputs and parameters substituted), against
the fixtures; what needs GitHub, Azure DevOps or Azure itself (setup-python, azure/login, upload-sarif, AzureCLI@2,
the pip install of the step before) is checked for its wiring only."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, ROOT

TEMPLATES = "fixtures/templates/linux-*.json"
LOG = "fixtures/logs/windows-sysprep-timing-failed.log"
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


def _run(script: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """A step's script with bash in the repository, aib-doctor on PATH as the install step would leave it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIB_", "GITHUB_"))}
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base['PATH']}"
    base["AIB_DOCTOR_CONFIG"] = str(tmp_path / "no-config.toml")
    (tmp_path / "no-config.toml").write_text("")
    return subprocess.run(["bash", "-c", script], env=base | env, cwd=ROOT, capture_output=True, text=True, timeout=300)


# --- GitHub Action ---------------------------------------------------------------------------------------------


def _action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


def _github_env(step: dict, inputs: dict[str, str]) -> dict[str, str]:
    action = _action()
    values = {f"inputs.{name}": spec.get("default", "") for name, spec in action["inputs"].items()}
    values |= {f"inputs.{name}": value for name, value in inputs.items()}
    values["github.action_path"] = str(ROOT)
    return {key: EXPRESSION.sub(lambda m: values[m.group(1)], str(value)) for key, value in step.get("env", {}).items()}


def test_the_action_passes_inputs_through_the_environment_only():
    action = _action()
    assert action["runs"]["using"] == "composite"
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    assert used == set(action["inputs"]), "every input is used and every use is declared"
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], "an expression in a script is a script injection; pass it in env"
            assert step["shell"] == "bash"
    uses = [step["uses"].split("@")[0] for step in action["runs"]["steps"] if "uses" in step]
    assert uses == ["actions/setup-python", "azure/login", "github/codeql-action/upload-sarif"]
    upload = next(s for s in action["runs"]["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert "always()" in upload["if"] and upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"


def test_the_action_lints_with_sarif_annotations_and_a_summary(tmp_path):
    step = next(s for s in _action()["runs"]["steps"] if s.get("id") == "run")
    env = _github_env(step, {"templates": TEMPLATES, "sarif-file": str(tmp_path / "out.sarif")})
    env |= {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_OUTPUT": str(tmp_path / "output")}
    result = _run(step["run"], env, tmp_path)
    assert result.returncode == 1, result.stderr  # linux-broken.json has two errors
    assert "::error file=fixtures/templates/linux-broken.json,line=13,title=TPL002 timeout.too-short::buildTimeoutInMinutes is 4." in result.stdout
    assert (tmp_path / "output").read_text() == "lint-exit-code=1\n"
    summary = (tmp_path / "summary.md").read_text()
    assert "## aib-doctor lint: fixtures/templates/linux-broken.json" in summary and "| error | TPL014 `type.casing`" in summary
    sarif = (tmp_path / "out.sarif").read_text()
    assert '"ruleId": "TPL002"' in sarif and "linux-clean.json" not in sarif


def test_the_action_explains_a_failed_step_in_the_job_summary(tmp_path):
    step = next(s for s in _action()["runs"]["steps"] if s.get("id") == "run")
    env = _github_env(step, {"analyze": LOG})
    env |= {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_OUTPUT": str(tmp_path / "output")}
    result = _run(step["run"], env, tmp_path)
    assert result.returncode == 0, result.stderr  # the failed build step already failed the job
    assert result.stdout.startswith("::error title=AIB012 deprovision.sysprep-timing")
    assert (tmp_path / "output").read_text() == "analyze-exit-code=1\n"
    assert "AIB012" in (tmp_path / "summary.md").read_text()


def test_the_action_fails_when_it_cannot_do_its_job(tmp_path):
    step = next(s for s in _action()["runs"]["steps"] if s.get("id") == "run")
    env = _github_env(step, {"analyze": "no/such/file.log"}) | {"GITHUB_OUTPUT": str(tmp_path / "output")}
    assert _run(step["run"], env, tmp_path).returncode == 2
    assert (tmp_path / "output").read_text() == "analyze-exit-code=2\n"


# --- Azure DevOps -----------------------------------------------------------------------------------------------


def _expand(node, params: dict[str, str]):
    """Azure Pipelines' compile-time expansion, for the forms the template uses: ${{ parameters.X }} and
    `${{ if eq|ne(parameters.X, '') }}:` list items."""
    if isinstance(node, str):
        return re.sub(r"\$\{\{\s*parameters\.(\w+)\s*\}\}", lambda m: params[m.group(1)], node)
    if isinstance(node, dict):
        return {key: _expand(value, params) for key, value in node.items()}
    if isinstance(node, list):
        out = []
        for item in node:
            key = next(iter(item)) if isinstance(item, dict) and len(item) == 1 else ""
            condition = re.fullmatch(r"\$\{\{ if (eq|ne)\(parameters\.(\w+), '(.*)'\) \}\}", key)
            if condition:
                if (params[condition[2]] == condition[3]) == (condition[1] == "eq"):
                    out += _expand(item[key], params)
            else:
                out.append(_expand(item, params))
        return out
    return node


def _devops_steps(**parameters: str) -> list[dict]:
    document = yaml.safe_load((ROOT / "integrations" / "azure-devops" / "aib-doctor.yml").read_text(encoding="utf-8"))
    params = {p["name"]: str(p.get("default", "")) for p in document["parameters"]} | parameters
    return _expand(document["steps"], params)


def test_the_devops_template_lints_with_logissue_lines_and_an_uploaded_summary(tmp_path):
    steps = _devops_steps(source=str(ROOT), templates=TEMPLATES)
    assert [s.get("task") or s["displayName"] for s in steps] == ["UsePythonVersion@0", "Install aib-doctor", "aib-doctor"]
    step = steps[-1]
    env = {key: value.replace("$(Agent.TempDirectory)", str(tmp_path)) for key, value in step["env"].items()}
    result = _run(step["script"], env, tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert (
        "##vso[task.logissue type=error;sourcepath=fixtures/templates/linux-broken.json;linenumber=13;code=TPL002]TPL002 timeout.too-short: buildTimeoutInMinutes is 4."
        in "\n".join(lines)
    )
    assert f"##vso[task.uploadsummary]{tmp_path}/aib-doctor-lint.md" in lines
    assert "##vso[task.setvariable variable=lint_exit_code;isOutput=true]1" in lines
    assert "## aib-doctor lint: fixtures/templates/linux-broken.json" in (tmp_path / "aib-doctor-lint.md").read_text()


def test_the_devops_template_explains_a_failed_step(tmp_path):
    step = _devops_steps(source=str(ROOT), analyze=LOG, condition="failed()")[-1]
    assert step["condition"] == "failed()"
    env = {key: value.replace("$(Agent.TempDirectory)", str(tmp_path)) for key, value in step["env"].items()}
    result = _run(step["script"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"##vso[task.uploadsummary]{tmp_path}/aib-doctor-analyze.md"
    assert lines[1].startswith("##vso[task.logissue type=error;code=AIB012]AIB012 deprovision.sysprep-timing")
    assert lines[-1] == "##vso[task.setvariable variable=analyze_exit_code;isOutput=true]1"
    assert "AIB012" in (tmp_path / "aib-doctor-analyze.md").read_text()


def test_the_devops_template_uses_the_service_connection_for_a_preflight():
    step = _devops_steps(templateName="win2022-golden", resourceGroup="rg-images", azureSubscription="arm-images")[-1]
    assert step["task"] == "AzureCLI@2" and step["inputs"]["azureSubscription"] == "arm-images"
    assert step["env"]["AIB_TEMPLATE_NAME"] == "win2022-golden" and step["env"]["AIB_RESOURCE_GROUP"] == "rg-images"
    assert step["inputs"]["inlineScript"] == _devops_steps()[-1]["script"]  # the same script, logged in


# --- pre-commit ---------------------------------------------------------------------------------------------------


@pytest.fixture
def hook() -> dict:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return hook


@pytest.mark.parametrize(
    "name,selected",
    [
        ("image-template.json", True),
        ("images/win/ImageTemplate.json", True),
        ("aib-ubuntu.json", True),
        ("templates/aib.json", True),
        ("build/win.imagebuilder.json", True),
        ("package.json", False),
        ("tsconfig.json", False),
        ("haib.json", False),
        ("image-template.yaml", False),
    ],
)
def test_the_hook_selects_template_files(hook, name, selected):
    assert bool(re.search(hook["files"], name)) is selected


def test_the_hook_runs_lint_on_the_files_pre_commit_passes(hook, tmp_path):
    """pre-commit runs `entry` with the selected files appended, several at once; it fails the commit on non-zero."""
    assert hook["language"] == "python" and hook["types"] == ["json"]
    shutil.copy(FIXTURES / "templates" / "linux-clean.json", tmp_path / "aib-ubuntu.json")
    shutil.copy(FIXTURES / "templates" / "linux-broken.json", tmp_path / "image-template.json")
    entry = hook["entry"].split()
    command = [str(Path(sys.executable).with_name(entry[0])), *entry[1:]]
    clean = subprocess.run([*command, "aib-ubuntu.json"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    both = subprocess.run([*command, "aib-ubuntu.json", "image-template.json"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert both.returncode == 1 and "image-template.json:13 /properties/buildTimeoutInMinutes: error TPL002" in both.stdout


# --- schemas ------------------------------------------------------------------------------------------------------


def _schema_check(schema: str, path: Path) -> subprocess.CompletedProcess:
    """check-jsonschema with the schema it ships (SchemaStore's), so no network is needed. The schemas' own patterns
    are Python-compatible; its default ECMAScript engine rejects one of the Azure Pipelines schema's escapes."""
    tool = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run([str(tool), "--regex-variant", "python", "--builtin-schema", schema, str(path)], capture_output=True, text=True, timeout=120)


def test_the_action_matches_the_action_metadata_schema():
    result = _schema_check("vendor.github-actions", ROOT / "action.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_workflow_and_pipeline_match_their_schemas():
    assert _schema_check("vendor.github-workflows", ROOT / "integrations" / "github" / "example-workflow.yml").returncode == 0
    assert _schema_check("vendor.azure-pipelines", ROOT / "integrations" / "azure-devops" / "example-pipeline.yml").returncode == 0
    workflow = yaml.safe_load((ROOT / "integrations" / "github" / "example-workflow.yml").read_text(encoding="utf-8"))
    used = [step["with"] for job in workflow["jobs"].values() for step in job["steps"] if step.get("uses", "").startswith("OWNER/aib-doctor")]
    assert used and all(set(inputs) <= set(_action()["inputs"]) for inputs in used)  # only inputs the action declares
    pipeline = yaml.safe_load((ROOT / "integrations" / "azure-devops" / "example-pipeline.yml").read_text(encoding="utf-8"))
    template = yaml.safe_load((ROOT / "integrations" / "azure-devops" / "aib-doctor.yml").read_text(encoding="utf-8"))
    given = [step["parameters"] for step in pipeline["steps"] if "template" in step]
    assert given and all(set(parameters) <= {p["name"] for p in template["parameters"]} for parameters in given)


def test_the_devops_template_expands_to_valid_pipeline_steps(tmp_path):
    """The schema does not model compile-time `${{ if }}` insertions, so each expansion is checked, as a pipeline would see it."""
    for number, parameters in enumerate([{"templates": TEMPLATES}, {"templateName": "win", "resourceGroup": "rg", "azureSubscription": "arm"}]):
        path = tmp_path / f"expanded-{number}.yml"
        path.write_text(yaml.safe_dump({"steps": _devops_steps(**parameters)}, sort_keys=False))
        result = _schema_check("vendor.azure-pipelines", path)
        assert result.returncode == 0, result.stdout + result.stderr
