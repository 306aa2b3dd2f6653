"""The pure core and the features (behind their ports) never load the Azure SDK or the CLI framework; the CLI starts without Azure."""

from __future__ import annotations

import subprocess
import sys

CORE = "aib_doctor.core.logstream, aib_doctor.core.timeline, aib_doctor.core.scan, aib_doctor.core.catalog, aib_doctor.core.diagnose, aib_doctor.lint, aib_doctor.render, aib_doctor.template.diagnosis, aib_doctor.fleet.check"


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_core_and_features_import_neither_azure_nor_typer():
    loaded = loaded_after(f"import {CORE}")
    assert "azure" not in loaded and "typer" not in loaded


def test_the_cli_starts_without_the_azure_sdk():
    assert "azure" not in loaded_after("import aib_doctor.cli")
