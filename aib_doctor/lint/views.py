"""Where the image templates are in a file: a raw imageTemplate, `az image builder show` output, or an ARM template.

Each template becomes a TemplateView: its properties with JSON pointers back into the file, ARM
expressions evaluated where they can be offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from aib_doctor.errors import InputError
from aib_doctor.lint.arm import ArmEvaluator

IMAGE_TEMPLATE_TYPE = "microsoft.virtualmachineimages/imagetemplates"
DEPLOYMENT_TYPE = "microsoft.resources/deployments"


@dataclass
class TemplateView:
    """One image template's properties, wherever they sit in the file, with pointers back into it."""

    properties: dict
    base: str
    """Pointer to the properties object ("/properties", "/resources/0/properties", or "" for az CLI's flat shape)."""
    root: dict
    """The resource itself (identity lives here, beside properties)."""
    root_pointer: str
    name: str = ""

    def at(self, *parts) -> str:
        return self.base + "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in parts)

    def customizers(self) -> Iterator[tuple[int, dict]]:
        for index, customizer in enumerate(self.properties.get("customize") or []):
            if isinstance(customizer, dict):
                yield index, customizer

    def distributors(self) -> Iterator[tuple[int, dict]]:
        for index, target in enumerate(self.properties.get("distribute") or []):
            if isinstance(target, dict):
                yield index, target

    def is_windows(self) -> bool:
        source = self.properties.get("source") or {}
        text = " ".join(str(source.get(k, "")) for k in ("publisher", "offer", "sku", "imageId", "imageVersionId")).lower()
        if "windows" in text or "win" in str(source.get("offer", "")).lower():
            return True
        kinds = {str(c.get("type", "")).lower() for _, c in self.customizers()}
        return bool(kinds & {"powershell", "windowsrestart", "windowsupdate"}) and "shell" not in kinds


def template_views(document: dict, depth: int = 0) -> tuple[list[TemplateView], list[str]]:
    """Every image template in the document, as views with pointers into it (nested deployments included)."""
    if isinstance(document, list):  # `az image builder list` output: every template in it
        views, unresolved = [], []
        for index, item in enumerate(document):
            for view in template_views(item)[0] if isinstance(item, dict) else ():
                view.base, view.root_pointer = f"/{index}{view.base}", f"/{index}{view.root_pointer}"
                views.append(view)
        if not views:
            raise InputError("no image template in the list: expected `az image builder list` output")
        return views, unresolved
    if not isinstance(document, dict):
        raise InputError("the JSON is not an object: expected an image template or an ARM template")
    if "deploymentTemplate" in str(document.get("$schema", "")) or "resources" in document:
        evaluator = ArmEvaluator(document)
        resources = document.get("resources") or []
        if not isinstance(resources, list | dict):
            raise InputError(f"the ARM template's resources is {type(resources).__name__}; expected a list of resources")
        items = resources.items() if isinstance(resources, dict) else enumerate(resources)
        views = []
        unresolved: set[str] = set()
        for key, resource in items:
            if not isinstance(resource, dict):
                continue
            kind = str(resource.get("type", "")).lower()
            pointer = f"/resources/{key}"
            if kind == IMAGE_TEMPLATE_TYPE:
                resolved = evaluator.resolve(resource)
                views.append(TemplateView(resolved.get("properties") or {}, pointer + "/properties", resolved, pointer, str(resolved.get("name", key))))
            elif kind == DEPLOYMENT_TYPE and isinstance((resource.get("properties") or {}).get("template"), dict):
                inner, inner_unresolved = _nested(resource["properties"], pointer + "/properties/template")
                views += inner
                unresolved.update(inner_unresolved)
        if depth == 0 and not views:
            raise InputError("no Microsoft.VirtualMachineImages/imageTemplates resource in this ARM template, nor in its nested deployments (Bicep modules)")
        return views, sorted(evaluator.unresolved | unresolved)
    if isinstance(document.get("properties"), dict):
        return [TemplateView(document["properties"], "/properties", document, "", str(document.get("name", "")))], []
    if {"source", "distribute", "customize"} & set(document):
        return [TemplateView(document, "", document, "", str(document.get("name", "")))], []
    raise InputError(
        "no image template found: expected imageTemplate properties, `az image builder show` output, or an ARM template with Microsoft.VirtualMachineImages/imageTemplates"
    )


def _nested(deployment: dict, base: str) -> tuple[list[TemplateView], list[str]]:
    """A nested deployment's template (what a Bicep module compiles to), with the literal parameter values it is passed."""
    template = dict(deployment["template"])
    passed = deployment.get("parameters") if isinstance(deployment.get("parameters"), dict) else {}
    declared = template.get("parameters") if isinstance(template.get("parameters"), dict) else {}
    parameters = {}
    for name, spec in declared.items():
        value = (passed.get(name) or {}).get("value") if isinstance(passed.get(name), dict) else None
        literal = value is not None and not (isinstance(value, str) and value.startswith("["))
        parameters[name] = {**spec, "defaultValue": value} if literal and isinstance(spec, dict) else spec
    template["parameters"] = parameters
    views, unresolved = template_views(template, depth=1)
    for view in views:
        view.base, view.root_pointer = base + view.base, base + view.root_pointer
    return views, unresolved
