"""What a template tells about its build: VM size, timeout in effect, and the names of its customizers.

The log names a customizer only by its Packer type; the Nth run of a type is the template's Nth
customizer of that type (the hidden deprovisioning step comes last and is not in the template).
"""

from __future__ import annotations

from dataclasses import replace

from aib_doctor.model import Timeline

PACKER_TYPE = {
    "shell": "shell",
    "powershell": "powershell",
    "file": "file",
    "windowsrestart": "windows-restart",
    "windowsupdate": "windows-update",
}
DEFAULT_TIMEOUT_MINUTES = 240


def properties(document: dict) -> dict:
    return document.get("properties", document) if isinstance(document, dict) else {}


def template_facts(document: dict) -> dict[str, str]:
    props = properties(document)
    facts = {}
    vm_size = (props.get("vmProfile") or {}).get("vmSize")
    facts["vm_size"] = vm_size or "the default (Standard_D1_v2, or Standard_D2ds_v4 for Gen2 sources)"
    timeout = props.get("buildTimeoutInMinutes") or 0
    facts["timeout_minutes"] = str(timeout or DEFAULT_TIMEOUT_MINUTES)
    return facts


def name_customizers(timeline: Timeline, document: dict, whole_log: bool) -> Timeline:
    """Give each run its template customizer's name, where the mapping is certain."""
    customize = properties(document).get("customize") or []
    by_type: dict[str, list[str]] = {}
    for number, customizer in enumerate(customize, 1):
        kind = PACKER_TYPE.get(str(customizer.get("type", "")).lower())
        if kind:
            by_type.setdefault(kind, []).append(customizer.get("name") or f"customize[{number - 1}]")
    seen: dict[str, int] = {}
    runs = []
    for run in timeline.customizers:
        if run.name == "deprovisioning":
            runs.append(run)
            continue
        candidates = by_type.get(run.type, [])
        position = seen.get(run.type, 0)
        seen[run.type] = position + 1
        # From a tail window the earlier runs are unseen: only a type used once is certain.
        if whole_log and position < len(candidates):
            runs.append(replace(run, name=candidates[position]))
        elif not whole_log and len(candidates) == 1:
            runs.append(replace(run, name=candidates[0]))
        else:
            runs.append(run)
    return replace(timeline, customizers=tuple(runs))
