"""A node_exporter textfile-collector file: per template, last run state and duration, failures, last check."""

from __future__ import annotations

from pathlib import Path

from aib_doctor.files import write_atomic

STATES = ("failed", "succeeded", "running", "unknown")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _labels(t: dict) -> str:
    return f'subscription="{_label(t["subscription"])}",resource_group="{_label(t["resource_group"])}",template="{_label(t["name"])}"'


def _series(name: str, help_text: str, kind: str, rows: list[tuple[str, float]]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *(f"{name}{{{labels}}} {value:.0f}" for labels, value in rows)]


def render_metrics(templates: list[dict], checked_at: float) -> str:
    states = [(f'{_labels(t)},state="{state}"', 1 if t["status"] == state else 0) for t in templates for state in STATES]
    durations = [(_labels(t), t["last_duration"]) for t in templates if t.get("last_duration") is not None]
    failures = [(_labels(t), t["failures"]) for t in templates]
    checks = [(_labels(t), t["last_checked"]) for t in templates if t.get("last_checked") is not None]
    out = (
        _series("aib_template_last_run_state", "1 for the state of the template's last run.", "gauge", states)
        + _series("aib_template_last_run_duration_seconds", "Duration of the template's last finished run.", "gauge", durations)
        + _series("aib_template_failures_total", "Failed runs seen by aib-doctor check.", "counter", failures)
        + _series("aib_template_last_check_timestamp_seconds", "When aib-doctor check last looked at the template.", "gauge", checks)
        + [
            "# HELP aib_check_last_run_timestamp_seconds When aib-doctor check last finished.",
            "# TYPE aib_check_last_run_timestamp_seconds gauge",
            f"aib_check_last_run_timestamp_seconds {checked_at:.0f}",
        ]
    )
    return "\n".join(out) + "\n"


def write_metrics(path: Path, templates: list[dict], checked_at: float) -> None:
    # World-readable on purpose: node_exporter runs as its own user, and these numbers hold no secret.
    write_atomic(path, [render_metrics(templates, checked_at).encode("utf-8")], mode=0o644)
