"""`aib-doctor lint`: pre-submission checks of image templates, offline and pure.

Reads a raw imageTemplate, `az image builder show` output, or an ARM template (JSON, including
`az bicep build` output) holding Microsoft.VirtualMachineImages/imageTemplates resources. Each
problem is a Finding with its place in the file (basis "template"), as preflight's gaps are.
"""

from __future__ import annotations

from aib_doctor.core.template_shape import check_template_shape, parse_json
from aib_doctor.errors import InputError
from aib_doctor.lint import checks as _checks  # noqa: F401  (registers the checks)
from aib_doctor.lint.jsonlines import pointer_lines
from aib_doctor.lint.preflight import PREFLIGHT
from aib_doctor.lint.registry import REGISTRY, finding
from aib_doctor.lint.views import template_views
from aib_doctor.model import Check, Finding, LintResult

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def lint_document(document: dict, file: str = "", text: str | None = None) -> LintResult:
    """`text`, the file as written, gives each finding its line."""
    views, unresolved = template_views(document)
    lines = pointer_lines(text) if text is not None else {}
    findings: list[Finding] = []
    for view in views:
        check_template_shape(view.properties, file or "the template", view.base.strip("/").replace("/", ".") or "(top level)", arm=True)
        for registered in REGISTRY.values():
            for pointer, message in registered.run(view):
                findings.append(finding(registered.check, pointer, message, view.name, _nearest_line(lines, pointer)))
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.location.line or 0, f.rule))
    return LintResult(file, tuple(v.name for v in views), tuple(findings), tuple(unresolved))


def _nearest_line(lines: dict[str, int], pointer: str) -> int | None:
    """The line of the pointer, or of its closest existing parent (a missing field points at its object)."""
    while pointer:
        if pointer in lines:
            return lines[pointer]
        pointer = pointer.rsplit("/", 1)[0]
    return lines.get("")


def lint_text(text: str, file: str) -> LintResult:
    try:
        document = parse_json(text, file)
    except ValueError as exc:
        raise InputError(f"{file}: not valid JSON ({exc}); for Bicep, lint the output of `az bicep build`") from None
    return lint_document(document, file, text)


def template_checks() -> dict[str, Check]:
    """Every template check, offline (TPL) and online (PRE), by id: what `rules` lists and SARIF describes."""
    return {key: registered.check for key, registered in REGISTRY.items()} | PREFLIGHT


def check_info(check_id: str) -> Check:
    return REGISTRY[check_id].check if check_id in REGISTRY else PREFLIGHT[check_id]
