"""`aib-doctor lint`: pre-submission checks of image templates, offline and pure.

Reads a raw imageTemplate, `az image builder show` output, or an ARM template (JSON, including
`az bicep build` output) holding Microsoft.VirtualMachineImages/imageTemplates resources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from aib_doctor.errors import InputError
from aib_doctor.lint import checks as _checks  # noqa: F401  (registers the checks)
from aib_doctor.lint.arm import ArmEvaluator
from aib_doctor.lint.jsonlines import pointer_lines
from aib_doctor.lint.registry import REGISTRY, LintIssue, TemplateView

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
IMAGE_TEMPLATE_TYPE = "microsoft.virtualmachineimages/imagetemplates"


@dataclass
class LintResult:
    file: str
    templates: list[str] = field(default_factory=list)
    issues: list[LintIssue] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    """ARM expressions that could not be evaluated offline (parameters without defaults, functions)."""


def template_views(document: dict) -> tuple[list[TemplateView], list[str]]:
    """Every image template in the document, as views with pointers into it."""
    if not isinstance(document, dict):
        raise InputError("the JSON is not an object: expected an image template or an ARM template")
    if "deploymentTemplate" in str(document.get("$schema", "")) or "resources" in document:
        evaluator = ArmEvaluator(document)
        resources = document.get("resources") or []
        items = resources.items() if isinstance(resources, dict) else enumerate(resources)
        views = []
        for key, resource in items:
            if isinstance(resource, dict) and str(resource.get("type", "")).lower() == IMAGE_TEMPLATE_TYPE:
                resolved = evaluator.resolve(resource)
                pointer = f"/resources/{key}"
                views.append(TemplateView(resolved.get("properties") or {}, pointer + "/properties", resolved, pointer, str(resolved.get("name", key))))
        return views, sorted(evaluator.unresolved)
    if isinstance(document.get("properties"), dict):
        return [TemplateView(document["properties"], "/properties", document, "", str(document.get("name", "")))], []
    if {"source", "distribute", "customize"} & set(document):
        return [TemplateView(document, "", document, "", str(document.get("name", "")))], []
    raise InputError(
        "no image template found: expected imageTemplate properties, `az image builder show` output, or an ARM template with Microsoft.VirtualMachineImages/imageTemplates"
    )


def lint_document(document: dict, file: str = "", text: str | None = None) -> LintResult:
    views, unresolved = template_views(document)
    lines = pointer_lines(text) if text is not None else {}
    result = LintResult(file, [v.name for v in views], [], unresolved)
    for view in views:
        for check in REGISTRY.values():
            for pointer, message in check.fn(view):
                line = _nearest_line(lines, pointer)
                result.issues.append(LintIssue(check.id, check.name, check.severity, check.category, check.title, message, check.fix, pointer, view.name, line))
    result.issues.sort(key=lambda i: (SEVERITY_ORDER[i.severity], i.line or 0, i.check))
    return result


def _nearest_line(lines: dict[str, int], pointer: str) -> int | None:
    """The line of the pointer, or of its closest existing parent (a missing field points at its object)."""
    while pointer:
        if pointer in lines:
            return lines[pointer]
        pointer = pointer.rsplit("/", 1)[0]
    return lines.get("")


def lint_text(text: str, file: str) -> LintResult:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{file}: not valid JSON ({exc}); for Bicep, lint the output of `az bicep build`") from None
    return lint_document(document, file, text)


def lint_issues_for(template: dict) -> list[LintIssue]:
    """The lint issues of a live template (for `template` diagnoses)."""
    return lint_document(template).issues
