"""A node_exporter textfile-collector file: per template, last run state and duration, failures, last check."""

from __future__ import annotations

from pathlib import Path

from aib_doctor.files import write_atomic

STATES = ("failed", "succeeded", "running", "unknown")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _labels(t: dict) -> str:
    return f'subscription="{_label(t["subscription"])}",resource_group="{_label(t["resource_group"])}",template="{_label(t["name"])}"'


def render_metrics(templates: list[dict], checked_at: float) -> str:
    out = [
        "# HELP aib_template_last_run_state 1 for the state of the template's last run.",
        "# TYPE aib_template_last_run_state gauge",
    ]
    for t in templates:
        labels = _labels(t)
        for state in STATES:
            out.append(f'aib_template_last_run_state{{{labels},state="{state}"}} {1 if t["status"] == state else 0}')
    out += ["# HELP aib_template_last_run_duration_seconds Duration of the template's last finished run.", "# TYPE aib_template_last_run_duration_seconds gauge"]
    for t in templates:
        if t.get("last_duration") is not None:
            labels = _labels(t)
            out.append(f"aib_template_last_run_duration_seconds{{{labels}}} {t['last_duration']:.0f}")
    out += ["# HELP aib_template_failures_total Failed runs seen by aib-doctor check.", "# TYPE aib_template_failures_total counter"]
    for t in templates:
        labels = _labels(t)
        out.append(f"aib_template_failures_total{{{labels}}} {t['failures']}")
    out += ["# HELP aib_template_last_check_timestamp_seconds When aib-doctor check last looked at the template.", "# TYPE aib_template_last_check_timestamp_seconds gauge"]
    for t in templates:
        if t.get("last_checked") is not None:
            labels = _labels(t)
            out.append(f"aib_template_last_check_timestamp_seconds{{{labels}}} {t['last_checked']:.0f}")
    out += [
        "# HELP aib_check_last_run_timestamp_seconds When aib-doctor check last finished.",
        "# TYPE aib_check_last_run_timestamp_seconds gauge",
        f"aib_check_last_run_timestamp_seconds {checked_at:.0f}",
    ]
    return "\n".join(out) + "\n"


def write_metrics(path: Path, templates: list[dict], checked_at: float) -> None:
    write_atomic(path, [render_metrics(templates, checked_at).encode("utf-8")])
