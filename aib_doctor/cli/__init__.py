"""The command line: parse, wire inputs into the core, render, and map every outcome to an exit code.

This package is the only place that prints to the terminal or exits. `app.py` holds the typer app and what every
command shares; `offline.py` the commands that work from files (analyze, lint, rules); `online.py` those that
read Azure (template, watch, fetch-log, check). Each command imports what it needs inside its body (the core,
renderers, rich, lint, the Azure SDK), so `--help` and a one-line `analyze` start fast.
"""

from aib_doctor.cli import offline, online  # noqa: F401  (importing them registers their commands on app)
from aib_doctor.cli.app import app, main

__all__ = ["app", "main"]
