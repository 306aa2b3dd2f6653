"""Check that a change leaves every report as it was: `analyze -o json` of every fixture, byte for byte,
from this working tree and from a git revision (default: main).

    .venv/bin/python scripts/compare_reports.py            # against main
    .venv/bin/python scripts/compare_reports.py HEAD~3     # against any revision

The revision's tree is exported to a temporary folder (`git archive`) and both trees analyze the same
fixture files in-process (typer's CliRunner, one process per tree), so the check takes seconds.
Exits 1 and names the files whose exit code or report differ, with the primary finding before and after
when that moved.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs inside each tree: prints {path: [exit code, stdout]} as JSON. Only the CLI's interface is relied on.
_WORKER = """
import json, sys
from typer.testing import CliRunner
import aib_doctor
from aib_doctor.cli import app
assert aib_doctor.__file__.startswith(sys.argv[1]), aib_doctor.__file__
runner = CliRunner()
out = {}
for path in sys.argv[2:]:
    result = runner.invoke(app, ["analyze", path, "-o", "json"])
    out[path] = [result.exit_code, result.stdout]
json.dump(out, sys.stdout)
"""


def inputs() -> list[str]:
    """Every fixture file, and every bundle-like folder (one holding template.json or a .log)."""
    files = sorted(p for p in (ROOT / "fixtures").rglob("*") if p.is_file())
    folders = sorted({p.parent for p in files if p.name == "template.json"})
    return [str(p) for p in files + folders]


def reports(tree: Path, paths: list[str]) -> dict[str, list]:
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "120"}
    done = subprocess.run([sys.executable, "-c", _WORKER, str(tree), *paths], capture_output=True, env=env, cwd=tree, check=False)
    if done.returncode != 0:
        sys.exit(f"compare_reports: the tree at {tree} failed:\n{done.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(done.stdout)


def primary(report: list) -> str:
    """The primary finding's rule and category, or the status when there is none."""
    try:
        data = json.loads(report[1])
    except ValueError:
        return "no report"
    found = data.get("primary")
    return f"{found['rule']} {found['category']}" if found else data.get("status", "?")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revision", nargs="?", default="main")
    args = parser.parse_args()
    paths = inputs()
    with tempfile.TemporaryDirectory(prefix="compare-reports-") as folder:
        base = Path(folder)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.revision, "aib_doctor"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        before = reports(base, paths)
    after = reports(ROOT, paths)
    changed = [p for p in paths if before[p] != after[p]]
    for path in changed:
        was, now = primary(before[path]), primary(after[path])
        moved = f": {was} -> {now}" if was != now else ""
        print(f"differs: {Path(path).relative_to(ROOT)} (exit {before[path][0]} -> {after[path][0]}){moved}")
    print(f"{len(paths) - len(changed)} of {len(paths)} reports identical to {args.revision}'s")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
