"""The pure core never loads the Azure SDK or the CLI framework, and analyze/lint start without Azure."""

from __future__ import annotations

import subprocess
import sys

CORE = "aib_doctor.core.logstream, aib_doctor.core.timeline, aib_doctor.core.scan, aib_doctor.core.catalog, aib_doctor.core.diagnose, aib_doctor.lint, aib_doctor.render"


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_core_imports_neither_azure_nor_typer():
    loaded = loaded_after(f"import {CORE}")
    assert "azure" not in loaded and "typer" not in loaded


def test_the_cli_starts_without_the_azure_sdk():
    assert "azure" not in loaded_after("import aib_doctor.cli")
