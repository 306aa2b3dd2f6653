"""The pure core and the features (behind their ports) never load the Azure SDK or the CLI framework; the CLI starts without Azure,
and a pasted line is analyzed without the modules it does not need."""

from __future__ import annotations

import os
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


def test_a_pasted_line_is_analyzed_without_the_modules_it_does_not_need(tmp_path):
    """Start-up: what a one-line analyze to a pipe leaves unloaded (each costs milliseconds of a short run): the
    Azure SDK, rich (a terminal's colour), PyYAML (the compiled catalog is cached), hashlib (OpenSSL),
    logging, importlib.resources; json too for text output."""
    paste = tmp_path / "paste.txt"
    paste.write_text("ERROR: (SkuNotAvailable) The requested VM size Standard_D2s_v3 is not available in location westus.\n")
    unneeded = {"azure", "rich", "yaml", "hashlib", "logging", "importlib.resources"}
    for output, also in (("text", {"json"}), ("json", set())):
        statement = (
            f"sys.argv = ['aib-doctor', 'analyze', {str(paste)!r}, '-o', {output!r}]; from aib_doctor.cli import main\ntry: main()\nexcept SystemExit: pass"
        )
        code = f"import sys\n{statement}\nsys.stderr.write(' '.join(sys.modules))"
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
        for _ in range(2):  # the first run compiles the catalog into the cache (and loads PyYAML to do it)
            run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert "Standard_D2s_v3 is not available" in run.stdout, run.stderr  # the report, with its evidence
        assert (unneeded | also) & set(run.stderr.split()) == set()
