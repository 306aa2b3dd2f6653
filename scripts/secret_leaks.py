"""Try every secret of fixtures/secrets/corpus.yaml in every output aib-doctor writes, and count what leaks.

    .venv/bin/python scripts/secret_leaks.py          # the table: per output, forms tried, leaked, shown masked

Each form is placed where a user's secret ends up: pasted error text (`analyze -`), a customization.log
(`template` through in-memory fakes of Azure, in each report format), a template's status message and
inline script (`analyze template.json`, `lint` in every format), a `fetch-log --bundle` folder, a
`check` evidence archive and its webhook payload. A form leaks from an output when any of its secret
values (or their JSON-escaped spelling) is in what that output wrote. tests/test_secret_corpus.py runs
the same and requires zero leaks.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakes import MemoryLogStore, MemoryTemplateSource  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from aib_doctor.cli import app  # noqa: E402
from aib_doctor.core.catalog import load_catalog  # noqa: E402
from aib_doctor.core.scan import pattern_table  # noqa: E402
from aib_doctor.fleet import notify  # noqa: E402
from aib_doctor.fleet.check import Diagnosed, Scope, run_check  # noqa: E402
from aib_doctor.fleet.state import StateStore  # noqa: E402
from aib_doctor.model import TemplateSummary  # noqa: E402
from aib_doctor.render import Format  # noqa: E402
from aib_doctor.render import render as render_report  # noqa: E402
from aib_doctor.template.diagnosis import diagnose_template, locate_logs, save_logs  # noqa: E402
from aib_doctor.template.fetch import write_bundle  # noqa: E402

CORPUS = ROOT / "fixtures" / "secrets" / "corpus.yaml"
MASK = "[REDACTED]"
RG, NAME, RUN, ACCOUNT = "rg-images", "img01", "9a8b7c6d-5e4f-4a3b-8c1d-0e9f8a7b6c5d", "aibstage01"
STAGING = f"IT_{RG}_{NAME}_6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"
LOG_HEAD = "[922bdf36] PACKER OUT     azure-arm: "


@dataclass
class Tally:
    tried: int = 0
    leaked: list[str] = field(default_factory=list)
    shown: int = 0
    """Outputs that quote the form with [REDACTED] where the value was (the form reached the output)."""


def corpus() -> list[dict]:
    return yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


def leaks(form: dict, written: str) -> bool:
    return any(secret in written or json.dumps(secret)[1:-1] in written for secret in form["secrets"])


def _failing_paste(text: str) -> str:
    """The form as pasted error output: each of its lines looks like an error, so the report quotes it."""
    return "".join(f"ERROR: {line}\n" for line in text.split("\n")) + "ERROR: the deployment failed\n"


def _failing_log(text: str) -> bytes:
    """A customization.log whose script printed the form just before it failed."""
    lines = [
        "[922bdf36] PACKER 2024/06/11 10:00:00 ui: ==> azure-arm: (telemetry) Starting provisioner shell",
        *(LOG_HEAD + line for line in text.split("\n")),
        LOG_HEAD + "error: the script failed",
        "[922bdf36] PACKER 2024/06/11 10:00:05 ui error: ==> azure-arm: Script exited with non-zero exit status: 1. Allowed exit codes are: [0]",
        "[922bdf36] PACKER 2024/06/11 10:00:05 ui: ==> azure-arm: (telemetry) ending shell",
        "[922bdf36] PACKER 2024/06/11 10:00:06 ui error: Build 'azure-arm' errored after 5 minutes: Script exited with non-zero exit status: 1",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _template(text: str) -> dict:
    return {
        "id": f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{RG}/providers/Microsoft.VirtualMachineImages/imageTemplates/{NAME}",
        "name": NAME,
        "location": "eastus",
        "type": "Microsoft.VirtualMachineImages/imageTemplates",
        "identity": {
            "type": "UserAssigned",
            "userAssignedIdentities": {"/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i": {}},
        },
        "properties": {
            "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
            "customize": [{"type": "Shell", "name": "setup", "inline": text.split("\n")}],
            "distribute": [
                {
                    "type": "ManagedImage",
                    "imageId": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/images/u",
                    "location": "eastus",
                    "runOutputName": "u",
                }
            ],
            "vmProfile": {"vmSize": "Standard_D2s_v3"},
            "buildTimeoutInMinutes": 90,
            "provisioningState": "Succeeded",
            "exactStagingResourceGroup": STAGING,
            "lastRunStatus": {"runState": "Failed", "message": f"Packer build command has failed: {text}", "startTime": "2024-06-11T10:00:00Z"},
        },
    }


def _source(form: dict) -> MemoryTemplateSource:
    store = MemoryLogStore({RUN: {"customization.log": _failing_log(form["text"])}})
    return MemoryTemplateSource({(RG, NAME): _template(form["text"])}, accounts={STAGING: [ACCOUNT]}, stores={ACCOUNT: store})


def _folder_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.rglob("*")) if p.is_file())


def outputs(form: dict, work: Path) -> dict[str, str]:
    """What each output wrote for this form."""
    runner = CliRunner()
    written: dict[str, str] = {}
    paste = work / "paste.txt"
    paste.write_text(_failing_paste(form["text"]), encoding="utf-8")
    template_file = work / "template.json"
    template_file.write_text(json.dumps(_template(form["text"]), indent=2), encoding="utf-8")
    for fmt in ("text", "json", "markdown"):
        written[f"analyze paste -o {fmt}"] = runner.invoke(app, ["analyze", str(paste), "-o", fmt]).output
    written["analyze template.json -o json"] = runner.invoke(app, ["analyze", str(template_file), "-o", "json"]).output
    catalog = load_catalog()
    source = _source(form)
    diagnosis = diagnose_template(source, RG, NAME, catalog, pattern_table(catalog))
    from aib_doctor.core.redact import redacted  # what cli.emit does before rendering

    for fmt in Format:
        written[f"template log -o {fmt.value}"] = render_report(redacted(diagnosis.report), fmt)
    bundle = work / "bundle"
    document = source.template(RG, NAME)
    write_bundle(bundle, document, locate_logs(source, RG, NAME, document), force=False, progress=None)
    written["fetch-log --bundle"] = _folder_text(bundle)
    state = work / "state"
    summary = TemplateSummary(document["id"], NAME, RG, "sub", "Succeeded", "Failed", None, "Packer build command has failed", "2024-06-11T10:00:00Z")
    with StateStore(state, 0) as store:
        run_check(
            Scope(("sub",)),
            lambda: ([summary], "test"),
            lambda _: Diagnosed(diagnosis.report, lambda folder: save_logs(diagnosis.located, folder)),
            store,
            clock=lambda: 1_700_000_000.0,
        )
        written["webhook payload"] = json.dumps([payload for _, _, payload in store.pending_notifications()])
    written["check evidence archive"] = _folder_text(state / "evidence")
    for fmt in ("text", "json", "markdown", "sarif"):
        written[f"lint -o {fmt}"] = runner.invoke(app, ["lint", str(template_file), "-o", fmt]).output
    return written


def tally() -> tuple[dict[str, Tally], list[str]]:
    """Per output, the forms tried and leaked; and the forms lint's TPL020 did not flag."""
    table: dict[str, Tally] = {}
    unflagged = []
    notify_post = notify.post
    for form in corpus():
        with tempfile.TemporaryDirectory() as work:
            for output, text in outputs(form, Path(work)).items():
                row = table.setdefault(output, Tally())
                row.tried += 1
                row.shown += MASK in text
                if leaks(form, text):
                    row.leaked.append(form["form"])
                if output == "lint -o json" and "TPL020" not in text:
                    unflagged.append(form["form"])
    notify.post = notify_post
    return table, unflagged


def main() -> int:
    table, unflagged = tally()
    print(f"{len(corpus())} secret forms (fixtures/secrets/corpus.yaml)\n")
    print("| output | forms tried | leaked | quoted with [REDACTED] |")
    print("|---|---|---|---|")
    for output, row in table.items():
        print(f"| {output} | {row.tried} | {len(row.leaked)}{' (' + ', '.join(row.leaked) + ')' if row.leaked else ''} | {row.shown} |")
    print(
        f"\nlint TPL020 flags {len(corpus()) - len(unflagged)} of {len(corpus())} forms in a template's inline script"
        + (f"; not: {', '.join(unflagged)}" if unflagged else "")
    )
    return 1 if unflagged or any(row.leaked for row in table.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
