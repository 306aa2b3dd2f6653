"""Every bad input and broken environment tried on the CLI, with the exit code and the one line it gives.

    .venv/bin/python scripts/bad_inputs.py            # the table (a 200 MB single-line log included)
    .venv/bin/python scripts/bad_inputs.py --huge-mb 2

Each case runs `python -m aib_doctor` as a subprocess, as a user's shell would: closed stdin, /dev/full,
a pipe closed by `head -1`. tests/test_bad_inputs.py runs the same cases and holds the expected codes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = {
    "name": "t",
    "properties": {
        "provisioningState": "Succeeded",
        "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "o", "sku": "s", "version": "latest"},
        "customize": [{"type": "Shell", "inline": ["echo"]}],
        "distribute": [],
        "lastRunStatus": {"runState": "Failed", "message": "Packer build command has failed: exit status 1"},
    },
}


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    expected: int
    files: dict[str, bytes | None] | None = None
    """Relative path -> content (None: a folder; a str path starting with '->': a dangling symlink)."""
    stdin: bytes | None = b""
    """None: stdin closed."""
    stdout: str = "capture"
    """capture, /dev/full, closed, or head (a pipe its reader closes after the first line)."""


def _template(path: tuple, value) -> bytes:
    document = json.loads(json.dumps(TEMPLATE))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(document).encode()


ARM_SELF = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "parameters": {"a": {"type": "string", "defaultValue": "[parameters('a')]"}},
    "resources": [{"type": "Microsoft.VirtualMachineImages/imageTemplates", "name": "[parameters('a')]", "properties": {"customize": []}}],
}
ARM_CYCLE = {
    **ARM_SELF,
    "parameters": {"a": {"defaultValue": "[parameters('b')]"}, "b": {"defaultValue": "[variables('c')]"}},
    "variables": {"c": "[parameters('a')]"},
}
LOG = (ROOT / "fixtures" / "logs" / "linux-script-failed.log").read_bytes()


def cases(huge_mb: int = 200) -> list[Case]:
    a = ("analyze", "input")
    lint = ("lint", "input")
    return [
        Case("JSON nested 10,000 levels", a, 2, {"input": b"[" * 10000 + b"]" * 10000}),
        Case("objects nested 10,000 levels", a, 2, {"input": b'{"properties":' * 10000 + b"{}" + b"}" * 10000}),
        Case('"provisioningError": "oops"', a, 2, {"input": _template(("properties", "provisioningError"), "oops")}),
        Case('"message": 42', a, 2, {"input": _template(("properties", "lastRunStatus", "message"), 42)}),
        Case('"source": "PlatformImage"', a, 2, {"input": _template(("properties", "source"), "PlatformImage")}),
        Case('"inline": "echo hi"', a, 2, {"input": _template(("properties", "customize"), [{"type": "Shell", "inline": "echo hi"}])}),
        Case('"customize": [1, null]', a, 2, {"input": _template(("properties", "customize"), [1, None])}),
        Case('"lastRunStatus": "Failed"', a, 2, {"input": _template(("properties", "lastRunStatus"), "Failed")}),
        Case("empty file", a, 2, {"input": b""}),
        Case("binary file", a, 2, {"input": bytes(range(256)) * 8}),
        Case("gzipped log", a, 2, {"input": gzip.compress(LOG)}),
        Case("no such file", ("analyze", "missing.log"), 2),
        Case("stdin closed", ("analyze", "-"), 2, stdin=None),
        Case("stdin empty", ("analyze", "-"), 2),
        Case("bundle: log is a dangling symlink", ("analyze", "bundle"), 2, {"bundle/customization.log": b"->/nonexistent/log"}),
        Case("bundle: *.log is a folder, nothing else", ("analyze", "bundle"), 2, {"bundle/customization.log": None}),
        Case("bundle: gzipped customization.log", ("analyze", "bundle"), 2, {"bundle/customization.log": gzip.compress(LOG)}),
        Case("bundle: template.json not JSON", ("analyze", "bundle"), 2, {"bundle/template.json": b"{oops"}),
        Case("empty folder", ("analyze", "bundle"), 2, {"bundle": None}),
        Case(f"{huge_mb} MB single line", a, 0, {"input": b"A" * (huge_mb << 20) + b"\n"}),
        Case("pasted ERROR: no rule explains", a, 3, {"input": b"ERROR: the zorblax quuxed its flibbertigibbet\n"}),
        Case("lint: JSON nested 10,000 levels", lint, 2, {"input": b"[" * 10000 + b"]" * 10000}),
        Case('lint: "source": "PlatformImage"', lint, 2, {"input": _template(("properties", "source"), "PlatformImage")}),
        Case("lint: ARM parameter refers to itself", lint, 2, {"input": json.dumps(ARM_SELF).encode()}),
        Case("lint: ARM parameters in a cycle", lint, 2, {"input": json.dumps(ARM_CYCLE).encode()}),
        Case("lint: a folder", ("lint", "bundle"), 2, {"bundle": None}),
        Case("lint: not JSON", lint, 2, {"input": b"customize: [oops"}),
        Case("lint: binary", lint, 2, {"input": bytes(range(256)) * 8}),
        Case("lint: no image template in it", lint, 2, {"input": b'{"resources": []}'}),
        Case("lint - with stdin closed", ("lint", "-"), 2, stdin=None),
        Case("rules: unknown id", ("rules", "AIB999"), 2),
        Case("output to /dev/full", ("rules",), 2, stdout="/dev/full"),
        Case("stdout closed", ("analyze", "input"), 2, {"input": LOG}, stdout="closed"),
        Case("rules | head -1", ("rules", "-o", "json"), 0, stdout="head"),
        Case("analyze LOG | head -1", ("analyze", "input", "-o", "json"), 1, {"input": LOG}, stdout="head"),
    ]


def _materialize(case: Case, work: Path) -> None:
    for relative, content in (case.files or {}).items():
        path = work / relative
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if content.startswith(b"->"):
            path.symlink_to(content[2:].decode())
        else:
            path.write_bytes(content)


def run(case: Case, work: Path) -> tuple[int, str]:
    """(exit code, stderr) of the case run as a subprocess in work."""
    _materialize(case, work)
    argv = [sys.executable, "-m", "aib_doctor", *case.argv]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    stdin = subprocess.DEVNULL if case.stdin is None else subprocess.PIPE
    if case.stdin is None:
        # a closed descriptor 0, as `<&-` gives it
        argv = ["sh", "-c", 'exec "$@" <&-', "sh", *argv]
    if case.stdout == "head":
        reader = subprocess.Popen(["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        process = subprocess.run(argv, cwd=work, env=env, stdin=stdin, input=None, stdout=reader.stdin, stderr=subprocess.PIPE, check=False)
        reader.stdin.close()
        reader.wait()
        return process.returncode, process.stderr.decode("utf-8", "replace")
    if case.stdout == "closed":
        argv = ["sh", "-c", 'exec "$@" >&-', "sh", *argv]
        stdout = None
    elif case.stdout == "/dev/full":
        stdout = open("/dev/full", "wb")  # noqa: SIM115
    else:
        stdout = subprocess.PIPE
    process = subprocess.run(
        argv, cwd=work, env=env, input=case.stdin, stdin=None if case.stdin is not None else stdin, stdout=stdout, stderr=subprocess.PIPE, check=False
    )
    return process.returncode, process.stderr.decode("utf-8", "replace")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--huge-mb", type=int, default=200)
    args = parser.parse_args()
    print("| input | command | expected | exit | stderr |")
    print("|---|---|---|---|---|")
    wrong = 0
    for case in cases(args.huge_mb):
        with tempfile.TemporaryDirectory() as work:
            code, err = run(case, Path(work))
        wrong += code != case.expected
        line = (" / ".join(err.strip().splitlines()) or "(nothing)").replace("|", "\\|")[:200]
        print(f"| {case.name} | `aib-doctor {' '.join(case.argv)}` | {case.expected} | {code} | {line} |")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
